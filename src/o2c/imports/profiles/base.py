"""The neutral shape every receivables profile produces, and field parsing helpers."""

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from o2c.imports.errors import RecordProblem


@dataclass(frozen=True)
class EntitySpec:
    """How to create an entity a file refers to, when it does not exist yet."""

    code: str
    name: str
    base_currency: str
    time_zone: str
    country: str = ""


@dataclass(frozen=True)
class TermSpec:
    code: str
    name: str
    days: int = 0
    months: int = 0
    end_of_month: bool = False
    discount_percent: Decimal = Decimal("0")
    discount_days: int = 0


@dataclass(slots=True)
class ReceivableRow:
    """One invoice of a history, with its settlement if it was paid.

    `paid_on` empty means the invoice is still open; `paid_amount` empty with a
    `paid_on` means it was paid in full on that day.
    """

    line: int
    customer_number: str
    customer_name: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    currency: str
    paid_on: dt.date | None = None
    paid_amount: Decimal | None = None
    disputed: bool = False
    entity_code: str = ""
    country: str = ""
    region: str = ""
    segment: str = ""
    language: str = ""
    delivery_channel: str = ""
    paperless_since: dt.date | None = None
    payment_term: str = ""
    description: str = ""


class Profile:
    """Reads one kind of file. Subclasses set the class attributes and `rows`."""

    name: str = ""
    # True when the file has no issue dates and the profile derives them from the due
    # and payment dates: such dates reveal the payment and must not feed predictions.
    invoice_dates_derived: bool = False
    entities: dict[str, EntitySpec] = {}
    default_entity: str = ""
    terms: dict[str, TermSpec] = {}

    def rows(self, path: Path) -> Iterator[ReceivableRow | RecordProblem]:
        raise NotImplementedError


@dataclass
class FieldReader:
    """Parses the fields of one record, collecting a problem per bad field."""

    file: str
    line: int
    problems: list[RecordProblem] = field(default_factory=list)

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append(RecordProblem(self.file, self.line, field_name, message))

    def text(self, field_name: str, value: str | None, required: bool = True) -> str:
        value = (value or "").strip()
        if required and not value:
            self.problem(field_name, "is empty")
        return value

    def date(self, field_name: str, value: str | None, fmt: str, required: bool = True):
        value = (value or "").strip()
        if not value:
            if required:
                self.problem(field_name, "is empty")
            return None
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            self.problem(field_name, f"{value!r} is not a date in the form {fmt}")
            return None

    def decimal(
        self, field_name: str, value: str | None, decimal_separator: str = ".", required=True
    ) -> Decimal | None:
        value = (value or "").strip().replace(" ", "")
        if not value:
            if required:
                self.problem(field_name, "is empty")
            return None
        if decimal_separator != ".":
            value = value.replace(".", "").replace(decimal_separator, ".")
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.problem(field_name, f"{value!r} is not a number")
            return None
        if not number.is_finite():
            self.problem(field_name, f"{value!r} is not a number")
            return None
        return number

    def choice(self, field_name: str, value: str | None, choices: dict[str, object]):
        key = (value or "").strip()
        if key not in choices:
            allowed = ", ".join(repr(option) for option in choices)
            self.problem(field_name, f"{key!r} is not one of {allowed}")
            return None
        return choices[key]


def read_csv_records(
    path: Path, encoding: str = "utf-8-sig", delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, record) pairs; the header is line 1."""
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        for record in reader:
            yield reader.line_num, record


def missing_columns(
    path: Path, required: list[str], encoding="utf-8-sig", delimiter=","
) -> list[str]:
    with path.open(newline="", encoding=encoding) as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    present = {name.strip() for name in header}
    return [name for name in required if name not in present]
