"""Allocations between debit and credit documents, and the open amounts they leave."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.ledger.errors import ImmutableDocumentError, LedgerError
from o2c.ledger.models import Document
from o2c.ledger.services import allocate, open_amount, reverse_document, status_of, unallocate

D = Decimal


def test_allocation_capped_by_bank_amount_then_invoice(customer, post):
    # given an invoice of 240.00 and two bank credits of 90.00 and 150.00
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "240.00")
    first = post(customer, "payment", "BT-1", "2027-01-20", "90.00")
    second = post(customer, "payment", "BT-2", "2027-01-25", "150.00")

    # when each is matched to the invoice
    result_1 = allocate(invoice, first, on=dt.date(2027, 1, 20))
    result_2 = allocate(invoice, second, on=dt.date(2027, 1, 25))

    # then each allocation is the bank amount, and the invoice closes on the second
    assert result_1.allocation.amount == D("90.00")
    assert result_1.debit_open == D("150.00")
    assert result_1.credit_open == D("0.00")
    assert status_of(invoice.amount, open_amount(invoice, dt.date(2027, 1, 20))) == "partly paid"
    assert result_2.allocation.amount == D("150.00")
    assert open_amount(invoice) == D("0")
    assert status_of(invoice.amount, open_amount(invoice)) == "paid"


def test_allocation_larger_credit_leaves_unapplied(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "150.00")
    payment = post(customer, "payment", "BT-2", "2027-01-25", "160.00")

    result = allocate(invoice, payment, on=dt.date(2027, 1, 25))

    assert result.allocation.amount == D("150.00")
    assert result.credit_open == D("10.00")
    assert open_amount(payment) == D("10.00")


def test_overpayment_closes_invoice_and_keeps_excess_on_account(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-02-01", "1250.00")
    payment = post(customer, "payment", "PAY-1", "2027-02-10", "1400.00")

    allocate(invoice, payment, on=dt.date(2027, 2, 10))

    assert open_amount(invoice) == D("0")
    assert open_amount(payment) == D("150.00")
    balance = open_amount(invoice) - open_amount(payment)
    assert balance == D("-150.00")


def test_partial_payment_keeps_invoice_open(customer, post):
    # net 615.00 + 20 % VAT = 738.00
    invoice = post(customer, "invoice", "INV-1", "2027-02-01", "738.00", tax_amount="123.00")
    payment = post(customer, "payment", "PAY-1", "2027-02-10", "500.00")

    allocate(invoice, payment, on=dt.date(2027, 2, 10))

    assert open_amount(invoice) == D("238.00")
    assert status_of(invoice.amount, open_amount(invoice)) == "partly paid"


def test_credit_note_application_moves_both_sides(customer, post):
    invoice = post(customer, "invoice", "INV-7", "2027-03-01", "180.00")
    credit = post(customer, "credit_note", "CR-3", "2027-03-05", "45.00", related_invoice=invoice)
    balance_before = open_amount(invoice) - open_amount(credit)

    allocate(invoice, credit, on=dt.date(2027, 3, 5))

    assert open_amount(invoice) == D("135.00")
    assert open_amount(credit) == D("0")
    assert open_amount(invoice) - open_amount(credit) == balance_before == D("135.00")
    payment = post(customer, "payment", "PAY-1", "2027-03-20", "135.00")
    allocate(invoice, payment, on=dt.date(2027, 3, 20))
    assert open_amount(invoice) == D("0")


def test_allocate_refuses_nothing_left(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "100.00")
    payment = post(customer, "payment", "PAY-1", "2027-01-20", "100.00")
    allocate(invoice, payment, on=dt.date(2027, 1, 20))
    second = post(customer, "payment", "PAY-2", "2027-01-21", "5.00")

    with pytest.raises(LedgerError) as raised:
        allocate(invoice, second, on=dt.date(2027, 1, 21))

    assert raised.value.code == "nothing_to_allocate"


def test_allocate_refuses_date_before_documents(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "100.00")
    payment = post(customer, "payment", "PAY-1", "2027-01-20", "100.00")

    with pytest.raises(LedgerError) as raised:
        allocate(invoice, payment, on=dt.date(2027, 1, 15))

    assert raised.value.code == "allocation_before_document"


def test_unallocate_reopens_from_its_date_only(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "100.00")
    payment = post(customer, "payment", "PAY-1", "2027-01-20", "100.00")
    result = allocate(invoice, payment, on=dt.date(2027, 1, 20))

    unallocate(result.allocation, on=dt.date(2027, 2, 1), note="wrong customer")

    assert open_amount(invoice, dt.date(2027, 1, 25)) == D("0")
    assert open_amount(invoice, dt.date(2027, 2, 1)) == D("100.00")
    assert open_amount(payment) == D("100.00")


def test_reversed_payment_reopens_invoice(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "350.25")
    payment = post(customer, "payment", "PAY-1", "2027-01-20", "350.25")
    allocate(invoice, payment, on=dt.date(2027, 1, 20))

    reversal = reverse_document(payment, on=dt.date(2027, 1, 22), reason="bank returned it")

    assert reversal.side == "D"
    assert open_amount(invoice) == D("350.25")
    assert open_amount(payment) == D("0")
    assert open_amount(reversal) == D("0")


def test_posted_document_cannot_be_edited_or_deleted(customer, post):
    invoice = post(customer, "invoice", "INV-1", "2027-01-10", "100.00")

    invoice.amount = D("90.00")
    with pytest.raises(ImmutableDocumentError):
        invoice.save()
    with pytest.raises(ImmutableDocumentError):
        invoice.delete()
    with pytest.raises(ImmutableDocumentError):
        Document.objects.filter(pk=invoice.pk).update(amount=D("1"))
    assert Document.objects.get(pk=invoice.pk).amount == D("100.00")
