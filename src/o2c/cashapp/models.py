"""Cash application: the rules of matching, what the engine proposed, and what was decided.

Rules and hints are data a lead edits. A line the engine is sure of is applied at
once; a line it is not sure of waits in the queue with its ranked suggestions. Every
decision keeps the confidence and the evidence it rested on, for audit.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from o2c.banking.models import StatementLine
from o2c.core.fields import MoneyField
from o2c.ledger.models import Document
from o2c.parties.models import Customer, LegalEntity

PERCENT = {"max_digits": 6, "decimal_places": 3}


class MatchingRules(models.Model):
    """An entity's matching rules. Amount limits are in the entity's base currency.

    A short payment is written off when the shortfall is within both write-off limits;
    it is net of bank charges when the shortfall is within the bank-charge limit; it
    opens a deduction when the payment covers at least `deduction_min_coverage_percent`
    of what was open; below that it is a partial payment and the rest stays open.
    """

    entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="matching_rules"
    )
    auto_post_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("1"))],
        help_text="Confidence (0.5 to 1) from which a match is posted without a person.",
    )
    suggestion_floor = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.200"),
        help_text="Suggestions below this confidence are not shown.",
    )
    write_off_limit_amount = MoneyField(
        default=Decimal("5.00"), help_text="Largest shortfall written off by rule."
    )
    write_off_limit_percent = models.DecimalField(
        **PERCENT,
        default=Decimal("1.000"),
        help_text="Largest shortfall written off, as a percentage of what was open.",
    )
    bank_charge_limit_amount = MoneyField(
        default=Decimal("25.00"),
        help_text="Largest shortfall taken as bank charges the payer's bank deducted.",
    )
    deduction_min_coverage_percent = models.DecimalField(
        **PERCENT,
        default=Decimal("80.000"),
        help_text="A short payment covering at least this share opens a deduction; "
        "below it the payment is partial and the rest stays open.",
    )
    fx_tolerance_percent = models.DecimalField(
        **PERCENT,
        default=Decimal("1.000"),
        help_text="How far a payment in another currency may differ from the converted "
        "open amount and still count as paying it.",
    )
    max_combination_size = models.PositiveSmallIntegerField(
        default=5, help_text="Most invoices one payment is searched to combine."
    )
    max_combination_candidates = models.PositiveSmallIntegerField(
        default=30, help_text="Most open items of a customer searched for combinations."
    )
    name_min_score = models.PositiveSmallIntegerField(
        default=85, help_text="Lowest fuzzy score (0-100) at which a payer name counts."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name_plural = "matching rules"

    def __str__(self):
        return f"Matching rules of {self.entity.code}"


class HintKind(models.TextChoices):
    PAYER_ACCOUNT = "payer_account", "Payer's bank account"
    PAYER_NAME = "payer_name", "Payer's name as the bank shows it"
    REFERENCE_PREFIX = "reference_prefix", "Text the customer always quotes"


class CustomerHint(models.Model):
    """Evidence that a bank line belongs to a customer, entered or learned."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cash_hints")
    kind = models.CharField(max_length=20, choices=HintKind.choices)
    value = models.CharField(max_length=140, help_text="Normalised: upper case, no spaces.")
    learned = models.BooleanField(default=False, help_text="Learned from a person's match.")
    times_confirmed = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "kind", "value", "customer"], name="one_hint_per_value"
            )
        ]
        indexes = [models.Index(fields=["entity", "kind", "value"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value} -> {self.customer}"


class Decision(models.TextChoices):
    AUTO = "auto", "Applied by the engine"
    MANUAL = "manual", "Applied by a person"
    ON_ACCOUNT = "on_account", "Put on account"
    REFUND = "refund", "Refunded"
    RETURN = "return", "Returned to the payer"
    REVERSAL = "reversal", "Bank reversal processed"


class LineMatch(models.Model):
    """The decision on one statement line, with the evidence behind it."""

    line = models.OneToOneField(StatementLine, on_delete=models.PROTECT, related_name="match")
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    confidence = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    evidence = models.JSONField(default=list)
    applied = models.JSONField(
        default=list,
        help_text="Allocations made: invoice number, amount and currency of each.",
    )
    payment = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    other_documents = models.ManyToManyField(Document, blank=True, related_name="+")
    on_account_amount = MoneyField(null=True, blank=True)
    write_off_amount = MoneyField(null=True, blank=True)
    discount_amount = MoneyField(null=True, blank=True)
    deduction_amount = MoneyField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    def __str__(self):
        return f"{self.get_decision_display()}: line {self.line_id}"


class Suggestion(models.Model):
    """One ranked proposal for a line waiting in the queue."""

    line = models.ForeignKey(StatementLine, on_delete=models.CASCADE, related_name="suggestions")
    rank = models.PositiveSmallIntegerField()
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    confidence = models.DecimalField(max_digits=4, decimal_places=3)
    outcome = models.CharField(max_length=30)
    evidence = models.JSONField(default=list)
    allocations = models.JSONField(
        default=list, help_text="Document id, number, amount and currency of each allocation."
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["line", "rank"]

    def __str__(self):
        return f"Suggestion {self.rank} for line {self.line_id}"


class RemittanceAdvice(models.Model):
    """A payer's note of which invoices a payment settles (CSV file or e-mail text)."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="remittances"
    )
    payer_name = models.CharField(max_length=140, blank=True)
    payer_account = models.CharField(max_length=60, blank=True)
    payment_reference = models.CharField(max_length=140, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    total_amount = MoneyField()
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=10)
    file_name = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, related_name="+"
    )
    line = models.ForeignKey(
        StatementLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "fingerprint"], name="remittance_once")
        ]

    def __str__(self):
        return (
            f"Remittance {self.payment_reference or self.pk} ({self.total_amount} {self.currency})"
        )


class RemittanceItem(models.Model):
    advice = models.ForeignKey(RemittanceAdvice, on_delete=models.CASCADE, related_name="items")
    invoice_number = models.CharField(max_length=60)
    amount = MoneyField()
    deduction_amount = MoneyField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.invoice_number}: {self.amount}"
