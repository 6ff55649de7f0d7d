"""Browser journeys: a collector works the list, a lead reassigns, a leader reads figures."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.collections.models import CollectionActivity, PromiseStatus, PromiseToPay
from o2c.teams.models import Role, Team, WorkItem, WorkKind, WorkState
from o2c.teams.services import close_work_item, create_work_item

PASSWORD = "a-long-test-passphrase-42"


def _with_password(user):
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_collector_works_list_and_logs_promise(
    page, live_server, login, entity, make_customer, make_user, post
):
    # given a collector whose book has one customer with an overdue invoice
    today = entity.today()
    customer = make_customer(entity, name="Acme Overdue")
    stranger = make_customer(entity, name="Someone Else")
    invoice = post(
        customer,
        "invoice",
        "INV-77",
        today - dt.timedelta(days=70),
        "1200.00",
        due_date=today - dt.timedelta(days=40),
    )
    post(
        stranger,
        "invoice",
        "INV-99",
        today - dt.timedelta(days=70),
        "9999.00",
        due_date=today - dt.timedelta(days=40),
    )
    collector = _with_password(
        make_user("cora", entity=entity, role=Role.MEMBER, customers=[customer])
    )

    # when she opens her worklist and the customer on top
    login(page, "cora", PASSWORD)
    page.goto(f"{live_server.url}/collections/")
    rows = page.locator("#worklist tr[data-customer]")
    assert rows.count() == 1
    assert "probability of loss" in rows.first.inner_text()
    assert "Someone Else" not in page.content()
    rows.first.locator("a").click()

    # and logs the call, then the promise the customer made on it
    page.select_option("#contact-form select[name=outcome]", "reached")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("text=Contact with Acme Overdue logged.")
    page.check(f"#promise-form input[value='{invoice.pk}']")
    page.fill("#promise-form input[name=amount]", "1200.00")
    promised_on = today + dt.timedelta(days=7)
    page.fill("#promise-form input[name=promised_on]", promised_on.isoformat())
    page.click("#promise-form button[type=submit]")
    page.wait_for_selector("text=Promise to pay 1200.00")

    # then the promise is open and shows on the page, and the list counts her work
    promise = PromiseToPay.objects.get()
    assert promise.status == PromiseStatus.OPEN
    assert promise.amount == Decimal("1200.00")
    assert promise.promised_on == promised_on
    assert promise.recorded_by == collector
    assert "Open" in page.locator("#promises").inner_text()
    assert CollectionActivity.objects.filter(user=collector).count() == 2
    page.goto(f"{live_server.url}/collections/")
    assert page.locator("#worklist tr[data-customer]").count() == 0
    assert "Acme Overdue" in page.locator("text=Worked today").locator("..").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_lead_reassigns_item(page, live_server, login, entity, customer, make_user):
    _with_password(make_user("lena", entity=entity, role=Role.LEAD))
    ana = make_user("ana", entity=entity, role=Role.MEMBER, customers=[customer])
    ben = make_user("ben", entity=entity, role=Role.MEMBER)
    team = Team.objects.get(entity=entity, function="collections")
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call Acme", team=team, customer=customer
    )
    assert item.owner == ana

    login(page, "lena", PASSWORD)
    page.goto(f"{live_server.url}/work/teams/{team.pk}/")
    row = page.locator(f"tr[data-item='{item.pk}']")
    row.locator("select[name=user]").select_option(label="ben")
    row.locator("input[name=note]").fill("Ana is away this week")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"text=Work item {item.pk} reassigned to ben.")

    assert page.locator(f"tr[data-item='{item.pk}'] .owner").inner_text() == "ben"
    item.refresh_from_db()
    assert item.owner == ben
    assert item.events.filter(kind="reassigned", note="Ana is away this week").exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_leader_sees_team_figures(page, live_server, login, entity, customer, make_user):
    _with_password(make_user("leo", entity=entity, role=Role.LEADER))
    ana = make_user("ana", entity=entity, role=Role.MEMBER, customers=[customer])
    team = Team.objects.get(entity=entity, function="collections")
    for index in range(3):
        item = create_work_item(
            kind=WorkKind.COLLECTION_CALL, title=f"Call {index}", team=team, customer=customer
        )
        if index < 2:
            close_work_item(item, outcome="reached", actor=ana)
    assert WorkItem.objects.filter(state=WorkState.DONE).count() == 2

    login(page, "leo", PASSWORD)
    page.goto(f"{live_server.url}/work/leaders/")
    total = page.locator("#team-figures tr.team-total td.num")
    assert total.nth(0).inner_text() == "1"
    assert total.nth(1).inner_text().startswith("2")
    person = page.locator("#team-figures tr[data-person='ana'] td.num")
    assert person.nth(1).inner_text().startswith("2")
    assert page.locator(".chart svg").count() == 1

    # drill down from the work done figure to the items behind it
    total.nth(1).locator("a").click()
    assert page.locator("table.work-items tr[data-item]").count() == 2
