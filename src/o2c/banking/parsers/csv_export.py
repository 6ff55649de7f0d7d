"""CSV exports of banks and payment services, read through a saved column mapping.

A CSV export names no account, so the import must be given the account it belongs to.
Rows in several currencies (a multi-currency wallet such as PayPal) become one
statement per currency. When the mapping names a running-balance column, each row's
balance must equal the previous balance plus the row's amount; the first balance less
its amount is the opening balance and the last balance the closing one.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from o2c.banking.parsers.base import ParsedLine, ParsedStatement, ParseError
from o2c.core import money
from o2c.imports.errors import RecordProblem

ZERO = Decimal("0")


@dataclass
class Mapping:
    """The reading rules of one bank's CSV export (see `CsvMapping`)."""

    name: str
    columns: dict
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""
    accepted_statuses: list[str] = field(default_factory=list)
    amount_is_net_of_fee: bool = False

    @classmethod
    def from_model(cls, model) -> "Mapping":
        return cls(
            name=model.name,
            columns=dict(model.columns),
            delimiter=model.delimiter,
            encoding=model.encoding,
            date_format=model.date_format,
            decimal_separator=model.decimal_separator,
            thousands_separator=model.thousands_separator,
            accepted_statuses=list(model.accepted_statuses or []),
            amount_is_net_of_fee=model.amount_is_net_of_fee,
        )


def parse(
    data: bytes, file_name: str, mapping: Mapping, account: str, default_currency: str
) -> list[ParsedStatement]:
    try:
        text = data.decode(mapping.encoding)
    except LookupError as error:
        raise ParseError(
            [RecordProblem(file_name, 1, "encoding", f"mapping {mapping.name!r}: {error}")]
        ) from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.end].hex(" ")
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    line,
                    "encoding",
                    f"byte(s) {bad} are not valid {mapping.encoding} ({error.reason}); save "
                    f"the file as {mapping.encoding} or change the mapping's encoding",
                )
            ]
        ) from None
    try:
        return _parse_text(text, file_name, mapping, account, default_currency)
    except csv.Error as error:
        raise ParseError(
            [RecordProblem(file_name, 1, "file", f"not readable as CSV ({error})")]
        ) from None


def _records(reader, header: list[str], file_name: str, problems: list[RecordProblem]):
    """Yield (line, record) for each row of the reader, which has read the header.

    A record's line is the line it starts on. A row with another number of fields
    than the header goes to `problems`, because its values cannot be matched to
    columns. Blank lines are skipped.
    """
    end_of_previous = reader.line_num
    for values in reader:
        line = end_of_previous + 1
        end_of_previous = reader.line_num
        if not values:
            continue
        if len(values) != len(header):
            problems.append(
                RecordProblem(
                    file_name, line, "row", f"{len(values)} fields, the header has {len(header)}"
                )
            )
            continue
        yield line, dict(zip(header, values, strict=True))


def _parse_text(text, file_name, mapping: Mapping, account, default_currency):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    header = [name.strip() for name in next(reader, [])]
    missing = _missing_columns(mapping, header)
    if missing:
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    1,
                    ", ".join(missing),
                    f"column missing from the header (mapping {mapping.name!r} expects it)",
                )
            ]
        )
    problems: list[RecordProblem] = []
    rows_by_currency: dict[str, list[tuple[ParsedLine, Decimal | None]]] = {}
    for line_number, record in _records(reader, header, file_name, problems):
        row = _row(record, line_number, file_name, mapping, default_currency, problems)
        if row is not None:
            rows_by_currency.setdefault(row[0].currency, []).append(row)
    if problems:
        raise ParseError(problems)
    statements = []
    for currency, rows in rows_by_currency.items():
        statements.append(_statement(rows, currency, account, file_name, mapping))
    if not statements:
        raise ParseError(
            [RecordProblem(file_name, 2, "rows", "the file contains no row to import")]
        )
    return statements


def _missing_columns(mapping: Mapping, header: list[str]) -> list[str]:
    wanted = []
    for key, value in mapping.columns.items():
        if key == "remittance":
            wanted.extend(value if isinstance(value, list) else [value])
        elif value:
            wanted.append(value)
    return [name for name in wanted if name not in header]


def _column(record: dict, mapping: Mapping, key: str) -> str:
    name = mapping.columns.get(key)
    if not name:
        return ""
    return (record.get(name) or "").strip()


def _decimal(text: str, mapping: Mapping) -> Decimal:
    cleaned = text.replace(" ", "")
    if mapping.thousands_separator:
        cleaned = cleaned.replace(mapping.thousands_separator, "")
    if mapping.decimal_separator != ".":
        cleaned = cleaned.replace(mapping.decimal_separator, ".")
    return money.parse_plain_number(cleaned)


def _row(record, line_number, file_name, mapping: Mapping, default_currency, problems):
    def problem(field_name: str, message: str) -> None:
        problems.append(RecordProblem(file_name, line_number, field_name, message))

    status = _column(record, mapping, "status")
    if mapping.accepted_statuses and status not in mapping.accepted_statuses:
        return None
    currency = _column(record, mapping, "currency") or default_currency
    try:
        currency = money.check_currency(currency)
    except money.MoneyError as error:
        problem(mapping.columns.get("currency") or "currency", error.message)
        return None
    try:
        booking_text = _column(record, mapping, "booking_date")
        booking_date = dt.datetime.strptime(booking_text, mapping.date_format).date()  # noqa: DTZ007
    except ValueError:
        problem(
            mapping.columns["booking_date"],
            f"{_column(record, mapping, 'booking_date')!r} is not a date in the form "
            f"{mapping.date_format}",
        )
        return None
    value_text = _column(record, mapping, "value_date")
    value_date = None
    if value_text:
        try:
            value_date = dt.datetime.strptime(value_text, mapping.date_format).date()  # noqa: DTZ007
        except ValueError:
            problem(mapping.columns["value_date"], f"{value_text!r} is not a date")
            return None
    amounts = {}
    for key in ("amount", "credit", "debit", "fee", "balance"):
        text = _column(record, mapping, key)
        if not text:
            continue
        try:
            amounts[key] = _decimal(text, mapping)
        except money.MoneyError as error:
            problem(mapping.columns[key], error.message)
            return None
    if "amount" in amounts:
        amount = amounts["amount"]
    elif "credit" in amounts or "debit" in amounts:
        amount = amounts.get("credit", ZERO) - abs(amounts.get("debit", ZERO))
    else:
        problem(mapping.columns.get("amount") or "amount", "amount missing")
        return None
    if amount != money.round_amount(amount, currency):
        problem(
            mapping.columns.get("amount") or "amount",
            f"{amount} has more decimals than {currency} allows",
        )
        return None
    remittance_columns = mapping.columns.get("remittance") or []
    if isinstance(remittance_columns, str):
        remittance_columns = [remittance_columns]
    remittance = " ".join(
        (record.get(name) or "").strip()
        for name in remittance_columns
        if (record.get(name) or "").strip()
    )
    fee = amounts.get("fee")
    line = ParsedLine(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=_column(record, mapping, "counterparty_name")[:140],
        counterparty_account=_column(record, mapping, "counterparty_account").replace(" ", "")[:60],
        remittance_info=remittance,
        structured_reference=_column(record, mapping, "reference")[:140],
        bank_reference=_column(record, mapping, "bank_reference")[:140],
        transaction_code=_column(record, mapping, "transaction_code")[:40],
        charges_amount=abs(fee) if fee else None,
        source_line=line_number,
    )
    return line, amounts.get("balance")


def _statement(rows, currency, account, file_name, mapping) -> ParsedStatement:
    lines = [line for line, _ in rows]
    statement = ParsedStatement(
        format="csv",
        account=account,
        currency=currency,
        statement_id=f"{file_name} {currency}",
        lines=lines,
        period_from=min(line.booking_date for line in lines),
        period_to=max(line.booking_date for line in lines),
        source_line=lines[0].source_line,
    )
    balances = [balance for _, balance in rows]
    if all(balance is not None for balance in balances):
        statement.opening_balance = balances[0] - lines[0].amount
        statement.closing_balance = balances[-1]
        breaks = []
        running = statement.opening_balance
        for line, balance in rows:
            running += line.amount
            if running != balance:
                breaks.append(f"line {line.source_line}: balance {balance}, expected {running}")
                running = balance
        if breaks:
            # The end balances then do not frame the lines: report each break.
            statement.closing_balance = statement.opening_balance + statement.lines_total
            statement.control_total = ZERO
            statement.control_note = "the running balance breaks at " + "; ".join(breaks[:10])
            statement.opening_balance = None
            statement.closing_balance = None
    return statement
