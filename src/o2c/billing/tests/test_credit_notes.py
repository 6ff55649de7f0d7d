"""Credit notes: in full, by line, by amount; posted, numbered and applied to the invoice."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.billing.errors import BillingError
from o2c.billing.models import CreditNote
from o2c.billing.services import CreditLineInput, issue_credit_note
from o2c.billing.tests.conftest import line
from o2c.ledger.services import allocate, open_amount, status_of

D = Decimal
ON = dt.date(2025, 3, 10)

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(buyer_fr, invoice_for):
    # 3 × 19.99 at 20 % and 2 × 4.55 at 10 %: nets 59.97 and 9.10, VAT 11.99 and 0.91
    return invoice_for(
        buyer_fr,
        [line("Lamp", "3", "19.99"), line("Book", "2", "4.55", category="reduced")],
        post=True,
    )


def test_full_credit_note_mirrors_invoice_and_closes_it(invoice):
    credit = issue_credit_note(invoice, reason="Order cancelled", credit_date=ON)

    assert credit.number == "CN-2025-00001"
    assert credit.status == "posted"
    assert credit.net_amount == D("69.07")
    assert credit.tax_amount == D("12.90")
    assert credit.payable_amount == D("81.97")
    document = credit.document
    assert document.kind == "credit_note"
    assert document.related_invoice_id == invoice.document_id
    assert document.tax_amount == D("12.90")
    assert open_amount(invoice.document) == D("0")
    assert open_amount(document) == D("0")
    assert status_of(invoice.document.amount, open_amount(invoice.document)) == "paid"


def test_partial_credit_by_line_quantity(invoice):
    # one lamp of three: 19.99 net, 20 % = 3.998 → 4.00
    credit = issue_credit_note(
        invoice, reason="One lamp broken", lines=[CreditLineInput(1, D("1"))], credit_date=ON
    )

    assert credit.net_amount == D("19.99")
    assert credit.tax_amount == D("4.00")
    assert credit.payable_amount == D("23.99")
    assert [(t.rate_percent, t.taxable_amount, t.tax_amount) for t in credit.taxes.all()] == [
        (D("20"), D("19.99"), D("4.00"))
    ]
    assert open_amount(invoice.document) == D("81.97") - D("23.99")


def test_credit_of_rest_after_partial_credits_closes_exactly(invoice):
    issue_credit_note(invoice, reason="One lamp", lines={1: D("1")}, credit_date=ON)
    issue_credit_note(invoice, reason="Goodwill", amount=D("10.01"), credit_date=ON)

    rest = issue_credit_note(invoice, reason="Return of the rest", credit_date=ON)

    credits = CreditNote.objects.filter(invoice=invoice)
    assert sum(c.payable_amount for c in credits) == invoice.payable_amount
    assert sum(c.net_amount for c in credits) == invoice.net_amount
    assert sum(c.tax_amount for c in credits) == invoice.tax_amount
    assert rest.number == "CN-2025-00003"
    assert open_amount(invoice.document) == D("0")


def test_credit_beyond_what_is_left_is_rejected(invoice):
    issue_credit_note(invoice, reason="Most of it", amount=D("80.00"), credit_date=ON)

    with pytest.raises(BillingError) as by_amount:
        issue_credit_note(invoice, reason="Too much", amount=D("2.00"), credit_date=ON)
    with pytest.raises(BillingError) as by_line:
        issue_credit_note(invoice, reason="Too many", lines={2: D("3")}, credit_date=ON)

    assert by_amount.value.code == "invalid_credit_amount"
    assert "at most the 1.97 EUR not yet credited" in by_amount.value.message
    assert by_line.value.code == "invalid_credit_quantity"
    assert CreditNote.objects.count() == 1


def test_credit_needs_a_reason_and_one_way(invoice):
    with pytest.raises(BillingError) as no_reason:
        issue_credit_note(invoice, reason=" ")
    with pytest.raises(BillingError) as both:
        issue_credit_note(invoice, reason="x", lines={1: D("1")}, amount=D("1"))
    with pytest.raises(BillingError) as unknown:
        issue_credit_note(invoice, reason="x", lines={9: D("1")}, credit_date=ON)

    assert no_reason.value.code == "reason_required"
    assert both.value.code == "lines_and_amount"
    assert unknown.value.code == "unknown_line"


def test_credit_on_paid_invoice_stays_open_as_customer_credit(invoice, post):
    payment = post(invoice.customer, "payment", "BT-1", "2025-03-05", "81.97")
    allocate(invoice.document, payment, on=dt.date(2025, 3, 5))

    credit = issue_credit_note(invoice, reason="Late delivery", amount=D("5.00"), credit_date=ON)

    assert open_amount(invoice.document) == D("0")
    assert open_amount(credit.document) == D("5.00")


def test_draft_invoice_cannot_be_credited(buyer_fr, invoice_for):
    draft = invoice_for(buyer_fr, [line()])

    with pytest.raises(BillingError) as raised:
        issue_credit_note(draft, reason="x")

    assert raised.value.code == "invoice_not_posted"


def test_credit_note_is_recorded_on_timeline(invoice):
    issue_credit_note(invoice, reason="Damaged in transit", amount=D("5.00"), credit_date=ON)

    event = invoice.customer.timeline.get(kind="credit_note_issued")

    assert "Damaged in transit" in event.summary
    assert "CN-2025-00001" in event.summary
