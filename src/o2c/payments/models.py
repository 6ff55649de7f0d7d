"""Payments taken online and by direct debit, and what the gateways and banks report.

A `Payment` is one attempt to collect money for chosen invoices: by card or wallet
through a gateway, or by SEPA direct debit. It reaches the ledger only when the money
is confirmed, by a signed gateway event or a collection file sent to the bank. A
payment that fails or is returned afterwards is reversed there, which reopens its
invoices.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from o2c.core.fields import MoneyField
from o2c.ledger.models import Document
from o2c.parties.models import Customer, LegalEntity, validate_currency

ZERO = Decimal("0")


class Gateway(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    ADYEN = "adyen", "Adyen"
    SEPA = "sepa", "SEPA direct debit"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card or wallet"
    DIRECT_DEBIT = "sepa_dd", "SEPA direct debit"


class PaymentStatus(models.TextChoices):
    CREATED = "created", "Created"
    PENDING = "pending", "Waiting for the customer"
    PROCESSING = "processing", "Being confirmed"
    SCHEDULED = "scheduled", "Direct debit scheduled"
    SUBMITTED = "submitted", "Direct debit sent to the bank"
    SUCCEEDED = "succeeded", "Paid"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
    RETURNED = "returned", "Returned by the bank"


# Statuses in which the payment is on the ledger. A submitted direct debit is posted on
# its collection date, and its payment is "succeeded" from then on.
POSTED_STATUSES = frozenset(
    {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.REFUNDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    }
)
OPEN_STATUSES = frozenset(
    {
        PaymentStatus.CREATED,
        PaymentStatus.PENDING,
        PaymentStatus.PROCESSING,
        PaymentStatus.SCHEDULED,
    }
)


class PaymentSettings(models.Model):
    """An entity's payment set-up: its card gateway and its SEPA creditor identity."""

    entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="payment_settings"
    )
    card_gateway = models.CharField(
        max_length=10,
        choices=[(Gateway.STRIPE, "Stripe"), (Gateway.ADYEN, "Adyen")],
        blank=True,
        help_text="Gateway for cards and wallets; empty to offer no card payment.",
    )
    sepa_creditor_id = models.CharField(
        max_length=35,
        blank=True,
        help_text="SEPA creditor identifier, e.g. FR72ZZZ123456; empty to offer no direct debit.",
    )
    sepa_local_instrument = models.CharField(
        max_length=4,
        choices=[("CORE", "CORE (consumers and businesses)"), ("B2B", "B2B (businesses only)")],
        default="CORE",
    )
    sepa_lead_days = models.PositiveSmallIntegerField(
        default=2,
        help_text="Business days between creating a collection file and the collection date.",
    )
    pre_notification_days = models.PositiveSmallIntegerField(
        default=14,
        help_text="Days before a debit that the customer is told its amount and date.",
    )

    class Meta:
        verbose_name_plural = "payment settings"

    def __str__(self):
        return f"payment settings of {self.entity.code}"


class Payment(models.Model):
    """One attempt to collect an amount for chosen invoices, with its gateway's trace."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField(
        max_length=35,
        unique=True,
        help_text="Our reference, sent to the gateway and used as the ledger payment number.",
    )
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    gateway_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    gateway_payment_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="Stripe payment intent or Adyen PSP reference.",
    )
    amount = MoneyField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    fee_amount = MoneyField(null=True, blank=True, help_text="Gateway fee, when reported.")
    fee_currency = models.CharField(max_length=3, blank=True)
    refunded_amount = MoneyField(default=ZERO)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    failure_reason = models.CharField(max_length=300, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    idempotency_key = models.CharField(max_length=64)
    portal_user = models.ForeignKey(
        "portal.PortalUser", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.OneToOneField(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"], name="payment_idempotency_per_customer"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
        ]
        indexes = [models.Index(fields=["entity", "status", "created_at"])]

    def __str__(self):
        return f"payment {self.reference}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PaymentItem(models.Model):
    """The part of a payment meant for one invoice, as the customer chose it."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    discount_amount = MoneyField(
        default=ZERO, help_text="Early-payment discount taken when the whole balance is paid."
    )
    discount_document = models.OneToOneField(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["payment", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "invoice"], name="one_item_per_invoice")
        ]

    def __str__(self):
        return f"{self.amount} of {self.payment.reference} for {self.invoice.number}"


class GatewayEvent(models.Model):
    """A webhook event received from a gateway, kept once per event id.

    The unique event id makes a replayed event a no-op: the second copy finds the first.
    """

    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    payload = models.JSONField()
    outcome = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")
        ]

    def __str__(self):
        return f"{self.gateway} {self.event_type} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Sent to the gateway"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    """Money given back on a payment, in full or in part."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    reference = models.CharField(max_length=40, unique=True)
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    gateway_refund_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=RefundStatus.choices)
    reason = models.CharField(max_length=300)
    document = models.OneToOneField(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "gateway_refund_id"],
                condition=~models.Q(gateway_refund_id=""),
                name="refund_once_per_gateway_id",
            )
        ]

    def __str__(self):
        return f"refund of {self.amount} {self.currency} on {self.payment.reference}"


class SequenceType(models.TextChoices):
    FIRST = "FRST", "First of a series"
    RECURRING = "RCUR", "Recurring"
    ONE_OFF = "OOFF", "One-off"
    FINAL = "FNAL", "Final of a series"


class MandateStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"
    USED = "used", "Used (one-off)"


class Mandate(models.Model):
    """A SEPA direct debit mandate signed by the customer.

    `next_sequence_type` is what the next collection carries: FRST until a first
    collection went through, then RCUR; OOFF for a one-off mandate. A returned first
    collection leaves it at FRST, as the scheme requires.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="mandates")
    reference = models.CharField(max_length=35, help_text="Unique mandate reference (UMR).")
    debtor_name = models.CharField(max_length=70)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11, blank=True)
    signed_on = models.DateField()
    is_recurrent = models.BooleanField(default=True)
    next_sequence_type = models.CharField(
        max_length=4, choices=SequenceType.choices, default=SequenceType.FIRST
    )
    is_final = models.BooleanField(
        default=False, help_text="The next collection is the last one (FNAL)."
    )
    status = models.CharField(
        max_length=10, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    last_collected_on = models.DateField(null=True, blank=True)
    original_iban = models.CharField(
        max_length=34,
        blank=True,
        help_text="The account before a change, reported once in the next collection.",
    )
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    portal_user = models.ForeignKey(
        "portal.PortalUser", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_on = models.DateField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "reference"], name="mandate_reference")
        ]

    def __str__(self):
        return f"mandate {self.reference}"


class CollectionFile(models.Model):
    """A pain.008 file of direct debits for one entity and collection date."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=35, unique=True)
    collection_date = models.DateField()
    transaction_count = models.PositiveIntegerField()
    total_amount = MoneyField()
    currency = models.CharField(max_length=3, default="EUR")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"collection file {self.message_id}"


class DirectDebitStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SUBMITTED = "submitted", "Sent to the bank"
    RETURNED = "returned", "Returned or rejected"
    CANCELED = "canceled", "Canceled"


class DirectDebit(models.Model):
    """One debit under a mandate: scheduled, then sent in a file, perhaps returned."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="debit")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="debits")
    collection_date = models.DateField()
    sequence_type = models.CharField(max_length=4, choices=SequenceType.choices, blank=True)
    end_to_end_id = models.CharField(max_length=35, unique=True)
    collection_file = models.ForeignKey(
        CollectionFile, on_delete=models.PROTECT, null=True, blank=True, related_name="debits"
    )
    payment_information_id = models.CharField(max_length=35, blank=True)
    status = models.CharField(
        max_length=10, choices=DirectDebitStatus.choices, default=DirectDebitStatus.SCHEDULED
    )
    return_reason_code = models.CharField(max_length=4, blank=True)
    returned_on = models.DateField(null=True, blank=True)
    pre_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["collection_date", "id"]

    def __str__(self):
        return f"direct debit {self.end_to_end_id}"


class Payout(models.Model):
    """A gateway's transfer to the entity's bank: charges less refunds and fees."""

    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    payout_id = models.CharField(max_length=255)
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    arrival_on = models.DateField()
    currency = models.CharField(max_length=3)
    gross_amount = MoneyField()
    fee_amount = MoneyField()
    net_amount = MoneyField(help_text="What reaches the bank account.")
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bank_reference = models.CharField(
        max_length=140, blank=True, help_text="The bank statement line the payout was found in."
    )
    reconciled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-arrival_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["gateway", "payout_id"], name="payout_once")]

    def __str__(self):
        return f"{self.gateway} payout {self.payout_id}"


class PayoutLine(models.Model):
    """One balance transaction inside a payout: a charge, refund, fee or adjustment."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="lines")
    transaction_id = models.CharField(max_length=255)
    category = models.CharField(max_length=40)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="payout_lines"
    )
    gateway_payment_id = models.CharField(max_length=255, blank=True)
    gross_amount = MoneyField()
    fee_amount = MoneyField()
    net_amount = MoneyField()

    class Meta:
        ordering = ["payout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payout", "transaction_id"], name="payout_line_once")
        ]

    def __str__(self):
        return f"{self.category} {self.transaction_id}"
