"""Leak-free features of an invoice as of a prediction date D.

Every value is computed from what the ledger showed on D (see `history`): invoices
posted on or before D, settlements in force on D (allocations dated on or before D),
disputes opened on or before D, promises broken on or before D. The invoice being
predicted never contributes its own settlement.

`use_issue_dates` is off for ledgers whose invoice dates were derived from the payment
(a history without issue dates, where the date is the earlier of due date and payment
date): then no feature reads the predicted invoice's own document date, and the
customer's history is measured against due dates only.
"""

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from o2c.insights.history import REVERSED, LedgerHistory

RECENT_COUNT = 5
HALF_LIFE_INVOICES = 4.0
SHRINK_INVOICES = 3.0
ACTIVITY_DAYS = 90
DISPUTE_WINDOW_DAYS = 365
PROMISE_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    issue_dates_only: bool = False


FEATURES = [
    Feature("history_count", "invoices settled before"),
    Feature("mean_days_late", "average days late, all history"),
    Feature("recent_mean_days_late", "average days late of the last 5 invoices"),
    Feature("weighted_days_late", "days late weighted towards recent invoices"),
    Feature("trend_days_late", "change of days late, recent against earlier"),
    Feature("spread_days_late", "spread of days late"),
    Feature("share_late", "share of invoices paid late"),
    Feature("weighted_share_late", "share paid late, weighted towards recent invoices"),
    Feature("worst_recent_days_late", "worst delay of the last 5 invoices"),
    Feature("channel_mean_days_late", "average days late on the same billing channel"),
    Feature("adjusted_mean_days_late", "average days late, adjusted for the billing channel"),
    Feature("entity_level_days_late", "days late of all customers in the last 90 days"),
    Feature("level_adjusted_days_late", "days late against all customers at the time"),
    Feature("undisputed_mean_days_late", "average days late of undisputed invoices"),
    Feature("dispute_share", "share of past invoices disputed"),
    Feature("days_since_payment", "days since the last settlement"),
    Feature("mean_days_to_pay", "average days to pay", issue_dates_only=True),
    Feature("open_count", "other open invoices"),
    Feature("open_past_due_count", "other invoices open past due"),
    Feature("open_max_days_past_due", "days past due of the oldest open invoice"),
    Feature("open_amount_ratio", "open balance against the usual invoice amount"),
    Feature("recent_invoice_count", "invoices posted in the last 90 days"),
    Feature("log_amount", "invoice amount"),
    Feature("amount_ratio", "invoice amount against the customer's usual"),
    Feature("term_days", "payment term in days", issue_dates_only=True),
    Feature("days_to_due", "days from the prediction to the due date", issue_dates_only=True),
    Feature("due_weekday", "weekday of the due date"),
    Feature("due_day", "day of month of the due date"),
    Feature("due_month", "month of the due date"),
    Feature("electronic", "paperless billing"),
    Feature("invoice_disputed", "dispute open on this invoice"),
    Feature("open_disputes", "other disputes open"),
    Feature("disputes_last_year", "disputes opened in the last 12 months"),
    Feature("broken_promises", "promises to pay broken in the last 90 days"),
]


def feature_names(use_issue_dates: bool) -> list[str]:
    return [f.name for f in FEATURES if use_issue_dates or not f.issue_dates_only]


FEATURE_BY_NAME = {f.name: f for f in FEATURES}


@dataclass(frozen=True)
class Query:
    """An invoice to describe as of `on` (ordinals). `invoice` is its history index, or
    None for an invoice not in the history (a planned one, for the customer score)."""

    customer_id: int
    on: int
    due: int
    posted: int
    amount: float
    electronic: bool
    invoice: int | None = None
    # The day the due-date distance is measured from (default `on`): live predictions
    # keep the distance of the prediction point the model was trained at.
    distance_from: int | None = None


def query_for_invoice(history: LedgerHistory, index: int, on: int) -> Query:
    return Query(
        customer_id=int(history.customer_ids[index]),
        on=on,
        due=int(history.due[index]),
        posted=int(history.posted[index]),
        amount=float(history.amount[index]),
        electronic=bool(history.electronic[index]),
        invoice=index,
    )


@dataclass
class FeatureMatrix:
    """Feature rows, plus the plain history figures the baselines use."""

    names: list[str]
    values: np.ndarray
    customer_mean_days_late: np.ndarray  # NaN without history
    customer_share_late: np.ndarray  # NaN without history
    prior_mean_days_late: np.ndarray
    prior_share_late: np.ndarray
    customer_undisputed_mean: np.ndarray  # NaN without an undisputed settled invoice
    customer_undisputed_count: np.ndarray

    def rows(self, mask) -> "FeatureMatrix":
        return FeatureMatrix(
            self.names,
            self.values[mask],
            self.customer_mean_days_late[mask],
            self.customer_share_late[mask],
            self.prior_mean_days_late[mask],
            self.prior_share_late[mask],
            self.customer_undisputed_mean[mask],
            self.customer_undisputed_count[mask],
        )


def build_matrix(
    history: LedgerHistory, queries: list[Query], use_issue_dates: bool, late_after_days: int
) -> FeatureMatrix:
    """Return one row of features per query, columns in `feature_names` order."""
    names = feature_names(use_issue_dates)
    matrix = np.full((len(queries), len(names)), np.nan)
    extras = np.full((len(queries), len(BASELINE_VALUES)), np.nan)
    for row, query in enumerate(queries):
        values = describe(history, query, late_after_days)
        matrix[row] = [values[name] for name in names]
        extras[row] = [values[name] for name in BASELINE_VALUES]
    return FeatureMatrix(names, matrix, *extras.T)


# Plain figures kept beside the features, in FeatureMatrix field order after `values`.
BASELINE_VALUES = [
    "_customer_mean",
    "_customer_share",
    "_prior_mean",
    "_prior_share",
    "_undisputed_mean",
    "_undisputed_count",
]


def describe(history: LedgerHistory, query: Query, late_after_days: int) -> dict[str, float]:
    """Return every feature of one query by name (NaN where it has no value)."""
    on = query.on
    values = dict.fromkeys(FEATURE_BY_NAME, math.nan)
    prior_count, prior_mean, prior_share = history.prior(on)
    book = history.book(query.customer_id)

    # The customer's settled history, oldest settlement first.
    spells = history.settled_spells(book, on) if book is not None else np.zeros(0, int)
    if query.invoice is not None and len(spells):
        spells = spells[history.spell_invoice[spells] != query.invoice]
    spells = spells[history.spell_kind[spells] != REVERSED]
    invoices = history.spell_invoice[spells]
    late = (history.spell_start[spells] - history.due[invoices]).astype(float)
    is_late = (late > late_after_days).astype(float)
    count = len(late)
    values["history_count"] = count
    prior_share_n = prior_share if late_after_days == 0 or prior_count == 0 else None
    if prior_share_n is None:
        prior_share_n = _prior_share_over(history, on, late_after_days)
    values["mean_days_late"] = (late.sum() + SHRINK_INVOICES * prior_mean) / (
        count + SHRINK_INVOICES
    )
    values["share_late"] = (is_late.sum() + SHRINK_INVOICES * prior_share_n) / (
        count + SHRINK_INVOICES
    )
    values["entity_level_days_late"] = _or(float(history.level(on)), prior_mean)
    values["_prior_mean"] = prior_mean
    values["_prior_share"] = prior_share_n
    values["_customer_mean"] = late.mean() if count else math.nan
    values["_customer_share"] = is_late.mean() if count else math.nan
    values["_undisputed_mean"] = math.nan
    values["_undisputed_count"] = 0
    if count:
        weights = 0.5 ** (np.arange(count)[::-1] / HALF_LIFE_INVOICES)
        recent = late[-RECENT_COUNT:]
        values["recent_mean_days_late"] = recent.mean()
        values["worst_recent_days_late"] = recent.max()
        values["weighted_days_late"] = float(weights @ late / weights.sum())
        values["weighted_share_late"] = float(weights @ is_late / weights.sum())
        values["spread_days_late"] = late.std() if count > 1 else math.nan
        if count > RECENT_COUNT:
            values["trend_days_late"] = recent.mean() - late[:-RECENT_COUNT].mean()
        same_channel = history.electronic[invoices] == query.electronic
        if same_channel.any():
            values["channel_mean_days_late"] = late[same_channel].mean()
        values["days_since_payment"] = on - int(history.spell_start[spells].max())
        values["adjusted_mean_days_late"] = _channel_adjusted_mean(
            history, on, late, history.electronic[invoices], query.electronic
        )
        levels = history.level(history.spell_start[spells])
        relative = late - np.where(np.isnan(levels), prior_mean, levels)
        weights_rel = 0.5 ** (np.arange(count)[::-1] / (2 * HALF_LIFE_INVOICES))
        values["level_adjusted_days_late"] = float(
            (weights_rel @ relative) / (weights_rel.sum() + SHRINK_INVOICES)
        ) + _or(float(history.level(on)), prior_mean)
        disputed = history.dispute_known_on[invoices] <= on
        values["dispute_share"] = float(disputed.mean())
        if (~disputed).any():
            undisputed = late[~disputed]
            values["undisputed_mean_days_late"] = (
                undisputed.sum() + SHRINK_INVOICES * prior_mean
            ) / (len(undisputed) + SHRINK_INVOICES)
            values["_undisputed_mean"] = float(undisputed.mean())
            values["_undisputed_count"] = len(undisputed)
        values["mean_days_to_pay"] = float(
            (history.spell_start[spells] - history.posted[invoices]).mean()
        )

    # The customer's other invoices known on D.
    if book is not None and len(book.invoices):
        known = book.invoices[history.posted[book.invoices] <= on]
        if query.invoice is not None:
            known = known[known != query.invoice]
        usual = float(np.median(history.amount[known])) if len(known) else math.nan
        settled_now = _settled_mask(history, book, known, on)
        open_rows = known[~settled_now]
        values["open_count"] = len(open_rows)
        past_due = on - history.due[open_rows]
        values["open_past_due_count"] = int((past_due > 0).sum())
        values["open_max_days_past_due"] = float(past_due.max()) if len(open_rows) else 0.0
        if usual and not math.isnan(usual):
            values["open_amount_ratio"] = float(history.amount[open_rows].sum()) / usual
            values["amount_ratio"] = query.amount / usual
        values["recent_invoice_count"] = int((history.posted[known] > on - ACTIVITY_DAYS).sum())
    else:
        values.update(open_count=0, open_past_due_count=0, open_max_days_past_due=0.0)
        values["recent_invoice_count"] = 0

    # The invoice itself.
    due = dt.date.fromordinal(query.due)
    values["log_amount"] = math.log1p(max(query.amount, 0.0))
    values["term_days"] = query.due - query.posted
    values["days_to_due"] = query.due - (on if query.distance_from is None else query.distance_from)
    values["due_weekday"] = due.weekday()
    values["due_day"] = due.day
    values["due_month"] = due.month
    values["electronic"] = float(query.electronic)

    # Disputes and promises, counted from the day they became known.
    values.update(_dispute_values(history, book, query))
    if book is not None and len(book.promises):
        broken = history.promise_broken_on[book.promises]
        values["broken_promises"] = int(
            ((broken <= on) & (broken > on - PROMISE_WINDOW_DAYS)).sum()
        )
    else:
        values["broken_promises"] = 0
    return values


def _or(value: float, fallback: float) -> float:
    return fallback if math.isnan(value) else value


def _channel_adjusted_mean(
    history: LedgerHistory, on: int, late: np.ndarray, electronic: np.ndarray, now: bool
) -> float:
    """Return the customer's mean days late, moved to the channel of the invoice.

    Each past delay is corrected by the entity-wide difference between its channel's
    mean delay and the current channel's, both as of D.
    """
    means = {}
    for channel in (True, False):
        count, mean, _ = history.prior(on, channel)
        means[channel] = mean if count else history.prior(on)[1]
    shift = np.where(electronic, means[True], means[False]) - means[now]
    return float((late - shift).mean())


def _settled_mask(history: LedgerHistory, book, invoices: np.ndarray, on: int) -> np.ndarray:
    """Return, for each invoice index given, whether it was settled (or cancelled) on D."""
    spells = history.settled_spells(book, on)
    settled = set(history.spell_invoice[spells].tolist())
    return np.array([index in settled for index in invoices.tolist()], dtype=bool)


def _dispute_values(history: LedgerHistory, book, query: Query) -> dict[str, float]:
    if book is None or not len(book.disputes):
        return {"invoice_disputed": 0.0, "open_disputes": 0, "disputes_last_year": 0}
    rows = book.disputes
    opened = history.dispute_opened[rows]
    known = opened <= query.on
    open_now = known & (history.dispute_resolved[rows] > query.on)
    on_invoice = history.dispute_invoice[rows] == (
        query.invoice if query.invoice is not None else -1
    )
    return {
        "invoice_disputed": float((open_now & on_invoice).any()),
        "open_disputes": int((open_now & ~on_invoice).sum()),
        "disputes_last_year": int((known & (opened > query.on - DISPUTE_WINDOW_DAYS)).sum()),
    }


def _prior_share_over(history: LedgerHistory, on: int, late_after_days: int) -> float:
    """Return the entity-wide share of invoices settled more than N days late as of D."""
    live = (history.spell_start <= on) & (history.spell_end > on) & (history.spell_kind != REVERSED)
    if not live.any():
        return 0.0
    late = history.spell_start[live] - history.due[history.spell_invoice[live]]
    return float((late > late_after_days).mean())
