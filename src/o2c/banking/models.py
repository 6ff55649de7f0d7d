"""Bank accounts of the entities, the statements their banks send, and statement lines.

A statement line is what the bank booked; it is never edited after import. What cash
application decides about a line (matched, on account, returned, ...) lives in the
line's `state` and in the cash application records, never in the bank's data.
"""

from django.core.exceptions import ValidationError
from django.db import models

from o2c.core import money
from o2c.core.fields import MoneyField
from o2c.parties.models import LegalEntity, validate_currency


def validate_iban(value: str) -> None:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(value)
    except SchwiftyException as error:
        raise ValidationError(
            f"{value!r} is not a valid IBAN: {error}", code="invalid_iban"
        ) from None


class BankAccount(models.Model):
    """An account of an entity at a bank, in one currency.

    `identifier` is how statements name the account: the IBAN when there is one,
    otherwise the bank's own account number (MT940 :25:, BAI2 03 record). A
    multi-currency account has one row per currency under the same identifier.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="bank_accounts")
    name = models.CharField(max_length=100)
    identifier = models.CharField(max_length=60, help_text="IBAN or the bank's account number.")
    iban = models.CharField(max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(max_length=11, blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    bank_code = models.CharField(
        max_length=20,
        blank=True,
        help_text="Domestic clearing code where there is no IBAN: US routing number, UK sort "
        "code, Japanese bank and branch code.",
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    csv_mapping = models.ForeignKey(
        "CsvMapping",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        help_text="Column mapping used for this bank's CSV exports.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "identifier", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["identifier", "currency"], name="bank_account_identifier_currency"
            )
        ]

    def __str__(self):
        return f"{self.name} {self.identifier} {self.currency}"


class CsvMapping(models.Model):
    """How to read one bank's CSV export: which column holds what, and in which format.

    `columns` maps o2c's field names to the file's column headers: booking_date,
    value_date, amount (signed) or credit and debit, currency, counterparty_name,
    counterparty_account, remittance (a list of columns joined), reference,
    bank_reference, fee, balance (a running balance, used to check the file) and
    status. `accepted_statuses` keeps only rows whose status column has one of these
    values (e.g. PayPal's "Completed").
    """

    name = models.CharField(max_length=60, unique=True)
    delimiter = models.CharField(max_length=1, default=",")
    encoding = models.CharField(max_length=20, default="utf-8-sig")
    date_format = models.CharField(max_length=20, default="%Y-%m-%d")
    decimal_separator = models.CharField(max_length=1, default=".")
    thousands_separator = models.CharField(max_length=1, blank=True)
    columns = models.JSONField(default=dict)
    accepted_statuses = models.JSONField(default=list, blank=True)
    amount_is_net_of_fee = models.BooleanField(
        default=False,
        help_text="The amount column already has the fee taken off (the money that arrived).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class StatementFormat(models.TextChoices):
    MT940 = "mt940", "SWIFT MT940"
    MT942 = "mt942", "SWIFT MT942 (interim)"
    CAMT052 = "camt052", "ISO 20022 camt.052 (intraday report)"
    CAMT053 = "camt053", "ISO 20022 camt.053 (statement)"
    CAMT054 = "camt054", "ISO 20022 camt.054 (notification)"
    BAI2 = "bai2", "BAI2"
    CSV = "csv", "CSV"


class BalanceCheck(models.TextChoices):
    BALANCED = "balanced", "Opening balance plus lines equals closing balance"
    CONTROL_TOTALS = "control_totals", "Control totals of the file agree with its lines"
    MISMATCH = "mismatch", "Does not add up (accepted by a person)"
    UNCHECKED = "unchecked", "Carries no balances to check against"


class Statement(models.Model):
    """One statement (or interim report, or notification) of one account."""

    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, related_name="statements"
    )
    format = models.CharField(max_length=10, choices=StatementFormat.choices)
    statement_id = models.CharField(max_length=140, help_text="The bank's statement reference.")
    sequence = models.CharField(max_length=40, blank=True)
    final = models.BooleanField(
        default=False,
        help_text="A final statement, not an interim report that may still grow.",
    )
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    opening_balance = MoneyField(null=True, blank=True)
    closing_balance = MoneyField(null=True, blank=True)
    balance_check = models.CharField(max_length=20, choices=BalanceCheck.choices)
    balance_difference = MoneyField(
        null=True, blank=True, help_text="Closing balance less opening balance and lines."
    )
    check_note = models.CharField(max_length=300, blank=True)
    fingerprint = models.CharField(max_length=64)
    line_count = models.PositiveIntegerField(default=0)
    duplicate_line_count = models.PositiveIntegerField(
        default=0, help_text="Lines already imported from an earlier, overlapping statement."
    )
    file_name = models.CharField(max_length=255)
    import_run = models.ForeignKey(
        "imports.ImportRun", on_delete=models.PROTECT, related_name="+", null=True
    )
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_to", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "fingerprint"], name="statement_once_per_account"
            )
        ]

    def __str__(self):
        return f"Statement {self.statement_id} of {self.bank_account.identifier}"


class LineState(models.TextChoices):
    NEW = "new", "Not matched yet"
    MATCHED = "matched", "Applied to open items"
    ON_ACCOUNT = "on_account", "Put on the customer's account"
    EXCEPTION = "exception", "Waiting for a person"
    REFUNDED = "refunded", "Refunded to the customer"
    RETURNED = "returned", "Returned to the payer"
    REVERSED = "reversed", "Reversed by the bank"
    IGNORED = "ignored", "Not a receipt (outgoing or internal)"


OPEN_LINE_STATES = (LineState.NEW, LineState.EXCEPTION)


class StatementLine(models.Model):
    """One booked transaction: a credit (money in) is positive, a debit negative.

    A reversal mark (MT940 RC/RD, camt RvslInd) turns the sign as the bank meant it:
    a reversed credit takes money out. `fingerprint` identifies the transaction across
    overlapping statements, so the same booking is never imported twice.
    """

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines")
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(help_text="Order of the line within its statement.")
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    original_amount = MoneyField(
        null=True, blank=True, help_text="Amount instructed by the payer, before conversion."
    )
    original_currency = models.CharField(max_length=3, blank=True)
    charges_amount = MoneyField(
        null=True, blank=True, help_text="Bank charges the bank reports as taken off."
    )
    is_reversal = models.BooleanField(default=False)
    counterparty_name = models.CharField(max_length=140, blank=True)
    counterparty_account = models.CharField(max_length=60, blank=True)
    counterparty_bic = models.CharField(max_length=11, blank=True)
    remittance_info = models.TextField(blank=True)
    structured_reference = models.CharField(max_length=140, blank=True)
    end_to_end_id = models.CharField(max_length=140, blank=True)
    bank_reference = models.CharField(max_length=140, blank=True)
    transaction_code = models.CharField(max_length=40, blank=True)
    entry_reference = models.CharField(
        max_length=140, blank=True, help_text="The booking this line belongs to, for batches."
    )
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=LineState.choices, default=LineState.NEW)
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["booking_date", "statement_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "fingerprint"], name="statement_line_once_per_account"
            )
        ]
        indexes = [
            models.Index(fields=["entity", "state", "booking_date"]),
            models.Index(fields=["bank_account", "booking_date"]),
        ]

    def __str__(self):
        return f"{self.booking_date} {self.amount} {self.currency} {self.counterparty_name}"

    @property
    def shown_amount(self):
        """Return the amount at its currency's decimals, for messages."""
        return money.round_amount(self.amount, self.currency)

    @property
    def text(self) -> str:
        """Return every free text of the line, for reading references out of it."""
        parts = [
            self.structured_reference,
            self.remittance_info,
            self.end_to_end_id if self.end_to_end_id.upper() != "NOTPROVIDED" else "",
        ]
        return "\n".join(part for part in parts if part)
