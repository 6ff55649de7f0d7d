"""One rounding rule per currency, applied the same way on every input path."""

from decimal import Decimal

import pytest

from o2c.core import money

D = Decimal


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3), ("HUF", 2), ("CLF", 4)],
)
def test_minor_unit_comes_from_currency(currency, digits):
    assert money.minor_unit(currency) == digits


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("19.995", "USD", "20.00"),
        ("0.9995", "KWD", "1.000"),
        ("1234.5", "JPY", "1235"),
        ("10.004", "EUR", "10.00"),
    ],
)
def test_parse_amount_rounds_once_half_up(text, currency, expected):
    amount = money.parse_amount(text, currency, policy="round")

    assert amount == D(expected)
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("text", "currency"),
    [("19.995", "USD"), ("0.9995", "KWD"), ("1234.5", "JPY"), ("10.004", "EUR")],
)
def test_parse_amount_rejects_excess_decimals(text, currency):
    with pytest.raises(money.MoneyError) as raised:
        money.parse_amount(text, currency, policy="reject", field="payment amount")

    assert raised.value.code == "too_many_decimals"
    assert text in raised.value.message
    assert currency in raised.value.message


def test_parse_amount_refuses_float_and_garbage():
    with pytest.raises(TypeError):
        money.parse_amount(0.1, "EUR")
    with pytest.raises(money.MoneyError) as raised:
        money.parse_amount("12,3x", "EUR")
    assert raised.value.code == "invalid_amount"
    with pytest.raises(money.MoneyError):
        money.parse_amount("NaN", "EUR")


@pytest.mark.parametrize("text", ["1e3", "1E+3", "NaN", "-Infinity", "inf", "1_000", "sNaN"])
def test_parse_amount_rejects_non_plain_numbers(text):
    with pytest.raises(money.MoneyError) as raised:
        money.parse_amount(text, "EUR", field="Amount")

    assert raised.value.code == "invalid_amount"
    assert f"Amount {text!r} is not a plain number" in raised.value.message


@pytest.mark.parametrize(("text", "expected"), [("-5.5", "-5.50"), (".5", "0.50"), ("+7", "7.00")])
def test_parse_amount_reads_plain_numbers(text, expected):
    assert str(money.parse_amount(text, "EUR", policy="round")) == expected


@pytest.mark.parametrize(
    "value",
    ["99999999999999999999.99", "1000000000000000", "-1000000000000000.00", D("1E+15")],
)
def test_parse_amount_rejects_amounts_beyond_storage(value):
    with pytest.raises(money.MoneyError) as raised:
        money.parse_amount(value, "EUR", field="Amount")

    assert raised.value.code == "amount_too_large"
    assert "larger than the maximum 999,999,999,999,999.9999" in raised.value.message


def test_parse_amount_limit_applies_after_rounding():
    assert money.parse_amount("999999999999999.99", "EUR") == D("999999999999999.99")
    with pytest.raises(money.MoneyError) as raised:
        money.parse_amount("999999999999999.9999", "EUR", policy="round")

    assert raised.value.code == "amount_too_large"


def test_unknown_currency_is_refused():
    with pytest.raises(money.MoneyError) as raised:
        money.check_currency("EURO")

    assert raised.value.code == "unknown_currency"


def test_jpy_consumption_tax_is_whole_yen_in_each_mode():
    tax = D("2345") * D("0.10")

    assert money.round_amount(tax, "JPY", "half_up") == D("235")
    assert money.round_amount(tax, "JPY", "down") == D("234")
    assert str(money.round_amount(tax, "JPY")) == "235"


def test_round_amount_refuses_float():
    with pytest.raises(TypeError):
        money.round_amount(1.5, "EUR")


def test_instalments_follow_cash_rounding_and_add_up():
    parts = money.split_instalments(D("1000.10"), [D("0.30"), D("0.70")], "CHF", D("0.05"))

    assert parts == [D("300.05"), D("700.05")]
    assert sum(parts) == D("1000.10")


def test_cash_rounding_of_discounted_amount():
    assert money.cash_round(D("1000.10") * D("0.98"), "CHF", D("0.05")) == D("980.10")
    assert money.cash_round(D("300.03"), "CHF", D("0.05")) == D("300.05")
    assert money.cash_round(D("300.03"), "CHF", None) == D("300.03")


def test_discount_split_over_net_and_vat_adds_up():
    # gross 119.29 = net 100.24 + VAT 19.05; a 2 % discount of 2.39 splits 2.01 + 0.38
    parts = money.split_proportionally(D("2.39"), [D("100.24"), D("19.05")], "EUR")

    assert parts == [D("2.01"), D("0.38")]
    assert sum(parts) == D("2.39")


def test_split_refuses_zero_weights():
    with pytest.raises(money.MoneyError):
        money.split_proportionally(D("1.00"), [D("0"), D("0")], "EUR")
