"""Rolling-origin backtests of the models against their baselines.

The labelled prediction days are cut into folds in time order. At each origin T the
models are fitted on invoices predicted before T with the outcomes the ledger showed
on T (an invoice predicted before T but settled after T is not a training example),
then predict the invoices of the next window. Nothing from after T reaches a fit.

Baselines, fitted and scored on the same folds:

- days late: "pays on the due date" (0), the customer's historical mean delay as of the
  prediction day (the entity's mean without history), a linear regression;
- late risk: "pays on the due date" (probability 0), the customer's share of invoices
  settled late before the prediction day (the entity's share without history), a
  logistic regression.

Intervals are split-conformal: the residuals of earlier folds whose outcomes were known
on T calibrate the interval of the current fold. The first fold, with no earlier fold,
calibrates on an internal time split of its training set.
"""

import logging
import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from o2c.insights.errors import InsightsError
from o2c.insights.history import LedgerHistory
from o2c.insights.learning import (
    INTERVAL_LEVEL,
    Examples,
    Policy,
    conformal_interval,
    fit_models,
    new_linear,
    new_logistic,
    with_outcomes,
)

logger = logging.getLogger(__name__)

DEFAULT_FOLDS = 12
DEFAULT_TEST_SHARE = 0.5
MIN_CALIBRATION = 200
MIN_TRAINING = 20

DAYS_LATE_METHODS = ["model", "linear regression", "customer mean delay", "pays on due date"]
LATE_RISK_METHODS = ["model", "logistic regression", "customer share late", "pays on due date"]


@dataclass
class Fold:
    origin: int
    end: int
    train_count: int
    test_count: int


@dataclass
class BacktestResult:
    """Pooled out-of-sample predictions of every method, and the metrics they give."""

    policy: Policy
    folds: list[Fold]
    invoices: np.ndarray
    days: np.ndarray
    days_late: np.ndarray
    is_late: np.ndarray
    points: dict[str, np.ndarray]
    intervals: dict[str, tuple[np.ndarray, np.ndarray]]
    probabilities: dict[str, np.ndarray]
    residuals: np.ndarray  # out-of-sample residuals of the model, for calibration
    metrics: dict = field(default_factory=dict)

    def compute_metrics(self) -> dict:
        paid = ~np.isnan(self.days_late)
        labelled = ~np.isnan(self.is_late)
        days_late = {}
        for name, points in self.points.items():
            errors = points[paid] - self.days_late[paid]
            row = {
                "mae": float(np.mean(np.abs(errors))),
                "rmse": float(np.sqrt(np.mean(errors**2))),
            }
            if name in self.intervals:
                low, high = self.intervals[name]
                inside = (self.days_late[paid] >= low[paid]) & (self.days_late[paid] <= high[paid])
                row["coverage"] = float(inside.mean())
                row["width"] = float(np.mean(high[paid] - low[paid]))
            days_late[name] = row
        late_risk = {}
        labels = self.is_late[labelled]
        for name, probabilities in self.probabilities.items():
            scores = probabilities[labelled]
            late_risk[name] = {
                "auc": _auc(labels, scores),
                "brier": float(brier_score_loss(labels, np.clip(scores, 0, 1))),
            }
        self.metrics = {
            "policy": self.policy.as_dict(),
            "folds": len(self.folds),
            "first_origin": _iso(self.folds[0].origin) if self.folds else None,
            "last_end": _iso(self.folds[-1].end) if self.folds else None,
            "test_invoices": int(len(self.invoices)),
            "test_settled": int(paid.sum()),
            "test_labelled": int(labelled.sum()),
            "late_share": float(labels.mean()) if len(labels) else None,
            "interval_level": INTERVAL_LEVEL,
            "days_late": days_late,
            "late_risk": late_risk,
        }
        return self.metrics


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    if len(np.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def _iso(ordinal: int) -> str:
    import datetime as dt

    return dt.date.fromordinal(int(ordinal)).isoformat()


def fold_origins(days: np.ndarray, folds: int, test_share: float) -> list[int]:
    """Return folds + 1 boundaries cutting the last `test_share` of the day range evenly."""
    first, last = int(days.min()), int(days.max()) + 1
    start = first + int((last - first) * (1 - test_share))
    step = (last - start) / folds
    return [start + int(round(step * index)) for index in range(folds + 1)]


def run_backtest(
    history: LedgerHistory,
    examples: Examples,
    policy: Policy,
    folds: int = DEFAULT_FOLDS,
    test_share: float = DEFAULT_TEST_SHARE,
    progress=None,
    on_fold=None,
) -> BacktestResult:
    """Fit and score every method fold by fold; `examples` carry today's outcomes.

    `on_fold(origin, fitted, residuals)`, when given, is called after each fit with the
    calibration residuals known on the origin (the cash forecast backtest uses it).
    """
    labelled = ~np.isnan(examples.is_late)
    if not labelled.any():
        raise InsightsError(
            "backtest_impossible",
            "No invoice has a known outcome yet, so nothing can be backtested. Import or post "
            "settled invoices first.",
        )
    boundaries = fold_origins(examples.days[labelled], folds, test_share)
    pooled: dict[str, list] = {"rows": [], "residual_days": []}
    points = {name: [] for name in DAYS_LATE_METHODS}
    lows = {"model": [], "customer mean delay": []}
    highs = {"model": [], "customer mean delay": []}
    probabilities = {name: [] for name in LATE_RISK_METHODS}
    history_residuals: list[tuple[int, float, float]] = []  # (settled on, model, mean)
    fold_list = []

    for origin, end in zip(boundaries, boundaries[1:], strict=False):
        known = with_outcomes(examples, history, policy, origin)
        train_mask = (examples.days < origin) & ~np.isnan(known.is_late)
        test_mask = (examples.days >= origin) & (examples.days < end) & labelled
        if train_mask.sum() < MIN_TRAINING or not test_mask.any():
            continue
        train = known.rows(train_mask)
        test = examples.rows(test_mask)
        fitted = fit_models(train)
        values = test.features.values

        model_points = fitted.days_late(values)
        mean_points = _customer_mean(test)
        linear = _fit_linear(train)
        points["model"].append(model_points)
        points["linear regression"].append(
            linear.predict(values) if linear is not None else mean_points
        )
        points["customer mean delay"].append(mean_points)
        points["pays on due date"].append(np.zeros(len(test)))

        calibration = [row for row in history_residuals if row[0] <= origin]
        if len(calibration) >= MIN_CALIBRATION:
            model_residuals = np.array([row[1] for row in calibration])
            mean_residuals = np.array([row[2] for row in calibration])
        else:
            model_residuals, mean_residuals = _internal_residuals(train, fitted.blend)
        if on_fold is not None:
            on_fold(origin, fitted, model_residuals)
        for name, residuals, base in (
            ("model", model_residuals, model_points),
            ("customer mean delay", mean_residuals, mean_points),
        ):
            low, high = conformal_interval(base, residuals, INTERVAL_LEVEL)
            lows[name].append(low)
            highs[name].append(high)

        probabilities["model"].append(fitted.late_probability(values))
        probabilities["logistic regression"].append(_logistic_probability(train, values))
        probabilities["customer share late"].append(_customer_share(test))
        probabilities["pays on due date"].append(np.zeros(len(test)))

        paid = ~np.isnan(test.days_late)
        for settled_on, actual, model_point, mean_point in zip(
            test.settled_on[paid],
            test.days_late[paid],
            model_points[paid],
            mean_points[paid],
            strict=True,
        ):
            history_residuals.append(
                (int(settled_on), float(actual - model_point), float(actual - mean_point))
            )
        pooled["rows"].append(test)
        fold_list.append(Fold(origin, end, int(train_mask.sum()), int(test_mask.sum())))
        if progress:
            progress(
                f"fold {_iso(origin)}..{_iso(end)}: trained on {train_mask.sum()}, "
                f"tested {test_mask.sum()}"
            )

    if not fold_list:
        raise InsightsError(
            "backtest_impossible",
            "Too little history for a time-ordered backtest: each fold needs at least "
            "{minimum} settled invoices before its origin. Use fewer folds or more history.",
            minimum=MIN_TRAINING,
        )
    rows = pooled["rows"]
    result = BacktestResult(
        policy=policy,
        folds=fold_list,
        invoices=np.concatenate([row.invoices for row in rows]),
        days=np.concatenate([row.days for row in rows]),
        days_late=np.concatenate([row.days_late for row in rows]),
        is_late=np.concatenate([row.is_late for row in rows]),
        points={name: np.concatenate(parts) for name, parts in points.items()},
        intervals={
            name: (np.concatenate(lows[name]), np.concatenate(highs[name])) for name in lows
        },
        probabilities={name: np.concatenate(parts) for name, parts in probabilities.items()},
        residuals=np.array([row[1] for row in history_residuals]),
    )
    result.compute_metrics()
    return result


def _customer_mean(examples: Examples) -> np.ndarray:
    matrix = examples.features
    return np.where(
        np.isnan(matrix.customer_mean_days_late),
        matrix.prior_mean_days_late,
        matrix.customer_mean_days_late,
    )


def _customer_share(examples: Examples) -> np.ndarray:
    matrix = examples.features
    return np.where(
        np.isnan(matrix.customer_share_late), matrix.prior_share_late, matrix.customer_share_late
    )


def _fit_linear(train: Examples):
    paid = ~np.isnan(train.days_late)
    if paid.sum() < 2:
        return None
    return new_linear().fit(train.features.values[paid], train.days_late[paid])


def _logistic_probability(train: Examples, values: np.ndarray) -> np.ndarray:
    labelled = ~np.isnan(train.is_late)
    labels = train.is_late[labelled]
    if len(np.unique(labels)) < 2:
        return np.full(len(values), labels.mean() if len(labels) else 0.0)
    model = new_logistic().fit(train.features.values[labelled], labels)
    return model.predict_proba(values)[:, 1]


def _internal_residuals(train: Examples, blend: str) -> tuple[np.ndarray, np.ndarray]:
    """Return out-of-sample residuals from fitting on the older 75 % of a training set."""
    paid = ~np.isnan(train.days_late)
    cut = np.quantile(train.days[paid], 0.75) if paid.any() else 0
    older = train.rows(train.days < cut)
    newer = train.rows((train.days >= cut) & paid)
    if np.isnan(older.days_late).all() or not len(newer):
        return np.zeros(0), np.zeros(0)
    fitted = fit_models(older, blend=blend, classify=False)
    model = newer.days_late - fitted.days_late(newer.features.values)
    mean = newer.days_late - _customer_mean(newer)
    return model, mean


def verdict(metrics: dict) -> dict:
    """Return whether each model beats every baseline on each metric of the backtest.

    The days-late model must have a lower MAE and RMSE than each baseline; the late-risk
    model a higher AUC and a lower Brier score. A model that fails is not used.
    """
    days = metrics["days_late"]
    risk = metrics["late_risk"]
    model_days, model_risk = days["model"], risk["model"]
    days_ok = all(
        model_days["mae"] < days[name]["mae"] and model_days["rmse"] < days[name]["rmse"]
        for name in days
        if name != "model"
    )
    risk_ok = model_risk["auc"] is not None and all(
        (risk[name]["auc"] is None or model_risk["auc"] > risk[name]["auc"])
        and model_risk["brier"] < risk[name]["brier"]
        for name in risk
        if name != "model"
    )
    return {"days_late": days_ok, "late_risk": risk_ok}


def format_table(title: str, metrics: dict) -> str:
    """Return the backtest metrics as a plain-text table."""
    lines = [
        title,
        f"folds {metrics['folds']} ({metrics['first_origin']} to {metrics['last_end']}), "
        f"{metrics['test_invoices']} test invoices, {metrics['test_settled']} settled, "
        f"late share {_percent(metrics['late_share'])}, "
        f"prediction point {metrics['policy']['prediction_point']}, "
        f"late = more than {metrics['policy']['late_after_days']} days after due"
        + _known_on_text(metrics),
        "",
        f"{'days late':<24}{'MAE':>8}{'RMSE':>8}{'80% cover':>11}{'width':>8}",
    ]
    for name, row in metrics["days_late"].items():
        lines.append(
            f"{name:<24}{row['mae']:>8.2f}{row['rmse']:>8.2f}"
            f"{_percent(row.get('coverage')):>11}{_number(row.get('width')):>8}"
        )
    lines.append("")
    lines.append(f"{'late risk':<24}{'AUC':>8}{'Brier':>8}")
    for name, row in metrics["late_risk"].items():
        lines.append(f"{name:<24}{_number(row['auc'], 3):>8}{row['brier']:>8.3f}")
    return "\n".join(lines)


def _known_on_text(metrics: dict) -> str:
    known_on = metrics.get("outcomes_known_on")
    return f", outcomes known on {known_on}" if known_on else ""


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _number(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def render_section(entity, metrics: dict, forecast: dict) -> str:
    """Return the backtest table of an entity, with the cash forecast's figures."""
    lines = [format_table(f"{entity.code} · {entity.name}", metrics)]
    passed = verdict(metrics)
    lines.append(
        "beats every baseline: "
        f"days late {'yes' if passed['days_late'] else 'NO'}, "
        f"late risk {'yes' if passed['late_risk'] else 'NO'}"
    )
    if forecast.get("weeks_scored"):
        lines.append(
            f"cash forecast, 13 weeks from {forecast['origins']} origins, "
            f"{forecast['weeks_scored']} weeks scored ({forecast['currency']}): "
            f"WAPE {_percent(forecast['wape'])} (paid-on-due-date forecast "
            f"{_percent(forecast['wape_due_date'])}), 80 % band coverage "
            f"{_percent(forecast['coverage'])} (unscaled {_percent(forecast['coverage_unscaled'])}"
            f"), band scale {forecast['band_scale']:.1f}"
        )
    return "\n".join(lines)
