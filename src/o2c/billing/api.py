"""REST endpoints for invoices and credit notes: read, download, post, credit."""

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.billing import selectors, services
from o2c.billing.models import Status
from o2c.core import money
from o2c.parties.selectors import customer_for

router = Router()

FILES = {
    "pdf": ("application/pdf", "pdf"),
    "ubl": ("application/xml", "xml"),
    "facturx": ("application/pdf", "facturx.pdf"),
}


def _amount(document, value) -> Decimal:
    return money.round_amount(value, document.currency)


class InvoiceLineOut(Schema):
    position: int
    description: str
    product_code: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_code: str
    tax_rate_percent: Decimal
    source_reference: str


class TaxLineOut(Schema):
    tax_name: str
    tax_code: str
    rate_percent: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason_code: str
    exemption_reason: str


class InvoiceOut(Schema):
    id: int
    entity: str
    customer_id: int
    customer_number: str
    status: str
    number: str
    invoice_date: dt.date
    due_date: dt.date | None
    currency: str
    net_amount: Decimal
    tax_amount: Decimal
    rounding_amount: Decimal
    payable_amount: Decimal
    creditor_reference: str
    buyer_reference: str
    order_reference: str
    fx_rate: Decimal | None
    fx_rate_on: dt.date | None
    payable_amount_base: Decimal | None
    legal_mentions: list[str]

    @staticmethod
    def resolve_entity(invoice):
        return invoice.entity.code

    @staticmethod
    def resolve_customer_number(invoice):
        return invoice.customer.number

    @staticmethod
    def resolve_net_amount(invoice):
        return _amount(invoice, invoice.net_amount)

    @staticmethod
    def resolve_tax_amount(invoice):
        return _amount(invoice, invoice.tax_amount)

    @staticmethod
    def resolve_rounding_amount(invoice):
        return _amount(invoice, invoice.rounding_amount)

    @staticmethod
    def resolve_payable_amount(invoice):
        return _amount(invoice, invoice.payable_amount)

    @staticmethod
    def resolve_payable_amount_base(invoice):
        if invoice.payable_amount_base is None:
            return None
        return money.round_amount(invoice.payable_amount_base, invoice.entity.base_currency)


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]
    taxes: list[TaxLineOut]
    credit_note_ids: list[int]

    @staticmethod
    def resolve_lines(invoice):
        return list(invoice.lines.all())

    @staticmethod
    def resolve_taxes(invoice):
        return list(invoice.taxes.all())

    @staticmethod
    def resolve_credit_note_ids(invoice):
        return list(invoice.credit_notes.values_list("pk", flat=True))


class CreditNoteOut(MoneySchema):
    money_fields = {
        "net_amount": "currency",
        "tax_amount": "currency",
        "payable_amount": "currency",
    }

    id: int
    invoice_id: int
    number: str
    credit_date: dt.date
    reason: str
    currency: str
    net_amount: Decimal
    tax_amount: Decimal
    payable_amount: Decimal


class CreditIn(Schema):
    reason: str
    amount: Decimal | None = None
    lines: dict[int, Decimal] | None = None
    credit_date: dt.date | None = None


def _billable(request, invoice_id: int):
    invoice = selectors.invoice_for(request.user, invoice_id)
    if not selectors.can_bill(request.user, invoice.entity):
        raise HttpError(403, "Only the billing team may change invoices.")
    return invoice


def _file(document, kind: str) -> HttpResponse:
    if kind not in FILES:
        raise HttpError(404, f"No file type {kind!r}; use pdf, ubl or facturx.")
    if document.status != Status.POSTED:
        raise HttpError(404, "A draft has no documents yet.")
    content_type, suffix = FILES[kind]
    response = HttpResponse(services.document_file(document, kind), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.number}.{suffix}"'
    return response


@router.get("/invoices", response=list[InvoiceOut])
@paginate
def list_invoices(request, customer: int | None = None, status: str = "", search: str = ""):
    chosen = customer_for(request.user, customer) if customer is not None else None
    return selectors.invoices_for(request.user, customer=chosen, status=status, search=search)


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def get_invoice(request, invoice_id: int):
    return selectors.invoice_for(request.user, invoice_id)


@router.get("/invoices/{invoice_id}/files/{kind}")
def download_invoice(request, invoice_id: int, kind: str):
    return _file(selectors.invoice_for(request.user, invoice_id), kind)


@router.post("/invoices/{invoice_id}/post", response=InvoiceOut)
def post_invoice(request, invoice_id: int):
    return services.post_invoice(_billable(request, invoice_id), actor=request.user)


@router.post("/invoices/{invoice_id}/credit-notes", response=CreditNoteOut)
def credit_invoice(request, invoice_id: int, payload: CreditIn):
    invoice = _billable(request, invoice_id)
    return services.issue_credit_note(
        invoice,
        reason=payload.reason,
        amount=payload.amount,
        lines=payload.lines,
        credit_date=payload.credit_date,
        actor=request.user,
    )


@router.get("/credit-notes/{credit_note_id}", response=CreditNoteOut)
def get_credit_note(request, credit_note_id: int):
    return selectors.credit_note_for(request.user, credit_note_id)


@router.get("/credit-notes/{credit_note_id}/files/{kind}")
def download_credit_note(request, credit_note_id: int, kind: str):
    return _file(selectors.credit_note_for(request.user, credit_note_id), kind)
