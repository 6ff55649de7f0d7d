"""Order pages: the list, the entry form (htmx), one order's story, and file uploads.

Every page reads through the person's scope; actions call the order services and show
their errors beside the field or as a message.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from o2c.core.errors import O2CError
from o2c.credit.models import CreditCheck
from o2c.credit.services import can_decide, open_hold
from o2c.orders import selectors, services
from o2c.orders.csv_orders import import_orders_csv
from o2c.orders.edi import EdiError, receive_850
from o2c.orders.errors import OrderFileRejected, OrderInvalid
from o2c.orders.intake import LineRequest, OrderRequest
from o2c.orders.models import EdiInterchange, OrderChannel, OrderInvoice, OrderStatus
from o2c.parties.selectors import customer_for, customers_for
from o2c.teams.selectors import visible_entities

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
CUSTOMER_CHOICES_SHOWN = 1000
EMPTY_ROWS = 3
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@login_required
def order_list(request):
    status = request.GET.get("status", "")
    search = request.GET.get("q", "").strip()
    orders = selectors.orders_for(request.user, status=status, search=search)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "search": search,
        "statuses": OrderStatus.choices,
    }
    template = "orders/_order_rows.html" if request.htmx else "orders/order_list.html"
    return render(request, template, context)


def _rows_from(post) -> list[dict]:
    indexes = sorted(
        {
            int(key.split("-", 1)[1])
            for key in post
            if key.startswith("product-") and key[8:].isdigit()
        }
    )
    return [
        {
            "index": index,
            "product": post.get(f"product-{index}", "").strip(),
            "quantity": post.get(f"quantity-{index}", "").strip(),
            "discount": post.get(f"discount-{index}", "").strip(),
            "errors": {},
        }
        for index in indexes
    ]


def _form_context(request, *, values=None, rows=None, errors=None) -> dict:
    customers = list(customers_for(request.user)[: CUSTOMER_CHOICES_SHOWN + 1])
    rows = rows or [
        {"index": index, "product": "", "quantity": "", "discount": "", "errors": {}}
        for index in range(1, EMPTY_ROWS + 1)
    ]
    return {
        "customers": customers[:CUSTOMER_CHOICES_SHOWN],
        "customers_capped": len(customers) > CUSTOMER_CHOICES_SHOWN,
        "products": selectors.products_for(request.user).filter(is_active=True),
        "values": values or {},
        "rows": rows,
        "errors": errors or {},
    }


@login_required
def order_new(request):
    if request.method != "POST":
        return render(request, "orders/order_form.html", _form_context(request))

    values = {
        name: request.POST.get(name, "").strip()
        for name in ("customer", "customer_reference", "requested_delivery_on", "notes", "currency")
    }
    rows = _rows_from(request.POST)
    filled = [row for row in rows if row["product"] or row["quantity"]]
    errors: dict[str, str] = {}
    customer = None
    if values["customer"].isdigit():
        try:
            customer = customer_for(request.user, int(values["customer"]))
        except Http404:
            customer = None
    if customer is None:
        errors["customer"] = "Choose a customer."
    if customer is not None:
        order_request = OrderRequest(
            customer=customer,
            channel=OrderChannel.WEB,
            customer_reference=values["customer_reference"],
            currency=values["currency"],
            requested_delivery_on=values["requested_delivery_on"] or None,
            notes=values["notes"],
            lines=[
                LineRequest(
                    product_code=row["product"],
                    quantity=row["quantity"],
                    discount_percent=row["discount"] or None,
                )
                for row in filled
            ],
        )
        try:
            order, _ = services.place_order(
                order_request, actor=request.user, submit="draft" not in request.POST
            )
        except OrderInvalid as error:
            for problem in error.problems:
                if problem.line == 0:
                    errors[problem.field] = problem.message
                else:
                    filled[problem.line - 1]["errors"][problem.field] = problem.message
        else:
            url = reverse("orders:order_detail", args=[order.pk])
            messages.success(
                request, f"Order {order.number} is {order.get_status_display().lower()}."
            )
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = _form_context(request, values=values, rows=rows or None, errors=errors)
    template = "orders/_order_form_body.html" if request.htmx else "orders/order_form.html"
    return render(request, template, context, status=200 if request.htmx else 400)


@login_required
def order_line_row(request):
    """Return one empty line row for the entry form (htmx "add line")."""
    try:
        index = int(request.GET.get("index", "1"))
    except ValueError:
        index = 1
    context = {
        "row": {"index": index, "product": "", "quantity": "", "discount": "", "errors": {}},
        "products": selectors.products_for(request.user).filter(is_active=True),
    }
    return render(request, "orders/_line_row.html", context)


@login_required
def order_detail(request, order_id: int):
    order = selectors.order_for(request.user, order_id)
    hold = open_hold(order) if order.status == OrderStatus.ON_CREDIT_HOLD else None
    context = {
        "order": order,
        "lines": list(order.lines.select_related("product").order_by("line_number")),
        "events": list(order.events.select_related("actor")),
        "checks": list(CreditCheck.objects.filter(order=order).select_related("decided_by")),
        "shipments": list(order.shipments.prefetch_related("lines__order_line")),
        "hold": hold,
        "may_decide": hold is not None and can_decide(request.user, hold),
        "totals": services.order_totals(order),
        "can_cancel": order.status in services.CANCELLABLE,
        "can_ship": order.status in services.SHIPPABLE,
        "can_change": order.status in services.CHANGEABLE,
    }
    context.update(_invoice_context(order))
    return render(request, "orders/order_detail.html", context)


def _invoice_context(order) -> dict:
    return {
        "can_invoice": order.status in services.INVOICEABLE
        and bool(services.uninvoiced_lines(order)),
        "invoices": list(
            order.invoices.select_related("invoice").prefetch_related("lines__order_line")
        ),
    }


def _act(request, order_id: int, action, **kwargs):
    order = selectors.order_for(request.user, order_id)
    try:
        action(order, actor=request.user, **kwargs)
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("orders:order_detail", order_id=order.pk)


@login_required
@require_POST
def order_submit(request, order_id: int):
    return _act(request, order_id, services.submit_order)


@login_required
@require_POST
def order_cancel(request, order_id: int):
    return _act(request, order_id, services.cancel_order, reason=request.POST.get("reason", ""))


@login_required
@require_POST
def order_reopen(request, order_id: int):
    return _act(request, order_id, services.reopen_order, reason=request.POST.get("reason", ""))


@login_required
@require_POST
def order_change(request, order_id: int):
    quantities = {
        int(key.split("-", 1)[1]): value
        for key, value in request.POST.items()
        if key.startswith("quantity-") and key[9:].isdigit() and value.strip()
    }
    return _act(request, order_id, services.change_order, quantities=quantities)


@login_required
@require_POST
def order_ship(request, order_id: int):
    quantities = {
        int(key.split("-", 1)[1]): value
        for key, value in request.POST.items()
        if key.startswith("ship-") and key[5:].isdigit() and value.strip()
    }
    return _act(
        request,
        order_id,
        services.record_shipment,
        quantities=quantities,
        reference=request.POST.get("reference", ""),
    )


@login_required
@require_POST
def order_invoice(request, order_id: int):
    return _act(request, order_id, services.invoice_order)


def _upload(request, field: str = "file"):
    upload = request.FILES.get(field)
    if upload is None:
        return None, "Choose a file to upload."
    if upload.size > MAX_UPLOAD_BYTES:
        return None, f"{upload.name} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
    return upload, None


@login_required
def order_upload(request):
    entities = list(visible_entities(request.user).order_by("code"))
    context = {"entities": entities}
    if request.method == "POST":
        upload, error = _upload(request)
        entity = next((e for e in entities if e.code == request.POST.get("entity")), None)
        if entity is None:
            error = error or "Choose an entity."
        if error:
            context["error"] = error
        else:
            try:
                result = import_orders_csv(
                    upload.read(), upload.name, entity=entity, actor=request.user
                )
            except OrderFileRejected as rejection:
                context["rejection"] = rejection
            else:
                context["result"] = result
    return render(
        request,
        "orders/order_upload.html",
        context,
        status=400 if "rejection" in context or "error" in context else 200,
    )


@login_required
def edi_upload(request):
    context = {}
    if request.method == "POST":
        upload, error = _upload(request)
        if error:
            context["error"] = error
        else:
            try:
                context["result"] = receive_850(upload.read(), upload.name, actor=request.user)
            except EdiError as failure:
                context["error"] = failure.message
    failed = "error" in context or ("result" in context and not context["result"].accepted)
    return render(request, "orders/edi_upload.html", context, status=400 if failed else 200)


@login_required
def edi_acknowledgment(request, interchange_id: int):
    """Return the 855 sent for an interchange as a download, if the person may see its customer."""
    interchange = (
        EdiInterchange.objects.filter(pk=interchange_id, partner__isnull=False)
        .select_related("partner")
        .first()
    )
    if interchange is None:
        raise Http404("No such interchange.")
    customer_for(request.user, interchange.partner.customer_id)
    response = HttpResponse(interchange.acknowledgment, content_type="application/edi-x12")
    response["Content-Disposition"] = (
        f'attachment; filename="855-{interchange.acknowledgment_control_number}.edi"'
    )
    return response


@login_required
def catalogue(request):
    context = {
        "products": selectors.products_for(request.user).order_by("entity__code", "code"),
        "price_lists": selectors.price_lists_for(request.user).order_by("entity__code", "code"),
    }
    return render(request, "orders/catalogue.html", context)


@login_required
def customer_orders(request, customer_id: int):
    """Render the orders section of the customer page, which htmx loads into that page."""
    customer = customer_for(request.user, customer_id)
    orders = list(selectors.orders_for(request.user, customer_id=customer.pk)[:PAGE_SIZE])
    invoices: dict[int, list] = {}
    for link in OrderInvoice.objects.filter(order__in=orders).select_related("invoice"):
        invoices.setdefault(link.order_id, []).append(link.invoice)
    for order in orders:
        order.posted_invoices = invoices.get(order.pk, [])
    context = {"customer": customer, "orders": orders}
    return render(request, "orders/_customer_orders.html", context)
