"""Predictions of invoices still open: conditioned on not being paid yet."""

import datetime as dt

import numpy as np
import pytest

from o2c.insights.backtest import conformal_interval, fold_origins, verdict
from o2c.insights.forecast import band
from o2c.insights.predict import Prediction, condition_on_open, draw_days_late

RESIDUALS = np.arange(-10.0, 11.0)  # 21 residuals, -10 to 10 days


def test_interval_from_residual_quantiles():
    low, high = conformal_interval(np.array([5.0]), RESIDUALS, 0.8)

    assert low[0] == pytest.approx(5.0 - 9.0)
    assert high[0] == pytest.approx(5.0 + 9.0)


def test_not_yet_due_invoice_keeps_model_prediction():
    point, low, high, risk = condition_on_open(3.0, 0.4, RESIDUALS, floor=-20, late_after=0)

    assert point == 3.0
    assert (low, high) == pytest.approx((-6.0, 12.0))  # 3 - 9, 3 + 9
    assert risk == 0.4


def test_overdue_invoice_predicted_after_today():
    # given an invoice 8 days past due and still open (it will be at least 9 days late)
    residuals = np.arange(-30.0, 31.0)
    point, low, high, risk = condition_on_open(0.0, 0.4, residuals, floor=9, late_after=0)

    assert low >= 9
    assert point >= 9
    assert high >= point
    # already more than 0 days late, so it is late for sure
    assert risk == 1.0


def test_overdue_within_grace_raises_risk():
    point, low, _, risk = condition_on_open(0.0, 0.3, np.arange(-30.0, 31.0), 4, 10)

    assert low >= 4
    # 27 residual outcomes of 4 days late or more, 20 of them more than 10
    assert risk == pytest.approx(20 / 27)


def test_invoice_older_than_any_outcome_has_no_upper_bound():
    point, low, high, _ = condition_on_open(0.0, 0.5, RESIDUALS, floor=400, late_after=0)

    assert (point, low, high) == (400, 400, None)


def test_stale_invoice_draws_fall_beyond_any_horizon():
    prediction = Prediction(
        index=0,
        customer_id=1,
        due=dt.date(2025, 1, 1).toordinal(),
        days_late=400,
        low=400,
        high=None,
        probability=1.0,
        method="model",
        reasons=[],
        residuals=RESIDUALS,
        raw_days_late=0.0,
        floor=400,
    )

    draws = draw_days_late(prediction, 50, np.random.default_rng(0))

    assert np.isinf(draws).all()


def test_band_always_contains_the_mean():
    # one large invoice in 1 draw of 10 lifts the mean above the 90th percentile
    draws = np.array([[0.0]] * 9 + [[1000.0]])

    expected, low, high = band(draws, 1.5)

    assert low[0] <= expected[0] <= high[0]


def test_band_scale_widens_about_the_mean():
    draws = np.array([[0.0], [10.0], [20.0], [30.0], [40.0]])

    expected, low, high = band(draws, 1.0)
    _, wide_low, wide_high = band(draws, 2.0)

    assert expected[0] == 20.0
    assert wide_high[0] - expected[0] == pytest.approx(2 * (high[0] - expected[0]))
    assert wide_low[0] == max(0.0, expected[0] - 2 * (expected[0] - low[0]))


def test_fold_origins_cut_test_range_in_order():
    days = np.arange(1000, 2000)

    origins = fold_origins(days, 4, 0.5)

    assert origins == sorted(origins)
    assert origins[0] == 1500
    assert origins[-1] == 2000
    assert len(origins) == 5


def test_verdict_requires_beating_every_baseline():
    metrics = {
        "days_late": {
            "model": {"mae": 5.0, "rmse": 7.0},
            "pays on due date": {"mae": 10.0, "rmse": 6.9},
        },
        "late_risk": {
            "model": {"auc": 0.8, "brier": 0.1},
            "customer share late": {"auc": 0.7, "brier": 0.2},
        },
    }

    passed = verdict(metrics)

    assert passed["days_late"] is False
    assert passed["late_risk"] is True


def test_median_regression_fits_a_capped_sample(monkeypatch):
    from o2c.insights import learning

    fitted_rows = []

    class Recorder:
        def fit(self, x, y, quantileregressor__sample_weight):
            fitted_rows.append(len(y))
            assert len(quantileregressor__sample_weight) == len(y)
            return self

    monkeypatch.setattr(learning, "MEDIAN_MAX_ROWS", 50)
    monkeypatch.setattr(learning, "new_median", Recorder)
    x = np.arange(800.0).reshape(400, 2)

    learning._fit_median(x, x[:, 0], np.ones(400))
    learning._fit_median(x[:40], x[:40, 0], np.ones(40))

    assert fitted_rows == [50, 40]
