"""Credit checks on orders: limits across currencies, re-opened orders, past due, blocks."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.credit.exposure import compute_exposure
from o2c.credit.models import CreditCheck
from o2c.orders.models import OrderStatus
from o2c.orders.services import cancel_order, change_order, reopen_order
from o2c.teams.models import WorkItem, WorkKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def limited(make_customer, entity):
    """A EUR customer with a 10,000.00 EUR limit."""
    return make_customer(
        entity, credit_limit_amount=Decimal("10000.00"), credit_limit_currency="EUR"
    )


def test_reopening_cancelled_order_rechecks_credit(limited, catalogue, place, rates_today):
    # given SO-1 for 8,000.00 EUR released, then cancelled
    so1 = place(limited, [("CONSULT", "53"), ("WIDGET", "4")])  # 7,950.00 + 50.00
    assert so1.net_amount == Decimal("8000.00")
    assert so1.status == OrderStatus.RELEASED
    cancel_order(so1, reason="customer postponed")
    # and SO-2 for 9,000.00 EUR released against the freed headroom
    so2 = place(limited, [("CONSULT", "60")])
    assert so2.status == OrderStatus.RELEASED

    # when SO-1 is re-opened
    so1 = reopen_order(so1, reason="customer confirmed after all")

    # then the check counts 9,000.00 + 8,000.00 = 17,000.00 against 10,000.00
    assert so1.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.filter(order=so1).latest("id")
    assert check.trigger == "reopen"
    assert check.released_orders_amount == Decimal("9000.00")
    assert check.order_amount == Decimal("8000.00")
    assert check.exposure_amount == Decimal("17000.00")
    assert [reason["code"] for reason in check.reasons] == ["over_limit"]
    assert "by 7,000.00 EUR" in check.reasons[0]["message"]
    item = WorkItem.objects.get(kind=WorkKind.CREDIT_APPROVAL, subject_id=str(so1.pk))
    assert item.state == "open"


def test_amount_increase_on_released_order_rechecks_credit(limited, catalogue, place, rates_today):
    # given a released order of 6,000.00 EUR
    order = place(limited, [("CONSULT", "40")])
    assert order.status == OrderStatus.RELEASED

    # when its quantity rises to 80 hours (12,000.00 EUR)
    order = change_order(order, quantities={1: "80"})

    # then it goes on hold with the new value counted once
    assert order.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.filter(order=order).latest("id")
    assert check.trigger == "increase"
    assert check.exposure_amount == Decimal("12000.00")


def test_amount_decrease_does_not_recheck(limited, catalogue, place, rates_today):
    order = place(limited, [("CONSULT", "40")])
    change_order(order, quantities={1: "30"})
    assert CreditCheck.objects.filter(order=order).count() == 1


def test_exposure_converts_each_currency_once(
    entity, make_customer, post, catalogue, place, rates_today
):
    # given a EUR limit of 10,000.00, 1 EUR = 1.25 USD = 160 JPY, an open USD invoice of
    # 5,000.00 (4,000.00 EUR at today's rate) and a JPY order of 900,000 (5,625.00 EUR)
    customer = make_customer(
        entity,
        currency="JPY",
        credit_limit_amount=Decimal("10000.00"),
        credit_limit_currency="EUR",
    )
    post(customer, "invoice", "INV-1", rates_today, "5000.00", currency="USD")

    # when the order is placed
    first = place(customer, [("CONSULT", "36")])  # 36 × 25,000 JPY = 900,000 JPY

    # then 4,000.00 + 5,625.00 = 9,625.00 ≤ 10,000.00: released, 375.00 headroom
    assert first.net_amount == Decimal("900000")
    assert first.status == OrderStatus.RELEASED
    check = CreditCheck.objects.get(order=first)
    assert check.receivables_amount == Decimal("4000.00")
    assert check.order_amount == Decimal("5625.00")
    assert check.exposure_amount == Decimal("9625.00")
    assert check.headroom == Decimal("375.00")
    assert check.rates["USD"]["rate"] == str(Decimal("1") / Decimal("1.25"))

    # when a further order of 80,000 JPY (500.00 EUR) comes in
    second = place(customer, [("WIDGET", "40")])

    # then 9,625.00 + 500.00 = 10,125.00 > 10,000.00: held
    assert second.net_amount == Decimal("80000")
    assert second.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.get(order=second)
    assert check.receivables_amount == Decimal("4000.00")
    assert check.released_orders_amount == Decimal("5625.00")
    assert check.order_amount == Decimal("500.00")
    assert check.exposure_amount == Decimal("10125.00")


def test_small_order_in_weak_currency_passes(make_customer, entity, catalogue, place, rates_today):
    # given a 1,000.00 EUR limit and an order of 2,000 JPY (12.50 EUR)
    customer = make_customer(
        entity, currency="JPY", credit_limit_amount=Decimal("1000"), credit_limit_currency="EUR"
    )
    # when placed, then it is not compared as 2,000 against 1,000
    order = place(customer, [("WIDGET", "1")])
    assert order.status == OrderStatus.RELEASED
    assert CreditCheck.objects.get(order=order).order_amount == Decimal("12.50")


def test_exposure_nets_unapplied_cash(entity, make_customer, post, rates_today):
    # given an invoice of 300.00 USD and a payment on account of 100.00 USD
    customer = make_customer(entity, currency="USD")
    post(customer, "invoice", "INV-1", rates_today, "300.00")
    post(customer, "payment", "PAY-1", rates_today, "100.00")

    # when exposure is computed in EUR
    exposure = compute_exposure(entity, [customer.pk], "EUR", rates_today)

    # then the net receivable of 200.00 USD is converted once: 160.00 EUR
    assert exposure.receivables_by_currency == {"USD": Decimal("200.00")}
    assert exposure.receivables == Decimal("160.00")


def test_blocked_customer_is_held(make_customer, entity, catalogue, place, rates_today):
    customer = make_customer(entity, is_blocked=True)
    order = place(customer, [("WIDGET", "1")])
    assert order.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.get(order=order)
    assert [reason["code"] for reason in check.reasons] == ["customer_blocked"]


def test_invoice_past_due_beyond_tolerance_holds_order(
    make_customer, entity, post, catalogue, place, rates_today
):
    # given an invoice due 16 days ago (tolerance 15 days by default)
    customer = make_customer(entity)
    due = rates_today - dt.timedelta(days=16)
    post(customer, "invoice", "INV-9", due - dt.timedelta(days=30), "100.00", due_date=due)

    order = place(customer, [("WIDGET", "1")])

    assert order.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.get(order=order)
    assert check.reasons[0]["code"] == "past_due"
    assert check.past_due_figures["items"] == 1


def test_invoice_past_due_within_tolerance_passes(
    make_customer, entity, post, catalogue, place, rates_today
):
    customer = make_customer(entity)
    due = rates_today - dt.timedelta(days=15)
    post(customer, "invoice", "INV-9", due - dt.timedelta(days=30), "100.00", due_date=due)

    order = place(customer, [("WIDGET", "1")])

    assert order.status == OrderStatus.RELEASED


def test_missing_rate_holds_order_instead_of_passing(make_customer, entity, catalogue, place):
    # given a USD order against a EUR limit and no USD rate loaded
    customer = make_customer(
        entity, currency="USD", credit_limit_amount=Decimal("1000"), credit_limit_currency="EUR"
    )
    order = place(customer, [("WIDGET", "1")])
    assert order.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.get(order=order)
    assert check.reasons[0]["code"] == "no_rate"


def test_group_limit_sums_members(entity, make_customer, catalogue, place, rates_today):
    from o2c.credit.services import set_group_credit_limit
    from o2c.orders.models import CustomerGroup, CustomerGroupMember

    # given two customers of one group sharing a 1,000.00 EUR limit
    group = CustomerGroup.objects.create(entity=entity, code="ACME", name="Acme group")
    first, second = make_customer(entity), make_customer(entity)
    for member in (first, second):
        CustomerGroupMember.objects.create(customer=member, group=group)
    set_group_credit_limit(group, "1000.00", "EUR")
    assert place(first, [("WIDGET", "60")]).status == OrderStatus.RELEASED  # 750.00

    # when the second member orders 300.00 EUR
    order = place(second, [("WIDGET", "24")])

    # then 750.00 + 300.00 = 1,050.00 > 1,000.00
    assert order.status == OrderStatus.ON_CREDIT_HOLD
    check = CreditCheck.objects.get(order=order)
    assert check.reasons[0]["code"] == "group_over_limit"
    assert check.group_figures["total"] == "1050.00"
