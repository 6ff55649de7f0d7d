"""Early-payment discount proposals after partial payments, with cash rounding."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.ledger.services import allocate, settlement_proposal
from o2c.parties.models import PaymentTerm

D = Decimal


@pytest.fixture
def two_ten_net_thirty(db):
    return PaymentTerm.objects.create(
        code="2-10-N30", name="2/10 net 30", days=30, discount_percent=D("2"), discount_days=10
    )


def test_discount_after_partial_payment_applies_to_rest(customer, post, two_ten_net_thirty):
    # given an invoice of 2,500.00 on 2/10 net 30 and 1,000.00 paid on 03-05
    invoice = post(
        customer, "invoice", "INV-1", "2027-03-01", "2500.00", payment_term=two_ten_net_thirty
    )
    payment = post(customer, "payment", "PAY-1", "2027-03-05", "1000.00")
    allocate(invoice, payment, on=dt.date(2027, 3, 5))

    # when the rest is paid inside and outside the window
    inside = settlement_proposal(invoice, dt.date(2027, 3, 10))
    outside = settlement_proposal(invoice, dt.date(2027, 3, 12))

    # then the discount (2 % of 2,500.00) comes off the rest only inside the window
    assert inside == (D("1450.00"), D("50.00"))
    assert outside == (D("1500.00"), D("0.00"))
    assert invoice.due_date == dt.date(2027, 3, 31)


def test_discounted_amount_follows_cash_rounding(make_entity, make_customer, post, db):
    entity = make_entity("CH1", "CHF", "Europe/Zurich", cash_rounding_increment=D("0.05"))
    customer = make_customer(entity)
    term = PaymentTerm.objects.create(
        code="2-10", name="2/10", days=30, discount_percent=D("2"), discount_days=10
    )
    invoice = post(customer, "invoice", "INV-1", "2027-03-01", "1000.10", payment_term=term)

    to_pay, discount = settlement_proposal(
        invoice, dt.date(2027, 3, 5), entity.cash_rounding_increment
    )

    assert to_pay == D("980.10")
    assert discount == D("20.00")
