"""Amounts and dates written for the reader's language, by Babel."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal

from o2c.core import money
from o2c.core.errors import O2CError
from o2c.portal.texts import language_of, words


def money_text(amount: Decimal | None, currency: str, language: str) -> str:
    """Return an amount at its currency's decimals, e.g. 1 234,50 € for French."""
    if amount is None:
        return ""
    return format_currency(
        money.round_amount(amount, currency), currency, locale=language_of(language)
    )


def price_text(amount: Decimal | None, currency: str, language: str) -> str:
    """Return a unit price with its own decimals when it has more than the currency's.

    A unit price of 0.333 EUR stays 0.333 €, as on the invoice PDF, while 12.5 EUR
    shows as 12.50 €.
    """
    if amount is None:
        return ""
    if -amount.normalize().as_tuple().exponent <= money.minor_unit(currency):
        return money_text(amount, currency, language)
    return format_currency(
        amount.normalize(), currency, locale=language_of(language), decimal_quantization=False
    )


def amount_input(amount: Decimal | None, currency: str, language: str) -> str:
    """Return an amount for a form field: the currency's decimals, the reader's decimal sign.

    No group separators are written, so `parse_amount_input` reads the value back as
    the same amount in every language ("1,500" KWD in German is one and a half dinars).
    """
    if amount is None:
        return ""
    digits = money.minor_unit(currency)
    pattern = "0" + ("." + "0" * digits if digits else "")
    return format_decimal(
        money.round_amount(amount, currency), format=pattern, locale=language_of(language)
    )


_BLANKS = str.maketrans("", "", " \u00a0\u202f")


def parse_amount_input(text: str, language: str, field: str = "amount") -> str:
    """Return the amount typed in a portal form as plain decimal text ("1.5" for "1,5").

    The reader's language decides the decimal sign, so "1,5" is 1.5 in German or French
    and "1.500" is 1500 in German. A value that does not parse in that language but is a
    plain number with a point ("846.49") is read as such. Anything but digits, a sign
    and separators is rejected. Empty text stays empty, for the caller's default.
    """
    compact = (text or "").strip().translate(_BLANKS)
    if not compact:
        return ""
    if compact.strip("+-0123456789.,"):
        raise money.MoneyError(
            "invalid_amount", "{field} {value!r} is not a number.", field=field, value=text
        )
    try:
        return str(parse_decimal(compact, locale=language_of(language), strict=True))
    except NumberFormatError:
        pass
    try:
        return str(Decimal(compact))
    except InvalidOperation:
        raise money.MoneyError(
            "invalid_amount", "{field} {value!r} is not a number.", field=field, value=text
        ) from None


def error_text(error: O2CError, language: str) -> str:
    """Return a service error in the reader's language, or its English message.

    The portal's words hold `error_<code>` for the errors a customer can meet. Dates
    among the parameters are written for the reader's language.
    """
    template = words(language).get(f"error_{error.code}")
    if template is None:
        return error.message
    params = {
        name: date_text(value, language) if isinstance(value, dt.date) else value
        for name, value in error.params.items()
    }
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return error.message


def date_text(day: dt.date | None, language: str, style: str = "medium") -> str:
    return format_date(day, format=style, locale=language_of(language)) if day else ""
