"""Panels the insights module adds to the customer page and the leaders' dashboard."""

import datetime as dt
import logging
from decimal import Decimal

from django.template.loader import render_to_string

from o2c.insights import charts, selectors, services
from o2c.insights.models import ForecastSnapshot
from o2c.insights.reasons import sentence

logger = logging.getLogger(__name__)

HORIZON_DAYS = 91
SNAPSHOT_SLACK_DAYS = 7


def customer_panel(request, customer) -> str:
    """Render the customer's score, what changed, and each open invoice's prediction.

    The customer page has already checked that the person may see the customer.
    """
    score = selectors.latest_score(customer)
    predictions = selectors.customer_predictions(customer)
    for prediction in predictions:
        prediction.reason_sentences = [sentence(reason) for reason in prediction.reasons]
    context = {
        "customer": customer,
        "score": score,
        "score_reasons": [sentence(reason) for reason in score.reasons] if score else [],
        "predictions": predictions,
    }
    return render_to_string("insights/_customer_panel.html", context, request=request)


def dashboard_panel(request, entity, as_of: dt.date, whole_entity: bool) -> str | None:
    """Render the cash forecast band against actual receipts, for leaders only."""
    if not whole_entity:
        return None
    context = forecast_context(entity, as_of)
    return render_to_string("insights/_forecast_panel.html", context, request=request)


def forecast_context(
    entity, as_of: dt.date, compute: bool = False, currency: str | None = None
) -> dict:
    """Return the chart and table of the forecast made 13 weeks ago and the one made now.

    The dashboard reads stored forecasts only (the nightly rescore stores them), so it
    runs a fixed handful of queries. With `compute`, a missing forecast is recomputed
    with the current model from what the ledger showed that day. `currency` picks one
    of the forecast's currencies (default: the entity's own).
    """
    version = services.active_version(entity)
    past_on = as_of - dt.timedelta(days=HORIZON_DAYS)
    past, past_made_on, past_recomputed = _forecast(entity, past_on, compute)
    current, current_made_on, _ = _forecast(entity, as_of, compute)
    currency = currency or entity.base_currency
    if currency not in current and currency not in past:
        currency = entity.base_currency
    if currency not in current and currency not in past:
        currency = next(iter(current or past), currency)
    past_weeks = past.get(currency, [])
    rows = []
    if past_weeks:
        start = dt.date.fromisoformat(past_weeks[0]["start"])
        receipts = services.actual_receipts(entity, start, as_of, past_made_on).get(currency, {})
        actuals = services.weekly_actuals(receipts, start, len(past_weeks), currency)
        for week, actual in zip(past_weeks, actuals, strict=True):
            if dt.date.fromisoformat(week["end"]) <= as_of:
                rows.append(week | {"actual": actual, "part": "past"})
    for week in current.get(currency, []):
        rows.append(week | {"actual": None, "part": "ahead"})
    for row in rows:
        for key in ("expected", "low", "high"):
            row[key] = Decimal(row[key])
    covered = [row for row in rows if row["actual"] is not None]
    inside = sum(1 for row in covered if row["low"] <= row["actual"] <= row["high"])
    return {
        "entity": entity,
        "as_of": as_of,
        "currency": currency,
        "chart": charts.forecast_band(rows, currency) if rows else "",
        "rows": rows,
        "past_on": past_made_on,
        "past_recomputed": past_recomputed,
        "current_on": current_made_on,
        "past_inside": inside,
        "past_weeks": len(covered),
        "version": version,
        "backtest": version.forecast_metrics if version else {},
        "currencies": sorted(set(current) | set(past)),
    }


def _forecast(entity, on: dt.date, compute: bool) -> tuple[dict[str, list], dt.date | None, bool]:
    """Return ({currency: weeks}, day made, recomputed) of the forecast made on `on` (or
    up to a week before). Recomputed means no forecast was stored then, and today's
    model, which may have learnt from the outcomes since, made it again."""
    stored = list(
        ForecastSnapshot.objects.filter(
            entity=entity, made_on__lte=on, made_on__gte=on - dt.timedelta(days=SNAPSHOT_SLACK_DAYS)
        ).order_by("-made_on")
    )
    if stored:
        made_on = stored[0].made_on
        return {s.currency: s.weeks for s in stored if s.made_on == made_on}, made_on, False
    if not compute:
        return {}, None, False
    made = services.entity_forecast(entity, on)
    return {currency: result.weeks for currency, result in made.items()}, on, True
