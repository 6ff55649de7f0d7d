"""Collections: dunning strategies and runs, reminders, promises to pay, holds, contacts."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from o2c.core.fields import MoneyField
from o2c.ledger.models import Document
from o2c.parties.models import Contact, Customer, LegalEntity
from o2c.teams.models import Team, WorkItem

SUPPORTED_LANGUAGES = ("en", "fr", "de", "es")


class DayCountBasis(models.IntegerChoices):
    ACTUAL_365 = 365, "Actual/365"
    ACTUAL_360 = 360, "Actual/360"


class CollectionsPolicy(models.Model):
    """What the law of an entity's country lets it charge on late payment, and how it dunns.

    Fees and interest are off until someone turns them on: they are a claim of their own
    (posted as "charge" documents), so a business must choose to make it.
    """

    entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="collections_policy"
    )
    charge_fees = models.BooleanField(
        default=False, help_text="Post the fixed fee of a dunning step as a charge."
    )
    charge_interest = models.BooleanField(
        default=False, help_text="Post late-payment interest as a charge on steps that ask for it."
    )
    annual_interest_percent = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        default=Decimal("0"),
        help_text="Yearly rate, e.g. 5 for 5 %.",
    )
    day_count_basis = models.PositiveSmallIntegerField(
        choices=DayCountBasis.choices, default=DayCountBasis.ACTUAL_365
    )
    minimum_amount = MoneyField(
        default=Decimal("0"),
        help_text="Skip reminders whose total due is below this, in the customer's currency.",
    )
    charge_due_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days after a reminder that its fees and interest fall due."
    )
    promise_grace_days = models.PositiveSmallIntegerField(
        default=2, help_text="Days after a promised date before a promise counts as broken."
    )
    runs_automatically = models.BooleanField(
        default=False, help_text="Execute the dunning run every morning on the schedule."
    )
    reply_to = models.EmailField(blank=True, help_text="Where customers' replies go.")

    class Meta:
        verbose_name_plural = "collections policies"

    def __str__(self):
        return f"collections policy of {self.entity.code}"


class DunningStrategy(models.Model):
    """The ordered reminder steps for one customer segment (empty segment: the default)."""

    entity = models.ForeignKey(
        LegalEntity, on_delete=models.CASCADE, related_name="dunning_strategies"
    )
    name = models.CharField(max_length=100)
    segment = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["entity", "segment"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "segment"], name="one_dunning_strategy_per_segment"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.segment or 'default'})"


class StepChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    LETTER = "letter", "Letter (PDF)"
    CALL = "call", "Call task"
    ACTION = "action", "Action"


class StepAction(models.TextChoices):
    NONE = "", "None"
    HOLD_ORDERS = "hold_orders", "Hold new orders"


class ReminderTone(models.TextChoices):
    FRIENDLY = "friendly", "Friendly reminder"
    FIRST = "first", "First reminder"
    SECOND = "second", "Second reminder"
    FINAL = "final", "Final notice"


class DunningStep(models.Model):
    strategy = models.ForeignKey(DunningStrategy, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    days_after_due = models.SmallIntegerField(
        help_text="Days past the due date when the step applies; negative before it."
    )
    channel = models.CharField(max_length=10, choices=StepChannel.choices)
    action = models.CharField(max_length=20, choices=StepAction.choices, blank=True)
    tone = models.CharField(max_length=10, choices=ReminderTone.choices, default=ReminderTone.FIRST)
    fee_amount = MoneyField(
        null=True, blank=True, help_text="Fixed fee, in the entity's base currency."
    )
    charge_interest = models.BooleanField(default=False)

    class Meta:
        ordering = ["strategy", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "sequence"], name="step_sequence_unique")
        ]

    def __str__(self):
        return f"{self.sequence}. {self.name} ({self.days_after_due:+d} days)"


class ReminderTemplate(models.Model):
    """A reminder text that replaces the shipped one for an entity, tone and language.

    Subject and body are Django templates; see the shipped templates for the variables.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="+")
    tone = models.CharField(max_length=10, choices=ReminderTone.choices)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "tone", "language"], name="one_template_per_tone_language"
            )
        ]

    def __str__(self):
        return f"{self.tone} reminder ({self.language})"


class DunningRun(models.Model):
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="dunning_runs")
    as_of = models.DateField()
    source = models.CharField(max_length=20, default="web")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"dunning run {self.pk} of {self.entity.code} as of {self.as_of}"


class NoticeStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENT = "sent", "Sent"
    FAILED = "failed", "Sending failed"
    BOUNCED = "bounced", "Bounced"
    READY_TO_PRINT = "ready_to_print", "Letter ready to print"
    DONE = "done", "Done"


class PaymentBehaviour(models.TextChoices):
    GOOD = "good", "Good payer"
    REGULAR = "regular", "Regular"
    LATE = "late", "Habitual late payer"
    NEW = "new", "No payment history"


class DunningNotice(models.Model):
    """What one run did for one customer and currency: a reminder, a call task or an action."""

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="notices")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="notices")
    step = models.ForeignKey(DunningStep, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=StepChannel.choices)
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=8)
    behaviour = models.CharField(max_length=10, choices=PaymentBehaviour.choices)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    recipient = models.EmailField(blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    total_due = MoneyField()
    status = models.CharField(
        max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.PLANNED
    )
    message_id = models.CharField(max_length=200, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    letter = models.FileField(upload_to="collections/letters/%Y/%m", blank=True)
    fee_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    interest_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    work_item = models.ForeignKey(
        WorkItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["run", "customer", "id"]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.customer.number} ({self.step.name})"


class DunningNoticeItem(models.Model):
    """One document reaching one step. Unique per document and step: never two reminders."""

    notice = models.ForeignKey(DunningNotice, on_delete=models.CASCADE, related_name="items")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="dunning_items")
    step = models.ForeignKey(DunningStep, on_delete=models.PROTECT, related_name="+")
    open_amount = MoneyField()
    days_past_due = models.IntegerField()
    interest_amount = MoneyField(default=Decimal("0"))
    interest_from = models.DateField(null=True, blank=True)
    interest_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "step"], name="one_notice_per_step")
        ]

    def __str__(self):
        return f"{self.document.number} at step {self.step_id}"


class InboundKind(models.TextChoices):
    BOUNCE = "bounce", "Bounce"
    REPLY = "reply", "Reply"
    UNMATCHED = "unmatched", "Not matched to a reminder"


class InboundMessage(models.Model):
    """A bounce or a reply to a reminder, kept with the reminder it answers."""

    notice = models.ForeignKey(
        DunningNotice, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound"
    )
    kind = models.CharField(max_length=10, choices=InboundKind.choices)
    message_id = models.CharField(max_length=200, blank=True)
    sender = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    received_at = models.DateTimeField()
    work_item = models.ForeignKey(
        WorkItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="inbound_message_once",
            )
        ]

    def __str__(self):
        return f"{self.kind}: {self.subject}"


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    NOTE = "note", "Note"


class ActivityOutcome(models.TextChoices):
    REACHED = "reached", "Reached the customer"
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    PROMISED = "promised", "Promise to pay"
    DISPUTED = "disputed", "Customer disputes"
    REFUSED = "refused", "Customer refuses to pay"


class CollectionActivity(models.Model):
    """A collector's contact with a customer, which the worklist reads."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="collection_activities"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    outcome = models.CharField(max_length=20, choices=ActivityOutcome.choices)
    note = models.TextField(blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["customer", "-occurred_at"])]
        verbose_name_plural = "collection activities"

    def __str__(self):
        return f"{self.kind} with {self.customer_id}: {self.outcome}"


class PromiseStatus(models.TextChoices):
    OPEN = "open", "Open"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class PromiseToPay(models.Model):
    """A customer's promise to pay an amount of some invoices by a date.

    It is kept once payments applied to those invoices since it was made reach the
    amount, and broken when the promised date plus the grace days passes first.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    documents = models.ManyToManyField(Document, related_name="promises")
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    promised_on = models.DateField()
    recorded_on = models.DateField()
    channel = models.CharField(max_length=10, choices=ActivityKind.choices)
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN
    )
    paid_amount = MoneyField(default=Decimal("0"))
    settled_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    work_item = models.ForeignKey(
        WorkItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_on", "-id"]
        indexes = [models.Index(fields=["entity", "status", "promised_on"])]

    def __str__(self):
        return f"promise of {self.amount} {self.currency} by {self.promised_on}"


class CustomerHold(models.Model):
    """A hold on a customer's new orders. While one is active, `Customer.is_blocked` is set.

    Other modules read `Customer.is_blocked`; the holds say who placed it and why.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=200)
    source = models.CharField(max_length=20, default="dunning")
    placed_on = models.DateField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    released_on = models.DateField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notice = models.ForeignKey(
        DunningNotice, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-placed_on"]

    def __str__(self):
        return f"hold on {self.customer_id}: {self.reason}"
