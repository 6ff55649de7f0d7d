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
WEEKDAYS = list(calendar.day_name)
MONTHS = list(calendar.month_name)


def _days(value: float) -> str:
    days = abs(round(value))
    word = "day" if days == 1 else "days"
    if round(value) == 0:
        return "on the due date"
    return f"{days} {word} {'late' if value > 0 else 'early'}"


def _count(value: float, singular: str, plural: str | None = None) -> str:
    number = round(value)
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def describe_fact(name: str, values: dict) -> str | None:
    """Return the plain-word fact behind one feature, or None when it has no value."""
    value = values.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if name in ("recent_mean_days_late", "mean_days_late", "weighted_days_late"):
            return "has no settled invoice on record yet"
        return None
    count = values.get("history_count") or 0
    recent = min(RECENT_COUNT, int(count))
    facts = {
        "history_count": lambda: f"has {_count(value, 'settled invoice')} on record",
        "mean_days_late": lambda: (
            f"paid {_count(count, 'earlier invoice')} {_days(value)} on average"
            if count
            else "has no settled invoice on record yet"
        ),
        "recent_mean_days_late": lambda: (
            f"paid the last {recent} invoices {_days(value)} on average"
            if recent > 1
            else f"paid the last invoice {_days(value)}"
        ),
        "weighted_days_late": lambda: f"paid recent invoices {_days(value)} on average",
        "trend_days_late": lambda: (
            f"pays {abs(round(value))} days {'later' if value > 0 else 'sooner'} lately than before"
        ),
        "spread_days_late": lambda: f"pays irregularly (delays vary by ±{round(value)} days)",
        "share_late": lambda: f"paid {round(value * 100)} % of past invoices late",
        "weighted_share_late": lambda: f"paid {round(value * 100)} % of recent invoices late",
        "worst_recent_days_late": lambda: f"paid one of the last {recent} invoices {_days(value)}",
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
            f"pays {_days(value)} on average, allowing for how all customers pay now"
        ),
        "undisputed_mean_days_late": lambda: f"paid undisputed invoices {_days(value)} on average",
        "dispute_share": lambda: f"disputed {round(value * 100)} % of past invoices",
        "days_since_payment": lambda: f"last settled an invoice {_count(value, 'day')} ago",
        "mean_days_to_pay": lambda: f"took {_count(value, 'day')} to pay on average",
        "open_count": lambda: f"has {_count(value, 'other open invoice')}",
        "open_past_due_count": lambda: f"has {_count(value, 'other invoice')} open past due",
        "open_max_days_past_due": lambda: (
            f"has an invoice {_count(value, 'day')} past due"
            if value > 0
            else "has nothing past due"
        ),
        "open_amount_ratio": lambda: f"owes {value:.1f} times a usual invoice on other items",
        "recent_invoice_count": lambda: f"was invoiced {_count(value, 'time')} in the last 90 days",
        "log_amount": lambda: f"the invoice amount is {math.expm1(value):,.0f}",
        "amount_ratio": lambda: f"the invoice is {value:.1f} times the customer's usual amount",
        "term_days": lambda: f"the payment term is {_count(value, 'day')}",
        "days_to_due": lambda: f"the invoice falls due {_count(value, 'day')} after issue",
        "due_weekday": lambda: f"it falls due on a {WEEKDAYS[int(value)]}",
        "due_day": lambda: f"it falls due on day {int(value)} of the month",
        "due_month": lambda: f"it falls due in {MONTHS[int(value)]}",
        "electronic": lambda: "is billed electronically" if value >= 0.5 else "is billed on paper",
        "invoice_disputed": lambda: (
            "this invoice is disputed" if value >= 0.5 else "this invoice is not disputed"
        ),
        "open_disputes": lambda: f"has {_count(value, 'other dispute')} open",
        "disputes_last_year": lambda: f"opened {_count(value, 'dispute')} in the last 12 months",
        "broken_promises": lambda: f"broke {_count(value, 'promise')} to pay in the last 90 days",
    }
    maker = facts.get(name)
    return maker() if maker else None


def top_reasons(
    names: list[str], row: np.ndarray, effects: np.ndarray, kind: str, limit: int = TOP_REASONS
) -> list[dict]:
    """Return the strongest reasons of one prediction.

    `effects` are the contributions of each feature: in probability for kind "risk", in
    days for kind "days". Features whose fact cannot be said are skipped.
    """
    values = dict(zip(names, row.tolist(), strict=True))
    order = np.argsort(-np.abs(effects))
    reasons = []
    for column in order:
        effect = float(effects[column])
        if abs(effect) < (0.005 if kind == "risk" else 0.25):
            break
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
        return f"{'raises' if effect > 0 else 'lowers'} the risk by {points} points"
    days = round(abs(effect))
    if days == 0:
        return "moves the date by less than a day"
    return f"{'later' if effect > 0 else 'earlier'} by {days} day{'s' if days != 1 else ''}"


def sentence(reason: dict) -> str:
    """Return a reason as a sentence: the fact, then its effect in brackets."""
    text = reason["text"][0].upper() + reason["text"][1:]
    words = effect_words(reason)
    return f"{text} ({words})" if words else text
