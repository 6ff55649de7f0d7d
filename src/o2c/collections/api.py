"""REST endpoints for the worklist, dunning runs, promises and inbound mail."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.collections import selectors, services
from o2c.collections.worklist import build_worklist
from o2c.ledger.models import Document
from o2c.parties.selectors import customer_for

router = Router()


class WorklistEntryOut(Schema):
    customer_id: int
    customer: str
    amount_at_risk: Decimal
    probability: Decimal
    measure: str
    contact_effect: Decimal
    score: Decimal
    reasons: list[str]


class PlanNoticeOut(MoneySchema):
    money_fields = {"total_due": "currency"}

    customer: str
    step: str
    channel: str
    language: str
    currency: str
    total_due: Decimal
    documents: list[str]


class PromiseIn(Schema):
    documents: list[int]
    amount: Decimal
    promised_on: dt.date
    channel: str = "call"
    note: str = ""


class PromiseOut(MoneySchema):
    money_fields = {"amount": "currency"}

    id: int
    customer_id: int
    amount: Decimal
    currency: str
    promised_on: dt.date
    status: str


@router.get("/worklist", response=list[WorklistEntryOut])
def worklist(request, entity: str):
    chosen = get_object_or_404(selectors.entities_for(request.user), code=entity)
    result = build_worklist(request.user, chosen)
    return [
        {
            "customer_id": entry.customer.pk,
            "customer": entry.customer.number,
            "amount_at_risk": entry.amount_at_risk,
            "probability": entry.probability,
            "measure": entry.measure,
            "contact_effect": entry.contact_effect,
            "score": entry.score,
            "reasons": entry.reasons,
        }
        for entry in result.entries
    ]


def _plan_out(plan) -> list[dict]:
    return [
        {
            "customer": notice.customer.number,
            "step": notice.step.name,
            "channel": notice.channel,
            "language": notice.language,
            "currency": notice.currency,
            "total_due": notice.total_due,
            "documents": [item.document.number for item in notice.items],
        }
        for notice in plan.notices
    ]


@router.get("/dunning/preview", response=list[PlanNoticeOut])
def dunning_preview(request, entity: str, as_of: dt.date):
    chosen = get_object_or_404(selectors.dunning_entities(request.user), code=entity)
    return _plan_out(services.run_dunning(chosen, as_of, actor=request.user, preview=True))


@router.post("/dunning/runs", response=dict)
def dunning_execute(request, entity: str, as_of: dt.date):
    chosen = get_object_or_404(selectors.dunning_entities(request.user), code=entity)
    run = services.run_dunning(chosen, as_of, actor=request.user, source="api")
    return {"id": run.pk, "counts": run.counts}


@router.get("/promises", response=list[PromiseOut])
@paginate
def list_promises(request, status: str | None = None):
    promises = selectors.promises_for(request.user)
    return promises.filter(status=status) if status else promises


@router.post("/customers/{customer_id}/promises", response=PromiseOut)
def create_promise(request, customer_id: int, payload: PromiseIn):
    customer = customer_for(request.user, customer_id)
    documents = list(Document.objects.filter(customer=customer, pk__in=payload.documents))
    if len(documents) != len(set(payload.documents)):
        raise Http404("No such document.")
    return services.record_promise(
        customer,
        documents=documents,
        amount=str(payload.amount),
        promised_on=payload.promised_on,
        actor=request.user,
        channel=payload.channel,
        note=payload.note,
    )


@router.post("/inbound", response=dict)
def inbound(request):
    """Record a bounce or reply posted as a raw RFC 5322 message (administrators only)."""
    from o2c.teams.selectors import is_admin

    if not is_admin(request.user):
        raise Http404("Not found.")
    message = services.record_inbound(request.body)
    return {"kind": message.kind, "notice": message.notice_id}
