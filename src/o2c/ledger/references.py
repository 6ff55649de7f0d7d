"""Structured creditor references (ISO 11649, "RF" references) for invoices.

A customer who pays by transfer quotes the reference; cash application reads it back to
find the invoice. The reference is derived from the invoice number, so an invoice
posted by o2c and one loaded from a history file both have one.
"""

import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from o2c.core.errors import O2CError

MAX_BODY_LENGTH = 21


def creditor_reference(invoice_number: str) -> str:
    """Return the RF reference for an invoice number, e.g. RF270000611365.

    Only letters and digits of the number are kept (ISO 11649 allows nothing else),
    upper-cased; the check digits make a mistyped reference detectable.
    """
    body = re.sub(r"[^0-9A-Za-z]", "", invoice_number).upper()
    if not body or len(body) > MAX_BODY_LENGTH:
        raise O2CError(
            "reference_impossible",
            "Invoice number {number!r} has {count} letters and digits; an RF reference "
            "holds 1 to 21.",
            number=invoice_number,
            count=len(body),
        )
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def parse_creditor_reference(text: str) -> str | None:
    """Return the reference's body (the invoice number's letters and digits), or None.

    Spaces are ignored, as in the printed form "RF27 0000 6113 65"; a reference whose
    check digits fail returns None.
    """
    compact = iso11649.compact(text or "")
    if not iso11649.is_valid(compact):
        return None
    return compact[4:]
