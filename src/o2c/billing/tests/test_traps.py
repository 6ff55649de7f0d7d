"""Known receivables traps in invoicing, each with its right answer worked out by hand.

Rounding of foreign-currency invoices, zero-decimal currencies, tax on rounded line
nets, sub-cent input, the tax share of a discount, and cash rounding.
"""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.billing.services import (
    base_rounding_amount,
    early_payment_amount,
    issue_credit_note,
)
from o2c.billing.tests.conftest import line
from o2c.core.errors import O2CError
from o2c.core.money import split_instalments
from o2c.fx.services import set_manual_rate
from o2c.ledger.services import allocate, open_amount
from o2c.parties.models import PaymentTerm

D = Decimal

pytestmark = pytest.mark.django_db


def test_foreign_invoice_total_converted_once_and_no_fx_difference(
    make_entity, make_customer, invoice_for, post
):
    # given a company in GBP and rates giving exactly 1 USD = 1.15 GBP (1 EUR = 1.00 USD =
    # 1.15 GBP, so the cross rate through EUR is 1.15)
    on = dt.date(2025, 3, 3)
    set_manual_rate("USD", on, D("1.00"))
    set_manual_rate("GBP", on, D("1.15"))
    entity = make_entity(code="GB1", base_currency="GBP", time_zone="Europe/London", country="GB")
    customer = make_customer(entity, currency="USD", country="US", subdivision="NY")

    # when an export invoice of 10.03 + 20.03 + 30.03 = 60.09 USD is posted
    invoice = invoice_for(
        customer,
        [line("A", "1", "10.03"), line("B", "1", "20.03"), line("C", "1", "30.03")],
        on=on,
        post=True,
    )

    # then the receivable is 60.09 × 1.15 = 69.1035 → 69.10 GBP, converted once
    assert invoice.fx_rate == D("1.15")
    assert invoice.fx_rate_on == on
    assert invoice.payable_amount_base == D("69.10")
    assert invoice.document.amount_base == D("69.10")
    # and the lines, converted one by one, give 11.53 + 23.03 + 34.53 = 69.09: the 0.01
    # is a rounding line of the invoice
    assert [item.net_amount_base for item in invoice.lines.all()] == [
        D("11.53"),
        D("23.03"),
        D("34.53"),
    ]
    assert base_rounding_amount(invoice) == D("0.01")

    # and a payment of exactly 60.09 USD the same day closes it with no exchange difference
    payment = post(customer, "payment", "BT-1", on, "60.09", currency="USD")
    result = allocate(invoice.document, payment, on=on)
    assert result.allocation.fx_difference_base == D("0")
    assert open_amount(invoice.document) == D("0")
    assert open_amount(payment) == D("0")


@pytest.fixture
def yen_entity(make_entity):
    def make(mode, level="document"):
        return make_entity(
            code=f"JP-{mode}-{level}",
            base_currency="JPY",
            time_zone="Asia/Tokyo",
            country="JP",
            tax_rounding_mode=mode,
            tax_rounding_level=level,
        )

    return make


@pytest.mark.parametrize(
    ("mode", "tax", "total"), [("half_up", "235", "2580"), ("down", "234", "2579")]
)
def test_yen_tax_is_whole_yen(yen_entity, make_customer, invoice_for, mode, tax, total):
    # 2,345 × 10 % = 234.5 → 235 half up, 234 rounded down; never 234.50
    customer = make_customer(yen_entity(mode), country="JP")

    invoice = invoice_for(customer, [line("Item A", "1", "2345")])

    assert invoice.tax_amount == D(tax)
    assert invoice.tax_amount == invoice.tax_amount.to_integral_value()
    assert invoice.payable_amount == D(total)
    assert invoice.net_amount + invoice.tax_amount == invoice.payable_amount


@pytest.mark.parametrize(
    ("mode", "level", "tax"),
    [
        # per document: (1,003 + 1,004) × 10 % = 200.7 → 201 half up, 200 down
        ("half_up", "document", D("201")),
        ("down", "document", D("200")),
        # per line: 100.3 → 100 and 100.4 → 100, so 200 in either mode
        ("half_up", "line", D("200")),
        ("down", "line", D("200")),
    ],
)
def test_yen_rounding_level_and_mode(yen_entity, make_customer, invoice_for, mode, level, tax):
    customer = make_customer(yen_entity(mode, level), country="JP")

    invoice = invoice_for(customer, [line("A", "1", "1003"), line("B", "1", "1004")])

    assert invoice.tax_amount == tax
    assert sum(t.tax_amount for t in invoice.taxes.all()) == tax
    assert invoice.payable_amount == D("2007") + tax
    if level == "line":
        assert [item.tax_amount for item in invoice.lines.all()] == [D("100"), D("100")]


@pytest.mark.parametrize("level", ["line", "document"])
def test_vat_on_rounded_line_net(make_entity, make_customer, invoice_for, level):
    # 129.95 × 9 × 0.95 = 1,111.0725 → line net 1,111.07; VAT 21 % on the printed net:
    # 1,111.07 × 0.21 = 233.3247 → 233.32, total 1,344.39 (not 233.33 / 1,344.40)
    entity = make_entity(code="NL1", country="NL", tax_rounding_level=level)
    customer = make_customer(entity, country="NL")

    invoice = invoice_for(customer, [line("Chair", "9", "129.95", discount_percent="5")])

    assert invoice.lines.get().net_amount == D("1111.07")
    assert invoice.tax_amount == D("233.32")
    assert invoice.payable_amount == D("1344.39")


@pytest.mark.parametrize(
    ("currency", "typed", "expected"),
    [
        ("USD", "19.995", D("20.00")),
        ("KWD", "0.9995", D("1.000")),
        ("JPY", "1234.5", D("1235")),
        ("EUR", "10.004", D("10.00")),
    ],
)
def test_sub_cent_credit_amount_rounded_once_everywhere(
    make_entity, make_customer, invoice_for, currency, typed, expected
):
    # given an entity whose policy rounds input amounts once, half up
    entity = make_entity(
        code=f"R{currency}", base_currency=currency, country="GB", amount_policy="round"
    )
    customer = make_customer(entity, country="GB")
    invoice = invoice_for(customer, [line("Item", "1", "5000", category="zero")], post=True)

    credit = issue_credit_note(
        invoice, reason="Goodwill", amount=typed, credit_date=dt.date(2025, 3, 4)
    )

    # then the credit note, its ledger document and the allocation hold the same amount
    assert credit.payable_amount == expected
    assert credit.document.amount == expected
    assert open_amount(invoice.document) == D("5000") - expected


@pytest.mark.parametrize(
    ("currency", "typed"),
    [("USD", "19.995"), ("KWD", "0.9995"), ("JPY", "1234.5"), ("EUR", "10.004")],
)
def test_sub_cent_credit_amount_rejected_under_reject_policy(
    make_entity, make_customer, invoice_for, currency, typed
):
    entity = make_entity(code=f"X{currency}", base_currency=currency, country="GB")
    customer = make_customer(entity, country="GB")
    invoice = invoice_for(customer, [line("Item", "1", "5000", category="zero")], post=True)

    with pytest.raises(O2CError) as raised:
        issue_credit_note(invoice, reason="Goodwill", amount=typed, credit_date=dt.date(2025, 3, 4))

    assert raised.value.code == "too_many_decimals"
    assert invoice.credit_notes.count() == 0


def test_discount_credit_splits_vat_by_remainder(make_entity, make_customer, invoice_for, post):
    # given net 100.24 + 19 % VAT: 19.0456 → 19.05, gross 119.29
    entity = make_entity(code="DE1", country="DE")
    customer = make_customer(entity, country="DE")
    invoice = invoice_for(customer, [line("Part", "1", "100.24")], post=True)
    assert invoice.payable_amount == D("119.29")

    # when a 2 % early-payment discount (119.29 × 0.02 = 2.3858 → 2.39) is credited
    credit = issue_credit_note(
        invoice,
        reason="2 % early payment discount",
        amount=D("2.39"),
        credit_date=dt.date(2025, 3, 5),
    )

    # then its VAT is 0.38 and its net the remainder 2.01 (not 2.00 + 0.38 = 2.38)
    assert credit.tax_amount == D("0.38")
    assert credit.net_amount == D("2.01")
    assert credit.payable_amount == D("2.39")
    # and the customer's payment of the rest closes the invoice to 0.00
    payment = post(customer, "payment", "BT-1", "2025-03-05", "116.90")
    allocate(invoice.document, payment, on=dt.date(2025, 3, 5))
    assert open_amount(invoice.document) == D("0")


@pytest.fixture
def chf_entity(make_entity):
    return make_entity(
        code="CH1",
        base_currency="CHF",
        time_zone="Europe/Zurich",
        country="CH",
        cash_rounding_increment=D("0.05"),
    )


@pytest.fixture
def two_ten_net_thirty(db):
    return PaymentTerm.objects.create(
        code="2-10-N30",
        name="2 % 10 days, net 30",
        days=30,
        discount_percent=D("2"),
        discount_days=10,
    )


def test_cash_rounding_of_early_payment_and_instalments(
    chf_entity, make_customer, invoice_for, two_ten_net_thirty
):
    # given net 925.16 + 8.1 % VAT (74.938 → 74.94) = 1,000.10 CHF, already a 0.05 multiple
    customer = make_customer(chf_entity, country="CH", payment_term=two_ten_net_thirty)
    invoice = invoice_for(customer, [line("Service", "1", "925.16")], post=True)
    assert invoice.payable_amount == D("1000.10")
    assert invoice.rounding_amount == D("0")

    # then the early-payment amount 1,000.10 × 0.98 = 980.098 is asked as 980.10
    amount, last_day = early_payment_amount(invoice)
    assert amount == D("980.10")
    assert last_day == dt.date(2025, 3, 13)
    # and 30 % now / 70 % later is 300.03 → 300.05, then the remainder 700.05
    assert split_instalments(
        invoice.payable_amount, [D("0.30"), D("0.70")], "CHF", chf_entity.cash_rounding_increment
    ) == [D("300.05"), D("700.05")]


def test_cash_rounding_line_makes_total_payable(chf_entity, make_customer, invoice_for):
    # given net 925.15 + 8.1 % VAT (74.937 → 74.94) = 1,000.09 CHF
    customer = make_customer(chf_entity, country="CH")

    invoice = invoice_for(customer, [line("Service", "1", "925.15")], post=True)

    # then 0.01 of cash rounding makes it 1,000.10, and the ledger asks for that amount
    assert invoice.net_amount + invoice.tax_amount == D("1000.09")
    assert invoice.rounding_amount == D("0.01")
    assert invoice.payable_amount == D("1000.10")
    assert invoice.document.amount == D("1000.10")
