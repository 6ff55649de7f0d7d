"""Invoices and credit notes before and after posting, their tax lines and number series.

A draft can change; posting gives it the next number of its series, posts the ledger
document and freezes it. Saving or deleting a posted invoice, credit note or one of
their lines raises, so a correction is always a credit note.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from o2c.billing.errors import BillingError
from o2c.core.fields import MoneyField
from o2c.ledger.models import RATE_DIGITS, Document
from o2c.parties.models import Customer, LegalEntity, PaymentTerm, validate_currency

ZERO = Decimal("0")


class TaxRule(models.Model):
    """One published tax rate: a country (and state or province), a category, a date range.

    A sale can attract several rules at once (Canadian GST and a provincial sales tax);
    each becomes its own tax line. Rates are percentages.
    """

    country = models.CharField(max_length=2, help_text="ISO 3166 alpha-2 code.")
    subdivision = models.CharField(
        max_length=6, blank=True, help_text="State or province; empty for the whole country."
    )
    category = models.CharField(max_length=10)
    tax_name = models.CharField(max_length=40, help_text="As printed: VAT, GST, HST, QST, ...")
    rate_percent = models.DecimalField(max_digits=7, decimal_places=4)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Last day in force; empty: open.")

    class Meta:
        ordering = ["country", "subdivision", "category", "tax_name", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "subdivision", "category", "tax_name", "valid_from"],
                name="tax_rule_unique_start",
            )
        ]

    def __str__(self):
        where = f"{self.country}-{self.subdivision}" if self.subdivision else self.country
        return (
            f"{where} {self.category} {self.tax_name} {self.rate_percent}% from {self.valid_from}"
        )


class NumberSeries(models.Model):
    """The last number used per entity, kind of document and year.

    Posting locks this row, takes the next number and saves it in the same transaction
    as the posted document: a posting that fails rolls the number back with it, so the
    series has no gaps.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    prefix = models.CharField(max_length=10)
    last_number = models.PositiveIntegerField(default=0)
    last_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "kind", "year"], name="one_series_per_year")
        ]

    def __str__(self):
        return f"{self.entity.code} {self.kind} {self.year}: {self.last_number}"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"


class FrozenWhenPosted(models.Model):
    """A row that may change while its document is a draft and never after."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and self.is_frozen():
            raise BillingError(
                "posted_is_immutable",
                "{what} is posted and cannot be changed; issue a credit note instead.",
                what=str(self),
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_frozen():
            raise BillingError(
                "posted_is_immutable",
                "{what} is posted and cannot be deleted; issue a credit note instead.",
                what=str(self),
            )
        return super().delete(*args, **kwargs)

    def is_frozen(self) -> bool:
        raise NotImplementedError


class DraftOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes touch drafts only; any posted row in the set raises."""

    status_lookup = "status"

    def _check_drafts(self):
        if self.filter(**{self.status_lookup: Status.POSTED}).exists():
            raise BillingError(
                "posted_is_immutable",
                "Posted documents cannot be changed or deleted; issue a credit note instead.",
            )

    def update(self, **kwargs):
        self._check_drafts()
        return super().update(**kwargs)

    def delete(self):
        self._check_drafts()
        return super().delete()


class LineQuerySet(DraftOnlyQuerySet):
    status_lookup = "invoice__status"


class CreditLineQuerySet(DraftOnlyQuerySet):
    status_lookup = "credit_note__status"


class BillingDocument(FrozenWhenPosted):
    """Fields shared by invoices and credit notes."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=40, blank=True, help_text="Assigned at posting.")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    language = models.CharField(max_length=8, default="en")
    net_amount = MoneyField(default=ZERO)
    tax_amount = MoneyField(default=ZERO)
    rounding_amount = MoneyField(
        default=ZERO, help_text="Cash rounding added to reach the payable amount."
    )
    payable_amount = MoneyField(default=ZERO)
    tax_rounding_mode = models.CharField(max_length=10)
    tax_rounding_level = models.CharField(max_length=10)
    legal_mentions = models.JSONField(default=list, blank=True)
    # Filled at posting, from the ledger document.
    fx_rate = models.DecimalField(
        **RATE_DIGITS,
        null=True,
        blank=True,
        help_text="Units of the entity's base currency for one unit of the document currency.",
    )
    fx_rate_on = models.DateField(null=True, blank=True)
    payable_amount_base = MoneyField(null=True, blank=True)
    document = models.OneToOneField(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = DraftOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_frozen(self) -> bool:
        stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        return stored == Status.POSTED

    @property
    def is_posted(self) -> bool:
        return self.status == Status.POSTED


class Invoice(BillingDocument):
    """A sales invoice: draft lines and taxes until posted, then a frozen record."""

    invoice_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    payment_term = models.ForeignKey(
        PaymentTerm, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    buyer_reference = models.CharField(max_length=100, blank=True)
    order_reference = models.CharField(max_length=100, blank=True)
    creditor_reference = models.CharField(
        max_length=35, blank=True, help_text="ISO 11649 RF reference the customer quotes."
    )

    class Meta:
        ordering = ["-invoice_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "number"],
                condition=~models.Q(number=""),
                name="invoice_number_per_entity",
            )
        ]
        indexes = [models.Index(fields=["customer", "status", "invoice_date"])]

    def __str__(self):
        return f"Invoice {self.number or f'draft {self.pk}'}"


class InvoiceLine(FrozenWhenPosted):
    """One line: quantity × unit price less the line discount, rounded once to the currency."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    product_code = models.CharField(max_length=60, blank=True)
    unit = models.CharField(max_length=3, default="EA")
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    unit_price = MoneyField(help_text="Net of tax, in the invoice currency (up to 4 decimals).")
    discount_percent = models.DecimalField(max_digits=7, decimal_places=4, default=ZERO)
    net_amount = MoneyField()
    tax_category = models.CharField(max_length=10)
    tax_code = models.CharField(max_length=2, help_text="UNCL5305 category: S, Z, E, AE, G, ...")
    tax_rate_percent = models.DecimalField(
        max_digits=7, decimal_places=4, help_text="Sum of the rates of every component."
    )
    tax_components = models.JSONField(default=list)
    tax_amount = MoneyField(
        null=True, blank=True, help_text="Rounded tax of this line; only with per-line rounding."
    )
    net_amount_base = MoneyField(null=True, blank=True)
    source_reference = models.CharField(max_length=200, blank=True)

    objects = LineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position")
        ]

    def __str__(self):
        return f"line {self.position} of {self.invoice}"

    def is_frozen(self) -> bool:
        return Invoice.objects.filter(pk=self.invoice_id, status=Status.POSTED).exists()


class TaxLine(FrozenWhenPosted):
    """Tax of one component at one rate: taxable amount and tax, as printed."""

    tax_name = models.CharField(max_length=40)
    tax_code = models.CharField(max_length=2)
    rate_percent = models.DecimalField(max_digits=7, decimal_places=4)
    taxable_amount = MoneyField()
    tax_amount = MoneyField()
    exemption_reason_code = models.CharField(max_length=30, blank=True)
    exemption_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True


class InvoiceTax(TaxLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="taxes")

    objects = LineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "id"]

    def __str__(self):
        return f"{self.tax_name} {self.rate_percent}% of {self.invoice}"

    def is_frozen(self) -> bool:
        return Invoice.objects.filter(pk=self.invoice_id, status=Status.POSTED).exists()


class CreditNote(BillingDocument):
    """A correction of a posted invoice, in whole or in part, with its reason."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    credit_date = models.DateField()
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["-credit_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "number"],
                condition=~models.Q(number=""),
                name="credit_note_number_per_entity",
            )
        ]

    def __str__(self):
        return f"Credit note {self.number or f'draft {self.pk}'}"


class CreditNoteLine(FrozenWhenPosted):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=18, decimal_places=6)
    unit_price = MoneyField()
    net_amount = MoneyField()
    tax_amount = MoneyField(null=True, blank=True)

    objects = CreditLineQuerySet.as_manager()

    class Meta:
        ordering = ["credit_note", "position"]

    def __str__(self):
        return f"line {self.position} of {self.credit_note}"

    def is_frozen(self) -> bool:
        return CreditNote.objects.filter(pk=self.credit_note_id, status=Status.POSTED).exists()


class CreditNoteTax(TaxLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="taxes")

    objects = CreditLineQuerySet.as_manager()

    class Meta:
        ordering = ["credit_note", "id"]

    def __str__(self):
        return f"{self.tax_name} {self.rate_percent}% of {self.credit_note}"

    def is_frozen(self) -> bool:
        return CreditNote.objects.filter(pk=self.credit_note_id, status=Status.POSTED).exists()


class FileKind(models.TextChoices):
    PDF = "pdf", "PDF"
    UBL = "ubl", "Peppol BIS 3.0 UBL XML"
    FACTURX = "facturx", "Factur-X PDF/A-3"


class DocumentFile(models.Model):
    """A rendered file of a posted invoice or credit note, kept as first produced.

    Later downloads and e-mails serve these bytes, so the customer, the archive and the
    person on the phone all see the same document even after templates change.
    """

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="files"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="files"
    )
    kind = models.CharField(max_length=10, choices=FileKind.choices)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="one_file_per_invoice_kind"),
            models.UniqueConstraint(
                fields=["credit_note", "kind"], name="one_file_per_credit_note_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(invoice__isnull=True) ^ models.Q(credit_note__isnull=True),
                name="file_of_one_document",
            ),
        ]

    def __str__(self):
        return f"{self.kind} of {self.invoice or self.credit_note}"
