"""Template filters for amounts: rounded to the currency's minor unit, digits grouped."""

from decimal import Decimal

from django import template

from o2c.core import money

register = template.Library()


@register.filter
def amount(value, currency: str) -> str:
    """Show an amount with its currency's decimals, e.g. 1,234.50 for EUR, 1,235 for JPY."""
    if value in (None, ""):
        return ""
    return f"{money.round_amount(Decimal(value), currency):,}"
