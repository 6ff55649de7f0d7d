"""Outbound webhooks: endpoints integrators register, events, and each delivery attempt.

Every event is stored once. Each endpoint subscribed to it gets a delivery, retried with
exponential back-off until it succeeds or the attempts run out. Each attempt is kept,
so an administrator can see what was sent, when, and what came back.
"""

from django.db import models

from o2c.parties.models import LegalEntity


class EventType(models.TextChoices):
    INVOICE_POSTED = "invoice.posted", "Invoice posted"
    PAYMENT_RECEIVED = "payment.received", "Payment received"
    DISPUTE_OPENED = "dispute.opened", "Dispute opened"
    DISPUTE_RESOLVED = "dispute.resolved", "Dispute resolved or rejected"


class WebhookEndpoint(models.Model):
    """A URL that receives events, signed with its own secret."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    entity = models.ForeignKey(
        LegalEntity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only this entity's events; empty for every entity.",
    )
    event_types = models.JSONField(
        default=list, help_text="Event types sent to this endpoint; empty for all."
    )
    secret = models.CharField(
        max_length=80,
        help_text="Shared secret of the HMAC-SHA256 signature; the receiver keeps a copy.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["url", "id"]

    def __str__(self):
        return self.url

    def wants(self, event_type: str, entity_id: int | None) -> bool:
        if not self.is_active:
            return False
        if self.entity_id is not None and self.entity_id != entity_id:
            return False
        return not self.event_types or event_type in self.event_types


class WebhookEvent(models.Model):
    """One business event, with the JSON body every endpoint receives.

    `key` names the business fact (e.g. "payment.received:PAY-…") so a fact reported
    twice by its source still makes a single event.
    """

    event_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    key = models.CharField(max_length=200, unique=True)
    entity = models.ForeignKey(
        LegalEntity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Failed, will retry"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Gave up"


class WebhookDelivery(models.Model):
    """The delivery of one event to one endpoint, across its attempts."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_event")
        ]

    def __str__(self):
        return f"delivery of {self.event} to {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and its outcome."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()
    retry_in_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Back-off before the next attempt; empty when none."
    )

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}"
