"""Invoice pages: the list a person may see, one invoice with its files, and actions."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from o2c.billing import selectors, services
from o2c.billing.documents.common import einvoice_problems
from o2c.billing.models import Status
from o2c.core.errors import O2CError
from o2c.parties.selectors import customer_for

PAGE_SIZE = 50
CUSTOMER_PAGE_ROWS = 20
FILES = {
    "pdf": ("application/pdf", "pdf"),
    "ubl": ("application/xml", "xml"),
    "facturx": ("application/pdf", "facturx.pdf"),
}


@login_required
def invoice_list(request):
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    customer = None
    if request.GET.get("customer", "").isdigit():
        customer = customer_for(request.user, int(request.GET["customer"]))
    invoices = selectors.invoices_for(
        request.user,
        customer=customer,
        status=status if status in Status.values else "",
        search=search,
    )
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "status": status,
        "customer": customer,
        "statuses": Status.choices,
    }
    template = "billing/_invoice_rows.html" if request.htmx else "billing/invoice_list.html"
    return render(request, template, context)


@login_required
def customer_invoices(request, customer_id: int):
    """Return the customer's latest invoices, for the section on the customer page."""
    customer = customer_for(request.user, customer_id)
    invoices = list(selectors.invoices_for(request.user, customer=customer)[:CUSTOMER_PAGE_ROWS])
    return render(
        request,
        "billing/_customer_invoices.html",
        {"customer": customer, "invoices": invoices, "shown": CUSTOMER_PAGE_ROWS},
    )


@login_required
def invoice_detail(request, invoice_id: int):
    invoice = selectors.invoice_for(request.user, invoice_id)
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "taxes": list(invoice.taxes.all()),
        "credit_notes": list(invoice.credit_notes.filter(status=Status.POSTED)),
        "can_bill": selectors.can_bill(request.user, invoice.entity),
        "base_rounding": services.base_rounding_amount(invoice) if invoice.is_posted else None,
        "early_payment": services.early_payment_amount(invoice) if invoice.is_posted else None,
        "einvoice_problems": einvoice_problems(invoice),
    }
    return render(request, "billing/invoice_detail.html", context)


def _billable(request, invoice_id: int):
    invoice = selectors.invoice_for(request.user, invoice_id)
    if not selectors.can_bill(request.user, invoice.entity):
        raise PermissionDenied("Only the billing team may change invoices.")
    return invoice


@login_required
@require_POST
def post(request, invoice_id: int):
    invoice = _billable(request, invoice_id)
    try:
        invoice = services.post_invoice(invoice, actor=request.user)
        messages.success(request, f"Invoice {invoice.number} posted.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("billing:invoice_detail", invoice.pk)


@login_required
@require_POST
def send(request, invoice_id: int):
    invoice = _billable(request, invoice_id)
    try:
        services.send_invoice(invoice, actor=request.user)
        messages.success(request, f"Invoice {invoice.number} e-mailed.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("billing:invoice_detail", invoice.pk)


@login_required
@require_POST
def credit(request, invoice_id: int):
    invoice = _billable(request, invoice_id)
    text = request.POST.get("amount", "").strip()
    try:
        amount = Decimal(text) if text else None
    except InvalidOperation:
        messages.error(request, f"Amount {text!r} is not a number.")
        return redirect("billing:invoice_detail", invoice.pk)
    try:
        note = services.issue_credit_note(
            invoice, reason=request.POST.get("reason", ""), amount=amount, actor=request.user
        )
        messages.success(request, f"Credit note {note.number} issued.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("billing:invoice_detail", invoice.pk)


def _file_response(document, kind: str) -> HttpResponse:
    if kind not in FILES:
        raise Http404("No such file type.")
    if not document.is_posted:
        raise Http404("A draft has no documents yet.")
    content_type, suffix = FILES[kind]
    response = HttpResponse(services.document_file(document, kind), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.number}.{suffix}"'
    return response


@login_required
def invoice_file(request, invoice_id: int, kind: str):
    return _file_response(selectors.invoice_for(request.user, invoice_id), kind)


@login_required
def credit_note_file(request, credit_note_id: int, kind: str):
    return _file_response(selectors.credit_note_for(request.user, credit_note_id), kind)
