"""Bank transfer instructions: the entity's IBAN, the invoice's RF reference, EPC QR."""

import datetime as dt
from decimal import Decimal

import pytest
import segno
import segno.helpers

from o2c.core.errors import O2CError
from o2c.fx.services import set_manual_rate
from o2c.ledger.references import creditor_reference, parse_creditor_reference
from o2c.payments.transfer import epc_payload, transfer_instructions

D = Decimal

pytestmark = pytest.mark.django_db


def test_instructions_quote_the_rf_reference(buyer, bill):
    # given a posted invoice
    invoice = bill(buyer, "100.00")

    # when the customer requests the transfer details
    instructions = transfer_instructions(invoice.document, D("120.00"))

    # then it names the account and the invoice's RF reference, which reads back to it
    assert instructions.beneficiary == "Atelier Lumière SAS"
    assert instructions.iban == "FR76 3000 6000 0112 3456 7890 189"
    assert instructions.bic == "AGRIFRPP"
    assert instructions.reference == creditor_reference(invoice.number)
    assert instructions.reference_is_structured is True
    assert parse_creditor_reference(instructions.reference) == invoice.number.replace("-", "")


def test_epc_payload_follows_the_guideline(buyer, bill):
    invoice = bill(buyer, "100.00")

    instructions = transfer_instructions(invoice.document, D("120.00"))

    assert instructions.epc_payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "AGRIFRPP",
        "Atelier Lumière SAS",
        "FR7630006000011234567890189",
        "EUR120.00",
        "",
        creditor_reference(invoice.number),
    ]


def test_payload_agrees_with_segno_epc_helper(buyer, bill):
    # given the payload o2c builds and the one segno's EPC helper builds from the same fields
    invoice = bill(buyer, "100.00")
    reference = creditor_reference(invoice.number)
    ours = epc_payload(
        name="Atelier Lumière SAS",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        amount=D("120.00"),
        reference=reference,
    ).split("\n")
    theirs = (
        segno.helpers._make_epc_qr_data(
            "Atelier Lumière SAS",
            "FR7630006000011234567890189",
            D("120.00"),
            reference=reference,
            bic="AGRIFRPP",
            encoding="utf-8",
        )
        .decode("utf-8")
        .split("\n")
    )

    # then they agree line by line; segno drops trailing zeros of the amount
    assert ours[:7] == theirs[:7]
    assert D(ours[7].removeprefix("EUR")) == D(theirs[7].removeprefix("EUR"))
    assert ours[8:] == theirs[8:]


def test_qr_code_is_level_m_within_version_13(buyer, bill):
    invoice = bill(buyer, "100.00")
    instructions = transfer_instructions(invoice.document, D("120.00"))

    code = segno.make(
        instructions.epc_payload, error="m", boost_error=False, encoding="utf-8", micro=False
    )

    assert code.error == "M"
    assert code.version <= 13
    assert instructions.qr_svg.startswith("<svg")


def test_no_qr_code_outside_euro(buyer, bill, make_customer, seller):
    # given an invoice in US dollars
    set_manual_rate("USD", dt.date(2025, 3, 3), D("1.0812"))
    american = make_customer(seller, number="US01", currency="USD", country="US")
    invoice = bill(american, "100.00")

    # when transfer instructions are asked
    instructions = transfer_instructions(invoice.document, D("100.00"))

    # then they have no EPC QR code, which is for euro only
    assert instructions.currency == "USD"
    assert instructions.qr_svg == ""
    assert instructions.epc_payload == ""


def test_no_bank_account_is_an_error(buyer, bill, seller):
    invoice = bill(buyer, "100.00")
    seller.iban = ""
    seller.save()
    invoice.document.entity.refresh_from_db()

    with pytest.raises(O2CError) as raised:
        transfer_instructions(invoice.document, D("120.00"))

    assert raised.value.code == "no_bank_account"


def test_number_without_rf_reference_goes_as_text():
    payload = epc_payload(
        name="Atelier",
        iban="FR7630006000011234567890189",
        bic="",
        amount=D("5"),
        text="INV 2025/0001",
    )

    assert payload.split("\n")[-2:] == ["", "INV 2025/0001"]
    assert payload.split("\n")[7] == "EUR5.00"
