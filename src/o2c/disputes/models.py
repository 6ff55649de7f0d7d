from django.conf import settings
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


class Resolution(models.TextChoices):
    CREDIT_NOTE = "credit_note", "Credit note"
    WRITE_OFF = "write_off", "Write-off"
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
    case_number = models.CharField(
        max_length=20, blank=True, db_index=True, help_text="Shared by the disputes of one case."
    )
    line_reference = models.CharField(
        max_length=100, blank=True, help_text="The invoice line disputed, when not the whole."
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    work_item = models.ForeignKey(
        "teams.WorkItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolution_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["entity", "status"])]

    def __str__(self):
        return f"Dispute {self.pk} on {self.invoice.number}"


def _evidence_path(instance, filename):
    return f"disputes/{instance.dispute.entity_id}/{instance.dispute_id}/{instance.stored_name}"


class DisputeAttachment(models.Model):
    """Evidence for a dispute, stored under MEDIA_ROOT with a generated file name."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_evidence_path)
    stored_name = models.CharField(max_length=80)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class WriteOffPolicy(models.Model):
    """Above `approval_threshold_amount` (base currency) a write-off needs a second person."""

    entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="write_off_policy"
    )
    approval_threshold_amount = MoneyField(
        help_text="Write-offs above this amount, in the entity's base currency, need approval."
    )

    def __str__(self):
        return f"write-off policy of {self.entity.code}"


class WriteOffStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved and posted"
    DECLINED = "declined", "Declined"


class WriteOffRequest(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="write_offs")
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    amount_base = MoneyField()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    work_item = models.ForeignKey(
        "teams.WorkItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"write-off of {self.amount} {self.currency} on dispute {self.dispute_id}"
