"""The receivables ledger: posted documents and the allocations between them.

Every posted document is immutable. A document's open amount is never stored: it is its
amount less the allocations dated on or before the day asked about, so the ledger can
answer "what was open on D" for any past D, and balances can always be rebuilt.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from o2c.core.fields import MoneyField
from o2c.ledger.errors import ImmutableDocumentError
from o2c.parties.models import Customer, LegalEntity, PaymentTerm, validate_currency

RATE_DIGITS = {"max_digits": 24, "decimal_places": 12}


class Side(models.TextChoices):
    DEBIT = "D", "Debit (the customer owes)"
    CREDIT = "C", "Credit (in the customer's favour)"


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    DEBIT_NOTE = "debit_note", "Debit note"
    CHARGE = "charge", "Fee or interest charge"
    REFUND = "refund", "Refund paid to the customer"
    CREDIT_NOTE = "credit_note", "Credit note"
    PAYMENT = "payment", "Payment"
    WRITE_OFF = "write_off", "Write-off"
    DISCOUNT = "discount", "Early-payment discount"
    REVERSAL = "reversal", "Reversal"


DEBIT_KINDS = frozenset(
    {DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE, DocumentKind.CHARGE, DocumentKind.REFUND}
)
CREDIT_KINDS = frozenset(
    {
        DocumentKind.CREDIT_NOTE,
        DocumentKind.PAYMENT,
        DocumentKind.WRITE_OFF,
        DocumentKind.DISCOUNT,
    }
)
# Kinds that make up credit sales in DSO and CEI: sales billed, less credits granted.
SALES_DEBIT_KINDS = frozenset({DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE})


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableDocumentError(self.model._meta.verbose_name_plural.capitalize())

    def delete(self):
        raise ImmutableDocumentError(self.model._meta.verbose_name_plural.capitalize())


class ImmutableModel(models.Model):
    """A row written once: later saves and deletes raise, and so do bulk updates."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableDocumentError(str(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableDocumentError(str(self))


class Document(ImmutableModel):
    """A posted receivables document: invoice, credit note, payment, write-off, ...

    `amount` is positive and in `currency`; `side` says whether it is owed by the
    customer (debit) or in their favour (credit). `amount_base` is the amount in the
    entity's base currency at the rate of the document date, which is stored with it.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="documents")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    side = models.CharField(max_length=1, choices=Side.choices)
    number = models.CharField(max_length=60)
    document_date = models.DateField()
    due_date = models.DateField(help_text="For credits and payments, the document date.")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    amount = MoneyField()
    tax_amount = MoneyField(default=Decimal("0"))
    amount_base = MoneyField()
    fx_rate = models.DecimalField(
        **RATE_DIGITS, help_text="Units of base currency for one unit of the document currency."
    )
    fx_rate_on = models.DateField(null=True, blank=True)
    payment_term = models.ForeignKey(
        PaymentTerm, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    discount_until = models.DateField(null=True, blank=True)
    reference = models.CharField(
        max_length=140,
        blank=True,
        help_text="Structured reference (RF creditor reference) or the payer's reference.",
    )
    description = models.CharField(max_length=500, blank=True)
    delivery_channel = models.CharField(max_length=20, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    related_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        help_text="The invoice a credit note corrects.",
    )
    source = models.CharField(max_length=20, default="manual")
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["document_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "kind", "number"], name="document_number_per_entity_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="document_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(side__in=["D", "C"]), name="document_side_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "side", "document_date"]),
            models.Index(fields=["entity", "side", "due_date"]),
            models.Index(fields=["customer", "side", "document_date"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class Allocation(ImmutableModel):
    """Part of a credit document applied to a debit document on a date.

    `amount` is in the debit document's currency and `credit_amount` in the credit
    document's; they differ only across currencies. A negative allocation undoes an
    earlier one (`reverses`) from its own date on, so past balances stay as they were.
    `fx_difference_base` is the realised exchange gain (+) or loss (−) in base currency.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="allocations")
    debit_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="debit_allocations"
    )
    credit_document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="credit_allocations"
    )
    allocated_on = models.DateField()
    amount = MoneyField()
    credit_amount = MoneyField()
    debit_amount_base = MoneyField()
    credit_amount_base = MoneyField()
    fx_difference_base = MoneyField(default=Decimal("0"))
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    note = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, default="manual")
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["allocated_on", "id"]
        indexes = [
            models.Index(fields=["debit_document", "allocated_on"]),
            models.Index(fields=["credit_document", "allocated_on"]),
            models.Index(fields=["entity", "allocated_on"]),
        ]

    def __str__(self):
        return f"allocation {self.pk}: {self.amount} to {self.debit_document_id}"
