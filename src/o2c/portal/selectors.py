"""Reads of the portal, each limited to the signed-in portal user's own customer.

Every function takes the customer of the portal session and filters on it. A document
of another customer is "not found" (404), never "forbidden", so the response does not
reveal that it exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import (
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from o2c.billing.models import CreditNote, Invoice, Status
from o2c.core.fields import MoneyField
from o2c.disputes.models import Dispute, DisputeStatus
from o2c.ledger.models import Allocation, Document, DocumentKind, Side
from o2c.ledger.selectors import with_open_amount
from o2c.payments.models import Mandate, MandateStatus, Payment

ZERO = Decimal("0")
MONEY = MoneyField()
INVOICE_KINDS = (DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE, DocumentKind.CHARGE)


def _disputed_subquery():
    total = (
        Dispute.objects.filter(invoice=OuterRef("pk"), status=DisputeStatus.OPEN)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO, output_field=MONEY))


def invoices_of(customer, *, state: str = "open") -> QuerySet:
    """Return the customer's invoices (with fees and debit notes), newest due first.

    `state` is "open" (something left to pay), "paid" (nothing left) or "all". Each
    row carries `open_amount`, `disputed`, `is_reversed` and `billing_invoice_id`.
    """
    documents = with_open_amount(
        Document.objects.filter(customer=customer, side=Side.DEBIT, kind__in=INVOICE_KINDS)
    ).annotate(
        disputed=_disputed_subquery(),
        billing_invoice_id=Subquery(
            Invoice.objects.filter(document=OuterRef("pk"), status=Status.POSTED).values("pk")[:1]
        ),
    )
    if state == "open":
        documents = documents.filter(open_amount__gt=0, is_reversed=False)
    elif state == "paid":
        documents = documents.filter(open_amount__lte=0, is_reversed=False)
    return documents.order_by("-due_date", "-id")


def invoice_of(customer, document_id: int) -> Document:
    document = invoices_of(customer, state="all").filter(pk=document_id).first()
    if document is None:
        raise Http404("No such invoice.")
    return document


def billing_invoice(document: Document) -> Invoice | None:
    if not getattr(document, "billing_invoice_id", None):
        return None
    return (
        Invoice.objects.filter(pk=document.billing_invoice_id, customer=document.customer)
        .prefetch_related("lines", "taxes")
        .first()
    )


def applications_to(document: Document) -> QuerySet:
    """Return the payments and credits applied to an invoice, undone ones left out."""
    return (
        Allocation.objects.filter(debit_document=document, amount__gt=0, reversed_by__isnull=True)
        .select_related("credit_document")
        .order_by("allocated_on", "id")
    )


def credit_notes_of(customer) -> QuerySet:
    return (
        with_open_amount(Document.objects.filter(customer=customer, kind=DocumentKind.CREDIT_NOTE))
        .annotate(
            billing_credit_note_id=Subquery(
                CreditNote.objects.filter(document=OuterRef("pk"), status=Status.POSTED).values(
                    "pk"
                )[:1]
            )
        )
        .select_related("related_invoice")
        .order_by("-document_date", "-id")
    )


def credit_note_of(customer, document_id: int) -> Document:
    document = credit_notes_of(customer).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such credit note.")
    return document


def billing_credit_note(document: Document) -> CreditNote | None:
    if not getattr(document, "billing_credit_note_id", None):
        return None
    return CreditNote.objects.filter(
        pk=document.billing_credit_note_id, customer=document.customer
    ).first()


def payments_of(customer) -> QuerySet:
    """Return the payments posted to the customer's account, however they arrived."""
    live = Allocation.objects.filter(amount__gt=0, reversed_by__isnull=True).select_related(
        "debit_document"
    )
    return (
        with_open_amount(Document.objects.filter(customer=customer, kind=DocumentKind.PAYMENT))
        .prefetch_related(Prefetch("credit_allocations", queryset=live, to_attr="live_allocations"))
        .order_by("-document_date", "-id")
    )


def payment_of(customer, document_id: int) -> Document:
    document = payments_of(customer).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such payment.")
    return document


def pending_payments_of(customer) -> QuerySet:
    """Return online and direct debit payments not yet on the ledger."""
    return Payment.objects.filter(customer=customer, document__isnull=True).order_by("-created_at")


def portal_payment_of(customer, reference: str) -> Payment:
    payment = (
        Payment.objects.filter(customer=customer, reference=reference)
        .select_related("debit")
        .first()
        if reference
        else None
    )
    if payment is None:
        raise Http404("No such payment.")
    return payment


def balance_of(customer, today: dt.date) -> list[dict]:
    """Return per currency: balance due, overdue part, not yet due part, unapplied credit.

    One aggregate query per measure family; amounts open are as of all allocations.
    """
    debits = with_open_amount(Document.objects.filter(customer=customer, side=Side.DEBIT)).filter(
        open_amount__gt=0
    )
    credits = with_open_amount(Document.objects.filter(customer=customer, side=Side.CREDIT)).filter(
        open_amount__gt=0
    )
    rows: dict[str, dict] = {}
    for row in (
        debits.values("currency")
        .annotate(
            due=Sum("open_amount", output_field=MONEY),
            overdue=Coalesce(
                Sum("open_amount", filter=Q(due_date__lt=today), output_field=MONEY),
                Value(ZERO, output_field=MONEY),
            ),
        )
        .order_by("currency")
    ):
        rows[row["currency"]] = {
            "currency": row["currency"],
            "due": row["due"],
            "overdue": row["overdue"],
            "not_due": row["due"] - row["overdue"],
            "credit": ZERO,
        }
    for row in (
        credits.values("currency")
        .annotate(credit=Sum("open_amount", output_field=MONEY))
        .order_by("currency")
    ):
        entry = rows.setdefault(
            row["currency"],
            {"currency": row["currency"], "due": ZERO, "overdue": ZERO, "not_due": ZERO},
        )
        entry["credit"] = row["credit"]
    return list(rows.values())


def disputes_of(customer) -> QuerySet:
    """Return the customer's disputes, newest first; imported ones without a date go last."""
    return (
        Dispute.objects.filter(customer=customer)
        .select_related("invoice", "resolution_document")
        .order_by(F("opened_on").desc(nulls_last=True), "-id")
    )


def case_of(customer, case_number: str) -> list[Dispute]:
    disputes = list(
        disputes_of(customer)
        .filter(case_number=case_number)
        .prefetch_related("attachments__portal_upload")
    )
    if not case_number or not disputes:
        raise Http404("No such dispute.")
    return disputes


def mandates_of(customer) -> QuerySet:
    return Mandate.objects.filter(customer=customer).order_by("-signed_on", "-id")


def active_mandate_of(customer) -> Mandate | None:
    return mandates_of(customer).filter(status=MandateStatus.ACTIVE).first()


def mandate_of(customer, mandate_id: int) -> Mandate:
    mandate = mandates_of(customer).filter(pk=mandate_id).first()
    if mandate is None:
        raise Http404("No such mandate.")
    return mandate
