"""REST endpoints of cash application: the queue, suggestions, and decisions on a line.

Every endpoint applies the same scope as the pages: the entity's cash application
teams for lines, and the person's customers for anything about a customer.
"""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.cashapp import selectors, services
from o2c.cashapp.errors import CashAppError
from o2c.cashapp.models import LineMatch, Suggestion
from o2c.ledger.models import Document
from o2c.parties.selectors import customer_for

router = Router()


class LineOut(MoneySchema):
    money_fields = {"amount": "currency"}

    id: int
    entity: str
    account: str
    booking_date: dt.date
    amount: Decimal
    currency: str
    counterparty_name: str
    counterparty_account: str
    text: str
    state: str

    @staticmethod
    def resolve_entity(line):
        return line.entity.code

    @staticmethod
    def resolve_account(line):
        return line.bank_account.identifier


class SuggestionOut(Schema):
    id: int
    rank: int
    customer_id: int
    customer_number: str
    confidence: Decimal
    outcome: str
    evidence: list[str]
    allocations: list[dict]

    @staticmethod
    def resolve_customer_number(suggestion):
        return suggestion.customer.number


class DecisionOut(MoneySchema):
    money_fields = {"on_account_amount": "currency"}

    line_id: int
    currency: str
    decision: str
    customer_id: int | None
    confidence: Decimal | None
    applied: list[dict]
    on_account_amount: Decimal | None
    evidence: list[str]


class CustomerIn(Schema):
    customer_id: int
    note: str = ""


class LineReasonIn(Schema):
    reason: str
    customer_id: int | None = None


class PartIn(Schema):
    document_id: int
    amount: Decimal


class SplitIn(Schema):
    customer_id: int
    parts: list[PartIn]
    note: str = ""


@router.get("/lines", response=list[LineOut])
@paginate
def list_queue(request, entity: str | None = None, search: str = ""):
    chosen = None
    if entity:
        chosen = get_object_or_404(selectors.cash_entities(request.user), code=entity)
    return selectors.queue_lines(request.user, entity=chosen, search=search)


@router.get("/lines/{line_id}/suggestions", response=list[SuggestionOut])
def list_suggestions(request, line_id: int):
    line = selectors.line_for(request.user, line_id)
    return selectors.suggestions_for(request.user, line)


@router.post("/lines/{line_id}/suggestions/{suggestion_id}/accept", response=DecisionOut)
def accept_suggestion(request, line_id: int, suggestion_id: int):
    line = selectors.line_for(request.user, line_id)
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id, line=line)
    customer_for(request.user, suggestion.customer_id)
    return _decision(services.accept_suggestion(suggestion, actor=request.user))


@router.post("/lines/{line_id}/on-account", response=DecisionOut)
def put_on_account(request, line_id: int, payload: CustomerIn):
    line = selectors.line_for(request.user, line_id)
    customer = customer_for(request.user, payload.customer_id)
    return _decision(services.put_on_account(line, customer, actor=request.user, note=payload.note))


@router.post("/lines/{line_id}/split", response=DecisionOut)
def split_line(request, line_id: int, payload: SplitIn):
    line = selectors.line_for(request.user, line_id)
    customer = customer_for(request.user, payload.customer_id)
    documents = Document.objects.in_bulk([part.document_id for part in payload.parts])
    parts = []
    for part in payload.parts:
        document = documents.get(part.document_id)
        if document is None or document.customer_id != customer.pk:
            raise Http404("No such invoice.")
        parts.append((document, part.amount))
    return _decision(
        services.apply_split(line, customer, parts, actor=request.user, note=payload.note)
    )


@router.post("/lines/{line_id}/refund", response=DecisionOut)
def refund_line(request, line_id: int, payload: LineReasonIn):
    line = selectors.line_for(request.user, line_id)
    if payload.customer_id is None:
        raise CashAppError("customer_required", "Name the customer the money is refunded to.")
    customer = customer_for(request.user, payload.customer_id)
    return _decision(
        services.refund_line(line, customer, actor=request.user, reason=payload.reason)
    )


@router.post("/lines/{line_id}/return", response=DecisionOut)
def return_line(request, line_id: int, payload: LineReasonIn):
    line = selectors.line_for(request.user, line_id)
    customer = customer_for(request.user, payload.customer_id) if payload.customer_id else None
    return _decision(
        services.return_line(line, actor=request.user, reason=payload.reason, customer=customer)
    )


def _decision(match: LineMatch) -> dict:
    return {
        "line_id": match.line_id,
        "currency": match.line.currency,
        "decision": match.decision,
        "customer_id": match.customer_id,
        "confidence": match.confidence,
        "applied": match.applied,
        "on_account_amount": match.on_account_amount,
        "evidence": match.evidence,
    }
