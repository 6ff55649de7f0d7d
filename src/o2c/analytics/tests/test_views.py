"""The dashboard: scope, content and query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from o2c.teams.models import Role


@pytest.fixture
def ledger(entity, make_customer, post):
    mine = make_customer(entity, name="Mine Ltd")
    other = make_customer(entity, name="Other Ltd")
    post(mine, "invoice", "M-1", dt.date(2026, 9, 1), "100.00", due_date="2026-10-01")
    post(other, "invoice", "O-1", dt.date(2026, 9, 1), "900.00", due_date="2026-10-01")
    return mine, other


def test_leader_sees_entity_figures(client, entity, ledger, make_user):
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))

    response = client.get(f"/?entity={entity.code}&as_of=2026-11-30")

    assert response.status_code == 200
    assert response.context["report"].converted.ar == Decimal("1000.00")
    assert b"Other Ltd" in response.content
    assert b"<svg" in response.content


def test_member_dashboard_covers_own_portfolio(client, entity, ledger, make_user):
    mine, _ = ledger
    member = make_user("ann", entity=entity, role=Role.MEMBER, customers=[mine])
    client.force_login(member)

    response = client.get(f"/?entity={entity.code}&as_of=2026-11-30")

    assert response.context["report"].converted.ar == Decimal("100.00")
    assert response.context["whole_entity"] is False
    assert b"Other Ltd" not in response.content


def test_entity_outside_scope_falls_back_to_own(client, make_entity, ledger, make_user):
    own = make_entity("OWN")
    client.force_login(make_user("lee", entity=own, role=Role.LEADER))

    response = client.get("/?entity=E1&as_of=2026-11-30")

    assert response.context["entity"] == own
    assert b"Other Ltd" not in response.content


def test_person_without_team_sees_explanation(client, make_user):
    client.force_login(make_user("nobody"))

    response = client.get("/")

    assert response.status_code == 200
    assert b"not a member of any team" in response.content


def test_htmx_request_gets_only_the_body(client, entity, ledger, make_user):
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))

    response = client.get(f"/?entity={entity.code}", HTTP_HX_REQUEST="true")

    assert b"<html" not in response.content
    assert b"kpi-tiles" in response.content


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_dashboard_queries_do_not_grow_with_invoices(
    client, entity, make_customer, make_user, post
):
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))
    url = f"/?entity={entity.code}&as_of=2026-11-30"
    first = make_customer(entity)
    post(first, "invoice", "INV-first", dt.date(2026, 8, 1), "10.00", due_date="2026-08-31")
    few = _queries(client, url)

    for index in range(30):
        customer = make_customer(entity)
        post(
            customer, "invoice", f"INV-{index}", dt.date(2026, 8, 1), "10.00", due_date="2026-08-31"
        )
    many = _queries(client, url)

    assert many == few
    # The navigation's permission checks take four of these queries.
    assert many <= 40
