"""The result every statement parser returns, and the checks every statement gets.

Parsers only read: they turn a file into `ParsedStatement`s with signed lines, or
raise `ParseError` naming the file, record and field. The import service checks and
writes.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from o2c.imports.errors import RecordProblem

ZERO = Decimal("0")


class ParseError(Exception):
    """A file (or one record of it) that cannot be read as a bank statement."""

    def __init__(self, problems: list[RecordProblem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass
class ParsedLine:
    booking_date: dt.date
    amount: Decimal  # signed: money in is positive
    currency: str
    value_date: dt.date | None = None
    is_reversal: bool = False
    counterparty_name: str = ""
    counterparty_account: str = ""
    counterparty_bic: str = ""
    remittance_info: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""
    transaction_code: str = ""
    entry_reference: str = ""
    original_amount: Decimal | None = None
    original_currency: str = ""
    charges_amount: Decimal | None = None
    source_line: int = 0

    def identity(self) -> str:
        """Return what identifies the booking, whichever statement carries it.

        A bank reference unique to the booking is the best key. Without one, the
        booking's dates, amount, counterparty and text stand for it; the import adds
        an occurrence number for identical bookings within one statement.
        """
        parts = [
            self.booking_date.isoformat(),
            (self.value_date or self.booking_date).isoformat(),
            f"{self.amount:f}",
            self.currency,
            self.bank_reference.strip(),
            self.end_to_end_id.strip(),
            self.counterparty_account.replace(" ", "").upper(),
            " ".join(self.remittance_info.split()).upper(),
            " ".join(self.counterparty_name.split()).upper(),
            self.structured_reference.strip(),
            self.transaction_code.strip(),
        ]
        return "|".join(parts)


# Formats whose statements are final unless the file marks them interim.
FINAL_FORMATS = {"mt940", "camt053"}


@dataclass
class ParsedStatement:
    """One statement of one account and currency, as the file states it.

    `expected_*` are the file's own control figures (MT942 :90D:/:90C:, BAI2 totals,
    camt.054 batch sums) used when a statement carries no opening and closing balance.
    """

    format: str
    account: str
    currency: str
    statement_id: str
    lines: list[ParsedLine] = field(default_factory=list)
    sequence: str = ""
    period_from: dt.date | None = None
    period_to: dt.date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    expected_debits: tuple[int, Decimal] | None = None
    expected_credits: tuple[int, Decimal] | None = None
    control_total: Decimal | None = None
    control_note: str = ""
    source_line: int = 0
    account_iban: str = ""
    account_bic: str = ""
    bank_name: str = ""
    problems: list[RecordProblem] = field(default_factory=list)
    # False when the file names no currency for the account and `currency` is the one
    # its amounts are in (camt without Acct/Ccy).
    currency_stated: bool = True
    # Set by the import's check: (balance check, difference, note).
    balance_outcome: tuple | None = None
    # True when the file marks the statement final, False when it marks it interim, None
    # when the format decides (see `is_final`).
    final: bool | None = None

    @property
    def is_final(self) -> bool:
        """Whether this is a final statement: marked so, or MT940 or camt.053 unmarked."""
        if self.final is not None:
            return self.final
        return self.format in FINAL_FORMATS

    def fingerprint(self) -> str:
        """Return a digest of the statement's identity and content.

        The same statement sent twice has the same digest; a corrected statement with
        the same reference but other lines has another, and its lines are then
        compared one by one.
        """
        digest = hashlib.sha256()
        header = [
            self.format,
            self.account,
            self.currency,
            self.statement_id,
            self.sequence,
            str(self.period_from),
            str(self.period_to),
            str(self.opening_balance),
            str(self.closing_balance),
        ]
        digest.update("|".join(header).encode())
        for line in self.lines:
            digest.update(line.identity().encode())
        return digest.hexdigest()

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def check_balances(statement: ParsedStatement) -> tuple[str, Decimal | None, str]:
    """Return (balance check, difference, note) from the statement's own figures.

    Opening balance plus the signed lines must give the closing balance; without
    both balances, the file's control totals are compared instead; without either
    the statement is unchecked.
    """
    if statement.opening_balance is not None and statement.closing_balance is not None:
        difference = statement.closing_balance - statement.opening_balance - statement.lines_total
        if difference == ZERO:
            return "balanced", ZERO, ""
        return (
            "mismatch",
            difference,
            f"opening {statement.opening_balance} + lines {statement.lines_total} = "
            f"{statement.opening_balance + statement.lines_total}, but the closing balance is "
            f"{statement.closing_balance} (difference {difference})",
        )
    notes = []
    checked = False
    if statement.expected_debits is not None or statement.expected_credits is not None:
        checked = True
        debits = [-line.amount for line in statement.lines if line.amount < ZERO]
        credits = [line.amount for line in statement.lines if line.amount > ZERO]
        for label, expected, found in (
            ("debit", statement.expected_debits, debits),
            ("credit", statement.expected_credits, credits),
        ):
            if expected is None:
                continue
            count, total = expected
            if count != len(found) or total != sum(found, ZERO):
                notes.append(
                    f"the file states {count} {label}(s) of {total} in total, the lines "
                    f"hold {len(found)} of {sum(found, ZERO)}"
                )
    if statement.control_total is not None:
        checked = True
        if statement.control_note:
            notes.append(statement.control_note)
    if checked:
        if notes:
            return "mismatch", None, "; ".join(notes)
        return "control_totals", None, ""
    return "unchecked", None, "the statement carries no balances or control totals"
