"""SWIFT MT940 statements and MT942 interim reports, read with the mt-940 package.

The package reads each tag; this module chooses its options and a few tolerant tag
patterns for what real banks send, then turns every :20: block into one statement:

- reversal marks: RC (a reversed credit) takes money out and RD puts it back, which
  mt-940 does with `Options(reversal_sign=True)`;
- a customer reference longer than SWIFT's 16 characters (ASN Bank puts the payer's
  IBAN there) and :61: fields wrapped over several lines (ING);
- a statement number wrapped over two lines, and balances that omit the currency;
- structured :86: details, both the German "?20" sub-fields (read by mt-940) and the
  Dutch "/EREF/…/CNTP/…/REMI/…" codes (read here).
"""

import datetime as dt
import logging
import re
from decimal import Decimal

import mt940
from mt940 import tags as mt940_tags

from o2c.banking.parsers.base import ParsedLine, ParsedStatement, ParseError
from o2c.core import money
from o2c.imports.errors import RecordProblem

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
# Horizontal blanks only, so that removing a trailer never joins lines and the line
# numbers in messages stay those of the file.
ENVELOPE = re.compile(r"\{[1-3]:[^}]*\}|\{4:|^-\}?[ \t]*$|^-XXX[ \t]*$", re.MULTILINE)


class StatementNumber(mt940_tags.StatementNumber):
    """:28C: that tolerates a line break inside the number."""

    def parse(self, transactions, value):
        return super().parse(transactions, re.sub(r"\s+", "", value))


class Statement(mt940_tags.StatementGLS):
    """:61: with a customer reference of any length and details over several lines."""

    pattern = mt940_tags.StatementGLS.pattern.replace(
        r"(\n?(?P<extra_details>.*))?", r"(\n?(?P<extra_details>(?s:.*)))?"
    )


def _tolerant_balance(base):
    """Return a subclass of a balance tag whose currency may be missing."""
    pattern = base.pattern.replace(r"(?P<currency>.{3})", r"(?P<currency>[A-Z]{3})?")
    return type(base.__name__, (base,), {"pattern": pattern})


OWN_TAGS = {
    tag.id: tag
    for tag in (
        StatementNumber(),
        Statement(),
        _tolerant_balance(mt940_tags.OpeningBalance)(),
        _tolerant_balance(mt940_tags.FinalOpeningBalance)(),
        _tolerant_balance(mt940_tags.IntermediateOpeningBalance)(),
        _tolerant_balance(mt940_tags.ClosingBalance)(),
        _tolerant_balance(mt940_tags.FinalClosingBalance)(),
        _tolerant_balance(mt940_tags.IntermediateClosingBalance)(),
        _tolerant_balance(mt940_tags.AvailableBalance)(),
        _tolerant_balance(mt940_tags.ForwardAvailableBalance)(),
    )
}
# Errors a tag's conversion raises on a value its pattern let through: a month 13 in
# a date (ValueError), a "-" inside an amount (decimal.InvalidOperation, an
# ArithmeticError), and, from mt-940's own code, KeyError and TypeError.
CONVERSION_ERRORS = (ValueError, ArithmeticError, KeyError, TypeError)


class _LocatedTag:
    """Tag mixin that re-raises a conversion error with the tag and its raw value.

    mt-940 raises pattern mismatches as RuntimeError(message, tag, value), but the
    conversion after the match raises bare errors that name neither. An instance
    remembers the value it last parsed, so each parse needs its own instances.
    """

    def parse(self, transactions, value):
        self.raw_value = value
        return super().parse(transactions, value)

    def __call__(self, transactions, value):
        try:
            return super().__call__(transactions, value)
        except CONVERSION_ERRORS as error:
            if isinstance(error, ArithmeticError):
                # decimal's own text is a list of signal classes, meaningless to a reader.
                reason = "an amount is not a number; a debit is marked D, not with a minus sign"
            else:
                reason = str(error) or type(error).__name__
            raise RuntimeError(reason, self, self.raw_value) from error


def _tags() -> dict:
    """Return fresh instances of every tag mt-940 reads, ours over its defaults."""
    tags = {**mt940.tags.TAG_BY_ID, **OWN_TAGS}
    return {
        tag_id: type(type(tag).__name__, (_LocatedTag, type(tag)), {})()
        for tag_id, tag in tags.items()
    }


OPTIONS = mt940.Options(
    reversal_sign=True,
    applicant_iban=True,
    merge_keeps_values=True,
    case_insensitive_marks=True,
    unbounded_details=True,
    non_swift_free_text=True,
    strip_bom=True,
    gvc_leading_text=True,
)
DUTCH_CODES = re.compile(r"/(EREF|CNTP|REMI|PREF|MARF|CSID|BENM|ORDP|RTRN|IREF|TRCD)/")


def looks_like(text: str) -> bool:
    return bool(re.search(r"^:?\n?(20|25|61|60F|60M|28C?):", text, re.MULTILINE))


def parse(data: bytes, file_name: str) -> list[ParsedStatement]:
    text = _decode(data)
    text = ENVELOPE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    # Control characters other than line breaks are noise some banks leave in.
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", " ", text)
    offsets = _tag_lines(text, "20")
    line_offsets = iter(_tag_lines(text, "61"))
    try:
        blocks = mt940.parse_statements(text, tags=_tags(), options=OPTIONS)
    except (RuntimeError, *CONVERSION_ERRORS) as error:
        raise ParseError([_problem_from(error, file_name, text)]) from None
    if not blocks:
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    1,
                    ":20:",
                    "no statement found: an MT940 statement starts with a :20: reference "
                    "followed by :25: account, :60F: opening balance, :61: lines and :62F: "
                    "closing balance",
                )
            ]
        )
    statements = []
    for index, block in enumerate(blocks):
        source_line = offsets[index] if index < len(offsets) else 0
        try:
            statements.append(_statement(block, file_name, source_line, line_offsets))
        except CONVERSION_ERRORS as error:
            raise ParseError(
                [RecordProblem(file_name, source_line, ":20:", f"not readable as MT940 ({error})")]
            ) from None
    return statements


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _tag_lines(text: str, tag: str) -> list[int]:
    """Return the line number of each occurrence of the tag, in file order."""
    pattern = rf"(?m)^:{tag}:"
    return [text.count("\n", 0, match.start()) + 1 for match in re.finditer(pattern, text)]


def _problem_from(error: Exception, file_name: str, text: str) -> RecordProblem:
    args = getattr(error, "args", ())
    value = args[2] if len(args) >= 3 and isinstance(args[2], str) else ""
    tag = getattr(args[1], "id", "") if len(args) >= 2 else ""
    line = 1
    if value:
        first_line = value.split("\n")[0]
        position = text.find(f":{tag}:{first_line}") if tag else -1
        if position < 0:
            position = text.find(first_line)
        line = text.count("\n", 0, position) + 1 if position >= 0 else 1
    shown = value.replace("\n", " ")[:80]
    if not shown:
        return RecordProblem(file_name, line, "file", f"not readable as MT940 ({error})")
    message = f"cannot read {shown!r} as an MT940 field"
    if not isinstance(error, RuntimeError) or error.__cause__ is not None:
        message += f" ({args[0]})"
    return RecordProblem(file_name, line, f":{tag}:" if tag else "file", message)


def _statement(block, file_name: str, source_line: int, line_offsets) -> ParsedStatement:
    """Return the statement of one :20: block; `line_offsets` yields each :61:'s line."""
    data = block.data
    is_interim = "final_opening_balance" not in data and (
        "floor_limit_indicator" in data
        or "d_floor_limit" in data
        or "c_floor_limit" in data
        or "sum_debit_entries" in data
        or "sum_credit_entries" in data
        or "date_time_indication" in data
    )
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    currency = _statement_currency(block, opening, closing)
    account = (data.get("account_identification") or "").strip()
    number = str(data.get("statement_number") or "").strip()
    sequence = str(data.get("sequence_number") or "").strip()
    statement = ParsedStatement(
        format="mt942" if is_interim else "mt940",
        account=account,
        currency=currency,
        statement_id=" ".join(
            part
            for part in (
                (data.get("transaction_reference") or "").strip(),
                f"{number}/{sequence}" if sequence else number,
            )
            if part
        ),
        sequence=sequence,
        opening_balance=_balance_amount(opening, currency),
        closing_balance=_balance_amount(closing, currency),
        source_line=source_line,
    )
    if opening is not None:
        statement.period_from = _date(opening.date)
    if closing is not None:
        statement.period_to = _date(closing.date)
    for tag, attribute in (
        ("sum_debit_entries", "expected_debits"),
        ("sum_credit_entries", "expected_credits"),
    ):
        total = data.get(tag)
        if total is not None:
            count = int(total.number or 0)
            amount = getattr(total.amount, "amount", total.amount)
            setattr(statement, attribute, (count, abs(Decimal(amount))))
    if not account:
        statement.problems.append(
            RecordProblem(file_name, source_line, ":25:", "the statement names no account")
        )
    for transaction in block:
        statement.lines.append(_line(transaction.data, currency, next(line_offsets, 0)))
    dates = [line.booking_date for line in statement.lines]
    if dates:
        statement.period_from = min(
            [*dates, *([statement.period_from] if statement.period_from else [])]
        )
        statement.period_to = max([*dates, *([statement.period_to] if statement.period_to else [])])
    return statement


def _statement_currency(block, opening, closing) -> str:
    for candidate in (
        getattr(getattr(opening, "amount", None), "currency", None),
        getattr(getattr(closing, "amount", None), "currency", None),
        block.currency,
        *(transaction.data.get("currency") for transaction in block),
    ):
        if candidate and re.fullmatch(r"[A-Z]{3}", str(candidate)):
            return str(candidate)
    return ""


def _balance_amount(balance, currency: str) -> Decimal | None:
    if balance is None:
        return None
    value = balance.amount.amount
    return money.round_amount(Decimal(value), currency) if currency else Decimal(value)


def _date(value) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def _line(data: dict, currency: str, source_line: int) -> ParsedLine:
    status = str(data.get("status") or "").upper()
    amount = Decimal(data["amount"].amount)
    value_date = _date(data["date"])
    entry_date = data.get("entry_date")
    details = data.get("transaction_details") or ""
    extra = (data.get("extra_details") or "").strip()
    line = ParsedLine(
        booking_date=_date(entry_date) if entry_date else value_date,
        value_date=value_date,
        amount=money.round_amount(amount, currency) if currency else amount,
        currency=currency,
        is_reversal=status.startswith("R"),
        bank_reference=(data.get("bank_reference") or "").strip(),
        transaction_code=(data.get("id") or "").strip(),
        source_line=source_line,
    )
    customer_reference = (data.get("customer_reference") or "").strip()
    if customer_reference.upper() not in ("", "NONREF"):
        line.end_to_end_id = customer_reference
    if data.get("purpose") is not None or data.get("applicant_name") is not None:
        _read_german_details(line, data)
    elif DUTCH_CODES.search(details):
        _read_dutch_codes(line, details)
    else:
        line.remittance_info = _clean(details)
    if extra and extra not in line.remittance_info:
        line.remittance_info = "\n".join(
            part for part in (line.remittance_info, _clean(extra)) if part
        )
    return line


def _read_german_details(line: ParsedLine, data: dict) -> None:
    line.counterparty_name = _clean(data.get("applicant_name") or "")[:140]
    line.counterparty_account = (data.get("applicant_iban") or "").replace(" ", "")[:60]
    line.counterparty_bic = (data.get("applicant_bin") or "").strip()[:11]
    reference = (data.get("end_to_end_reference") or "").strip()
    if reference and reference.upper() != "NOTPROVIDED":
        line.end_to_end_id = reference
    purpose = data.get("purpose") or data.get("transaction_details") or ""
    line.remittance_info = _clean(purpose)


def _read_dutch_codes(line: ParsedLine, details: str) -> None:
    """Read the "/CODE/value" structure Dutch banks put in :86:."""
    flat = details.replace("\n", "")
    parts = DUTCH_CODES.split(flat)
    fields: dict[str, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=False):
        fields[code] = value
    if "EREF" in fields:
        reference = fields["EREF"].strip("/").strip()
        if reference.upper() != "NOTPROVIDED":
            line.end_to_end_id = reference
    if "CNTP" in fields:
        pieces = fields["CNTP"].split("/")
        line.counterparty_account = pieces[0].strip()[:60]
        if len(pieces) > 1:
            line.counterparty_bic = pieces[1].strip()[:11]
        if len(pieces) > 2:
            line.counterparty_name = pieces[2].strip()[:140]
    remittance = fields.get("REMI", "")
    remittance = re.sub(r"^(USTD|STRD)//", "", remittance.strip("/")).strip("/")
    if remittance.startswith("CUR/") or remittance.startswith("SCOR/"):
        line.structured_reference = remittance.split("/")[-1]
    line.remittance_info = _clean(remittance or details)
    if "RTRN" in fields:
        line.transaction_code = (line.transaction_code + " RTRN").strip()


def _clean(text: str) -> str:
    return " ".join(str(text).split())
