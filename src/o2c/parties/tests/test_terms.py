"""Due dates and discount dates computed from payment terms."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.parties.models import PaymentTerm


@pytest.mark.parametrize(
    ("invoice_date", "due"),
    [
        (dt.date(2027, 2, 10), dt.date(2027, 3, 31)),
        (dt.date(2027, 6, 12), dt.date(2027, 7, 31)),
        (dt.date(2028, 1, 15), dt.date(2028, 2, 29)),
        (dt.date(2027, 1, 31), dt.date(2027, 2, 28)),
    ],
)
def test_one_month_after_end_of_month(invoice_date, due):
    term = PaymentTerm(code="EOM1M", name="1 month after end of month", months=1, end_of_month=True)

    assert term.due_date(invoice_date) == due


def test_net_days():
    term = PaymentTerm(code="NET30", name="Net 30", days=30)

    assert term.due_date(dt.date(2027, 4, 1)) == dt.date(2027, 5, 1)


def test_end_of_month_plus_days():
    term = PaymentTerm(code="EOM30", name="30 days end of month", days=30, end_of_month=True)

    assert term.due_date(dt.date(2027, 1, 15)) == dt.date(2027, 3, 2)


def test_discount_date_of_two_ten_net_thirty():
    term = PaymentTerm(
        code="2-10-N30",
        name="2/10 net 30",
        days=30,
        discount_percent=Decimal("2"),
        discount_days=10,
    )

    assert term.due_date(dt.date(2027, 3, 1)) == dt.date(2027, 3, 31)
    assert term.discount_date(dt.date(2027, 3, 1)) == dt.date(2027, 3, 11)


def test_term_without_discount_has_no_discount_date():
    assert PaymentTerm(code="N", name="N", days=10).discount_date(dt.date(2027, 3, 1)) is None
