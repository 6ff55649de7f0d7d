"""Predictions for open invoices and planned ones, by the models or the transparent rule.

An open invoice is described as of the prediction day with the features of `features`,
except that the due-date distance keeps the value it had when the invoice was issued,
so a model trained at issue is not asked about distances it never saw. Then the
prediction is conditioned on what is known: an invoice still open on D will be settled
after D, so outcomes before D are removed from its predictive distribution (the point
plus the out-of-sample residuals of the backtest), and the point, interval and risk
are read from what remains.

The transparent rule, used when no model beat its baselines, predicts the customer's
recency-weighted average delay and their (shrunk) share of invoices paid late, with
the customer's history figures as reasons.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from o2c.insights import reasons as reason_words
from o2c.insights.features import Query, build_matrix, query_for_invoice
from o2c.insights.history import LedgerHistory
from o2c.insights.learning import (
    INTERVAL_LEVEL,
    FittedModels,
    Policy,
    conformal_interval,
    contributions,
    planned_query,
)

# An overdue invoice's conditional distribution needs this many residuals past its
# current lateness (5 % of the sample, between 3 and 20) to be read.
MIN_CONDITIONAL_SAMPLE = 20


def _enough(alive: np.ndarray, sample: np.ndarray) -> bool:
    return len(alive) >= max(3, min(MIN_CONDITIONAL_SAMPLE, len(sample) // 20))


TRANSPARENT_REASONS = [
    "recent_mean_days_late",
    "share_late",
    "open_past_due_count",
    "open_max_days_past_due",
    "history_count",
]


@dataclass
class LoadedModel:
    """An entity's fitted models as loaded from a `ModelVersion`."""

    version_id: int | None
    fitted: FittedModels | None
    use_days_late: bool
    use_late_risk: bool
    residuals: np.ndarray
    baseline_residuals: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def uses_model(self) -> bool:
        return self.fitted is not None and (self.use_days_late or self.use_late_risk)


@dataclass
class Prediction:
    """One invoice's (or planned invoice's) predicted settlement."""

    index: int | None
    customer_id: int
    due: int
    days_late: float
    low: float | None
    high: float | None
    probability: float
    method: str
    reasons: list[dict]
    residuals: np.ndarray  # the predictive distribution: raw_days_late + residuals
    raw_days_late: float
    floor: float  # the predictive distribution is cut below this many days late
    values: dict = field(default_factory=dict)

    @property
    def pay_on(self) -> int:
        return self.due + round(self.days_late)


def predict_invoices(
    history: LedgerHistory,
    policy: Policy,
    model: LoadedModel,
    indexes: list[int],
    on: int,
) -> list[Prediction]:
    """Predict the settlement of invoices of the history still open on `on`."""
    queries = []
    for index in indexes:
        query = query_for_invoice(history, index, on)
        issue_day = policy.prediction_day(history, index)
        queries.append(_with_issue_distance(query, issue_day))
    return predict_queries(history, policy, model, queries)


def predict_planned(
    history: LedgerHistory, policy: Policy, model: LoadedModel, customer_ids, on: int, term: int
) -> list[Prediction]:
    """Predict a typical next invoice of each customer, due `term` days after `on`."""
    queries = [planned_query(history, customer_id, on, term) for customer_id in customer_ids]
    return predict_queries(history, policy, model, queries)


def _with_issue_distance(query: Query, issue_day: int) -> Query:
    return Query(
        customer_id=query.customer_id,
        on=query.on,
        due=query.due,
        posted=query.posted,
        amount=query.amount,
        electronic=query.electronic,
        invoice=query.invoice,
        distance_from=min(issue_day, query.on),
    )


def predict_queries(
    history: LedgerHistory, policy: Policy, model: LoadedModel, queries: list[Query]
) -> list[Prediction]:
    if not queries:
        return []
    matrix = build_matrix(history, queries, policy.use_issue_dates, policy.late_after_days)
    values = matrix.values
    names = matrix.names
    fitted = model.fitted

    transparent_points = np.where(
        np.isnan(values[:, names.index("weighted_days_late")]),
        matrix.prior_mean_days_late,
        values[:, names.index("weighted_days_late")],
    )
    transparent_risk = values[:, names.index("share_late")]
    if fitted is not None and model.use_days_late:
        points = fitted.days_late(values)
        day_effects = contributions(fitted.days_late, values, fitted.reference)
        residuals = model.residuals
    else:
        points, day_effects, residuals = transparent_points, None, model.baseline_residuals
    if fitted is not None and model.use_late_risk:
        risks = fitted.late_probability(values)
        risk_effects = contributions(fitted.late_probability, values, fitted.reference)
    else:
        risks, risk_effects = transparent_risk, None

    predictions = []
    for row, query in enumerate(queries):
        figures = reason_words.own_figures(matrix, row, history.base_currency)
        row_values = dict(zip(names, values[row].tolist(), strict=True))
        floor = float(query.on - query.due + 1) if query.invoice is not None else -math.inf
        point, low, high, probability = condition_on_open(
            float(points[row]), float(risks[row]), residuals, floor, policy.late_after_days
        )
        found = []
        exclude = reason_words.INVOICE_FEATURES if query.invoice is None else frozenset()
        if risk_effects is not None:
            found += reason_words.top_reasons(
                names, values[row], risk_effects[row], "risk", figures=figures, exclude=exclude
            )
        if day_effects is not None:
            found += reason_words.top_reasons(
                names, values[row], day_effects[row], "days", 2, figures=figures, exclude=exclude
            )
        if risk_effects is None and day_effects is None:
            found = transparent_reasons(row_values | figures)
        if floor > 1 + policy.late_after_days:
            found.insert(0, _already_late_reason(floor - 1))
        found = reason_words.unique(found)
        predictions.append(
            Prediction(
                index=query.invoice,
                customer_id=query.customer_id,
                due=query.due,
                days_late=point,
                low=low,
                high=high,
                probability=probability,
                method="model" if model.uses_model else "transparent",
                reasons=found,
                residuals=residuals,
                raw_days_late=float(points[row]),
                floor=floor,
                values=row_values,
            )
        )
    return predictions


def condition_on_open(
    point: float, probability: float, residuals: np.ndarray, floor: float, late_after: int
) -> tuple[float, float | None, float | None, float]:
    """Return (days late, low, high, late risk) given that it will be at least `floor`.

    Without residuals (no backtest yet) the interval is unknown (None).
    """
    if not len(residuals):
        point = max(point, floor)
        probability = 1.0 if floor - 1 > late_after else probability
        return point, None, None, probability
    low, high = conformal_interval(np.array([point]), residuals, INTERVAL_LEVEL)
    low, high = float(low[0]), float(high[0])
    if floor - 1 > late_after:
        probability = 1.0
    if floor <= low:
        return point, low, high, probability
    sample = point + residuals
    alive = sample[sample >= floor]
    if not _enough(alive, sample):
        # Older than almost every outcome of the backtest: it will not be paid before
        # `floor`, and the history gives no hint of how much later.
        return floor, floor, None, probability
    tail = (1 - INTERVAL_LEVEL) / 2
    if floor - 1 <= late_after:
        # Read the risk from the same conditional distribution as the date.
        probability = float(np.mean(alive > late_after))
    return (
        float(np.median(alive)),
        float(np.quantile(alive, tail)),
        float(np.quantile(alive, 1 - tail)),
        probability,
    )


def draw_days_late(prediction: Prediction, draws: int, generator: np.random.Generator):
    """Return random days-late outcomes from the prediction's conditional distribution.

    Infinite values stand for "not within any horizon".
    """
    if not len(prediction.residuals):
        return np.full(draws, max(prediction.days_late, prediction.floor))
    sample = prediction.raw_days_late + prediction.residuals
    alive = sample[sample >= prediction.floor]
    if not _enough(alive, sample):
        # Beyond the backtest's experience: no receipt is expected within any horizon.
        return np.full(draws, np.inf)
    return generator.choice(alive, size=draws, replace=True)


def transparent_reasons(values: dict) -> list[dict]:
    found = []
    for name in TRANSPARENT_REASONS:
        fact = reason_words.describe_fact(name, values)
        if fact and fact not in [reason["text"] for reason in found]:
            found.append({"feature": name, "text": fact, "effect": 0.0, "kind": "rule"})
    return found[: reason_words.TOP_REASONS]


def _already_late_reason(days: float) -> dict:
    return {
        "feature": "days_past_due",
        "text": f"is already {reason_words.plural(days, 'day')} past due and still open",
        "effect": 0.0,
        "kind": "rule",
    }
