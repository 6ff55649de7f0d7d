"""A model field for money that stays exact in SQL on SQLite as well as PostgreSQL.

SQLite has no decimal type: a value stored in a NUMERIC column becomes a binary float,
so SUM() over amounts is float arithmetic. MoneyField stores amounts on SQLite as
integers counting ten-thousandths, which SQLite adds exactly, and as numeric(19, 4) on
PostgreSQL. Python code always sees `Decimal`.

The field does not subclass DecimalField on purpose: Django would then infer
DecimalField for arithmetic such as F("amount") - F("allocated") and read the scaled
integers back unscaled. Expressions over money must name `output_field=MoneyField()`,
and Django raises FieldError when one forgets.
"""

from decimal import Decimal

from django import forms
from django.core import checks
from django.db import models

SCALE = 4
_QUANTUM = Decimal(1).scaleb(-SCALE)
MAX_DIGITS = 19
# Amounts must be smaller than this in size: numeric(19, 4) keeps 15 integer digits,
# and on SQLite the scaled integer then stays within a signed 64-bit integer.
_LIMIT = Decimal(10) ** (MAX_DIGITS - SCALE)


class MoneyField(models.Field):
    description = "An exact amount of money with up to 4 decimals"

    def __init__(self, *args, **kwargs):
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        super().__init__(*args, **kwargs)

    def get_internal_type(self):
        return "MoneyField"

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return f"numeric({MAX_DIGITS}, {SCALE})"

    def rel_db_type(self, connection):
        return self.db_type(connection)

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_default()]

    def _check_default(self):
        if self.has_default() and isinstance(self.default, float):
            return [checks.Error("MoneyField default must be a Decimal.", obj=self)]
        return []

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        return Decimal(str(value))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return self.to_python(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount of money")
        if abs(value) >= _LIMIT:
            raise ValueError(
                f"{value} does not fit a money column: amounts must be smaller than "
                f"{_LIMIT:,} in size (numeric({MAX_DIGITS}, {SCALE}))"
            )
        if value.quantize(_QUANTUM) != value:
            raise ValueError(f"{value} has more than {SCALE} decimals")
        if connection.vendor == "sqlite":
            return int(value.scaleb(SCALE))
        return value

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if connection.vendor == "sqlite":
            if isinstance(value, float):
                raise TypeError(
                    "a money expression produced a float on SQLite; "
                    "avoid AVG and division in SQL over money"
                )
            return Decimal(value).scaleb(-SCALE)
        return Decimal(value)

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.DecimalField,
            "max_digits": MAX_DIGITS,
            "decimal_places": SCALE,
        }
        defaults.update(kwargs)
        return super().formfield(**defaults)
