"""A leader signs in through Chromium, reads the dashboard and opens a customer."""

import datetime as dt

import pytest

from o2c.teams.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_signs_in_and_drills_down(
    page, live_server, login, entity, make_customer, make_user, post
):
    late = make_customer(entity, name="Slow Payer GmbH")
    post(late, "invoice", "INV-LATE", dt.date(2026, 8, 1), "750.00", due_date="2026-08-31")
    leader = make_user("lee", entity=entity, role=Role.LEADER)
    leader.set_password("Lake-Window-7319")
    leader.save()

    login(page, "lee", "Lake-Window-7319")
    page.goto(f"{live_server.url}/?entity={entity.code}&as_of=2026-11-30")

    assert page.locator("[data-kpi=ar]").inner_text() == "750.00"
    assert page.locator("#aging-chart svg").count() == 1
    page.click("text=Slow Payer GmbH")
    page.wait_for_url(f"**/customers/{late.pk}/")
    assert page.locator("#open-items").get_by_text("INV-LATE").count() == 1


def test_member_gets_not_found_for_other_customer(
    page, live_server, login, entity, make_customer, make_user
):
    mine = make_customer(entity)
    other = make_customer(entity)
    member = make_user("ann", entity=entity, role=Role.MEMBER, customers=[mine])
    member.set_password("Lake-Window-7319")
    member.save()

    login(page, "ann", "Lake-Window-7319")
    response = page.goto(f"{live_server.url}/customers/{other.pk}/")

    assert response.status == 404
