"""BAI2 cash management files, read with the bai2 package.

The package joins 88 continuation records to the record they continue: a field that
ends a physical line with "/" ends there, while a text field runs on into the next
88 (its leading "/" is text, not a delimiter). It checks the record counts and
control totals of each account, group and file. Amounts carry no decimal point: the
currency's minor unit gives the implied decimals (USD 2, JPY 0).

Each account section (03 ... 49) is one statement. Its opening ledger (010) plus the
detail records (16) must equal its closing ledger (015) when the file states both;
its total credits (100) and total debits (400) must equal the details'.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from bai2 import bai2 as bai2_package
from bai2.constants import AsOfDateModifier, TypeCodeLevel, TypeCodeTransaction
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

from o2c.banking.parsers.base import ParsedLine, ParsedStatement, ParseError
from o2c.core import money
from o2c.imports.errors import RecordProblem

ZERO = Decimal("0")
DEFAULT_CURRENCY = "USD"
# Record codes BAI2 defines: file, group and account headers, detail, continuation, trailers.
RECORD_CODES = {"01", "02", "03", "16", "88", "49", "98", "99"}
# As-of-date modifiers of final groups. Interim or unmarked groups may still grow.
FINAL_MODIFIERS = {AsOfDateModifier.final_previous_day, AsOfDateModifier.final_same_day}


def looks_like(text: str) -> bool:
    return text.lstrip().startswith("01,")


def scaled(amount, currency: str) -> Decimal:
    """Return a BAI2 amount (whole minor units) as a Decimal of the currency."""
    if amount in (None, ""):
        return ZERO
    return Decimal(int(amount)).scaleb(-money.minor_unit(currency))


@dataclass
class Layout:
    """Positions of the records of a BAI2 file, for error messages and trailer checks.

    `counts` has the physical record counts of each account ("49"), group ("98") and
    file ("99") section, which the trailers state. `lines` has the file line number of
    each record, by record code, in file order; `details` the lines of each account's 16
    records.
    """

    counts: dict[str, list[int]] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)
    details: list[list[int]] = field(default_factory=list)

    def line_of(self, code: str, index: int) -> int:
        found = self.lines.get(code, [])
        return found[index] if index < len(found) else 0


def join_account_records(text: str, file_name: str = "") -> tuple[str, Layout]:
    """Join each 03 record with its 88 continuations into one physical record.

    A physical line that ends with "/" ends a field, so its continuation starts a new
    field. The bai2 package guesses where summary groups end instead, and glues
    "045/" + "88,475000" into type code "045475000"; joining here avoids the guess.
    Raises ParseError for a record whose code BAI2 does not define.
    """
    joined: list[str] = []
    layout = Layout(
        counts={"49": [], "98": [], "99": []}, lines={code: [] for code in RECORD_CODES}
    )
    open_sections = {"49": 0, "98": 0, "99": 0}
    starts = {"03": "49", "02": "98", "01": "99"}
    in_account_record = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        code = line[:2]
        if code not in RECORD_CODES or line[2:3] not in (",", ""):
            raise ParseError(
                [
                    RecordProblem(
                        file_name,
                        number,
                        "record code",
                        f"{line[:20]!r} does not start with a BAI2 record code (one of "
                        f"{', '.join(sorted(RECORD_CODES))})",
                    )
                ]
            )
        layout.lines[code].append(number)
        if code == "03":
            layout.details.append([])
        elif code == "16" and layout.details:
            layout.details[-1].append(number)
        if code in starts:
            open_sections[starts[code]] = 0
        for section in open_sections:
            open_sections[section] += 1
        if code in layout.counts:
            layout.counts[code].append(open_sections[code])
        if code == "03":
            joined.append(line)
            in_account_record = True
            continue
        if code == "88" and in_account_record:
            joined[-1] = joined[-1].rstrip().removesuffix("/") + "," + line[3:]
            continue
        in_account_record = False
        joined.append(line)
    return "\n".join(joined), layout


def _unsupported(error, text: str, layout: Layout, file_name: str) -> RecordProblem:
    """Return the problem of a type code the bai2 package does not know, at its record.

    Codes from 900 to 999 are such codes: BAI2 leaves them to each bank to define.
    """
    found = re.search(r"Type code '(\d+)'", str(error))
    if found is None:
        return RecordProblem(file_name, 0, "record", f"not readable as BAI2: {error}")
    code = found.group(1)
    rows = text.splitlines()
    line = next(
        (
            number
            for number in layout.lines["16"]
            if rows[number - 1].strip().split(",")[1:2] == [code]
        ),
        0,
    )
    return RecordProblem(
        file_name,
        line,
        "16 type code",
        f"type code {code} is not a BAI2 standard detail code; codes 900-999 are defined "
        "by each bank, so ask the bank for the file with standard codes",
    )


def _check_integrity(document, layout: Layout, file_name: str) -> None:
    """Check every trailer's control total and record count against the file."""
    problems = []
    accounts = [account for group in document.children for account in group.children]
    sections = [
        ("account", "49", accounts),
        ("group", "98", list(document.children)),
        ("file", "99", [document]),
    ]
    for label, code, items in sections:
        for index, item in enumerate(items):
            trailer = item.trailer
            if label == "account":
                found_total = sum(summary.amount or 0 for summary in item.header.summary_items)
                found_total += sum(detail.amount or 0 for detail in item.children)
            else:
                found_total = (
                    sum(child.trailer.account_control_total or 0 for child in item.children)
                    if label == "group"
                    else sum(child.trailer.group_control_total or 0 for child in item.children)
                )
            stated_total = (
                trailer.account_control_total
                if label == "account"
                else trailer.group_control_total
                if label == "group"
                else trailer.file_control_total
            )
            if stated_total is not None and stated_total != found_total:
                problems.append(
                    RecordProblem(
                        file_name,
                        layout.line_of(code, index),
                        f"{code} control total",
                        f"{label} {index + 1} states a control total of {stated_total}, its "
                        f"records add up to {found_total}",
                    )
                )
            stated_count = trailer.number_of_records
            found_counts = layout.counts[code]
            physical = found_counts[index] if index < len(found_counts) else None
            if stated_count is not None and physical is not None and stated_count != physical:
                problems.append(
                    RecordProblem(
                        file_name,
                        layout.line_of(code, index),
                        f"{code} number of records",
                        f"{label} {index + 1} states {stated_count} records, it has {physical}",
                    )
                )
    if problems:
        raise ParseError(problems)


def parse(data: bytes, file_name: str) -> list[ParsedStatement]:
    raw = data.decode("utf-8-sig", errors="replace")
    text, layout = join_account_records(raw, file_name)
    try:
        document = bai2_package.parse_from_string(text, check_integrity=False)
    except NotSupportedYetException as error:
        raise ParseError([_unsupported(error, raw, layout, file_name)]) from None
    except (
        IntegrityException,
        ParsingException,
        ValueError,
        ArithmeticError,
        KeyError,
        IndexError,
        StopIteration,
    ) as error:
        raise ParseError(
            [RecordProblem(file_name, 0, "record", f"not readable as BAI2: {error!r}")]
        ) from None
    _check_integrity(document, layout, file_name)

    statements = []
    accounts_seen = 0
    for group_index, group in enumerate(document.children):
        header = group.header
        as_of: dt.date | None = header.as_of_date
        group_currency = header.currency or DEFAULT_CURRENCY
        group_line = layout.line_of("02", group_index)
        for account in group.children:
            where = SectionLines(
                file_name,
                group_line,
                layout.line_of("03", accounts_seen),
                layout.details[accounts_seen] if accounts_seen < len(layout.details) else [],
            )
            accounts_seen += 1
            try:
                statement = _statement(account, header, as_of, group_currency, where)
            except money.MoneyError as error:
                raise ParseError(
                    [RecordProblem(file_name, where.account_line, "currency", error.message)]
                ) from None
            except (ValueError, ArithmeticError, TypeError) as error:
                message = f"not readable as BAI2: {error}"
                raise ParseError(
                    [RecordProblem(file_name, where.account_line, "record", message)]
                ) from None
            statements.append(statement)
    return statements


@dataclass
class SectionLines:
    """The file lines of one account section, for error messages."""

    file_name: str
    group_line: int
    account_line: int
    detail_lines: list[int]

    def detail_line(self, position: int) -> int:
        """Return the line of the account's 16 record at `position` (from 1), or 0."""
        inside = 0 < position <= len(self.detail_lines)
        return self.detail_lines[position - 1] if inside else 0


def _statement(
    account, group_header, as_of, group_currency, where: SectionLines
) -> ParsedStatement:
    identifier = account.header
    currency = money.check_currency(identifier.currency or group_currency)
    statement = ParsedStatement(
        format="bai2",
        account=str(identifier.customer_account_number or "").strip(),
        currency=currency,
        statement_id=" ".join(
            part
            for part in (
                str(group_header.originator_id or ""),
                as_of.isoformat() if as_of else "",
                group_header.as_of_time.strftime("%H%M") if group_header.as_of_time else "",
            )
            if part
        ),
        period_from=as_of,
        period_to=as_of,
        source_line=where.account_line,
        final=group_header.as_of_date_modifier in FINAL_MODIFIERS,
    )
    summaries = {item.type_code.code: item for item in identifier.summary_items}
    if "010" in summaries and "015" in summaries:
        statement.opening_balance = scaled(summaries["010"].amount, currency)
        statement.closing_balance = scaled(summaries["015"].amount, currency)
    for position, detail in enumerate(account.children, start=1):
        statement.lines.append(_line(detail, currency, as_of, position, where))

    totals = []
    for code, sign, label in (("100", 1, "credits"), ("400", -1, "debits")):
        summary = summaries.get(code)
        if summary is None:
            continue
        found = [line.amount * sign for line in statement.lines if line.amount * sign > ZERO]
        expected_total = scaled(summary.amount, currency)
        expected_count = summary.item_count
        if sum(found, ZERO) != expected_total or (
            expected_count is not None and expected_count != len(found)
        ):
            totals.append(
                f"total {label} (type {code}) are {expected_total} in "
                f"{expected_count if expected_count is not None else '?'} item(s), the detail "
                f"records hold {sum(found, ZERO)} in {len(found)}"
            )
    if totals or "100" in summaries or "400" in summaries:
        statement.control_total = ZERO
        statement.control_note = "; ".join(totals)
    return statement


def _line(detail, currency: str, as_of, position: int, where: SectionLines) -> ParsedLine:
    type_code = detail.type_code
    if type_code.level != TypeCodeLevel.detail:
        raise ParseError(
            [
                RecordProblem(
                    where.file_name,
                    where.detail_line(position),
                    "16 type code",
                    f"type code {type_code.code} ({type_code.description}) is a "
                    f"{type_code.level.value} code, which a 16 detail record may not carry",
                )
            ]
        )
    amount = scaled(detail.amount, currency)
    if type_code.transaction == TypeCodeTransaction.debit:
        amount = -amount
    elif type_code.transaction != TypeCodeTransaction.credit:
        raise ParseError(
            [
                RecordProblem(
                    where.file_name,
                    where.detail_line(position),
                    "16 type code",
                    f"type code {type_code.code} ({type_code.description}) is neither a "
                    "credit nor a debit",
                )
            ]
        )
    if as_of is None:
        raise ParseError(
            [
                RecordProblem(
                    where.file_name,
                    where.group_line,
                    "02 as-of date",
                    "the group header has no as-of date",
                )
            ]
        )
    text = (detail.text or "").strip()
    return ParsedLine(
        booking_date=as_of,
        value_date=as_of,
        amount=amount,
        currency=currency,
        bank_reference=str(detail.bank_reference or "").strip(),
        end_to_end_id=str(detail.customer_reference or "").strip(),
        transaction_code=f"BAI {type_code.code}",
        remittance_info=text,
        source_line=where.detail_line(position) or position,
    )
