"""Credit exposure: what a customer (or a group) owes and has ordered, in one currency.

Exposure = open receivables + value not yet invoiced of released orders + the order
being checked. Each part is summed per currency by SQL and then converted exactly once
into the limit's currency, at the rate of the check date (the entity's today). Open
items are converted at that same rate, not at their booking rate: a limit protects
against what the customer owes now, in today's money. Amounts already in the limit's
currency are not converted.

Orders count at their net value; tax is added to exposure when the order is invoiced
and becomes a receivable.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Min, Sum

from o2c.analytics.kpis import Scope, receivable_balance
from o2c.core import money
from o2c.core.fields import MoneyField
from o2c.fx.services import RateTable
from o2c.ledger.models import Document, Side
from o2c.ledger.selectors import with_open_amount
from o2c.orders.models import EXPOSURE_STATUSES, Order, OrderLine
from o2c.parties.models import Customer, LegalEntity

ZERO = Decimal("0")


@dataclass
class Exposure:
    """Exposure in `currency` on `on`, with each part before and after conversion."""

    currency: str
    on: dt.date
    receivables: Decimal = ZERO
    released_orders: Decimal = ZERO
    order: Decimal = ZERO
    receivables_by_currency: dict[str, Decimal] = field(default_factory=dict)
    orders_by_currency: dict[str, Decimal] = field(default_factory=dict)
    rates: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.receivables + self.released_orders + self.order

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "on": self.on.isoformat(),
            "receivables": str(self.receivables),
            "released_orders": str(self.released_orders),
            "order": str(self.order),
            "total": str(self.total),
            "receivables_by_currency": {k: str(v) for k, v in self.receivables_by_currency.items()},
            "orders_by_currency": {k: str(v) for k, v in self.orders_by_currency.items()},
            "rates": self.rates,
        }


def open_receivables_by_currency(
    entity: LegalEntity, customer_ids: list[int], on: dt.date
) -> dict[str, Decimal]:
    """Return {currency: open items − unapplied credits} of the customers on `on`."""
    scope = Scope(entity, customers=Customer.objects.filter(pk__in=customer_ids))
    balances = receivable_balance(scope, on)
    return {
        currency: money.round_amount(row["ar"], currency)
        for currency, row in balances.items()
        if row["ar"]
    }


def uninvoiced_orders_by_currency(
    customer_ids: list[int], *, exclude_order_id: int | None = None
) -> dict[str, Decimal]:
    """Return {currency: value not yet invoiced} of the customers' released orders."""
    lines = OrderLine.objects.filter(
        order__customer_id__in=customer_ids, order__status__in=EXPOSURE_STATUSES
    )
    if exclude_order_id is not None:
        lines = lines.exclude(order_id=exclude_order_id)
    rows = (
        lines.values(currency=F("order__currency"))
        .annotate(total=Sum(F("net_amount") - F("invoiced_amount"), output_field=MoneyField()))
        .order_by()
    )
    return {
        row["currency"]: money.round_amount(row["total"], row["currency"])
        for row in rows
        if row["total"]
    }


def uninvoiced_value(order: Order) -> Decimal:
    total = order.lines.aggregate(
        total=Sum(F("net_amount") - F("invoiced_amount"), output_field=MoneyField())
    )["total"]
    return money.round_amount(total or ZERO, order.currency)


def compute_exposure(
    entity: LegalEntity,
    customer_ids: list[int],
    currency: str,
    on: dt.date,
    *,
    order: Order | None = None,
    rates: RateTable | None = None,
) -> Exposure:
    """Return the exposure of the customers in `currency`, counting `order` in full.

    `order` is left out of the released orders, so an order re-checked after a change
    counts once, at its new value. Raises RateError when a rate is missing.
    """
    receivables = open_receivables_by_currency(entity, customer_ids, on)
    orders = uninvoiced_orders_by_currency(
        customer_ids, exclude_order_id=order.pk if order is not None else None
    )
    order_value = uninvoiced_value(order) if order is not None else ZERO
    currencies = set(receivables) | set(orders) | {currency}
    if order is not None:
        currencies.add(order.currency)
    rates = rates or RateTable(currencies - {"EUR"})

    result = Exposure(
        currency=currency,
        on=on,
        receivables_by_currency=receivables,
        orders_by_currency=orders,
    )

    def convert(amount: Decimal, from_currency: str) -> Decimal:
        conversion = rates.convert(amount, from_currency, currency, on)
        if from_currency != currency:
            result.rates[from_currency] = {
                "rate": str(conversion.rate),
                "rate_on": conversion.rate_on.isoformat() if conversion.rate_on else "",
                "source": conversion.source,
            }
        return conversion.amount

    zero = money.round_amount(ZERO, currency)
    result.receivables = sum((convert(amount, code) for code, amount in receivables.items()), zero)
    result.released_orders = sum((convert(amount, code) for code, amount in orders.items()), zero)
    result.order = convert(order_value, order.currency) if order is not None else zero
    return result


@dataclass(frozen=True)
class PastDue:
    """Open items more than the tolerance past due, in the entity's base currency."""

    amount: Decimal
    items: int
    oldest_due_date: dt.date | None
    by_currency: dict[str, Decimal]

    def as_dict(self) -> dict:
        return {
            "amount": str(self.amount),
            "items": self.items,
            "oldest_due_date": self.oldest_due_date.isoformat() if self.oldest_due_date else None,
            "by_currency": {k: str(v) for k, v in self.by_currency.items()},
        }


def past_due_beyond(
    customer: Customer, on: dt.date, tolerance_days: int, rates: RateTable | None = None
) -> PastDue:
    """Return the customer's debit items open on `on` and more than `tolerance_days` late.

    Days past due = `on` − due date, so an item due 20 days ago with a tolerance of 15
    counts, and one due 15 days ago does not.
    """
    latest_due = on - dt.timedelta(days=tolerance_days + 1)
    documents = Document.objects.filter(
        customer=customer, side=Side.DEBIT, document_date__lte=on, due_date__lte=latest_due
    )
    rows = (
        with_open_amount(documents, on)
        .filter(open_amount__gt=0)
        .values("currency")
        .annotate(total=Sum("open_amount"), oldest=Min("due_date"), items=Count("id"))
        .order_by()
    )
    by_currency: dict[str, Decimal] = {}
    oldest = None
    items = 0
    for row in rows:
        by_currency[row["currency"]] = money.round_amount(row["total"], row["currency"])
        items += row["items"]
        oldest = row["oldest"] if oldest is None else min(oldest, row["oldest"])
    base = customer.entity.base_currency
    rates = rates or RateTable(set(by_currency) | {base})
    amount = sum(
        (rates.convert(total, code, base, on).amount for code, total in by_currency.items()),
        ZERO,
    )
    return PastDue(amount, items, oldest, by_currency)
