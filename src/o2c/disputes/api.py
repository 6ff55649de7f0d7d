"""REST endpoints for disputes and their root-cause report."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from ninja import Router, Schema
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.core import money
from o2c.disputes import selectors, services
from o2c.ledger.models import Document
from o2c.parties.selectors import customer_for

router = Router()


class DisputeOut(MoneySchema):
    money_fields = {"amount": "currency"}

    id: int
    case_number: str
    customer_id: int
    invoice: str
    amount: Decimal
    currency: str
    reason: str
    status: str
    team: str | None
    opened_on: dt.date | None
    resolved_on: dt.date | None
    resolution: str

    @staticmethod
    def resolve_invoice(dispute):
        return dispute.invoice.number

    @staticmethod
    def resolve_team(dispute):
        return dispute.team.name if dispute.team else None


class DisputeLineIn(Schema):
    invoice_id: int
    amount: Decimal
    line_reference: str = ""


class DisputeIn(Schema):
    customer_id: int
    reason: str
    description: str = ""
    lines: list[DisputeLineIn]


class ResolveIn(Schema):
    how: str
    note: str
    amount: Decimal | None = None


@router.get("/", response=list[DisputeOut])
@paginate
def list_disputes(request, status: str | None = None):
    disputes = selectors.disputes_for(request.user)
    return disputes.filter(status=status) if status else disputes


@router.post("/", response=list[DisputeOut])
def create_dispute(request, payload: DisputeIn):
    customer = customer_for(request.user, payload.customer_id)
    invoices = Document.objects.in_bulk([line.invoice_id for line in payload.lines])
    lines = []
    for line in payload.lines:
        invoice = invoices.get(line.invoice_id)
        if invoice is None or invoice.customer_id != customer.pk:
            raise Http404("No such invoice.")
        lines.append((invoice, str(line.amount), line.line_reference))
    return services.open_dispute(
        customer,
        lines=lines,
        reason=payload.reason,
        actor=request.user,
        description=payload.description,
    )


@router.get("/report", response=list[dict])
def report(request, start: dt.date, end: dt.date, by: str = "reason"):
    rows = selectors.root_cause_report(selectors.disputes_for(request.user), by, start, end)
    return [
        {
            **row,
            "amounts": {
                code: str(money.round_amount(amount, code))
                for code, amount in row["amounts"].items()
            },
        }
        for row in rows
    ]


@router.get("/{dispute_id}", response=DisputeOut)
def get_dispute(request, dispute_id: int):
    return selectors.dispute_for(request.user, dispute_id)


@router.post("/{dispute_id}/resolve", response=DisputeOut)
def resolve(request, dispute_id: int, payload: ResolveIn):
    dispute = selectors.dispute_for(request.user, dispute_id)
    amount = str(payload.amount) if payload.amount is not None else None
    if payload.how == "credit_note":
        return services.resolve_by_credit_note(
            dispute, actor=request.user, note=payload.note, amount=amount
        )
    if payload.how == "write_off":
        services.request_write_off(dispute, actor=request.user, reason=payload.note, amount=amount)
    elif payload.how == "reject":
        services.reject_dispute(dispute, actor=request.user, reason=payload.note)
    else:
        raise Http404("Unknown resolution; use credit_note, write_off or reject.")
    dispute.refresh_from_db()
    return dispute
