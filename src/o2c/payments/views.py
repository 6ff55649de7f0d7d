"""Staff pages of payments, and the endpoints where gateways post their webhooks."""

import datetime as dt
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from o2c.core.errors import O2CError
from o2c.imports.errors import ImportRejected
from o2c.payments import payouts, selectors, sepa, sepa_returns, services
from o2c.payments.errors import PaymentError
from o2c.payments.gateways.base import InvalidSignature, InvalidWebhook
from o2c.payments.models import PaymentStatus

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
WEBHOOK_MAX_BYTES = 1024 * 1024
# The largest primary key PostgreSQL's bigint holds; a larger id cannot name a row.
MAX_ID = 2**63 - 1


@csrf_exempt
@require_POST
def gateway_webhook(request, gateway: str):
    """Receive a gateway's signed webhook; 400 on a bad signature, 200 once processed."""
    if gateway not in ("stripe", "adyen"):
        return HttpResponseNotFound("unknown gateway")
    body = request.body
    if len(body) > WEBHOOK_MAX_BYTES:
        return HttpResponseBadRequest("body too large")
    try:
        outcomes = services.receive_webhook(gateway, body, request.headers)
    except InvalidWebhook as error:
        logger.warning("Webhook from %s rejected: %s", gateway, error.message)
        if isinstance(error, InvalidSignature):
            return HttpResponseBadRequest("invalid signature")
        return HttpResponseBadRequest("malformed event")
    except PaymentError as error:
        if error.code == "gateway_not_configured":
            return HttpResponseNotFound("gateway not configured")
        raise
    logger.info("Webhook from %s: %s", gateway, ", ".join(outcomes))
    # Adyen expects this exact body to consider its notifications delivered.
    return HttpResponse("[accepted]" if gateway == "adyen" else "ok", content_type="text/plain")


@login_required
def payment_list(request):
    status = request.GET.get("status", "")
    search = request.GET.get("q", "").strip()
    payments = selectors.payments_for(
        request.user, status=status if status in PaymentStatus.values else "", search=search
    )
    page = Paginator(payments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/payment_list.html",
        {
            "page": page,
            "status": status,
            "search": search,
            "statuses": PaymentStatus.choices,
            "entities": list(selectors.managed_entities(request.user)),
        },
    )


@login_required
def payment_detail(request, payment_id: int):
    payment = selectors.payment_for(request.user, payment_id)
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "can_refund": selectors.can_manage_payments(request.user, payment.entity)
            and payment.method == "card"
            and payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED),
        },
    )


@login_required
@require_POST
def refund(request, payment_id: int):
    payment = selectors.payment_for(request.user, payment_id)
    if not selectors.can_manage_payments(request.user, payment.entity):
        raise PermissionDenied("Only cash application, billing or leaders may refund.")
    try:
        done = services.refund_payment(
            payment,
            request.POST.get("amount", "").strip() or str(payment.amount - payment.refunded_amount),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"Refund {done.reference} sent ({done.get_status_display()}).")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("payments:payment_detail", payment.pk)


@login_required
def direct_debits(request):
    entities = selectors.managed_entities(request.user)
    if not entities.exists():
        raise PermissionDenied("Only cash application, billing or leaders may collect.")
    return render(
        request,
        "payments/direct_debits.html",
        {
            "debits": list(selectors.scheduled_debits_for(request.user)[:500]),
            "files": list(selectors.collection_files_for(request.user)[:50]),
            "entities": [(entity, sepa.earliest_collection_date(entity)) for entity in entities],
        },
    )


def _posted_entity(request):
    """Return the managed entity whose id the form posted, or None for any other value."""
    value = request.POST.get("entity", "").strip()
    if not value.isdecimal() or not 0 < int(value) <= MAX_ID:
        return None
    return selectors.managed_entities(request.user).filter(pk=int(value)).first()


@login_required
@require_POST
def create_collection_file(request):
    entity = _posted_entity(request)
    if entity is None:
        raise PermissionDenied("Choose an entity you collect for.")
    try:
        collection_date = dt.date.fromisoformat(request.POST.get("collection_date", ""))
        created = sepa.create_collection_file(
            entity, collection_date=collection_date, actor=request.user
        )
        messages.success(
            request, f"Collection file {created.message_id}: {created.transaction_count} debits."
        )
    except ValueError:
        messages.error(request, "Enter the collection date as YYYY-MM-DD.")
    except O2CError as error:
        messages.error(request, error.message)
    return redirect("payments:direct_debits")


@login_required
def collection_file_download(request, file_id: int):
    found = selectors.collection_file_for(request.user, file_id)
    response = HttpResponse(bytes(found.content), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{found.message_id}.xml"'
    return response


@login_required
@require_POST
def upload_returns(request):
    entities = selectors.managed_entities(request.user)
    if not entities.exists():
        raise PermissionDenied("Only cash application, billing or leaders may load returns.")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a pain.002 or camt.054 file.")
        return redirect("payments:direct_debits")
    try:
        result = sepa_returns.import_returns(
            upload.read(), upload.name, actor=request.user, entities=entities
        )
        messages.success(request, f"{upload.name}: {result.counts}")
    except ImportRejected as error:
        messages.error(request, error.message)
    return redirect("payments:direct_debits")


@login_required
@require_POST
def upload_payouts(request):
    entity = _posted_entity(request)
    upload = request.FILES.get("file")
    if entity is None or upload is None:
        messages.error(request, "Choose an entity and a Stripe payout report.")
        return redirect("payments:payment_list")
    try:
        result = payouts.import_stripe_payouts(
            upload.read(), upload.name, entity=entity, actor=request.user
        )
        messages.success(request, f"{upload.name}: {result.counts}")
    except ImportRejected as error:
        messages.error(request, error.message)
    return redirect("payments:payment_list")
