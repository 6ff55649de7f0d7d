"""Backtest of the cash forecast: weekly receipts forecast at each origin against actuals.

At each fold origin T of the model backtest, the invoices open on T are predicted with
the models fitted on T (features as of T, residuals known on T) and their receipts
simulated over 13 weeks, as the live forecast does. The actual receipts of those
invoices are their settlements in each week. Weeks ending after the last day whose
outcomes are known (the last recorded settlement, at the latest) are not scored. Open
orders are not part of the backtest: the ledger keeps no order history.

Reported: the weighted absolute percentage error (WAPE = Σ|actual − expected| ÷
Σ actual) of the forecast and of a "paid on the due date" forecast, and the share of
weeks whose actual receipts fall inside the 80 % band. The band scale is calibrated
on earlier origins only: for each origin, the scale under which the bands of the
earlier origins' scored weeks came nearest to 80 % coverage. The coverage shown is of
bands scaled that way; the first origin uses the unscaled band.
"""

import datetime as dt
import math

import numpy as np

from o2c.core import money
from o2c.insights.forecast import BAND, WEEKS, Item, band, simulate
from o2c.insights.history import NEVER, PAID, LedgerHistory
from o2c.insights.learning import Policy
from o2c.insights.predict import LoadedModel, predict_invoices

SCALES = np.round(np.arange(0.5, 6.01, 0.1), 2)
TARGET_COVERAGE = BAND[1] - BAND[0]


class ForecastBacktest:
    def __init__(self, history: LedgerHistory, policy: Policy, last_day: int):
        self.history = history
        self.policy = policy
        self.last_day = last_day
        self.rows: list[dict] = []  # one per scored week
        self.minor = 10 ** money.minor_unit(history.base_currency)
        self.final_on, self.final_kind = history.outcomes(NEVER)

    def add(self, origin: int, fitted, residuals: np.ndarray) -> None:
        """Forecast the receipts of the invoices open on `origin` and score each week."""
        history = self.history
        settled_on, _ = history.outcomes(origin)
        indexes = np.flatnonzero((history.posted <= origin) & (settled_on == NEVER)).tolist()
        if not indexes:
            return
        model = LoadedModel(None, fitted, True, fitted.classifier is not None, residuals)
        predictions = predict_invoices(history, self.policy, model, indexes, origin)
        items = [
            Item(
                "invoice",
                history.base_currency,
                float(history.amount[prediction.index]) * self.minor,
                prediction,
            )
            for prediction in predictions
        ]
        as_of = dt.date.fromordinal(origin)
        weekly, _, _ = simulate(items, as_of, WEEKS)
        draws = weekly[history.base_currency]
        start = origin + 1
        actual = np.zeros(WEEKS + 1)
        due_date_forecast = np.zeros(WEEKS + 1)
        for index in indexes:
            amount = float(history.amount[index]) * self.minor
            if self.final_kind[index] == PAID:
                week = min((int(self.final_on[index]) - start) // 7, WEEKS)
                actual[max(week, 0)] += amount
            due_week = min(max(int(history.due[index]) - start, 0) // 7, WEEKS)
            due_date_forecast[due_week] += amount
        expected, low, high = band(draws, 1.0)
        for week in range(WEEKS):
            week_end = start + 7 * week + 6
            if week_end > self.last_day:
                break
            self.rows.append(
                {
                    "origin": origin,
                    "week": week,
                    "week_end": week_end,
                    "expected": float(expected[week]),
                    "low": float(low[week]),
                    "high": float(high[week]),
                    "actual": float(actual[week]),
                    "due_date": float(due_date_forecast[week]),
                }
            )

    def metrics(self) -> dict:
        if not self.rows:
            return {"weeks_scored": 0, "band_scale": 1.0}
        rows = self.rows
        actual = np.array([row["actual"] for row in rows])
        expected = np.array([row["expected"] for row in rows])
        due_date = np.array([row["due_date"] for row in rows])
        total = actual.sum()
        origins = sorted({row["origin"] for row in rows})
        covered, scored = 0, 0
        for origin in origins:
            earlier = [row for row in rows if row["week_end"] <= origin]
            scale = _scale_for(earlier) if earlier else 1.0
            for row in rows:
                if row["origin"] != origin:
                    continue
                low, high = _scaled(row, scale)
                covered += low <= row["actual"] <= high
                scored += 1
        unscaled = np.mean([row["low"] <= row["actual"] <= row["high"] for row in rows])
        return {
            "weeks_scored": len(rows),
            "origins": len(origins),
            "wape": float(np.abs(actual - expected).sum() / total) if total else None,
            "wape_due_date": float(np.abs(actual - due_date).sum() / total) if total else None,
            "coverage": covered / scored if scored else None,
            "coverage_unscaled": float(unscaled),
            "band_scale": _scale_for(rows),
            "band_level": TARGET_COVERAGE,
            "currency": self.history.base_currency,
            "weeks": [_rounded(row) for row in rows],
        }


def _scaled(row: dict, scale: float) -> tuple[float, float]:
    """Return the band of a row scaled about its mean, as `forecast.band` scales it."""
    low = max(row["expected"] - scale * max(row["expected"] - row["low"], 0.0), 0.0)
    high = row["expected"] + scale * max(row["high"] - row["expected"], 0.0)
    return low, high


def _scale_for(rows: list[dict]) -> float:
    """Return the band scale whose coverage of the rows is nearest the target level."""
    best, best_gap = 1.0, math.inf
    for scale in SCALES:
        inside = [_inside(row, scale) for row in rows]
        gap = abs(float(np.mean(inside)) - TARGET_COVERAGE)
        if gap < best_gap - 1e-9:
            best, best_gap = float(scale), gap
    return best


def _inside(row: dict, scale: float) -> bool:
    low, high = _scaled(row, scale)
    return low <= row["actual"] <= high


def _rounded(row: dict) -> dict:
    shown = {key: round(value, 2) for key, value in row.items()}
    shown["origin"] = dt.date.fromordinal(row["origin"]).isoformat()
    shown["week_end"] = dt.date.fromordinal(row["week_end"]).isoformat()
    shown["week"] = row["week"]
    return shown
