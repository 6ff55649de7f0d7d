from babel.numbers import format_decimal
from django import template

from o2c.core import money

register = template.Library()


@register.filter
def amount(value, currency: str) -> str:
    """Format an amount with its currency's decimals, e.g. 1,234.50 EUR or 2,580 JPY."""
    if value is None:
        return ""
    rounded = money.round_amount(value, currency)
    digits = money.minor_unit(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return f"{format_decimal(rounded, format=pattern, locale='en')} {currency}"
