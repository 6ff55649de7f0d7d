import pytest

from o2c.core.errors import O2CError
from o2c.ledger.references import creditor_reference, parse_creditor_reference


def test_reference_round_trips_invoice_number():
    reference = creditor_reference("INV-2027-0042")

    assert reference.startswith("RF")
    assert parse_creditor_reference(reference) == "INV20270042"


def test_reference_matches_published_example():
    # ISO 11649's own example reference.
    assert parse_creditor_reference("RF18 5390 0754 7034") == "539007547034"
    assert creditor_reference("539007547034") == "RF18539007547034"


def test_reference_with_typo_is_rejected():
    assert parse_creditor_reference("RF18539007547043") is None


def test_reference_refuses_overlong_number():
    with pytest.raises(O2CError) as raised:
        creditor_reference("X" * 22)

    assert raised.value.code == "reference_impossible"
