"""Open orders of the orders module, read for the cash forecast.

An order counts while it is released, partly fulfilled or fulfilled and has value not
yet invoiced (net of discounts, before tax, as credit exposure counts it). It is
expected to be invoiced on its requested delivery date, or on the forecast day when
that date has passed or is not set.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import F, Sum

from o2c.core import money
from o2c.core.fields import MoneyField
from o2c.insights.forecast import OpenOrder


def open_orders(entity, as_of: dt.date) -> list[OpenOrder]:
    """Return the entity's orders open now, as `OpenOrder`s (one grouped query)."""
    from o2c.orders.models import EXPOSURE_STATUSES, OrderLine

    rows = (
        OrderLine.objects.filter(order__entity=entity, order__status__in=EXPOSURE_STATUSES)
        .values(
            "order_id",
            "order__number",
            "order__customer_id",
            "order__currency",
            "order__requested_delivery_on",
        )
        .annotate(open=Sum(F("net_amount") - F("invoiced_amount"), output_field=MoneyField()))
        .order_by("order_id")
    )
    orders = []
    for row in rows:
        amount = money.round_amount(row["open"] or Decimal("0"), row["order__currency"])
        if amount <= 0:
            continue
        expected = row["order__requested_delivery_on"] or as_of
        orders.append(
            OpenOrder(
                customer_id=row["order__customer_id"],
                currency=row["order__currency"],
                open_amount=amount,
                expected_invoice_on=max(expected, as_of),
                reference=row["order__number"],
            )
        )
    return orders
