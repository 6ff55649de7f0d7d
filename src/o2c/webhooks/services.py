"""Outbound webhooks: record events, sign them, deliver them, retry with back-off.

Each request carries the header `O2C-Signature: t=<unix time>,v1=<hex>`, where the hex
is HMAC-SHA256 of "<unix time>.<body>" keyed with the endpoint's secret. Receivers
recompute it and reject old timestamps, which defeats replays. A delivery is retried
after 30 s, 1, 2, 4 ... minutes (doubling, at most 6 hours apart) until it succeeds or
`MAX_ATTEMPTS` attempts have failed. Every attempt is logged for administrators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2c.core.errors import O2CError
from o2c.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "O2C-Signature"
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
TIMEOUT_SECONDS = 10
# While an attempt is under way its delivery is not due, so no second sender picks it up.
CLAIM_SECONDS = 300
RESPONSE_EXCERPT = 500


class WebhookError(O2CError):
    """An endpoint that cannot be registered as asked."""


def backoff_seconds(attempt_number: int) -> int:
    """Return the wait after the n-th failed attempt: base, 2 × base, 4 × base, ..."""
    base = getattr(settings, "O2C_WEBHOOK_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS)
    return int(min(base * 2 ** (attempt_number - 1), BACKOFF_MAX_SECONDS))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now=None) -> bool:
    """Check a signature header the way a receiver should: HMAC and timestamp age."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# Endpoints -----------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(url: str, *, event_types=(), entity=None, description: str = ""):
    """Register an endpoint; returns it with its new secret."""
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except Exception:
        raise WebhookError("invalid_url", "{url!r} is not an http(s) URL.", url=url) from None
    reason = blocked_address_reason(url)
    if reason:
        raise WebhookError("private_address", "{url!r}: {reason}", url=url, reason=reason)
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise WebhookError(
            "unknown_event_type",
            "{types} are not event types; use {known}.",
            types=", ".join(unknown),
            known=", ".join(EventType.values),
        )
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        event_types=sorted(set(event_types)),
        entity=entity,
        description=description[:200],
        secret=new_secret(),
    )
    return endpoint


def blocked_address_reason(url: str) -> str:
    """Return why o2c will not send to the URL's host, or "" when it may.

    Endpoints must be public addresses, so that a webhook cannot be used to reach
    services on o2c's own machine or network and show their replies in the delivery
    log. O2C_WEBHOOK_ALLOW_PRIVATE=1 lifts this for receivers on a private network.
    NOTE: the host is resolved again when the request is sent, so a name whose address
    changes in between (DNS rebinding) is only caught by the check before each attempt.
    """
    if getattr(settings, "O2C_WEBHOOK_ALLOW_PRIVATE", False):
        return ""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return f"the host {host!r} does not resolve to an address"
    for address in sorted(addresses):
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            return (
                f"the host {host!r} resolves to the non-public address {ip}; set "
                "O2C_WEBHOOK_ALLOW_PRIVATE=1 to allow receivers on a private network"
            )
    return ""


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint.secret


# Events --------------------------------------------------------------------------------


def emit(event_type: str, key: str, data: dict, *, entity_id: int | None) -> WebhookEvent | None:
    """Record an event once (by `key`) and queue a delivery to each endpoint wanting it.

    Returns None when no active endpoint wants it, so nothing is stored for events no
    integrator listens to.
    """
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
        if endpoint.wants(event_type, entity_id)
    ]
    if not endpoints:
        return None
    now = timezone.now()
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = {
        "id": event_id,
        "type": event_type,
        "created": now.isoformat(),
        "data": data,
    }
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=event_id,
                event_type=event_type,
                key=key[:200],
                entity_id=entity_id,
                payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                created_at=now,
            )
            deliveries = WebhookDelivery.objects.bulk_create(
                [
                    WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
                    for endpoint in endpoints
                ]
            )
    except IntegrityError:
        logger.info("Webhook event %s: already recorded", key)
        return None
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _dispatch(ids), robust=True)
    return event


def _dispatch(delivery_ids: list[int]) -> None:
    from o2c.webhooks.tasks import deliver_webhook_task

    if settings.CELERY_TASK_ALWAYS_EAGER and not settings.O2C_WEBHOOKS_SEND_INLINE:
        # Without a broker the task would run inside the request that caused the event,
        # which would wait for a slow receiver. The scheduler's sweep sends it within
        # a minute instead.
        return
    for delivery_id in delivery_ids:
        deliver_webhook_task.delay(delivery_id)


# Delivering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    status: str
    retry_in: int | None


def _claim(delivery_id: int, now: dt.datetime, tolerance: dt.timedelta) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            next_attempt_at__lte=now + tolerance,
        ).update(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS))
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def attempt_delivery(
    delivery_id: int, *, tolerance: dt.timedelta = dt.timedelta(0)
) -> AttemptOutcome | None:
    """Send one delivery once, if it is due; return the outcome, None when not due.

    A redirect counts as a failure: the signed body is never forwarded elsewhere.
    """
    now = timezone.now()
    if not _claim(delivery_id, now, tolerance):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "o2c-webhooks/1",
            SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
            "O2C-Event-Id": event.event_id,
            "O2C-Event-Type": event.event_type,
        },
    )
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    reason = blocked_address_reason(endpoint.url)
    if reason:
        logger.warning("Webhook delivery %s not sent: %s", delivery.pk, reason)
        return _record_attempt(delivery, False, None, reason[:300], "", 0)
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status_code = response.status
            excerpt = response.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as failure:
        status_code = failure.code
        excerpt = failure.read(RESPONSE_EXCERPT).decode("utf-8", "replace")
        error = f"HTTP {failure.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as failure:
        error = str(getattr(failure, "reason", failure))[:300]
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    return _record_attempt(delivery, succeeded, status_code, error, excerpt, duration_ms)


@transaction.atomic
def _record_attempt(delivery, succeeded, status_code, error, excerpt, duration_ms):
    number = delivery.attempt_count + 1
    retry_in = None
    if succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif number >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        retry_in = backoff_seconds(number)
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=retry_in)
    delivery.attempt_count = number
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "attempt_count"])
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=number,
        attempted_at=timezone.now(),
        status_code=status_code,
        error=error,
        response_excerpt=excerpt,
        duration_ms=duration_ms,
        retry_in_seconds=retry_in,
    )
    if succeeded:
        logger.info("Webhook delivery %s: delivered on attempt %d", delivery.pk, number)
    elif retry_in is None:
        logger.error("Webhook delivery %s: gave up after %d attempts", delivery.pk, number)
    else:
        logger.warning(
            "Webhook delivery %s: attempt %d failed (%s), retry in %d s",
            delivery.pk,
            number,
            error or status_code,
            retry_in,
        )
    return AttemptOutcome(delivery.status, retry_in)


def send_due_deliveries(*, older_than: dt.timedelta = dt.timedelta(0)) -> int:
    """Attempt every delivery due for longer than `older_than`; return how many.

    With a broker, `older_than` leaves Celery's own retries the time to run first.
    """
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            next_attempt_at__lte=now - older_than,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    return sum(1 for delivery_id in due if attempt_delivery(delivery_id) is not None)


def redeliver(delivery: WebhookDelivery) -> AttemptOutcome | None:
    """Send a delivery again now, even one that succeeded or was given up."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.RETRYING, next_attempt_at=timezone.now()
    )
    return attempt_delivery(delivery.pk)
