"""The JSON body of each event type, built from the committed records.

Amounts are strings with the currency's decimals ("1234.50"), dates ISO 8601.
"""

from o2c.core import money
from o2c.disputes.models import Dispute
from o2c.ledger.models import Allocation, Document, DocumentKind
from o2c.webhooks.models import EventType
from o2c.webhooks.services import emit


def _customer(customer) -> dict:
    return {"id": customer.pk, "number": customer.number, "name": customer.name}


def emit_document(document_id: int):
    document = Document.objects.select_related("entity", "customer").get(pk=document_id)
    base = {
        "id": document.pk,
        "number": document.number,
        "entity": document.entity.code,
        "customer": _customer(document.customer),
        "date": document.document_date.isoformat(),
        "currency": document.currency,
        "amount": money.as_text(document.amount, document.currency),
        "reference": document.reference,
        "source": document.source,
    }
    if document.kind == DocumentKind.INVOICE:
        data = {
            "invoice": {
                **base,
                "due_date": document.due_date.isoformat(),
                "tax_amount": money.as_text(document.tax_amount, document.currency),
            }
        }
        return emit(
            EventType.INVOICE_POSTED,
            f"invoice.posted:{document.pk}",
            data,
            entity_id=document.entity_id,
        )
    allocations = [
        {
            "invoice": allocation.debit_document.number,
            "amount": money.as_text(allocation.amount, allocation.debit_document.currency),
        }
        for allocation in Allocation.objects.filter(
            credit_document=document, amount__gt=0, reversed_by__isnull=True
        )
        .select_related("debit_document")
        .order_by("id")
    ]
    data = {"payment": {**base, "allocations": allocations}}
    return emit(
        EventType.PAYMENT_RECEIVED,
        f"payment.received:{document.pk}",
        data,
        entity_id=document.entity_id,
    )


def emit_dispute(dispute_id: int, moment: str):
    dispute = Dispute.objects.select_related("entity", "customer", "invoice").get(pk=dispute_id)
    data = {
        "dispute": {
            "id": dispute.pk,
            "case_number": dispute.case_number,
            "entity": dispute.entity.code,
            "customer": _customer(dispute.customer),
            "invoice": dispute.invoice.number,
            "amount": money.as_text(dispute.amount, dispute.currency),
            "currency": dispute.currency,
            "reason": dispute.reason,
            "line_reference": dispute.line_reference,
            "status": dispute.status,
            "opened_on": dispute.opened_on.isoformat() if dispute.opened_on else None,
            "resolved_on": dispute.resolved_on.isoformat() if dispute.resolved_on else None,
            "resolution": dispute.resolution,
        }
    }
    event_type = EventType.DISPUTE_OPENED if moment == "opened" else EventType.DISPUTE_RESOLVED
    return emit(event_type, f"{event_type}:{dispute.pk}", data, entity_id=dispute.entity_id)
