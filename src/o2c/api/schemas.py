"""Base schema for API responses that carry amounts of money."""

from decimal import Decimal
from typing import ClassVar

from ninja import Schema
from pydantic import model_validator

from o2c.core import money


class MoneySchema(Schema):
    """Output schema whose amounts are rounded to their currency's minor unit.

    `money_fields` maps each amount field to the field that contains its currency code,
    e.g. {"amount": "currency"}. Amounts are stored with four decimals, so without this
    611.60 USD would be sent as "611.6000". The rounded Decimal is serialised as an
    exact string such as "611.60", or "2580" for JPY. An amount whose currency field is
    empty is sent unchanged.
    """

    money_fields: ClassVar[dict[str, str]] = {}

    @model_validator(mode="after")
    def _round_money(self):
        for field, currency_field in self.money_fields.items():
            value = getattr(self, field)
            currency = getattr(self, currency_field)
            if value is not None and currency:
                setattr(self, field, money.round_amount(Decimal(value), currency))
        return self
