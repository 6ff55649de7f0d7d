"""Exact money arithmetic: one place that knows each currency's minor unit.

Every amount in o2c is a `Decimal` travelling with an ISO 4217 code. Rounding to the
currency's minor unit (JPY 0, EUR 2, KWD 3) happens here and nowhere else, with an
explicit rounding mode, so that a ledger amount, a gateway amount and a printed
amount are always the same number.
"""

import re
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from o2c.core.errors import O2CError

ZERO = Decimal("0")

ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
}

# Babel's CLDR data (babel 2.19) gives 0 decimals for these codes, while ISO 4217 lists
# a minor unit of 2. Bank statements and e-invoices follow ISO 4217.
_ISO_4217_MINOR_UNIT_OVERRIDES = {"HUF": 2, "COP": 2, "IDR": 2, "MGA": 2}


# MoneyField stores numeric(19, 4): 15 digits before the decimal point, 4 after.
MAX_AMOUNT = Decimal(10) ** 15
MAX_AMOUNT_TEXT = "999,999,999,999,999.9999"
# Digits with an optional sign and decimal point: what a person writes as an amount.
# Decimal() also reads exponents ("1e3"), NaN, Infinity and underscores ("1_000").
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


class MoneyError(O2CError):
    """An amount or currency that o2c cannot accept as money."""


def parse_plain_number(text: str) -> Decimal:
    """Return the Decimal written in `text`, which must be a plain number such as -1234.50.

    Raises MoneyError with code "not_a_number" for text that is no number at all, and
    "not_plain_number" for forms that Decimal reads but a person does not write as an
    amount (exponent, NaN, Infinity, underscores).
    """
    if PLAIN_NUMBER.fullmatch(text):
        return Decimal(text)
    try:
        Decimal(text)
    except (InvalidOperation, ValueError):
        raise MoneyError("not_a_number", "{value!r} is not a number", value=text) from None
    raise MoneyError(
        "not_plain_number",
        "{value!r} is not a plain number; write digits with an optional sign and decimal "
        "point, such as 1000.00",
        value=text,
    )


def check_amount_range(amount: Decimal, field: str = "amount") -> Decimal:
    """Return the amount, or raise MoneyError if it does not fit numeric(19, 4)."""
    if abs(amount) >= MAX_AMOUNT:
        raise MoneyError(
            "amount_too_large",
            "{field} {value} is larger than the maximum {maximum}",
            field=field,
            value=amount,
            maximum=MAX_AMOUNT_TEXT,
        )
    return amount


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(currency: str) -> str:
    """Return the upper-case ISO 4217 code, or raise if it is not a known currency."""
    code = (currency or "").strip().upper()
    if code not in known_currencies():
        raise MoneyError(
            "unknown_currency",
            "{currency!r} is not an ISO 4217 currency code; use a code such as EUR or USD.",
            currency=currency,
        )
    return code


@cache
def minor_unit(currency: str) -> int:
    """Return the number of decimal places of the currency's minor unit."""
    code = check_currency(currency)
    if code in _ISO_4217_MINOR_UNIT_OVERRIDES:
        return _ISO_4217_MINOR_UNIT_OVERRIDES[code]
    return get_currency_precision(code)


@cache
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def round_amount(amount: Decimal, currency: str, mode: str = "half_up") -> Decimal:
    """Round an amount once, to the currency's minor unit, with the named mode."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    return amount.quantize(quantum(currency), rounding=ROUNDING_MODES[mode])


def as_text(amount: Decimal, currency: str) -> str:
    """Return an amount at its currency's minor unit as plain text: "699.97", or "1200" in JPY.

    Stored amounts carry four decimals ("699.9700"), so messages and form values that
    show an amount go through here rather than `str()` or an f-string.
    """
    return str(round_amount(Decimal(amount), currency))


def cash_round(amount: Decimal, currency: str, increment: Decimal | None) -> Decimal:
    """Round half-up to a cash-rounding increment such as CHF 0.05, or to the minor unit."""
    if not increment:
        return round_amount(amount, currency)
    steps = (amount / increment).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return round_amount(steps * increment, currency)


def parse_amount(value, currency: str, *, policy: str = "reject", field: str = "amount"):
    """Turn text or a Decimal into an amount of the currency, under one precision policy.

    `policy` says what happens to more decimals than the currency has: "reject" raises
    an error naming the field, "round" rounds once, half-up. Every input path (imports,
    API, web forms, gateways) calls this, so the same input gives the same amount.
    Floats are refused: they cannot hold most decimal amounts exactly. Text must be a
    plain number (no exponent, NaN or Infinity), and the amount must be below
    MAX_AMOUNT in size, the most a MoneyField stores.
    """
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a Decimal or its text")
    if isinstance(value, Decimal | int):
        amount = Decimal(value)
        text = str(value)
    else:
        text = str(value).strip().replace(" ", "")
        try:
            amount = parse_plain_number(text)
        except MoneyError as error:
            raise MoneyError(
                "invalid_amount", "{field} {problem}.", field=field, problem=error.message
            ) from None
    if not amount.is_finite():
        raise MoneyError(
            "invalid_amount", "{field} {value!r} is not a number.", field=field, value=value
        )
    check_amount_range(amount, field)
    rounded = check_amount_range(round_amount(amount, currency), field)
    if rounded != amount and policy == "reject":
        raise MoneyError(
            "too_many_decimals",
            "{field} {value} has more decimals than {currency} allows ({digits}).",
            field=field,
            value=text,
            currency=currency,
            digits=minor_unit(currency),
        )
    return rounded


def split_proportionally(
    total: Decimal, weights: Sequence[Decimal], currency: str
) -> list[Decimal]:
    """Split `total` in proportion to `weights` so the rounded parts add up to it.

    Each part but the one with the largest weight is rounded on its own; the largest takes
    the remainder, so a rounding difference never leaves a cent unposted.
    """
    weight_sum = sum(weights, ZERO)
    if not weights or weight_sum == ZERO:
        raise MoneyError("invalid_split", "Cannot split an amount over zero weights.")
    largest = max(range(len(weights)), key=lambda index: abs(weights[index]))
    parts = [
        ZERO if index == largest else round_amount(total * weight / weight_sum, currency)
        for index, weight in enumerate(weights)
    ]
    parts[largest] = total - sum(parts, ZERO)
    return parts


def split_instalments(
    total: Decimal,
    shares: Sequence[Decimal],
    currency: str,
    cash_increment: Decimal | None = None,
) -> list[Decimal]:
    """Split an invoice total into instalments by share (e.g. 0.30, 0.70).

    Each instalment but the last is cash-rounded; the last is the remainder, so the
    instalments always add up to the total.
    """
    if sum(shares, ZERO) != Decimal(1):
        raise MoneyError("invalid_instalments", "Instalment shares must add up to 1.")
    parts = [cash_round(total * share, currency, cash_increment) for share in shares[:-1]]
    parts.append(total - sum(parts, ZERO))
    return parts
