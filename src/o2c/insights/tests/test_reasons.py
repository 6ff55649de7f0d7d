"""Reasons state the customer's own figures, in correct words, once each."""

import math

import numpy as np
import pytest

from o2c.insights.features import build_matrix, query_for_invoice
from o2c.insights.history import load_history
from o2c.insights.predict import _already_late_reason, transparent_reasons
from o2c.insights.reasons import (
    INVOICE_FEATURES,
    describe_fact,
    effect_words,
    own_figures,
    top_reasons,
    unique,
)

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


def test_undisputed_mean_states_raw_figure():
    values = {"undisputed_mean_days_late": 7.4, "_undisputed_mean": 3.0, "_undisputed_count": 6}
    assert describe_fact("undisputed_mean_days_late", values) == (
        "paid 6 undisputed earlier invoices 3 days late on average"
    )


def test_one_undisputed_invoice_is_singular():
    values = {"undisputed_mean_days_late": 7.4, "_undisputed_mean": -2.0, "_undisputed_count": 1}
    assert describe_fact("undisputed_mean_days_late", values) == (
        "paid the one undisputed earlier invoice 2 days early"
    )


def test_level_adjusted_reads_as_estimate():
    fact = describe_fact("level_adjusted_days_late", {"level_adjusted_days_late": 4.2})
    assert fact.startswith("would pay about 4 days late")


def test_zero_days_to_pay_reworded():
    assert describe_fact("mean_days_to_pay", {"mean_days_to_pay": 0.3}) == (
        "paid on the invoice date on average"
    )


@pytest.mark.django_db
def test_feature_rows_keep_raw_undisputed_figures(habits_ledger):
    history = load_history(habits_ledger["entity"])
    on = int(history.due.max())
    queries = [query_for_invoice(history, index, on) for index in range(len(history.due))]

    matrix = build_matrix(history, queries, use_issue_dates=True, late_after_days=0)
    figures = [own_figures(matrix, row) for row in range(len(queries))]

    # no invoice of this ledger is disputed, so the undisputed figures are the whole record
    counted = [item for item in figures if item["_undisputed_count"] > 0]
    assert counted
    for item in counted:
        assert item["_undisputed_mean"] == pytest.approx(item["_customer_mean"])


def test_trend_names_recent_invoices():
    values = {"trend_days_late": 10.2, "history_count": 12}
    assert describe_fact("trend_days_late", values) == (
        "paid the last 5 invoices 10 days later than earlier ones"
    )


def test_no_recent_invoice_reworded():
    assert describe_fact("recent_invoice_count", {"recent_invoice_count": 0}) == (
        "was not invoiced in the last 90 days"
    )


def test_excluded_features_give_no_reason():
    names = ["due_month", "share_late"]
    row = np.array([1.0, 0.23])
    effects = np.array([0.3, 0.1])

    found = top_reasons(
        names, row, effects, "risk", figures=FOUR_OF_TWENTY, exclude=INVOICE_FEATURES
    )

    assert [reason["feature"] for reason in found] == ["share_late"]


def test_amount_names_its_currency():
    values = {"log_amount": math.log1p(4158.0), "_currency": "EUR"}
    assert describe_fact("log_amount", values) == "the invoice amount is 4,158 EUR"


def test_no_other_invoice_past_due_reworded():
    assert describe_fact("open_past_due_count", {"open_past_due_count": 0}) == (
        "has no other invoice open past due"
    )
