"""Bank transfer: the entity's account, the invoice's RF reference and an EPC QR code.

Each invoice is paid with its own ISO 11649 creditor reference, which cash application
reads back from the bank statement to find the invoice. For euro amounts the details
come as an EPC QR code ("SEPA credit transfer" QR, EPC069-12 version 002), which
banking apps scan to fill in the transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import segno
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from o2c.core import money
from o2c.core.errors import O2CError
from o2c.ledger.references import creditor_reference
from o2c.payments.gateways.base import PaymentMethodAdapter

EPC_MAX_AMOUNT = Decimal("999999999.99")
EPC_MAX_BYTES = 331
EPC_MAX_VERSION = 13
EPC_NAME_LENGTH = 70


@dataclass(frozen=True)
class TransferInstructions:
    """Transfer details of one invoice, as the payer types or scans them."""

    invoice_number: str
    beneficiary: str
    iban: str
    bic: str
    amount: Decimal
    currency: str
    reference: str
    reference_is_structured: bool
    epc_payload: str
    qr_svg: str


class BankTransfer(PaymentMethodAdapter):
    method = "transfer"
    label = "Bank transfer"

    def is_available(self, customer, currency: str) -> bool:
        return bool(customer.entity.iban)

    def instructions(self, invoice, amount: Decimal) -> TransferInstructions:
        return transfer_instructions(invoice, amount)


def payment_reference(invoice_number: str) -> tuple[str, bool]:
    """Return (reference, is structured): the RF reference, or the number when it has none."""
    try:
        return creditor_reference(invoice_number), True
    except O2CError:
        return invoice_number, False


def transfer_instructions(invoice, amount: Decimal) -> TransferInstructions:
    """Return the transfer details for paying `amount` of one invoice."""
    entity = invoice.entity
    if not entity.iban:
        raise O2CError(
            "no_bank_account",
            "{entity} has no bank account for transfers; add its IBAN.",
            entity=entity.code,
        )
    reference, structured = payment_reference(invoice.number)
    iban = stdnum_iban.compact(entity.iban)
    bic = stdnum_bic.compact(entity.bic) if entity.bic else ""
    payload, svg = "", ""
    if invoice.currency == "EUR" and Decimal("0.01") <= amount <= EPC_MAX_AMOUNT:
        payload = epc_payload(
            name=entity.name,
            iban=iban,
            bic=bic,
            amount=amount,
            reference=reference if structured else "",
            text="" if structured else reference,
        )
        svg = qr_svg(payload)
    return TransferInstructions(
        invoice_number=invoice.number,
        beneficiary=entity.name,
        iban=stdnum_iban.format(iban),
        bic=bic,
        amount=amount,
        currency=invoice.currency,
        reference=reference,
        reference_is_structured=structured,
        epc_payload=payload,
        qr_svg=svg,
    )


def epc_payload(
    *, name: str, iban: str, bic: str, amount: Decimal, reference: str = "", text: str = ""
) -> str:
    """Return the EPC069-12 (version 002) text of a SEPA credit transfer QR code.

    Lines in order: service tag BCD, version 002, character set 1 (UTF-8), SCT, BIC
    (optional from version 002), beneficiary name, IBAN, amount as EUR<amount>, purpose
    (empty), then either the structured RF reference or an unstructured text, never both.
    """
    if bool(reference) == bool(text):
        raise ValueError("give either a structured reference or a text")
    amount = money.round_amount(amount, "EUR")
    lines = [
        "BCD",
        "002",
        "1",
        "SCT",
        bic,
        name.strip()[:EPC_NAME_LENGTH],
        iban,
        f"EUR{amount}",
        "",
        reference[:35],
        text[:140],
    ]
    payload = "\n".join(lines).rstrip("\n")
    if len(payload.encode("utf-8")) > EPC_MAX_BYTES:
        raise ValueError("an EPC QR payload is limited to 331 bytes")
    return payload


def qr_svg(payload: str) -> str:
    """Return the QR code of an EPC payload as inline SVG, at error correction level M.

    The EPC guideline fixes level M and at most version 13, so segno must not raise the
    level even where the symbol would have room for it.
    """
    code = segno.make(payload, error="m", boost_error=False, encoding="utf-8", micro=False)
    if code.version > EPC_MAX_VERSION:
        raise ValueError("the EPC QR code needs a version above 13")
    return code.svg_inline(scale=4, border=4, title="SEPA credit transfer QR code")
