"""MoneyField's conversion to the database: exact, and refusing what a column cannot hold."""

from decimal import Decimal

import pytest
from django.db import connection

from o2c.core.fields import MoneyField

D = Decimal


@pytest.mark.parametrize("value", [D("1E+15"), D("-99999999999999999999.99")])
def test_money_field_refuses_amount_beyond_column(value):
    with pytest.raises(ValueError, match="does not fit a money column"):
        MoneyField().get_db_prep_value(value, connection)


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity")])
def test_money_field_refuses_non_finite_amount(value):
    with pytest.raises(ValueError, match="is not a finite amount"):
        MoneyField().get_db_prep_value(value, connection)


def test_money_field_keeps_largest_amount():
    largest = D("999999999999999.9999")

    prepared = MoneyField().get_db_prep_value(largest, connection)

    if connection.vendor == "sqlite":
        assert prepared == 9999999999999999999
    else:
        assert prepared == largest
