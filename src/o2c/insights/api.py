"""REST endpoints: invoice predictions, customer scores, late risk, forecast and models."""

import datetime as dt
from typing import Annotated

from django.http import Http404
from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from o2c.insights import selectors, services
from o2c.insights.errors import InsightsError
from o2c.insights.models import InvoicePrediction
from o2c.ledger.models import Document, Side
from o2c.parties.selectors import customer_for
from o2c.teams.selectors import visible_customers

router = Router()
MAX_ITEMS = 500
# A primary key the database can store: a positive signed 64-bit integer. Strict, so that
# true or "7" is rejected rather than read as a number.
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)]
# Ids named in one error message, at most.
NAMED_IDS = 20


class ReasonOut(Schema):
    feature: str
    text: str
    effect: float
    kind: str


class PredictionOut(Schema):
    document_id: int
    number: str
    as_of: dt.date
    method: str = Field(description="model when the date or the risk comes from a model.")
    date_method: str = Field(
        description="model or rule: where the payment date comes from; none without a date."
    )
    risk_method: str = Field(description="model or rule: where the late risk comes from.")
    overdue_beyond_history: bool
    pay_on: dt.date | None
    pay_low_on: dt.date | None
    pay_high_on: dt.date | None
    days_late: float
    days_late_low: float | None
    days_late_high: float | None
    late_probability: float
    late_after_days: int
    reasons: list[ReasonOut]

    @staticmethod
    def resolve_number(prediction):
        return prediction.document.number

    @staticmethod
    def resolve_date_method(prediction):
        if prediction.overdue_beyond_history:
            return "none"
        return _part_method(prediction, "days_late")

    @staticmethod
    def resolve_risk_method(prediction):
        return _part_method(prediction, "late_risk")

    @staticmethod
    def resolve_pay_on(prediction):
        # An invoice overdue beyond the history has no predicted date, only `pay_low_on`.
        return None if prediction.overdue_beyond_history else prediction.pay_on


def _part_method(prediction, part: str) -> str:
    """Return "model" if the model version's `part` passed its backtest, else "rule"."""
    version = prediction.model_version
    return "model" if version is not None and version.verdict.get(part) else "rule"


class ScoreOut(Schema):
    scored_on: dt.date
    score: int
    grade: str
    late_probability: float
    method: str
    previous_score: int | None
    change_note: str
    flagged: bool
    reasons: list[ReasonOut]
    figures: dict


class CustomerScoreOut(Schema):
    customer_id: int
    latest: ScoreOut | None
    history: list[ScoreOut]


class LateRiskIn(Schema):
    as_of: dt.date
    document_ids: list[RecordId] = []
    customer_ids: list[RecordId] = []


class LateRiskOut(Schema):
    as_of: dt.date
    probabilities: dict[int, float]
    not_open: list[int] = Field(
        description="Invoices left out: settled, or not yet posted, on as_of.",
    )


class WeekOut(Schema):
    start: str
    end: str
    expected: str
    low: str
    high: str
    invoices: str
    orders: str


class CurrencyForecastOut(Schema):
    currency: str
    includes_orders: bool
    band_scale: float
    later: str
    total_open: str
    weeks: list[WeekOut]
    notes: list[str]


class ModelOut(Schema):
    entity: str
    version: int
    status: str
    created_at: dt.datetime
    trained_until: dt.date
    training_count: int
    policy: dict
    metrics: dict
    verdict: dict
    forecast_metrics: dict

    @staticmethod
    def resolve_entity(version):
        return version.entity.code

    @staticmethod
    def resolve_forecast_metrics(version):
        return {key: value for key, value in version.forecast_metrics.items() if key != "weeks"}


@router.get("/invoices/{document_id}/prediction", response=PredictionOut)
def get_prediction(request, document_id: int):
    """Return the stored prediction of an open invoice the person may see."""
    document = selectors.document_for(request.user, document_id)
    prediction = (
        InvoicePrediction.objects.filter(document=document)
        .select_related("document", "model_version")
        .first()
    )
    if prediction is None:
        raise Http404("No prediction for this invoice: it is settled or not scored yet.")
    return prediction


@router.get("/customers/{customer_id}/score", response=CustomerScoreOut)
def get_score(request, customer_id: int):
    """Return a customer's latest behavioural score and the ones before it."""
    customer = customer_for(request.user, customer_id)
    history = selectors.score_history(customer)
    return {
        "customer_id": customer.pk,
        "latest": history[0] if history else None,
        "history": history,
    }


@router.post("/late-risk", response=LateRiskOut)
def post_late_risk(request, payload: LateRiskIn):
    """Return the late-payment probability of invoices or customers the person may see."""
    services.check_day(payload.as_of)
    if bool(payload.document_ids) == bool(payload.customer_ids):
        raise InsightsError(
            "late_risk_subject", "Send either document_ids or customer_ids, not both or neither."
        )
    wanted = payload.document_ids or payload.customer_ids
    if len(wanted) > MAX_ITEMS:
        raise InsightsError(
            "late_risk_too_many",
            "Ask for at most {limit} items at a time, not {count}.",
            limit=MAX_ITEMS,
            count=len(wanted),
        )
    visible = visible_customers(request.user)
    if payload.document_ids:
        items = Document.objects.filter(pk__in=wanted, customer__in=visible)
    else:
        items = visible.filter(pk__in=wanted).select_related("payment_term")
    found = list(items.select_related("entity"))
    missing = sorted(set(wanted) - {item.pk for item in found})
    if missing:
        raise HttpError(404, f"Not found or outside your scope: {_named(missing)}.")
    not_invoices = sorted(
        item.pk for item in found if payload.document_ids and item.side != Side.DEBIT
    )
    if not_invoices:
        raise InsightsError(
            "late_risk_not_invoice",
            "Documents {ids} are not invoices: late risk is given for invoices and debit notes.",
            ids=_named(not_invoices),
        )
    # Each entity's own today, as its time zone may be a day ahead of the server's.
    if any(payload.as_of > item.entity.today() for item in found):
        raise InsightsError(
            "late_risk_future",
            "as_of {day} is in the future: late risk is read from what the ledger showed on "
            "that day, so use today or an earlier date.",
            day=payload.as_of.isoformat(),
        )
    probabilities = services.late_payment_probability(found, payload.as_of)
    return {
        "as_of": payload.as_of,
        "probabilities": probabilities,
        "not_open": sorted(set(payload.document_ids) - set(probabilities)),
    }


def _named(ids: list[int]) -> str:
    listed = ", ".join(str(pk) for pk in ids[:NAMED_IDS])
    return listed + (f" and {len(ids) - NAMED_IDS} more" if len(ids) > NAMED_IDS else "")


@router.get("/forecast", response=list[CurrencyForecastOut])
def get_forecast(request, entity: str | None = None, as_of: dt.date | None = None):
    """Return the cash forecast of an entity the person leads, per currency."""
    chosen = selectors.led_entity(request.user, entity)
    results = services.entity_forecast(chosen, services.check_day(as_of or chosen.today()))
    return [
        {
            "currency": result.currency,
            "includes_orders": result.includes_orders,
            "band_scale": result.band_scale,
            "later": str(result.later),
            "total_open": str(result.total_open),
            "weeks": result.weeks,
            "notes": result.notes,
        }
        for result in results.values()
    ]


@router.get("/models", response=list[ModelOut])
def list_models(request, entity: str | None = None):
    """Return the model versions of the entities the person leads, newest first."""
    versions = selectors.versions_for(request.user).order_by("entity__code", "-version")
    if entity:
        versions = versions.filter(entity=selectors.led_entity(request.user, entity))
    return list(versions[:100])
