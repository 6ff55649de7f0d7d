"""Statement file formats: detection and one parser per format family."""

from o2c.banking.parsers import bai2, camt, swift
from o2c.banking.parsers.base import ParsedLine, ParsedStatement, ParseError, check_balances

FORMAT_FAMILIES = ("mt940", "camt", "bai2", "csv")

__all__ = [
    "FORMAT_FAMILIES",
    "ParseError",
    "ParsedLine",
    "ParsedStatement",
    "check_balances",
    "detect_format",
]


def detect_format(data: bytes) -> str | None:
    """Return the format family of a file from its content, or None if unknown."""
    head = data[:4096]
    if camt.looks_like(head):
        return "camt"
    text = head.decode("utf-8-sig", errors="replace")
    if bai2.looks_like(text):
        return "bai2"
    if swift.looks_like(text):
        return "mt940"
    return None
