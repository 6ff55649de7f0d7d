"""Aging page: totals equal the sum of the buckets shown, amounts at the minor unit."""

import re
from decimal import Decimal

from django.urls import reverse

from o2c.disputes.services import open_dispute
from o2c.teams.models import Membership, Role, Team


def _row(page: str, label: str) -> list[str]:
    row = re.search(rf"<td>{label}</td>(.*?)</tr>", page, re.S).group(1)
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_aging_totals_add_up(entity, customer, make_user, post, client):
    today = entity.today().isoformat()
    post(customer, "invoice", "A-1", today, "57918.54", due_date=today)
    post(customer, "invoice", "A-2", "2024-01-01", "1000.33", due_date="2024-01-31")
    disputed = post(customer, "invoice", "A-3", "2024-06-01", "200.10", due_date="2024-07-01")
    leader = make_user("lee", entity=entity, role=Role.LEADER)
    open_dispute(customer, lines=[(disputed, "50.05", "")], reason="other", actor=leader)
    client.force_login(leader)

    page = client.get(reverse("collections:aging")).content.decode()

    for label in ("Undisputed", "Disputed", "Open"):
        *buckets, total = _row(page, label)
        assert _amount(total) == sum(_amount(cell) for cell in buckets), label
        assert all(re.fullmatch(r"[\d,]+\.\d\d", cell) for cell in [*buckets, total]), label
    assert _row(page, "Open")[-1] == "59,118.97"
    assert _row(page, "Undisputed")[-1] == "59,068.92"
    assert _row(page, "Disputed")[-1] == "50.05"
    assert "57,918.54" in page
    assert "57,918.5400" not in page


def test_aging_entity_selector(make_entity, make_user, client):
    first = make_entity("E1")
    second = make_entity("E2")
    leader = make_user("lee", entity=first, role=Role.LEADER)
    make_user("lee2", entity=second, role=Role.MEMBER)
    Membership.objects.create(user=leader, team=Team.objects.get(entity=second), role=Role.LEADER)
    client.force_login(leader)

    page = client.get(reverse("collections:aging"), {"entity": "E2"}).content.decode()

    assert '<select name="entity">' in page
    assert '<option value="E2" selected>' in page


def test_dunning_preview_defaults_to_today(entity, make_user, client):
    leader = make_user("lee", entity=entity, role=Role.LEADER)
    client.force_login(leader)

    response = client.get(reverse("collections:run_preview"), {"entity": entity.code})

    assert response.status_code == 200
    assert response.context["as_of"] == entity.today()
