"""Plain-word reasons for a prediction, from feature contributions.

Each reason names a fact about the customer or the invoice, with its value, and the
direction in which it moved the prediction: "paid the last 5 invoices 12 days late on
average (raises the risk by 18 points)".
"""

import calendar
import math

import numpy as np

from o2c.insights.features import RECENT_COUNT

TOP_REASONS = 3
# Facts about the invoice itself: a customer's score, made for a typical next invoice,
# does not state them, as that invoice does not exist.
INVOICE_FEATURES = frozenset(
    {
        "log_amount",
        "amount_ratio",
        "term_days",
        "days_to_due",
        "due_weekday",
        "due_day",
        "due_month",
        "invoice_disputed",
    }
)
WEEKDAYS = list(calendar.day_name)
MONTHS = list(calendar.month_name)
NO_HISTORY = "has no settled invoice on record yet"


def _days(value: float) -> str:
    days = abs(round(value))
    word = "day" if days == 1 else "days"
    if round(value) == 0:
        return "on the due date"
    return f"{days} {word} {'late' if value > 0 else 'early'}"


def plural(value: float, singular: str, many: str | None = None) -> str:
    """Return a rounded count with its noun, singular for 1: "1 day", "3 days"."""
    number = round(value)
    return f"{number} {singular if number == 1 else (many or singular + 's')}"


def own_figures(matrix, row: int, currency: str = "") -> dict:
    """Return the customer's own history figures of one feature row, by name.

    `currency` is the one the history's amounts are in (the entity's base currency).

    The features `mean_days_late`, `share_late` and `undisputed_mean_days_late` are shrunk
    toward all customers, so a sentence about the customer's history states these raw
    figures instead (NaN without history).
    """
    return {
        "_customer_mean": float(matrix.customer_mean_days_late[row]),
        "_customer_share": float(matrix.customer_share_late[row]),
        "_undisputed_mean": float(matrix.customer_undisputed_mean[row]),
        "_undisputed_count": float(matrix.customer_undisputed_count[row]),
        "_currency": currency,
    }


def describe_fact(name: str, values: dict) -> str | None:
    """Return the plain-word fact behind one feature, or None when it has no value."""
    value = _raw(values, name)
    if value is None:
        if name in ("recent_mean_days_late", "mean_days_late", "weighted_days_late"):
            return NO_HISTORY
        return None
    count = int(values.get("history_count") or 0)
    recent = min(RECENT_COUNT, count)
    facts = {
        "history_count": lambda: f"has {plural(value, 'settled invoice')} on record",
        "mean_days_late": lambda: _mean_fact(values, count),
        "recent_mean_days_late": lambda: (
            f"paid the last {recent} invoices {_days(value)} on average"
            if recent > 1
            else f"paid the last invoice {_days(value)}"
        ),
        "weighted_days_late": lambda: f"paid recent invoices {_days(value)} on average",
        "trend_days_late": lambda: (
            f"paid {f'the last {recent}' if recent > 1 else 'recent'} invoices "
            f"{plural(abs(value), 'day')} {'later' if value > 0 else 'sooner'} than earlier ones"
            if round(value)
            else None
        ),
        "spread_days_late": lambda: (
            f"pays irregularly (delays vary by ±{plural(value, 'day')})"
            if round(value)
            else "pays regularly (delays vary by less than a day)"
        ),
        "share_late": lambda: _share_fact(values, count),
        "weighted_share_late": lambda: f"paid {round(value * 100)} % of recent invoices late",
        "worst_recent_days_late": lambda: (
            f"paid one of the last {recent} invoices {_days(value)}"
            if recent > 1
            else f"paid the last invoice {_days(value)}"
        ),
        "channel_mean_days_late": lambda: (
            f"paid invoices on this billing channel {_days(value)} on average"
        ),
        "adjusted_mean_days_late": lambda: (
            f"pays {_days(value)} on average, allowing for the billing channel"
        ),
        "entity_level_days_late": lambda: (
            f"all customers paid {_days(value)} on average in the last 90 days"
        ),
        "level_adjusted_days_late": lambda: (
            f"would pay about {_days(value)} at the current level of all customers, judging by"
            " its record against theirs"
        ),
        "undisputed_mean_days_late": lambda: _undisputed_fact(values),
        "dispute_share": lambda: f"disputed {round(value * 100)} % of past invoices",
        "days_since_payment": lambda: (
            f"last settled an invoice {plural(value, 'day')} ago"
            if round(value)
            else "settled an invoice today"
        ),
        "mean_days_to_pay": lambda: (
            f"took {plural(value, 'day')} to pay on average"
            if round(value)
            else "paid on the invoice date on average"
        ),
        "open_count": lambda: f"has {plural(value, 'other open invoice')}",
        "open_past_due_count": lambda: (
            f"has {plural(value, 'other invoice')} open past due"
            if round(value)
            else "has no other invoice open past due"
        ),
        "open_max_days_past_due": lambda: (
            f"has another invoice {plural(value, 'day')} past due"
            if value > 0
            else "has no other invoice past due"
        ),
        "open_amount_ratio": lambda: f"owes {value:.1f} times a usual invoice on other items",
        "recent_invoice_count": lambda: (
            f"was invoiced {plural(value, 'time')} in the last 90 days"
            if round(value)
            else "was not invoiced in the last 90 days"
        ),
        "log_amount": lambda: (
            f"the invoice amount is {math.expm1(value):,.0f} {values.get('_currency') or ''}"
        ).rstrip(),
        "amount_ratio": lambda: f"the invoice is {value:.1f} times the customer's usual amount",
        "term_days": lambda: f"the payment term is {plural(value, 'day')}",
        "days_to_due": lambda: f"the invoice falls due {plural(value, 'day')} after issue",
        "due_weekday": lambda: f"it falls due on a {WEEKDAYS[int(value)]}",
        "due_day": lambda: f"it falls due on day {int(value)} of the month",
        "due_month": lambda: f"it falls due in {MONTHS[int(value)]}",
        "electronic": lambda: "is billed electronically" if value >= 0.5 else "is billed on paper",
        "invoice_disputed": lambda: (
            "this invoice is disputed" if value >= 0.5 else "this invoice is not disputed"
        ),
        "open_disputes": lambda: f"has {plural(value, 'other dispute')} open",
        "disputes_last_year": lambda: f"opened {plural(value, 'dispute')} in the last 12 months",
        "broken_promises": lambda: f"broke {plural(value, 'promise')} to pay in the last 90 days",
    }
    maker = facts.get(name)
    return maker() if maker else None


def _raw(values: dict, name: str) -> float | None:
    value = values.get(name)
    if value is None or math.isnan(value):
        return None
    return value


def _mean_fact(values: dict, count: int) -> str | None:
    """Return the customer's own average delay, not the figure shrunk toward all customers."""
    if not count:
        return NO_HISTORY
    mean = _raw(values, "_customer_mean")
    if mean is None:
        return None
    if count == 1:
        return f"paid the one earlier invoice {_days(mean)}"
    return f"paid {count} earlier invoices {_days(mean)} on average"


def _undisputed_fact(values: dict) -> str | None:
    """Return the customer's own average delay on undisputed invoices, with their count."""
    mean = _raw(values, "_undisputed_mean")
    if mean is None:
        return None
    count = int(values.get("_undisputed_count") or 0)
    if count == 1:
        return f"paid the one undisputed earlier invoice {_days(mean)}"
    return f"paid {count} undisputed earlier invoices {_days(mean)} on average"


def _share_fact(values: dict, count: int) -> str | None:
    """Return the customer's own share of late invoices, with the counts behind it."""
    if not count:
        return NO_HISTORY
    share = _raw(values, "_customer_share")
    if share is None:
        return None
    late = round(share * count)
    return f"paid {late} of {plural(count, 'past invoice')} late ({round(share * 100)} %)"


def top_reasons(
    names: list[str],
    row: np.ndarray,
    effects: np.ndarray,
    kind: str,
    limit: int = TOP_REASONS,
    figures: dict | None = None,
    exclude: frozenset = frozenset(),
) -> list[dict]:
    """Return the strongest reasons of one prediction.

    `effects` are the contributions of each feature: in probability for kind "risk", in
    days for kind "days". Features without a fact to state, or named in `exclude`, are
    skipped. `figures` adds the customer's own history figures (see `own_figures`).
    """
    values = dict(zip(names, row.tolist(), strict=True)) | (figures or {})
    order = np.argsort(-np.abs(effects))
    reasons = []
    for column in order:
        effect = float(effects[column])
        if abs(effect) < (0.005 if kind == "risk" else 0.25):
            break
        if names[column] in exclude:
            continue
        fact = describe_fact(names[column], values)
        if fact is None:
            continue
        reasons.append(
            {"feature": names[column], "text": fact, "effect": round(effect, 4), "kind": kind}
        )
        if len(reasons) == limit:
            break
    return reasons


def effect_words(reason: dict) -> str:
    """Return the direction and size of a reason's effect, in words."""
    effect = reason["effect"]
    if reason["kind"] == "rule":
        return ""
    if reason["kind"] == "risk":
        points = round(abs(effect) * 100)
        if points == 0:
            return "moves the risk by less than a point"
        return f"{'raises' if effect > 0 else 'lowers'} the risk by {plural(points, 'point')}"
    days = round(abs(effect))
    if days == 0:
        return "moves the date by less than a day"
    return f"{'later' if effect > 0 else 'earlier'} by {plural(days, 'day')}"


def unique(reasons: list[dict]) -> list[dict]:
    """Return the reasons without repeats of a feature or of a sentence, the first one kept."""
    seen_features, seen_texts, result = set(), set(), []
    for reason in reasons:
        if reason["feature"] in seen_features or reason["text"] in seen_texts:
            continue
        seen_features.add(reason["feature"])
        seen_texts.add(reason["text"])
        result.append(reason)
    return result


def sentence(reason: dict) -> str:
    """Return a reason as a sentence: the fact, then its effect in brackets."""
    text = reason["text"][0].upper() + reason["text"][1:]
    words = effect_words(reason)
    return f"{text} ({words})" if words else text
