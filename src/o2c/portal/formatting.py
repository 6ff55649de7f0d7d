"""Amounts and dates written for the reader's language, by Babel."""

import datetime as dt
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency

from o2c.core import money
from o2c.portal.texts import language_of


def money_text(amount: Decimal | None, currency: str, language: str) -> str:
    """Return an amount at its currency's decimals, e.g. 1 234,50 € for French."""
    if amount is None:
        return ""
    return format_currency(
        money.round_amount(amount, currency), currency, locale=language_of(language)
    )


def date_text(day: dt.date | None, language: str, style: str = "medium") -> str:
    return format_date(day, format=style, locale=language_of(language)) if day else ""
