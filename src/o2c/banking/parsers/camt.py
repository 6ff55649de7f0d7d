"""ISO 20022 camt.052 (intraday report), camt.053 (statement) and camt.054 (notification).

Read with lxml by local element names, so every version (001.01 to 001.10) reads the
same way. Each Rpt, Stmt or Ntfctn element is one statement.

An entry (Ntry) may be a batch holding several transaction details (TxDtls), each
with its own amount, payer and reference. The amount lives at two levels, so the rule
is: one line per TxDtls when every TxDtls states its own amount and those amounts
add up to the entry amount; one line for the entry otherwise, with the references
and payers of all its details kept in its text. Either way the statement's lines add
up to the entries, so opening balance plus lines equals closing balance.
"""

import datetime as dt
import re
from decimal import Decimal

from lxml import etree

from o2c.banking.parsers.base import ParsedLine, ParsedStatement, ParseError
from o2c.core import money
from o2c.imports.errors import RecordProblem

ZERO = Decimal("0")
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)
FORMATS = {"052": "camt052", "053": "camt053", "054": "camt054"}
CONTAINERS = {"camt052": "Rpt", "camt053": "Stmt", "camt054": "Ntfctn"}


def looks_like(head: bytes) -> bool:
    return b"camt.05" in head or b"BkToCstmr" in head


def _children(element, name: str) -> list:
    return [child for child in element if etree.QName(child).localname == name]


def _child(element, *path: str):
    """Return the element at the path of local names, or None."""
    current = element
    for name in path:
        if current is None:
            return None
        found = None
        for child in current:
            if isinstance(child.tag, str) and etree.QName(child).localname == name:
                found = child
                break
        current = found
    return current


def _text(element, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


class _ElementError(Exception):
    """A value of one element that cannot be read. parse() adds the file name."""

    def __init__(self, element, message: str):
        self.element = element
        self.message = message
        super().__init__(message)


def _element_path(element, depth: int = 3) -> str:
    """Return the local names of the element and its ancestors, such as Ntry/BookgDt/Dt."""
    names = []
    while element is not None and len(names) < depth:
        names.insert(0, etree.QName(element).localname)
        element = element.getparent()
    return "/".join(names)


def _date(element) -> dt.date | None:
    """Read a Dt or DtTm child (or an element that is itself a date)."""
    if element is None:
        return None
    for name in ("Dt", "DtTm"):
        found = _child(element, name)
        if found is not None and (found.text or "").strip():
            break
    else:
        found = element
    text = (found.text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as error:
        raise _ElementError(found, f"{text!r} is not a valid ISO 8601 date ({error})") from None


def parse(data: bytes, file_name: str) -> list[ParsedStatement]:
    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as error:
        raise ParseError(
            [
                RecordProblem(
                    file_name, error.lineno or 0, "XML", f"not well-formed XML: {error.msg}"
                )
            ]
        ) from None
    namespace = etree.QName(root).namespace or ""
    match = re.search(r"camt\.(05[234])\.", namespace)
    if match is None:
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    root.sourceline or 1,
                    "Document",
                    f"namespace {namespace!r} is not camt.052, camt.053 or camt.054",
                )
            ]
        )
    statement_format = FORMATS[match.group(1)]
    message = root[0] if len(root) else None
    containers = _children(message, CONTAINERS[statement_format]) if message is not None else []
    if not containers:
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    (message.sourceline if message is not None else root.sourceline) or 1,
                    CONTAINERS[statement_format],
                    f"the message holds no {CONTAINERS[statement_format]} element, so there is "
                    "no statement to import",
                )
            ]
        )
    statements = []
    for container in containers:
        try:
            statements.append(_statement(container, statement_format, file_name))
        except _ElementError as error:
            line = error.element.sourceline or container.sourceline or 1
            raise ParseError(
                [RecordProblem(file_name, line, _element_path(error.element), error.message)]
            ) from None
        except (ValueError, ArithmeticError, TypeError, KeyError) as error:
            raise ParseError(
                [
                    RecordProblem(
                        file_name,
                        container.sourceline or 1,
                        CONTAINERS[statement_format],
                        f"not readable as {statement_format} ({error})",
                    )
                ]
            ) from None
    return statements


def _statement(container, statement_format: str, file_name: str) -> ParsedStatement:
    account = _child(container, "Acct")
    iban = _text(account, "Id", "IBAN")
    other = (
        _text(account, "Id", "Othr", "Id")
        or _text(account, "Id", "PrtryAcct", "Id")
        or _text(account, "Id", "BBAN")
    )
    stated_currency = _text(account, "Ccy")
    statement = ParsedStatement(
        format=statement_format,
        account=iban or other,
        account_iban=iban,
        currency=stated_currency or _first_currency(container),
        currency_stated=bool(stated_currency),
        statement_id=_text(container, "Id"),
        period_to=_date(_child(container, "CreDtTm")),
        sequence=_text(container, "ElctrncSeqNb") or _text(container, "LglSeqNb"),
        source_line=container.sourceline or 0,
        account_bic=_text(account, "Svcr", "FinInstnId", "BIC")
        or _text(account, "Svcr", "FinInstnId", "BICFI"),
        bank_name=_text(account, "Svcr", "FinInstnId", "Nm"),
    )
    period = _child(container, "FrToDt")
    if period is not None:
        statement.period_from = _date(_child(period, "FrDtTm")) or _date(_child(period, "FrDt"))
        statement.period_to = (
            _date(_child(period, "ToDtTm")) or _date(_child(period, "ToDt")) or statement.period_to
        )
    if not statement.account:
        statement.problems.append(
            RecordProblem(
                file_name, statement.source_line, "Acct/Id", "the statement names no account"
            )
        )
    _read_balances(container, statement, file_name)
    position = 0
    for entry in _children(container, "Ntry"):
        for line in _entry_lines(entry, statement, file_name):
            position += 1
            line.source_line = line.source_line or position
            statement.lines.append(line)
    if not statement.currency:
        currencies = {line.currency for line in statement.lines}
        if len(currencies) == 1:
            statement.currency = currencies.pop()
    dates = [line.booking_date for line in statement.lines]
    if dates and statement.period_from is None:
        statement.period_from = min(dates)
    if dates and statement.period_to is None:
        statement.period_to = max(dates)
    return statement


def _first_currency(container) -> str:
    """Return the account's currency as the amounts show it, for accounts that omit Ccy.

    The opening and closing balances are in the account's currency, and so are the
    booked entries. Other balance types (such as CLAV, available) and the details of
    an entry may be in another currency, so they count only when nothing else does.
    """
    for balance in _children(container, "Bal"):
        code = _text(balance, "Tp", "CdOrPrtry", "Cd")
        amount = _child(balance, "Amt")
        if code in OPENING_CODES + CLOSING_CODES and amount is not None and amount.get("Ccy"):
            return amount.get("Ccy")
    for entry in _children(container, "Ntry"):
        amount = _child(entry, "Amt")
        if amount is not None and amount.get("Ccy"):
            return amount.get("Ccy")
    for element in container.iter():
        is_amount = isinstance(element.tag, str) and etree.QName(element).localname == "Amt"
        if is_amount and element.get("Ccy"):
            return element.get("Ccy")
    return ""


def _amount(element, file_name: str, field: str, parent=None) -> tuple[Decimal, str]:
    """Return the amount and currency of an Amt element, which must be a plain number."""
    if element is None:
        line = parent.sourceline if parent is not None else 0
        raise ParseError([RecordProblem(file_name, line or 0, field, "amount missing")])
    currency = element.get("Ccy", "")
    text = (element.text or "").strip()
    try:
        value = money.parse_plain_number(text)
    except money.MoneyError as error:
        raise ParseError(
            [RecordProblem(file_name, element.sourceline or 0, field, error.message)]
        ) from None
    if currency:
        try:
            currency = money.check_currency(currency)
        except money.MoneyError as error:
            raise ParseError(
                [RecordProblem(file_name, element.sourceline or 0, field, error.message)]
            ) from None
    return value, currency


def _signed(value: Decimal, element) -> Decimal:
    indicator = _text(element, "CdtDbtInd")
    return -value if indicator == "DBIT" else value


def _read_balances(container, statement: ParsedStatement, file_name: str) -> None:
    for balance in _children(container, "Bal"):
        code = _text(balance, "Tp", "CdOrPrtry", "Cd")
        if code not in OPENING_CODES + CLOSING_CODES:
            continue
        value, currency = _amount(_child(balance, "Amt"), file_name, f"Bal {code}", balance)
        if statement.currency and currency and currency != statement.currency:
            continue
        statement.currency = statement.currency or currency
        signed = money.round_amount(_signed(value, balance), currency or statement.currency)
        on = _date(_child(balance, "Dt"))
        if code in OPENING_CODES and statement.opening_balance is None:
            statement.opening_balance = signed
            statement.period_from = statement.period_from or on
        elif code in CLOSING_CODES:
            statement.closing_balance = signed
            statement.period_to = statement.period_to or on


def _entry_lines(entry, statement: ParsedStatement, file_name: str) -> list[ParsedLine]:
    status = _text(entry, "Sts") or _text(entry, "Sts", "Cd")
    if status and status not in ("BOOK", "BOOKED"):
        # Pending and informational entries are not bookings; a later statement books them.
        return []
    value, currency = _amount(_child(entry, "Amt"), file_name, "Ntry/Amt", entry)
    currency = currency or statement.currency
    reversal = _text(entry, "RvslInd").lower() == "true"
    entry_amount = money.round_amount(_signed(value, entry), currency)
    base = ParsedLine(
        booking_date=_date(_child(entry, "BookgDt"))
        or _date(_child(entry, "ValDt"))
        or statement.period_to,
        value_date=_date(_child(entry, "ValDt")),
        amount=entry_amount,
        currency=currency,
        is_reversal=reversal,
        bank_reference=_text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"),
        entry_reference=_text(entry, "NtryRef") or _text(entry, "AcctSvcrRef"),
        transaction_code=_bank_transaction_code(entry),
        remittance_info=_text(entry, "AddtlNtryInf"),
        source_line=entry.sourceline or 0,
    )
    if base.booking_date is None:
        raise ParseError(
            [
                RecordProblem(
                    file_name, entry.sourceline or 0, "Ntry/BookgDt", "booking date missing"
                )
            ]
        )
    charges = _charges(entry, file_name)
    details = []
    for entry_details in _children(entry, "NtryDtls"):
        details.extend(_children(entry_details, "TxDtls"))
    if not details:
        base.charges_amount = charges
        return [base]

    amounts = [_detail_amount(detail, entry, file_name) for detail in details]
    splittable = len(details) > 1 and all(amount is not None for amount in amounts)
    if splittable and sum(amounts, ZERO) == entry_amount:
        lines = []
        for detail, amount in zip(details, amounts, strict=True):
            line = ParsedLine(
                booking_date=base.booking_date,
                value_date=base.value_date,
                amount=amount,
                currency=currency,
                is_reversal=reversal,
                entry_reference=base.entry_reference or base.bank_reference,
                transaction_code=base.transaction_code,
                source_line=detail.sourceline or 0,
            )
            _read_detail(line, detail, entry, statement, file_name)
            line.bank_reference = _text(detail, "Refs", "AcctSvcrRef") or ""
            if not line.bank_reference and base.bank_reference:
                line.bank_reference = f"{base.bank_reference}/{len(lines) + 1}"
            lines.append(line)
        return lines

    # One line for the entry: a single detail, or details without their own amounts
    # (or amounts that do not add up), keep the entry amount and every reference.
    for detail in details:
        _read_detail(base, detail, entry, statement, file_name, merge=len(details) > 1)
    if len(details) == 1:
        own = amounts[0]
        if own is not None and own != entry_amount:
            base.original_amount = abs(own)
    base.charges_amount = charges
    return [base]


def _detail_amount(detail, entry, file_name: str) -> Decimal | None:
    """Return the detail's own signed amount in the entry currency, or None."""
    amount_element = _child(detail, "AmtDtls", "TxAmt", "Amt")
    if amount_element is None:
        amount_element = _child(detail, "Amt")
    if amount_element is None:
        return None
    value, currency = _amount(amount_element, file_name, "TxDtls/Amt")
    entry_currency = _child(entry, "Amt").get("Ccy", "")
    if currency and entry_currency and currency != entry_currency:
        return None
    indicator_owner = detail if _text(detail, "CdtDbtInd") else entry
    return money.round_amount(_signed(value, indicator_owner), entry_currency or currency)


def _charges(entry, file_name: str) -> Decimal | None:
    total = ZERO
    found = False
    for charges in _children(entry, "Chrgs"):
        records = _children(charges, "Rcrd") or [charges]
        for record in records:
            amount_element = _child(record, "Amt")
            if amount_element is None:
                continue
            value, _ = _amount(amount_element, file_name, "Chrgs/Amt")
            total += value
            found = True
    return total if found else None


def _bank_transaction_code(entry) -> str:
    domain = _child(entry, "BkTxCd", "Domn")
    if domain is not None:
        parts = [
            _text(domain, "Cd"),
            _text(domain, "Fmly", "Cd"),
            _text(domain, "Fmly", "SubFmlyCd"),
        ]
        return "/".join(part for part in parts if part)
    return _text(entry, "BkTxCd", "Prtry", "Cd")


def _party_name(parties, role: str) -> str:
    return _text(parties, role, "Nm") or _text(parties, role, "Pty", "Nm")


def _read_detail(
    line: ParsedLine, detail, entry, statement, file_name: str, merge: bool = False
) -> None:
    """Copy payer, account, references and remittance text of one TxDtls into a line."""
    credit = line.amount >= ZERO
    parties = _child(detail, "RltdPties")
    role, account_role = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    name = ""
    account = ""
    if parties is not None:
        name = (
            _party_name(parties, "Ultmt" + role)
            if not _party_name(parties, role)
            else _party_name(parties, role)
        )
        account = _text(parties, account_role, "Id", "IBAN") or _text(
            parties, account_role, "Id", "Othr", "Id"
        )
    agents = _child(detail, "RltdAgts")
    bic = ""
    if agents is not None:
        agent = "DbtrAgt" if credit else "CdtrAgt"
        bic = _text(agents, agent, "FinInstnId", "BIC") or _text(
            agents, agent, "FinInstnId", "BICFI"
        )
    refs = _child(detail, "Refs")
    end_to_end = _text(refs, "EndToEndId") if refs is not None else ""
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    remittance = _child(detail, "RmtInf")
    unstructured = []
    structured = []
    if remittance is not None:
        unstructured = [
            (element.text or "").strip()
            for element in _children(remittance, "Ustrd")
            if element.text
        ]
        for block in _children(remittance, "Strd"):
            reference = _text(block, "CdtrRefInf", "Ref")
            if reference:
                structured.append(reference)
            for document in _children(block, "RfrdDocInf"):
                number = _text(document, "Nb")
                if number:
                    unstructured.append(number)
            extra = [
                (element.text or "").strip()
                for element in _children(block, "AddtlRmtInf")
                if element.text
            ]
            unstructured.extend(extra)
    additional = _text(detail, "AddtlTxInf")
    text = " ".join(part for part in [*unstructured, additional] if part)
    original = _child(detail, "AmtDtls", "InstdAmt", "Amt")
    if original is not None and original.get("Ccy") and original.get("Ccy") != line.currency:
        line.original_amount, line.original_currency = _amount(original, file_name, "InstdAmt/Amt")
    if merge:
        line.counterparty_name = line.counterparty_name or name[:140]
        line.counterparty_account = line.counterparty_account or account[:60]
        pieces = [
            line.remittance_info,
            " ".join(part for part in (name, end_to_end, *structured, text) if part),
        ]
        line.remittance_info = "\n".join(piece for piece in pieces if piece)
        return
    line.counterparty_name = name[:140]
    line.counterparty_account = account.replace(" ", "")[:60]
    line.counterparty_bic = bic[:11]
    line.end_to_end_id = end_to_end[:140]
    line.structured_reference = (structured[0] if structured else "")[:140]
    if len(structured) > 1:
        text = " ".join([*structured[1:], text])
    line.remittance_info = "\n".join(
        part for part in (text, line.remittance_info if not text else "") if part
    )
