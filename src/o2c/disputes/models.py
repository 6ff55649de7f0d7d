from django.db import models

from o2c.core.fields import MoneyField
from o2c.ledger.models import Document
from o2c.parties.models import Customer, LegalEntity


class DisputeReason(models.TextChoices):
    PRICING = "pricing", "Pricing"
    QUANTITY = "quantity", "Quantity"
    QUALITY = "quality", "Quality"
    DELIVERY = "delivery", "Delivery"
    DUPLICATE_BILLING = "duplicate_billing", "Duplicate billing"
    TAX = "tax", "Tax"
    SHORT_PAYMENT = "short_payment", "Short payment (deduction)"
    OTHER = "other", "Other"
    UNSPECIFIED = "unspecified", "Not stated in the source data"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"


class Dispute(models.Model):
    """A customer's objection to (part of) an invoice.

    `opened_on` may be unknown for disputes loaded from a history that only flags them;
    such a dispute counts as open from the invoice date until `resolved_on`.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="disputes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disputes")
    invoice = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="disputes")
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=30, choices=DisputeReason.choices)
    status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    opened_on = models.DateField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="manual")
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["entity", "status"])]

    def __str__(self):
        return f"Dispute {self.pk} on {self.invoice.number}"
