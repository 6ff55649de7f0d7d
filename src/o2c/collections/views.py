"""Collections pages: the worklist, a customer's collections panel, dunning runs, aging."""

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.db.models.functions import Least
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from o2c.analytics.kpis import BUCKETS, bucket_expression
from o2c.analytics.serialize import BUCKET_LABELS
from o2c.collections import selectors, services
from o2c.collections.forms import ContactForm, PromiseForm, RunForm
from o2c.collections.models import CustomerHold, PromiseStatus
from o2c.collections.worklist import build_worklist
from o2c.core import money
from o2c.core.entities import choose_entity
from o2c.core.errors import O2CError
from o2c.ledger.models import Document, Side
from o2c.ledger.selectors import with_open_amount
from o2c.parties.selectors import customer_for, customers_for, debit_open_items

PAGE_SIZE = 50
ZERO = Decimal("0")


def _entity(request, entities):
    entities = list(entities)
    if not entities:
        raise Http404("No entity in your scope.")
    return choose_entity(request, entities), entities


def _date(text, default):
    try:
        return dt.date.fromisoformat(text) if text else default
    except ValueError:
        return default


@login_required
def worklist(request):
    entity, entities = _entity(request, selectors.entities_for(request.user))
    result = build_worklist(request.user, entity)
    return render(
        request,
        "collections/worklist.html",
        {"entity": entity, "entities": entities, "worklist": result},
    )


def _open_documents(customer):
    return Document.objects.filter(
        pk__in=[item.pk for item in debit_open_items(customer, customer.entity.today())]
    ).order_by("due_date", "number")


@login_required
def customer_panel(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    today = customer.entity.today()
    context = {
        "customer": customer,
        "today": today,
        "open_items": list(debit_open_items(customer, today)[:200]),
        "contact_form": ContactForm(),
        "promise_form": PromiseForm(documents=_open_documents(customer)),
        "promises": customer.promises.select_related("recorded_by")[:20],
        "notices": customer.notices.select_related("step", "run")[:20],
        "holds": customer.holds.filter(released_on__isnull=True),
        "activities": customer.collection_activities.select_related("user")[:20],
    }
    return render(request, "collections/customer.html", context)


@login_required
@require_POST
def log_contact_view(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.log_contact(customer, actor=request.user, **form.cleaned_data)
            messages.success(request, f"Contact with {customer.name} logged.")
        except O2CError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "Choose the kind and outcome of the contact.")
    return redirect("collections:customer", customer.pk)


@login_required
@require_POST
def promise_view(request, customer_id: int):
    customer = customer_for(request.user, customer_id)
    form = PromiseForm(request.POST, documents=_open_documents(customer))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_promise(
                customer,
                documents=data["documents"],
                amount=data["amount"],
                promised_on=data["promised_on"],
                actor=request.user,
                channel=data["channel"],
                note=data["note"],
            )
            messages.success(
                request, f"Promise to pay {data['amount']} by {data['promised_on']} recorded."
            )
        except O2CError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "Choose the invoices, the amount and the date promised.")
    return redirect("collections:customer", customer.pk)


@login_required
def promise_list(request):
    promises = selectors.promises_for(request.user)
    status = request.GET.get("status", PromiseStatus.OPEN)
    if status in PromiseStatus.values:
        promises = promises.filter(status=status)
    page = Paginator(promises, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "collections/promises.html",
        {"page": page, "status": status, "statuses": PromiseStatus.choices},
    )


@login_required
def aging(request):
    """Aging with disputed amounts apart: open, disputed and undisputed per bucket."""
    entity, entities = _entity(request, selectors.entities_for(request.user))
    as_of = _date(request.GET.get("as_of"), entity.today())
    documents = Document.objects.filter(
        entity=entity,
        customer__in=customers_for(request.user, entity=entity),
        side=Side.DEBIT,
        document_date__lte=as_of,
    )
    rows = (
        with_open_amount(documents, as_of)
        .filter(open_amount__gt=0)
        .annotate(disputed=selectors.disputed_subquery(as_of), bucket=bucket_expression(as_of))
        .values("currency", "bucket")
        .annotate(
            open_total=Sum("open_amount"), disputed_total=Sum(Least("open_amount", "disputed"))
        )
        .order_by()
    )
    lines = _aging_lines(rows)
    return render(
        request,
        "collections/aging.html",
        {
            "entity": entity,
            "entities": entities,
            "as_of": as_of,
            "lines": lines,
            "labels": [BUCKET_LABELS[name] for name in BUCKETS],
        },
    )


def _aging_lines(rows) -> list[dict]:
    """Build one line per currency from (currency, bucket) sums.

    Each cell is rounded once to the currency's minor unit, and the totals add up the
    rounded cells, so a total always equals the sum of the buckets shown.
    """
    table: dict[str, dict] = {}
    for row in rows:
        currency = row["currency"]
        cells = table.setdefault(
            currency, {bucket: {"open": ZERO, "disputed": ZERO} for bucket in BUCKETS}
        )
        cells[row["bucket"]] = {
            "open": money.round_amount(row["open_total"], currency),
            "disputed": money.round_amount(row["disputed_total"] or ZERO, currency),
        }
    lines = []
    for currency, cells in sorted(table.items()):
        buckets = [
            {
                "open": cells[name]["open"],
                "disputed": cells[name]["disputed"],
                "undisputed": cells[name]["open"] - cells[name]["disputed"],
            }
            for name in BUCKETS
        ]
        lines.append(
            {
                "currency": currency,
                "buckets": buckets,
                "total": sum((cell["open"] for cell in buckets), ZERO),
                "disputed": sum((cell["disputed"] for cell in buckets), ZERO),
                "undisputed": sum((cell["undisputed"] for cell in buckets), ZERO),
            }
        )
    return lines


@login_required
def run_list(request):
    if not selectors.runs_dunning(request.user):
        raise Http404("You do not run dunning for any entity.")
    entities = selectors.dunning_entities(request.user)
    first = entities.first()
    form = RunForm(entities=entities, initial={"entity": first, "as_of": first.today()})
    page = Paginator(selectors.runs_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "collections/run_list.html", {"form": form, "page": page})


def _run_form(request, data):
    entities = selectors.dunning_entities(request.user)
    form = RunForm(data, entities=entities)
    if not form.is_valid():
        raise Http404("No such entity, or no date.")
    return form.cleaned_data["entity"], form.cleaned_data["as_of"]


def _dated_today_if_undated(request, data):
    """Return the request's data with `as_of` set to the entity's today when it is missing."""
    if data.get("as_of"):
        return data
    entity = selectors.dunning_entities(request.user).filter(code=data.get("entity")).first()
    if entity is None:
        return data
    data = data.copy()
    data["as_of"] = entity.today().isoformat()
    return data


@login_required
def run_preview(request):
    entity, as_of = _run_form(request, _dated_today_if_undated(request, request.GET))
    plan = services.run_dunning(entity, as_of, actor=request.user, preview=True)
    return render(
        request,
        "collections/run_preview.html",
        {"plan": plan, "entity": entity, "as_of": as_of, "can_execute": as_of <= entity.today()},
    )


@login_required
@require_POST
def run_execute(request):
    entity, as_of = _run_form(request, request.POST)
    try:
        run = services.run_dunning(entity, as_of, actor=request.user, source="web")
    except O2CError as error:
        messages.error(request, error.message)
        return redirect("collections:run_list")
    messages.success(request, f"Dunning run {run.pk} executed: {run.counts}")
    return redirect("collections:run_detail", run.pk)


@login_required
def run_detail(request, run_id: int):
    run = selectors.run_for(request.user, run_id)
    notices = run.notices.select_related("customer", "step", "fee_document", "interest_document")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "collections/run_detail.html", {"run": run, "page": page})


@login_required
def notice_letter(request, notice_id: int):
    notice = selectors.notices_for(request.user).filter(pk=notice_id).first()
    if notice is None or not notice.letter:
        raise Http404("No such letter.")
    return FileResponse(
        notice.letter.open("rb"),
        as_attachment=True,
        filename=f"reminder-{notice.customer.number}-{notice.pk}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_POST
def release_hold_view(request, hold_id: int):
    hold = CustomerHold.objects.filter(
        pk=hold_id,
        customer__in=customers_for(request.user),
        customer__entity__in=selectors.dunning_entities(request.user),
    ).first()
    if hold is None:
        raise Http404("No such hold.")
    try:
        services.release_hold(hold, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Hold released.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("collections:customer", hold.customer_id)
