"""Template filters that print amounts and quantities without MoneyField's storage digits."""

from decimal import Decimal

from django import template

from o2c.core import money

register = template.Library()


def format_amount(amount: Decimal | None, currency: str) -> str:
    """Return the amount rounded to the currency's minor unit, with thousands separators."""
    if amount is None:
        return ""
    return f"{money.round_amount(Decimal(amount), currency):,}"


@register.filter
def amount(value, currency):
    return format_amount(value, currency)


@register.filter
def quantity(value):
    """Print a quantity without trailing zeros: 5.000 as 5, 2.500 as 2.5."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"
