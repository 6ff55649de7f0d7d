"""A receivables history in any CSV layout, described by a TOML column mapping file.

Example mapping (every key under [columns] names a column of the CSV file):

    [file]
    delimiter = ","
    encoding = "utf-8"
    date_format = "%Y-%m-%d"
    decimal_separator = "."

    [columns]
    customer_number = "Customer"
    invoice_number = "Invoice"
    invoice_date = "Date"
    due_date = "Due"
    amount = "Amount"
    # optional: entity, customer_name, currency, paid_on, paid_amount, disputed,
    # country, region, segment, language, delivery_channel, payment_term, description

    [defaults]            # values for columns the file does not have
    currency = "EUR"
    entity = "DE01"

    [true_values]         # what counts as "yes" in the disputed column
    disputed = ["Yes", "Y", "1", "true"]

    [entities.DE01]       # entities to create when they do not exist yet
    name = "Example GmbH"
    base_currency = "EUR"
    time_zone = "Europe/Berlin"
    country = "DE"

    [payment_terms.NET30] # payment terms to create when they do not exist yet
    name = "Net 30 days"
    days = 30
"""

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from o2c.imports.errors import ProfileError, RecordProblem
from o2c.imports.profiles.base import (
    EntitySpec,
    FieldReader,
    Profile,
    ReceivableRow,
    TermSpec,
    header_problem,
    read_csv_records,
)

REQUIRED_FIELDS = ["customer_number", "invoice_number", "invoice_date", "due_date", "amount"]
OPTIONAL_FIELDS = [
    "entity",
    "customer_name",
    "currency",
    "paid_on",
    "paid_amount",
    "disputed",
    "country",
    "region",
    "segment",
    "language",
    "delivery_channel",
    "payment_term",
    "description",
]
DEFAULT_TRUE_VALUES = ["yes", "y", "1", "true"]


class GenericProfile(Profile):
    name = "generic"

    def __init__(self, mapping: dict, source: str = "mapping"):
        self.source = source
        file_options = mapping.get("file", {})
        self.delimiter = file_options.get("delimiter", ",")
        self.encoding = file_options.get("encoding", "utf-8-sig")
        self.date_format = file_options.get("date_format", "%Y-%m-%d")
        self.decimal_separator = file_options.get("decimal_separator", ".")
        self.columns: dict[str, str] = mapping.get("columns", {})
        self.defaults: dict[str, str] = mapping.get("defaults", {})
        true_values = mapping.get("true_values", {}).get("disputed", DEFAULT_TRUE_VALUES)
        self.true_values = {value.strip().lower() for value in true_values}
        self._check_columns()
        self.entities = {
            code: _entity_spec(source, code, spec)
            for code, spec in mapping.get("entities", {}).items()
        }
        self.default_entity = self.defaults.get("entity", "")
        self.terms = {
            code: _term_spec(source, code, spec)
            for code, spec in mapping.get("payment_terms", {}).items()
        }

    @classmethod
    def from_file(cls, path: Path) -> "GenericProfile":
        try:
            with path.open("rb") as handle:
                mapping = tomllib.load(handle)
        except FileNotFoundError:
            raise ProfileError(
                "mapping_missing", "Mapping file {file} not found.", file=path
            ) from None
        except tomllib.TOMLDecodeError as error:
            raise ProfileError(
                "mapping_invalid",
                "Mapping file {file} is not valid TOML: {error}",
                file=path.name,
                error=error,
            ) from None
        return cls(mapping, source=path.name)

    def _check_columns(self) -> None:
        unknown = sorted(set(self.columns) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
        if unknown:
            raise ProfileError(
                "mapping_unknown_field",
                "{file}: [columns] names unknown field(s) {fields}; the fields are: {known}.",
                file=self.source,
                fields=", ".join(unknown),
                known=", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS),
            )
        missing = [name for name in REQUIRED_FIELDS if name not in self.columns]
        if "currency" not in self.columns and "currency" not in self.defaults:
            missing.append("currency")
        if missing:
            raise ProfileError(
                "mapping_incomplete",
                "{file}: [columns] must name a column for {fields}.",
                file=self.source,
                fields=", ".join(missing),
            )

    def rows(self, path: Path) -> Iterator[ReceivableRow | RecordProblem]:
        problem = header_problem(path, list(self.columns.values()), self.encoding, self.delimiter)
        if problem is not None:
            yield problem
            return
        for item in read_csv_records(path, self.encoding, self.delimiter):
            if isinstance(item, RecordProblem):
                yield item
                continue
            line, record = item
            reader = FieldReader(path.name, line)
            row = self._row(reader, line, record)
            if reader.problems:
                yield from reader.problems
            else:
                yield row

    def _value(self, record: dict, field_name: str) -> str:
        column = self.columns.get(field_name)
        if column is not None:
            return (record.get(column) or "").strip()
        return str(self.defaults.get(field_name, "")).strip()

    def _row(self, reader: FieldReader, line: int, record: dict) -> ReceivableRow:
        def label(field_name: str) -> str:
            return self.columns.get(field_name, field_name)

        paid_amount_text = self._value(record, "paid_amount")
        disputed_text = self._value(record, "disputed").lower()
        customer_number = reader.text(
            label("customer_number"), self._value(record, "customer_number")
        )
        return ReceivableRow(
            line=line,
            entity_code=self._value(record, "entity"),
            customer_number=customer_number,
            customer_name=self._value(record, "customer_name") or customer_number,
            invoice_number=reader.text(
                label("invoice_number"), self._value(record, "invoice_number")
            ),
            invoice_date=reader.date(
                label("invoice_date"), self._value(record, "invoice_date"), self.date_format
            ),
            due_date=reader.date(
                label("due_date"), self._value(record, "due_date"), self.date_format
            ),
            amount=reader.decimal(
                label("amount"), self._value(record, "amount"), self.decimal_separator
            ),
            currency=reader.text(label("currency"), self._value(record, "currency")).upper(),
            paid_on=reader.date(
                label("paid_on"), self._value(record, "paid_on"), self.date_format, required=False
            ),
            paid_amount=reader.decimal(
                label("paid_amount"), paid_amount_text, self.decimal_separator, required=False
            )
            if paid_amount_text
            else None,
            disputed=disputed_text in self.true_values,
            country=self._value(record, "country").upper(),
            region=self._value(record, "region"),
            segment=self._value(record, "segment"),
            language=self._value(record, "language").lower(),
            delivery_channel=self._value(record, "delivery_channel").lower(),
            payment_term=self._value(record, "payment_term"),
            description=self._value(record, "description"),
        )


def _entity_spec(source: str, code: str, spec: dict) -> EntitySpec:
    try:
        return EntitySpec(
            code=code,
            name=spec.get("name", code),
            base_currency=spec["base_currency"],
            time_zone=spec["time_zone"],
            country=spec.get("country", ""),
        )
    except KeyError as error:
        raise ProfileError(
            "mapping_entity_incomplete",
            "{file}: [entities.{code}] needs {key}.",
            file=source,
            code=code,
            key=error.args[0],
        ) from None


def _term_spec(source: str, code: str, spec: dict) -> TermSpec:
    allowed = {"name", "days", "months", "end_of_month", "discount_percent", "discount_days"}
    unknown = set(spec) - allowed
    if unknown:
        raise ProfileError(
            "mapping_term_invalid",
            "{file}: [payment_terms.{code}] has unknown key(s) {keys}.",
            file=source,
            code=code,
            keys=", ".join(sorted(unknown)),
        )
    return TermSpec(
        code=code,
        name=spec.get("name", code),
        days=int(spec.get("days", 0)),
        months=int(spec.get("months", 0)),
        end_of_month=bool(spec.get("end_of_month", False)),
        discount_percent=Decimal(str(spec.get("discount_percent", "0"))),
        discount_days=int(spec.get("discount_days", 0)),
    )
