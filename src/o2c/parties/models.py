import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from o2c.core import dates, money
from o2c.core.errors import O2CError
from o2c.core.fields import MoneyField


def validate_currency(value: str) -> None:
    try:
        money.check_currency(value)
    except O2CError as error:
        raise ValidationError(error.message, code=error.code) from None


def validate_time_zone(value: str) -> None:
    try:
        dates.check_time_zone(value)
    except O2CError as error:
        raise ValidationError(error.message, code=error.code) from None


class AmountPolicy(models.TextChoices):
    REJECT = "reject", "Reject amounts with more decimals than the currency has"
    ROUND = "round", "Round such amounts once, half-up"


class RoundingMode(models.TextChoices):
    HALF_UP = "half_up", "Half up"
    HALF_EVEN = "half_even", "Half even (banker's)"
    DOWN = "down", "Down (truncate)"


class TaxRoundingLevel(models.TextChoices):
    LINE = "line", "Per line: round each line's tax, then add the rounded amounts"
    DOCUMENT = "document", "Per document: add the rounded line nets per rate, then round the tax"


class CustomerTaxStatus(models.TextChoices):
    BUSINESS = "business", "Business (registered for tax)"
    CONSUMER = "consumer", "Consumer or unregistered buyer"
    EXEMPT = "exempt", "Exempt from tax (e.g. resale certificate, diplomatic)"


class PostalAddress(models.Model):
    """The postal address and tax identity printed on invoices and e-invoices."""

    street = models.CharField(max_length=200, blank=True)
    additional_street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    subdivision = models.CharField(
        max_length=6,
        blank=True,
        help_text="State, province or Indian state code (ISO 3166-2 suffix), e.g. ON, CA, KA. "
        "Canadian, Indian and US tax depend on it.",
    )
    electronic_address = models.CharField(
        max_length=100,
        blank=True,
        help_text="Peppol endpoint as 'scheme:identifier', e.g. 0208:0123456789; "
        "empty to use the billing e-mail address.",
    )

    class Meta:
        abstract = True


class LegalEntity(PostalAddress):
    """A company code: the seller that issues invoices and owns receivables."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code.")
    base_currency = models.CharField(max_length=3, validators=[validate_currency])
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    amount_policy = models.CharField(
        max_length=10,
        choices=AmountPolicy.choices,
        default=AmountPolicy.REJECT,
        help_text="What to do with input amounts that have more decimals than the currency.",
    )
    tax_rounding_mode = models.CharField(
        max_length=10, choices=RoundingMode.choices, default=RoundingMode.HALF_UP
    )
    tax_rounding_level = models.CharField(
        max_length=10,
        choices=TaxRoundingLevel.choices,
        default=TaxRoundingLevel.DOCUMENT,
        help_text="Where tax is rounded: on each line, or once per rate on the whole invoice.",
    )
    vat_number = models.CharField(
        max_length=40,
        blank=True,
        help_text="The seller's VAT, GST or sales tax registration number, with its "
        "country prefix for EU VAT numbers.",
    )
    email = models.EmailField(blank=True, help_text="Sender of invoices and reply address.")
    iban = models.CharField(
        max_length=34, blank=True, help_text="Account to which customers pay by transfer."
    )
    bic = models.CharField(max_length=11, blank=True)
    cash_rounding_increment = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Smallest amount a customer can pay in cash, e.g. 0.05 for CHF; empty for none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "legal entities"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def today(self) -> dt.date:
        """Return today's date in the entity's time zone."""
        return dates.local_date(self.time_zone)


class PaymentTerm(models.Model):
    """How an invoice's due date and early-payment discount follow from its date.

    Due date: with `end_of_month`, the last day of the month `months` after the invoice
    month, plus `days`; otherwise the invoice date plus `months` and `days`. The
    discount applies when the whole balance is paid within `discount_days` of the
    invoice date.
    """

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    days = models.PositiveSmallIntegerField(default=0)
    months = models.PositiveSmallIntegerField(default=0)
    end_of_month = models.BooleanField(default=False)
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    discount_days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.discount_percent and not self.discount_days:
            raise ValidationError({"discount_days": "A discount needs a number of days."})

    def due_date(self, invoice_date: dt.date) -> dt.date:
        if self.end_of_month:
            # End of month is applied last, after moving by whole months, so that
            # "1 month after end of month" from 10 February is 31 March, not 28 March.
            anchor = dates.end_of_month(dates.add_months(invoice_date.replace(day=1), self.months))
        else:
            anchor = dates.add_months(invoice_date, self.months)
        return anchor + dt.timedelta(days=self.days)

    def discount_date(self, invoice_date: dt.date) -> dt.date | None:
        if not self.discount_percent:
            return None
        return invoice_date + dt.timedelta(days=self.discount_days)


class Customer(PostalAddress):
    """A buyer of one legal entity, with its terms, limit and language."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="customers")
    number = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code.")
    region = models.CharField(max_length=40, blank=True)
    segment = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    payment_term = models.ForeignKey(
        PaymentTerm, on_delete=models.PROTECT, null=True, blank=True, related_name="customers"
    )
    credit_limit_amount = MoneyField(null=True, blank=True)
    credit_limit_currency = models.CharField(
        max_length=3, blank=True, validators=[validate_currency]
    )
    language = models.CharField(max_length=8, default="en")
    paperless_since = models.DateField(null=True, blank=True)
    tax_number = models.CharField(
        max_length=40,
        blank=True,
        help_text="The buyer's VAT or GST number; EU VAT numbers start with the country code.",
    )
    tax_status = models.CharField(
        max_length=10,
        choices=CustomerTaxStatus.choices,
        default=CustomerTaxStatus.BUSINESS,
        help_text="Decides reverse charge, exemption and which rates apply.",
    )
    is_blocked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "number"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "number"], name="customer_number_per_entity")
        ]

    def __str__(self):
        return f"{self.number} {self.name}"


class ContactRole(models.TextChoices):
    BILLING = "billing", "Billing"
    COLLECTIONS = "collections", "Collections"
    GENERAL = "general", "General"


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    role = models.CharField(max_length=20, choices=ContactRole.choices, default=ContactRole.BILLING)
    language = models.CharField(max_length=8, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["customer", "-is_primary", "name"]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class TimelineEvent(models.Model):
    """One line of a customer's activity timeline, shared by every team.

    Postings, imports, reminders, disputes and comments each add an event; events are
    never edited, so the timeline is also the audit trail of who did what and why.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=40)
    summary = models.CharField(max_length=500)
    document = models.ForeignKey(
        "ledger.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"])]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d} {self.kind}: {self.summary}"
