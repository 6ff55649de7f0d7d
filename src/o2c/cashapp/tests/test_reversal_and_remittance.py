"""Bank reversals undo what they reversed; remittance advices steer the engine."""

from decimal import Decimal

import pytest

from o2c.banking.models import LineState, StatementLine
from o2c.banking.services import import_statement_file
from o2c.banking.tests.test_formats import MT940_REVERSAL
from o2c.cashapp.models import Decision, LineMatch, RemittanceAdvice
from o2c.cashapp.remittance import import_remittance
from o2c.cashapp.services import run_matching
from o2c.imports.errors import ImportRejected
from o2c.ledger.models import Document
from o2c.ledger.services import open_amount

D = Decimal
pytestmark = pytest.mark.django_db


def test_reversed_receipt_reopens_the_invoice(make_customer, entity, post, tmp_path):
    # T19: a receipt of 350.25 for INV-2027-0042, then the bank's RC "STORNO" of it
    customer = make_customer(entity, name="Acme GmbH")
    invoice = post(customer, "invoice", "INV-2027-0042", "2027-02-01", "350.25")
    path = tmp_path / "t19.sta"
    path.write_text(MT940_REVERSAL)
    import_statement_file(path, entity=entity, create_accounts=True)

    result = run_matching(entity)

    receipt, reversal, rent = StatementLine.objects.order_by("position")
    assert result.auto_applied == 1
    assert result.reversals == 1
    assert result.ignored == 1
    assert receipt.state == LineState.REVERSED
    assert reversal.state == LineState.REVERSED
    assert rent.state == LineState.IGNORED
    assert open_amount(invoice) == D("350.25")
    payment = LineMatch.objects.get(line=receipt).payment
    assert Document.objects.filter(reverses=payment).exists()
    assert LineMatch.objects.get(line=reversal).decision == Decision.REVERSAL
    assert customer.timeline.filter(kind="cash_reversed").exists()


def test_reversal_of_queued_line_closes_both(entity, tmp_path):
    path = tmp_path / "t19.sta"
    path.write_text(MT940_REVERSAL)
    import_statement_file(path, entity=entity, create_accounts=True)

    run_matching(entity)

    receipt, reversal, _ = StatementLine.objects.order_by("position")
    assert receipt.state == LineState.REVERSED
    assert reversal.state == LineState.REVERSED


def test_reversed_debit_is_not_a_receipt(entity, tmp_path):
    from o2c.banking.tests.test_formats import MT940_DEBIT_REVERSAL

    path = tmp_path / "t19b.sta"
    path.write_text(MT940_DEBIT_REVERSAL)
    import_statement_file(path, entity=entity, create_accounts=True)

    result = run_matching(entity)

    assert result.ignored == 2
    assert set(StatementLine.objects.values_list("state", flat=True)) == {LineState.IGNORED}


REMITTANCE_EMAIL = """From: Harbour Foods Ltd <ap@harbour.example>
Subject: Payment advice

Reference: HF-PAY-5531
Date: 2027-03-04
Currency: EUR

Invoice          Amount
INV-2027-0101    1,200.00
INV-2027-0102      310.50
Total            1,510.50
"""


def test_email_remittance_steers_matching(
    make_customer, entity, post, tmp_path, bank_account, make_line
):
    # given two invoices with the same amounts as other invoices, and an e-mailed advice
    customer = make_customer(entity, name="Harbour Foods Ltd")
    first = post(customer, "invoice", "INV-2027-0101", "2027-02-01", "1200.00")
    second = post(customer, "invoice", "INV-2027-0102", "2027-02-02", "310.50")
    post(customer, "invoice", "INV-2027-0103", "2027-02-03", "1510.50")
    path = tmp_path / "advice.txt"
    path.write_text(REMITTANCE_EMAIL)
    _, created, _ = import_remittance(path, entity=entity)
    assert created == 1
    assert RemittanceAdvice.objects.get().customer == customer

    # when the payment arrives quoting only the advice reference
    line = make_line(bank_account, "1510.50", text="HF-PAY-5531", on="2027-03-04")
    run_matching(entity)

    # then the invoices of the advice are paid, not the one of the same amount
    assert LineMatch.objects.get(line=line).decision == Decision.AUTO
    assert open_amount(first) == open_amount(second) == D("0")
    assert RemittanceAdvice.objects.get().line_id == line.pk


def test_remittance_import_is_idempotent_and_checks_total(entity, tmp_path):
    path = tmp_path / "advice.txt"
    path.write_text(REMITTANCE_EMAIL)
    import_remittance(path, entity=entity)

    _, created, known = import_remittance(path, entity=entity)

    assert (created, known) == (0, 1)
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(REMITTANCE_EMAIL.replace("1,510.50", "1,600.00"))
    with pytest.raises(ImportRejected) as raised:
        import_remittance(wrong, entity=entity)
    assert "the total 1600.00 differs from the invoices' sum 1510.50" in raised.value.message


def test_csv_remittance_rows_form_advices(make_customer, entity, post, tmp_path):
    customer = make_customer(entity, number="C-77")
    post(customer, "invoice", "INV-2027-0201", "2027-02-01", "99.00")
    path = tmp_path / "advice.csv"
    path.write_text(
        "payer_name,payer_account,customer,payment_reference,paid_on,currency,invoice_number,amount\n"
        "Ocean Ltd,GB29NWBK60161331926819,C-77,P-1,2027-03-01,EUR,INV-2027-0201,99.00\n"
        "Ocean Ltd,GB29NWBK60161331926819,C-77,P-1,2027-03-01,EUR,INV-2027-0202,1.00\n"
        "Ocean Ltd,GB29NWBK60161331926819,,P-2,2027-03-02,EUR,INV-2027-0203,5.001\n"
    )

    with pytest.raises(ImportRejected) as raised:
        import_remittance(path, entity=entity)
    assert "advice.csv line 4, field amount" in raised.value.message

    path.write_text("\n".join(path.read_text().splitlines()[:3]) + "\n")
    _, created, _ = import_remittance(path, entity=entity)
    advice = RemittanceAdvice.objects.get()
    assert created == 1
    assert advice.total_amount == D("100.00")
    assert advice.customer == customer
    assert advice.items.count() == 2
