"""Administrator pages: endpoints, their secrets, and the log of every delivery attempt."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from o2c.core.errors import O2CError
from o2c.parties.models import LegalEntity
from o2c.teams.selectors import is_admin
from o2c.webhooks import services
from o2c.webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 50


def _require_admin(request) -> None:
    if not is_admin(request.user):
        raise PermissionDenied("Only administrators manage webhooks.")


@login_required
def endpoint_list(request):
    _require_admin(request)
    if request.method == "POST":
        try:
            entity = LegalEntity.objects.filter(pk=request.POST.get("entity") or 0).first()
            endpoint = services.create_endpoint(
                request.POST.get("url", ""),
                event_types=request.POST.getlist("event_types"),
                entity=entity,
                description=request.POST.get("description", ""),
            )
        except O2CError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Endpoint added. Its signing secret: {endpoint.secret}")
            return redirect("webhooks:endpoint_detail", endpoint.pk)
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "endpoints": WebhookEndpoint.objects.select_related("entity"),
            "event_types": EventType.choices,
            "entities": LegalEntity.objects.all(),
        },
    )


@login_required
def endpoint_detail(request, endpoint_id: int):
    _require_admin(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    status = request.GET.get("status", "")
    deliveries = endpoint.deliveries.select_related("event").order_by("-created_at", "-id")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
        },
    )


@login_required
@require_POST
def endpoint_action(request, endpoint_id: int):
    _require_admin(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    action = request.POST.get("action")
    if action == "rotate":
        secret = services.rotate_secret(endpoint)
        messages.success(request, f"New signing secret: {secret}")
    elif action in ("disable", "enable"):
        endpoint.is_active = action == "enable"
        endpoint.save(update_fields=["is_active"])
    return redirect("webhooks:endpoint_detail", endpoint.pk)


@login_required
def delivery_detail(request, delivery_id: int):
    _require_admin(request)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "event"), pk=delivery_id
    )
    return render(
        request,
        "webhooks/delivery_detail.html",
        {"delivery": delivery, "attempts": delivery.attempts.all()},
    )


@login_required
@require_POST
def redeliver(request, delivery_id: int):
    _require_admin(request)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
    outcome = services.redeliver(delivery)
    messages.info(request, f"Sent again: {outcome.status if outcome else 'already being sent'}.")
    return redirect("webhooks:delivery_detail", delivery.pk)
