"""The neutral shape every receivables profile produces, and field parsing helpers."""

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from o2c.core import money
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

    # The file's column for each ReceivableRow field read from a column, so that
    # problems found after reading name the column a person sees in the file.
    columns: dict[str, str] = {}

    def rows(self, path: Path) -> Iterator[ReceivableRow | RecordProblem]:
        raise NotImplementedError

    def column_for(self, field_name: str) -> str:
        """Return the file's column of a ReceivableRow field, or the field name itself."""
        return self.columns.get(field_name, field_name)


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
            return money.parse_plain_number(value)
        except money.MoneyError as error:
            self.problem(field_name, error.message)
            return None

    def choice(self, field_name: str, value: str | None, choices: dict[str, object]):
        key = (value or "").strip()
        if key not in choices:
            allowed = ", ".join(repr(option) for option in choices)
            self.problem(field_name, f"{key!r} is not one of {allowed}")
            return None
        return choices[key]


def read_csv_records(
    path: Path, encoding: str = "utf-8-sig", delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str]] | RecordProblem]:
    """Yield (line number, record) pairs, or a problem for a record that cannot be read.

    The header is line 1, and a record's line is the line it starts on. A record with
    more or fewer fields than the header is a problem, because its values cannot be
    matched to columns. Blank lines are skipped. A byte the encoding cannot decode, or
    text the csv module cannot split, ends the file with a `whole_file` problem.
    """
    end_of_previous = 0
    try:
        with path.open(newline="", encoding=encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return
            end_of_previous = reader.line_num
            for values in reader:
                line = end_of_previous + 1
                end_of_previous = reader.line_num
                if not values:
                    continue
                if len(values) != len(header):
                    yield RecordProblem(
                        path.name,
                        line,
                        "row",
                        f"{len(values)} fields, the header has {len(header)}",
                    )
                    continue
                yield line, dict(zip(header, values, strict=True))
    except UnicodeDecodeError as error:
        yield decoding_problem(path, encoding, error)
    except csv.Error as error:
        line = end_of_previous + 1
        yield RecordProblem(
            path.name, line, "file", f"not readable as CSV ({error})", whole_file=True
        )


def header_problem(
    path: Path, required: list[str], encoding: str = "utf-8-sig", delimiter: str = ","
) -> RecordProblem | None:
    """Return the problem with the file's header (a missing column, bad bytes), or None."""
    try:
        with path.open(newline="", encoding=encoding) as handle:
            header = next(csv.reader(handle, delimiter=delimiter), [])
    except UnicodeDecodeError as error:
        return decoding_problem(path, encoding, error)
    present = {name.strip() for name in header}
    absent = [name for name in required if name not in present]
    if absent:
        return RecordProblem(path.name, 1, ", ".join(absent), "column missing from the header")
    return None


def decoding_problem(path: Path, encoding: str, error: UnicodeDecodeError) -> RecordProblem:
    """Return a problem naming the line of the first byte that `encoding` cannot decode.

    The decoder reads ahead in blocks, so the error's own position is not the line's.
    The file is decoded once more, whole, to find the byte. Lines are counted as
    newline bytes, which is right for UTF-8 and single-byte encodings but not UTF-16.
    """
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as whole:
        error = whole
        line = data.count(b"\n", 0, whole.start) + 1
    else:
        line = 1
    bad = error.object[error.start : error.end].hex(" ")
    return RecordProblem(
        path.name,
        line,
        "encoding",
        f"byte(s) {bad} are not valid {encoding} ({error.reason}); save the file as {encoding}",
        whole_file=True,
    )
