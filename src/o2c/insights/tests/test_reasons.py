"""Reasons state the customer's own figures, in correct words, once each."""

import math

import numpy as np

from o2c.insights.predict import _already_late_reason, transparent_reasons
from o2c.insights.reasons import describe_fact, effect_words, top_reasons, unique

NO_HISTORY = {
    "history_count": 0,
    "mean_days_late": 9.0,
    "share_late": 0.45,
    "_customer_mean": math.nan,
    "_customer_share": math.nan,
}
FOUR_OF_TWENTY = {
    "history_count": 20,
    "mean_days_late": 6.1,
    "share_late": 0.23,
    "_customer_mean": 5.0,
    "_customer_share": 0.2,
}


def test_share_states_raw_figure_with_counts():
    assert describe_fact("share_late", FOUR_OF_TWENTY) == "paid 4 of 20 past invoices late (20 %)"


def test_mean_states_raw_figure():
    assert describe_fact("mean_days_late", FOUR_OF_TWENTY) == (
        "paid 20 earlier invoices 5 days late on average"
    )


def test_no_history_gets_no_share_sentence():
    assert "%" not in describe_fact("share_late", NO_HISTORY)


def test_no_history_said_once_by_the_rule():
    texts = [reason["text"] for reason in transparent_reasons(NO_HISTORY)]
    assert texts.count("has no settled invoice on record yet") == 1
    assert not any("%" in text for text in texts)


def test_model_reasons_use_raw_share():
    names = ["history_count", "share_late"]
    row = np.array([20.0, 0.23])
    figures = {"_customer_mean": 5.0, "_customer_share": 0.2}
    found = top_reasons(names, row, np.array([0.0, 0.1]), "risk", figures=figures)
    assert found[0]["text"] == "paid 4 of 20 past invoices late (20 %)"


def test_one_point_is_singular():
    assert effect_words({"effect": 0.01, "kind": "risk"}) == "raises the risk by 1 point"


def test_one_day_past_due_is_singular():
    assert _already_late_reason(1)["text"] == "is already 1 day past due and still open"


def test_zero_trend_is_dropped():
    assert describe_fact("trend_days_late", {"trend_days_late": 0.2}) is None


def test_zero_days_since_payment_reworded():
    assert describe_fact("days_since_payment", {"days_since_payment": 0}) == (
        "settled an invoice today"
    )


def test_zero_spread_is_not_irregular():
    assert "irregular" not in describe_fact("spread_days_late", {"spread_days_late": 0.3})


def test_nothing_past_due_speaks_of_other_invoices():
    assert describe_fact("open_max_days_past_due", {"open_max_days_past_due": 0.0}) == (
        "has no other invoice past due"
    )


def test_unique_drops_repeated_feature():
    first = {"feature": "share_late", "text": "a", "effect": 0.1, "kind": "risk"}
    again = {"feature": "share_late", "text": "b", "effect": 2.0, "kind": "days"}
    assert unique([first, again]) == [first]
