"""Customer pages: the list a person may see, and one customer's whole story."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Sum
from django.shortcuts import render

from o2c.analytics.kpis import kpi_report
from o2c.analytics.serialize import BUCKET_LABELS
from o2c.core.panels import render_panels
from o2c.ledger.models import Allocation, Document, Side
from o2c.ledger.services import status_of
from o2c.parties import selectors

PAGE_SIZE = 50
OPEN_ITEMS_SHOWN = 200


@login_required
def customer_list(request):
    search = request.GET.get("q", "").strip()
    customers = selectors.customers_for(request.user, search=search)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    balances = _balances([customer.pk for customer in page])
    rows = [{"customer": customer, "balances": balances.get(customer.pk, {})} for customer in page]
    context = {"page": page, "rows": rows, "search": search}
    template = "parties/_customer_rows.html" if request.htmx else "parties/customer_list.html"
    return render(request, template, context)


def _balances(customer_ids: list[int]) -> dict[int, dict[str, object]]:
    """Return {customer id: {currency: balance}} from two grouped queries."""
    balances: dict[int, dict[str, object]] = {}
    posted = (
        Document.objects.filter(customer_id__in=customer_ids)
        .values("customer", "currency", "side")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in posted:
        sign = 1 if row["side"] == Side.DEBIT else -1
        cell = balances.setdefault(row["customer"], {})
        cell[row["currency"]] = cell.get(row["currency"], 0) + sign * row["total"]
    applied = (
        Allocation.objects.filter(customer_id__in=customer_ids)
        .values("customer", debit_currency=F("debit_document__currency"))
        .annotate(debit=Sum("amount"))
        .order_by()
    )
    for row in applied:
        cell = balances.setdefault(row["customer"], {})
        cell[row["debit_currency"]] = cell.get(row["debit_currency"], 0) - row["debit"]
    applied_credit = (
        Allocation.objects.filter(customer_id__in=customer_ids)
        .values("customer", credit_currency=F("credit_document__currency"))
        .annotate(credit=Sum("credit_amount"))
        .order_by()
    )
    for row in applied_credit:
        cell = balances.setdefault(row["customer"], {})
        cell[row["credit_currency"]] = cell.get(row["credit_currency"], 0) + row["credit"]
    return balances


@login_required
def customer_detail(request, customer_id: int):
    customer = selectors.customer_for(request.user, customer_id)
    today = customer.entity.today()
    open_items = list(selectors.open_items(customer)[:OPEN_ITEMS_SHOWN])
    for item in open_items:
        item.status = status_of(item.amount, item.open_amount, item.is_reversed)
    history_page = Paginator(selectors.document_history(customer), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for document in history_page:
        document.status = status_of(document.amount, document.open_amount, document.is_reversed)
    report = kpi_report(customer.entity, today, customers=[customer.pk])
    context = {
        "customer": customer,
        "today": today,
        "open_items": open_items,
        "open_items_capped": len(open_items) == OPEN_ITEMS_SHOWN,
        "history": history_page,
        "report": report,
        "figures": report.converted,
        "contacts": list(customer.contacts.all()),
        "bucket_labels": BUCKET_LABELS,
        "timeline": list(customer.timeline.select_related("actor", "document")[:50]),
    }
    if request.htmx and request.GET.get("part") == "history":
        return render(request, "parties/_history.html", context)
    context["panels"] = render_panels("customer_panels", request, customer)
    return render(request, "parties/customer_detail.html", context)
