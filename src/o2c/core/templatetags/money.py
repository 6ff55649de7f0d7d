"""Template filters that show amounts with their currency's decimals."""

from decimal import Decimal

from babel.numbers import format_decimal
from django import template

from o2c.core import money

register = template.Library()


def _pattern(currency: str) -> str:
    digits = money.minor_unit(currency)
    return "#,##0" + ("." + "0" * digits if digits else "")


@register.filter
def number(value, currency: str) -> str:
    """Format an amount with its currency's decimals and grouping, e.g. 1,234.50 or 2,580."""
    if value is None or value == "":
        return ""
    rounded = money.round_amount(Decimal(value), currency)
    return format_decimal(rounded, format=_pattern(currency), locale="en")


@register.filter
def amount(value, currency: str) -> str:
    """Format an amount followed by its currency code, e.g. 1,234.50 EUR or 2,580 JPY."""
    if value is None or value == "":
        return ""
    return f"{number(value, currency)} {currency}"
