"""Dashboard layout at phone and desktop widths: wide tables scroll inside their card."""

import datetime as dt

import pytest

from o2c.teams.models import Role

PASSWORD = "a-long-test-passphrase-42"

MEASURE = """() => {
  const cards = [...document.querySelectorAll('section.card')].map(card => ({
    id: card.id, client: card.clientWidth, scroll: card.scrollWidth,
  }));
  const aging = document.querySelector('#aging-chart table').parentElement;
  const total = [...aging.querySelectorAll('th')].pop().getBoundingClientRect();
  const box = aging.getBoundingClientRect();
  return {
    page: document.documentElement.scrollWidth,
    header: document.querySelector('.topbar').getBoundingClientRect().height,
    cards,
    agingScrolls: getComputedStyle(aging).overflowX === 'auto',
    agingWider: aging.scrollWidth > aging.clientWidth,
    totalVisible: total.right <= box.right + 1,
  };
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_dashboard_tables_fit_cards(
    width, page, live_server, login, entity, make_customer, make_user, post
):
    today = entity.today()
    for index, days in enumerate((5, 40, 70, 100, 200, 400)):
        customer = make_customer(entity, name=f"Customer with a long trading name {index}")
        due = today - dt.timedelta(days=days)
        post(customer, "invoice", f"INV-{index}", due, "98097.06", due_date=due)
    leader = make_user("lee", entity=entity, role=Role.LEADER)
    leader.set_password(PASSWORD)
    leader.save()
    page.set_viewport_size({"width": width, "height": 900})

    login(page, "lee", PASSWORD)
    page.goto(f"{live_server.url}/")
    layout = page.evaluate(MEASURE)

    assert layout["page"] <= width
    for card in layout["cards"]:
        assert card["scroll"] <= card["client"], card["id"]
    assert layout["agingScrolls"]
    if width >= 1280:
        assert not layout["agingWider"]
        assert layout["totalVisible"]
    else:
        assert layout["header"] < 120
