"""Cash forecast: expected receipts by day and week, per currency, with an 80 % band.

Receipts come from two sources:

- open invoices, each settling on its predicted day (see `predict`), drawn many times
  from its conditional predictive distribution;
- open orders not yet invoiced (see `OpenOrder`): each becomes a planned invoice on
  its expected invoice date, due after its payment term, and is predicted like an
  invoice of that customer. The orders module of o2c is read directly; another module
  can publish its orders instead. Without either, or for a day other than today, the
  forecast covers open invoices only and its notes state it.

The expected receipts of a day are the mean over the draws, so an invoice likely to be
paid on one of several days spreads its amount over them. The band is the 10th to 90th
percentile of the weekly totals over the draws, widened or narrowed by `band_scale`:
the draws treat invoices as independent, while customers' delays move together, so the
scale is calibrated on the backtest, where the band's weekly coverage is measured.

Amounts enter the simulation as floats in minor units of their currency and leave it
rounded to the currency's minor unit: a forecast is an estimate, not a balance.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.apps import apps
from django.utils.module_loading import import_string

from o2c.core import money
from o2c.insights.features import Query
from o2c.insights.history import LedgerHistory
from o2c.insights.learning import Policy
from o2c.insights.predict import LoadedModel, Prediction, draw_days_late, predict_queries

WEEKS = 13
DRAWS = 300
BAND = (0.10, 0.90)
RANDOM_SEED = 7


@dataclass(frozen=True)
class OpenOrder:
    """An order accepted but not yet invoiced, as a module that keeps orders publishes it.

    The orders module names, in its AppConfig, `insights_open_orders`: the dotted path
    of a function(entity, as_of) returning an iterable of `OpenOrder` (or objects with
    the same attributes) for orders open on `as_of`. `expected_invoice_on` is when the
    order is expected to be invoiced; `payment_term_days` (None: the customer's term)
    sets the due date from it.
    """

    customer_id: int
    currency: str
    open_amount: Decimal
    expected_invoice_on: dt.date
    payment_term_days: int | None = None
    reference: str = ""


def order_providers() -> list:
    """Return the functions of installed modules that publish open orders.

    The orders module of o2c is read through `order_source` when it publishes nothing
    itself.
    """
    found = []
    for config in apps.get_app_configs():
        path = getattr(config, "insights_open_orders", None)
        if path:
            found.append(import_string(path))
    if not found and apps.is_installed("o2c.orders"):
        found.append(import_string("o2c.insights.order_source.open_orders"))
    return found


def open_orders(entity, as_of: dt.date) -> tuple[list[OpenOrder], bool]:
    """Return the open orders of the entity on `as_of`, and whether any module gave them.

    Order books keep only their present state, so orders count only in a forecast made
    as of the entity's today; a forecast for another day covers open invoices only.
    """
    providers = order_providers()
    if not providers or as_of != entity.today():
        return [], False
    orders = []
    for provider in providers:
        orders.extend(provider(entity, as_of))
    return orders, True


@dataclass
class Item:
    """One expected receipt: an open invoice or an open order, with its prediction."""

    source: str  # "invoice" or "order"
    currency: str
    amount_minor: float
    prediction: Prediction


@dataclass
class CurrencyForecast:
    currency: str
    weeks: list[dict]
    days: list[dict]
    later: Decimal
    total_open: Decimal
    item_count: int
    includes_orders: bool
    band_scale: float = 1.0
    notes: list[str] = field(default_factory=list)


def order_items(
    history: LedgerHistory,
    policy: Policy,
    model: LoadedModel,
    orders: list[OpenOrder],
    as_of: dt.date,
    default_terms: dict[int, int],
) -> list[Item]:
    """Predict each open order as a planned invoice of its customer."""
    on = as_of.toordinal()
    queries, kept = [], []
    for order in orders:
        invoice_on = max(order.expected_invoice_on, as_of).toordinal()
        term = order.payment_term_days
        if term is None:
            term = default_terms.get(order.customer_id, 30)
        book = history.book(order.customer_id)
        electronic = bool(
            book is not None and len(book.invoices) and history.electronic[book.invoices[-1]]
        )
        queries.append(
            Query(
                customer_id=order.customer_id,
                on=on,
                due=invoice_on + term,
                posted=invoice_on,
                amount=float(order.open_amount),
                electronic=electronic,
            )
        )
        kept.append(order)
    predictions = predict_queries(history, policy, model, queries)
    items = []
    for order, query, prediction in zip(kept, queries, predictions, strict=True):
        # A planned invoice cannot be paid before it is issued.
        prediction.floor = float(query.posted - query.due)
        items.append(
            Item("order", order.currency, _minor(order.open_amount, order.currency), prediction)
        )
    return items


def _minor(amount: Decimal, currency: str) -> float:
    return float(amount * (Decimal(10) ** money.minor_unit(currency)))


def _from_minor(value: float, currency: str) -> Decimal:
    scaled = Decimal(str(round(value))) / (Decimal(10) ** money.minor_unit(currency))
    return money.round_amount(scaled, currency)


def simulate(
    items: list[Item], as_of: dt.date, weeks: int = WEEKS, draws: int = DRAWS, seed=RANDOM_SEED
):
    """Return per currency: the draws of weekly totals (draws × weeks + 1 for later) and
    the expected amount of each day of the horizon, all in minor units."""
    generator = np.random.default_rng(seed)
    start = as_of.toordinal() + 1
    horizon = weeks * 7
    weekly: dict[str, np.ndarray] = {}
    daily: dict[str, np.ndarray] = {}
    parts: dict[tuple[str, str], np.ndarray] = {}
    for item in items:
        outcome = draw_days_late(item.prediction, draws, generator)
        beyond = start + horizon + 7
        outcome = np.where(np.isfinite(outcome), outcome, beyond - item.prediction.due)
        paid_on = np.maximum(np.rint(item.prediction.due + outcome).astype(np.int64), start)
        offset = paid_on - start
        week = np.minimum(offset // 7, weeks)
        if item.currency not in weekly:
            weekly[item.currency] = np.zeros((draws, weeks + 1))
            daily[item.currency] = np.zeros(horizon)
        weekly[item.currency][np.arange(draws), week] += item.amount_minor
        within = offset < horizon
        np.add.at(daily[item.currency], offset[within], item.amount_minor / draws)
        key = (item.currency, item.source)
        if key not in parts:
            parts[key] = np.zeros(weeks + 1)
        np.add.at(parts[key], week, item.amount_minor / draws)
    return weekly, daily, parts


def band(totals: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (expected, low, high) per column of the draws, the band scaled about the mean."""
    expected = totals.mean(axis=0)
    low, high = np.quantile(totals, BAND, axis=0)
    # A few large invoices can put the mean outside the percentiles; the band always
    # contains the mean.
    low = np.maximum(expected - scale * np.maximum(expected - low, 0), 0)
    high = expected + scale * np.maximum(high - expected, 0)
    return expected, low, high


def build_forecast(
    items: list[Item],
    as_of: dt.date,
    includes_orders: bool,
    band_scale: float = 1.0,
    weeks: int = WEEKS,
) -> dict[str, CurrencyForecast]:
    """Return the forecast of each currency from its expected receipts."""
    weekly, daily, parts = simulate(items, as_of, weeks)
    counts = defaultdict(int)
    totals = defaultdict(float)
    for item in items:
        counts[item.currency] += 1
        totals[item.currency] += item.amount_minor
    start = as_of + dt.timedelta(days=1)
    result = {}
    for currency, draws in weekly.items():
        expected, low, high = band(draws, band_scale)
        invoices = parts.get((currency, "invoice"), np.zeros(weeks + 1))
        orders = parts.get((currency, "order"), np.zeros(weeks + 1))
        rows = []
        for week in range(weeks):
            begins = start + dt.timedelta(days=7 * week)
            rows.append(
                {
                    "start": begins.isoformat(),
                    "end": (begins + dt.timedelta(days=6)).isoformat(),
                    "expected": str(_from_minor(expected[week], currency)),
                    "low": str(_from_minor(low[week], currency)),
                    "high": str(_from_minor(high[week], currency)),
                    "invoices": str(_from_minor(invoices[week], currency)),
                    "orders": str(_from_minor(orders[week], currency)),
                }
            )
        days = [
            {
                "on": (start + dt.timedelta(days=offset)).isoformat(),
                "expected": str(_from_minor(value, currency)),
            }
            for offset, value in enumerate(daily[currency])
        ]
        notes = []
        if not includes_orders:
            notes.append(
                "Open orders are not included: no installed module publishes them, or the "
                "forecast is for a day other than today."
            )
        result[currency] = CurrencyForecast(
            currency=currency,
            weeks=rows,
            days=days,
            later=_from_minor(expected[weeks], currency),
            total_open=_from_minor(totals[currency], currency),
            item_count=counts[currency],
            includes_orders=includes_orders,
            band_scale=band_scale,
            notes=notes,
        )
    return result
