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


def price_value(value: Decimal, currency: str) -> Decimal:
    """Return a unit price with the currency's decimals, or more where the price has them."""
    digits = money.minor_unit(currency)
    normalized = Decimal(value).normalize()
    if -normalized.as_tuple().exponent <= digits:
        return Decimal(value).quantize(money.quantum(currency))
    return normalized


def quantity_value(value: Decimal) -> Decimal:
    """Return a quantity without trailing zeros, never in exponent form (5E+1)."""
    normalized = Decimal(value).normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral() else normalized


@register.filter
def amount(value, currency):
    return format_amount(value, currency)


@register.filter
def quantity(value):
    """Print a quantity without trailing zeros: 5.000 as 5, 2.500 as 2.5."""
    if value is None:
        return ""
    return f"{quantity_value(value):f}"


@register.filter
def price(value, currency):
    if value is None:
        return ""
    return f"{price_value(value, currency):,f}"
