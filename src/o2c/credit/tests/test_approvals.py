"""Credit approvals: routing by amount, decisions with reasons, the queue, reviews."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from o2c.core.models import ApiToken
from o2c.credit.errors import CreditError
from o2c.credit.models import CreditCheck, CreditPolicy, CreditProfile
from o2c.credit.services import (
    complete_credit_review,
    decide_credit_hold,
    schedule_credit_reviews,
)
from o2c.orders.models import OrderStatus
from o2c.parties.models import TimelineEvent
from o2c.teams.models import Portfolio, WorkItem, WorkKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def usd_customer(entity, make_customer, credit_team):
    """A USD customer with a EUR limit, in the analyst's portfolio."""
    customer = make_customer(
        entity,
        number="US-1",
        currency="USD",
        credit_limit_amount=Decimal("1000.00"),
        credit_limit_currency="EUR",
    )
    team = credit_team["analyst"].memberships.get().team
    portfolio = Portfolio.objects.create(team=team, name="analyst book")
    portfolio.members.add(credit_team["analyst"])
    portfolio.customers.add(customer)
    return customer


def _held(place, customer, quantity):
    order = place(customer, [("CONSULT", quantity)])
    assert order.status == OrderStatus.ON_CREDIT_HOLD
    return order


def test_foreign_currency_hold_approved_by_analyst(
    client, usd_customer, catalogue, place, rates_today, credit_team
):
    # given a USD order of 1,360.00 USD (1,088.00 EUR) against a 1,000.00 EUR limit
    order = _held(place, usd_customer, "8")
    check = CreditCheck.objects.get(order=order)
    assert check.order_amount == Decimal("1088.00")
    assert check.limit_currency == "EUR"

    # then an approval sits in the credit queue, routed to the analyst (below 10,000 EUR)
    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL)
    assert item.owner == credit_team["analyst"]
    assert item.data["required_role"] == "member"
    assert item.priority == 3
    client.force_login(credit_team["analyst"])
    queue = client.get(reverse("credit:queue")).content.decode()
    assert order.number in queue

    # when the analyst approves it with a reason
    response = client.post(
        reverse("credit:hold_detail", args=[order.pk]),
        {"decision": "approve", "reason": "deposit received"},
    )

    # then the order is released, the item closed, and the decision on the timeline
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    item.refresh_from_db()
    assert item.state == "done"
    assert item.outcome == "approved: deposit received"
    check.refresh_from_db()
    assert (check.decision, check.decided_by) == ("approved", credit_team["analyst"])
    assert TimelineEvent.objects.filter(
        customer=usd_customer,
        kind="credit_approved",
        summary=f"Credit hold on order {order.number} approved: deposit received",
        actor=credit_team["analyst"],
    ).exists()
    assert f"Order {order.number} of" not in client.get(reverse("credit:queue")).content.decode()


def test_large_hold_needs_lead_and_analyst_cannot_decide(
    usd_customer, catalogue, place, rates_today, credit_team
):
    # given a hold worth 12,240.00 EUR: at least 10,000.00 needs a lead
    order = _held(place, usd_customer, "90")
    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL)
    assert item.data["required_role"] == "lead"
    assert item.owner == credit_team["lead"]

    with pytest.raises(CreditError) as raised:
        decide_credit_hold(order, approve=True, reason="ok", actor=credit_team["analyst"])
    assert raised.value.code == "not_authorised"

    decide_credit_hold(order, approve=False, reason="too risky", actor=credit_team["lead"])
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert TimelineEvent.objects.filter(kind="credit_rejected", actor=credit_team["lead"]).exists()


def test_lead_hold_without_lead_stays_unassigned(
    usd_customer, catalogue, place, rates_today, credit_team
):
    # given a team whose lead and leader are gone, and a hold that needs a lead
    for name in ("lead", "leader"):
        credit_team[name].memberships.all().delete()

    _held(place, usd_customer, "90")

    # then the analyst, who cannot decide it, does not get it
    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL)
    assert item.data["required_role"] == "lead"
    assert item.owner is None
    assert item.team.function == "credit"


def test_leader_threshold_and_missing_leader_leaves_item_unassigned(
    entity, make_customer, catalogue, place, rates_today
):
    CreditPolicy.objects.create(
        entity=entity, lead_approval_from=Decimal("100"), leader_approval_from=Decimal("500")
    )
    customer = make_customer(entity, credit_limit_amount=Decimal("0"), credit_limit_currency="EUR")

    _held(place, customer, "4")  # 600.00 EUR

    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL)
    assert item.data["required_role"] == "leader"
    assert item.priority == 1
    assert item.owner is None
    assert item.team.function == "credit"


def test_decision_needs_reason(usd_customer, catalogue, place, rates_today, credit_team):
    order = _held(place, usd_customer, "8")
    with pytest.raises(CreditError) as raised:
        decide_credit_hold(order, approve=True, reason="  ", actor=credit_team["analyst"])
    assert raised.value.code == "reason_required"


def test_cancelling_held_order_closes_approval(
    usd_customer, catalogue, place, rates_today, credit_team
):
    from o2c.orders.services import cancel_order

    order = _held(place, usd_customer, "8")
    cancel_order(order, reason="customer withdrew", actor=credit_team["analyst"])

    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL)
    assert item.state == "cancelled"


def test_outsider_cannot_decide_or_see_queue(
    client, entity, usd_customer, catalogue, place, rates_today, make_user
):
    order = _held(place, usd_customer, "8")
    seller = make_user("seller", entity=entity, role="leader", function="sales")
    client.force_login(seller)

    assert f"Order {order.number} of" not in client.get(reverse("credit:queue")).content.decode()
    response = client.post(
        reverse("credit:hold_detail", args=[order.pk]), {"decision": "approve", "reason": "x"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_CREDIT_HOLD


def test_credit_member_sees_only_portfolio_holds(
    client, entity, make_customer, usd_customer, catalogue, place, rates_today, credit_team
):
    other = make_customer(entity, credit_limit_amount=Decimal("0"), credit_limit_currency="EUR")
    hidden = _held(place, other, "1")
    visible = _held(place, usd_customer, "8")
    client.force_login(credit_team["analyst"])

    queue = client.get(reverse("credit:queue")).content.decode()

    assert visible.number in queue
    assert hidden.number not in queue
    assert client.get(reverse("credit:hold_detail", args=[hidden.pk])).status_code == 404


def test_queue_query_count_is_bounded(
    client,
    entity,
    make_customer,
    catalogue,
    place,
    rates_today,
    credit_team,
    django_assert_max_num_queries,
):
    for _ in range(15):
        _held(
            place,
            make_customer(entity, credit_limit_amount=Decimal("0"), credit_limit_currency="EUR"),
            "1",
        )
    client.force_login(credit_team["leader"])
    with django_assert_max_num_queries(13):
        response = client.get(reverse("credit:queue"))
    assert response.content.decode().count("on credit hold") == 15


def test_api_approval_and_exposure(
    client, usd_customer, catalogue, place, rates_today, credit_team
):
    order = _held(place, usd_customer, "8")
    _, token = ApiToken.issue(credit_team["analyst"], "t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    exposure = client.get(f"/api/credit/customers/{usd_customer.pk}/exposure", **auth).json()
    assert exposure["currency"] == "EUR"
    assert exposure["total"] == "0.00"
    queue = client.get("/api/credit/queue", **auth).json()
    assert [row["subject_id"] for row in queue["items"]] == [str(order.pk)]

    response = client.post(
        f"/api/credit/orders/{order.pk}/approve",
        data=json.dumps({"reason": "guarantee on file"}),
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "released"
    exposure = client.get(f"/api/credit/customers/{usd_customer.pk}/exposure", **auth).json()
    assert exposure["released_orders"] == "1088.00"


def test_reviews_open_once_and_close(entity, make_customer, rates_today):
    # given one customer never reviewed and one reviewed recently
    due = make_customer(entity, credit_limit_amount=Decimal("500"), credit_limit_currency="EUR")
    recent = make_customer(entity, credit_limit_amount=Decimal("500"), credit_limit_currency="EUR")
    CreditProfile.objects.create(
        customer=recent,
        last_reviewed_on=rates_today,
        next_review_on=rates_today + dt.timedelta(days=300),
    )
    make_customer(entity)  # no limit, no review

    # when the schedule runs twice
    opened = schedule_credit_reviews(on=rates_today)
    again = schedule_credit_reviews(on=rates_today)

    # then one review is opened, once
    assert [item.customer for item in opened] == [due]
    assert again == []
    item = opened[0]
    assert item.kind == WorkKind.CREDIT_REVIEW
    assert item.team.function == "credit"

    # when the review is recorded
    profile = complete_credit_review(due, outcome="limit confirmed", on=rates_today)

    # then the next one is due in 12 months and the item is closed
    assert profile.next_review_on.year == rates_today.year + 1
    item.refresh_from_db()
    assert item.state == "done"
    assert TimelineEvent.objects.filter(customer=due, kind="credit_review").exists()


def test_review_command_and_beat_schedule(entity, make_customer, rates_today, capsys):
    from django.apps import apps

    make_customer(entity, credit_limit_amount=Decimal("500"), credit_limit_currency="EUR")

    call_command("credit", "reviews", "--entity", entity.code)

    assert "1 credit review(s) opened." in capsys.readouterr().out
    schedule = apps.get_app_config("credit").beat_schedule
    assert schedule["credit-reviews"]["task"] == "o2c.credit.tasks.schedule_credit_reviews_task"
    from o2c.credit.tasks import schedule_credit_reviews_task

    assert schedule_credit_reviews_task() == 0


def test_setting_limit_needs_lead(client, usd_customer, credit_team):
    client.force_login(credit_team["analyst"])
    url = reverse("credit:customer_limit", args=[usd_customer.pk])
    assert client.post(url, {"amount": "99999", "currency": "EUR"}).status_code == 403

    client.force_login(credit_team["lead"])
    client.post(url, {"amount": "2500.00", "currency": "EUR", "reason": "annual review"})
    usd_customer.refresh_from_db()
    assert usd_customer.credit_limit_amount == Decimal("2500.00")
    assert TimelineEvent.objects.filter(customer=usd_customer, kind="credit_limit").exists()


def test_customer_credit_page_shows_exposure(
    client, usd_customer, catalogue, place, rates_today, credit_team
):
    place(usd_customer, [("CONSULT", "2")])  # 340.00 USD = 272.00 EUR, released
    client.force_login(credit_team["analyst"])
    html = client.get(reverse("credit:customer_credit", args=[usd_customer.pk])).content.decode()
    assert "272.00 EUR" in html


def test_hold_with_closed_item_stays_in_queue(
    client, usd_customer, catalogue, place, rates_today, credit_team
):
    from o2c.teams.services import close_work_item

    # given a held order whose approval item was closed without a decision
    order = _held(place, usd_customer, "8")
    close_work_item(
        WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL), outcome="closed by mistake"
    )
    client.force_login(credit_team["analyst"])

    # then the queue still lists it, and it can still be decided
    queue = client.get(reverse("credit:queue")).content.decode()
    assert 'id="unattended-holds"' in queue
    assert order.number in queue
    decide_credit_hold(order, approve=True, reason="limit raised", actor=credit_team["analyst"])
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED


def test_approval_item_closes_only_through_decision(
    client, usd_customer, catalogue, place, rates_today, credit_team
):
    from o2c.teams.services import WorkError, set_work_state

    # given a held order and its approval item
    order = _held(place, usd_customer, "8")
    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL)
    decide_at = reverse("credit:hold_detail", args=[order.pk])

    # when the analyst tries to close the item on the work page
    with pytest.raises(WorkError) as raised:
        set_work_state(item, "done", actor=credit_team["analyst"], outcome="looked at it")

    # then the item stays open and points to the order's decision page
    assert raised.value.code == "decide_on_subject"
    assert decide_at in raised.value.message
    item.refresh_from_db()
    assert item.state == "open"
    client.force_login(credit_team["analyst"])
    page = client.get(reverse("teams:item_detail", args=[item.pk])).content.decode()
    assert f'href="{decide_at}"' in page
