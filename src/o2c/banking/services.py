"""Bank accounts and statement import: atomic, idempotent, checked against the file itself.

A statement file is read whole and every statement in it is checked before anything
is written. Its account must be registered (or created on request). Its opening
balance plus its signed lines must equal its closing balance, or its control totals
must agree. A file with one bad statement is rejected whole, naming the statement and
the figures. Then, in one transaction, statements not seen before are written, and of
their lines only those not already imported from an overlapping statement: each line
carries a fingerprint of the booking, unique per account.
"""

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.us import rtn as us_rtn

from o2c.banking import parsers
from o2c.banking.errors import BankingError, StatementFileRejected
from o2c.banking.models import (
    BalanceCheck,
    BankAccount,
    CsvMapping,
    Statement,
    StatementLine,
)
from o2c.banking.parsers import csv_export
from o2c.banking.parsers.base import FINAL_FORMATS, ParsedStatement, ParseError, check_balances
from o2c.core import money
from o2c.imports.errors import RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.imports.services import file_sha256
from o2c.parties.models import LegalEntity

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
IMPORT_KIND = "bank_statement"
# Formats that are statements proper: each must carry balances to check its lines.
STATEMENT_FORMATS = FINAL_FORMATS
# Fingerprints looked up per query: SQLite allows a limited number of query parameters.
FINGERPRINT_BATCH = 900


def normalize_identifier(raw: str, currency: str = "") -> str:
    """Return the account identifier as o2c keys it: no spaces, upper case.

    Some banks append the currency to the account in MT940 :25: (ING
    "NL77INGB0574908765EUR", Rabobank "1291.99.348EUR"); the suffix is dropped.
    """
    identifier = re.sub(r"\s+", "", raw or "").upper()
    if currency and identifier.endswith(currency.upper()) and len(identifier) > len(currency):
        identifier = identifier[: -len(currency)]
    return identifier


def valid_iban(identifier: str) -> str:
    """Return the IBAN in compact form if the identifier is one, else ""."""
    try:
        return IBAN(identifier).compact
    except (SchwiftyException, ValueError):
        return ""


@transaction.atomic
def add_bank_account(
    *,
    entity: LegalEntity,
    identifier: str,
    currency: str,
    name: str = "",
    bic: str = "",
    bank_name: str = "",
    bank_code: str = "",
    csv_mapping: CsvMapping | None = None,
) -> BankAccount:
    """Register an account of the entity; an IBAN is validated with its check digits.

    `bank_code` is the domestic clearing code payers need with an account number (see
    `check_bank_code`).
    """
    currency = money.check_currency(currency)
    bank_code = check_bank_code(entity.country, bank_code)
    compact = normalize_identifier(identifier)
    if not compact:
        raise BankingError("missing_identifier", "A bank account needs an IBAN or account number.")
    iban = ""
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        try:
            iban = IBAN(compact).compact
        except SchwiftyException as error:
            raise BankingError(
                "invalid_iban",
                "{identifier} is not a valid IBAN ({reason}); check the digits, or enter the "
                "bank's account number instead.",
                identifier=identifier,
                reason=str(error),
            ) from None
    existing = BankAccount.objects.filter(identifier=compact, currency=currency).first()
    if existing is not None:
        if existing.entity_id != entity.pk:
            raise BankingError(
                "account_of_other_entity",
                "Account {identifier} ({currency}) already belongs to entity {other}.",
                identifier=compact,
                currency=currency,
                other=existing.entity.code,
            )
        if bank_code and bank_code != existing.bank_code:
            raise BankingError(
                "account_bank_code_differs",
                "Account {identifier} ({currency}) is already registered with bank code "
                "{registered}, not {given}; correct it in the admin if the bank changed it.",
                identifier=compact,
                currency=currency,
                registered=existing.bank_code or "(none)",
                given=bank_code,
            )
        return existing
    return BankAccount.objects.create(
        entity=entity,
        identifier=compact,
        iban=iban,
        currency=currency,
        name=(name or f"{bank_name or 'Account'} {compact}")[:100],
        bic=bic,
        bank_name=bank_name,
        bank_code=bank_code,
        csv_mapping=csv_mapping,
    )


# Domestic clearing codes by country: what the code is called, and its digits.
BANK_CODE_FORMATS = {
    "US": ("routing number", r"\d{9}"),
    "GB": ("sort code", r"\d{6}"),
    "JP": ("bank and branch code", r"\d{7}"),
}


def bank_code_text(country: str, code: str) -> str:
    """Return the clearing code as people write it: 20-00-00 for a sort code, 0001-123
    for a Japanese bank and branch code, other codes as kept."""
    if country == "GB" and len(code) == 6:
        return f"{code[:2]}-{code[2:4]}-{code[4:]}"
    if country == "JP" and len(code) == 7:
        return f"{code[:4]}-{code[4:]}"
    return code


def check_bank_code(country: str, code: str) -> str:
    """Return the clearing code in its compact form, or raise BankingError.

    A US routing number must pass its ABA check digit. A UK sort code has 6 digits, and a
    Japanese bank and branch code 4 + 3 digits. Other countries' codes are kept as given.
    """
    compact = re.sub(r"[\s-]", "", code or "")
    if not compact:
        return ""
    name, digits = BANK_CODE_FORMATS.get(country, ("bank code", r"[A-Za-z0-9]{1,20}"))
    # A code of zeros passes the ABA check digit but names no bank.
    valid = re.fullmatch(digits, compact) is not None and compact.strip("0") != ""
    if valid and country == "US":
        valid = us_rtn.is_valid(compact)
    if not valid:
        raise BankingError(
            "invalid_bank_code",
            "{value} is not a valid {name} for {country}; check the digits against the "
            "bank's documents.",
            value=code,
            name=name,
            country=country or "this entity",
        )
    return compact


def save_csv_mapping(name: str, settings: dict) -> CsvMapping:
    """Create or replace a bank's CSV column mapping from a dict (e.g. read from TOML)."""
    columns = settings.get("columns") or {}
    if "booking_date" not in columns or not (
        "amount" in columns or "credit" in columns or "debit" in columns
    ):
        raise BankingError(
            "mapping_incomplete",
            "Mapping {name} must name at least the booking_date column and the amount "
            "column (or credit and debit columns).",
            name=name,
        )
    fields = {
        key: settings[key]
        for key in (
            "delimiter",
            "encoding",
            "date_format",
            "decimal_separator",
            "thousands_separator",
            "accepted_statuses",
            "amount_is_net_of_fee",
        )
        if key in settings
    }
    mapping, _ = CsvMapping.objects.update_or_create(
        name=name, defaults={"columns": columns, **fields}
    )
    return mapping


@dataclass
class StatementImportResult:
    run: ImportRun
    file_name: str
    format: str
    statements_created: int = 0
    statements_already_imported: int = 0
    lines_created: int = 0
    lines_already_imported: int = 0
    notes: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "statements_created": self.statements_created,
            "statements_already_imported": self.statements_already_imported,
            "lines_created": self.lines_created,
            "lines_already_imported": self.lines_already_imported,
        }


def import_statement_file(
    path: Path,
    *,
    format: str | None = None,
    entity: LegalEntity | None = None,
    account: str | None = None,
    mapping: str | None = None,
    create_accounts: bool = False,
    accept_unbalanced: bool = False,
    actor=None,
) -> StatementImportResult:
    """Import one statement file, all or nothing; a second import changes nothing.

    `format` is one of mt940 (also MT942), camt, bai2 or csv; without it the format is
    read from the content. A CSV file needs `account` (the file names none) and a
    mapping, given by name or saved on the account. Raises `ImportRejected` listing
    every problem; `accept_unbalanced` imports statements that do not add up (or carry
    no balances), marking them so a person can see it.
    """
    path = Path(path)
    started_at = timezone.now()
    sha256 = file_sha256(path)
    data = path.read_bytes()
    family = format or parsers.detect_format(data) or ("csv" if mapping or account else None)

    try:
        with transaction.atomic():
            if family is None:
                raise ParseError(
                    [
                        RecordProblem(
                            path.name,
                            1,
                            "format",
                            "cannot tell the format from the content; name it with --format "
                            "(mt940, camt, bai2 or csv)",
                        )
                    ]
                )
            parsed = _parse(data, path.name, family, entity, account, mapping)
            problems, accounts = _check(
                parsed, path.name, entity, create_accounts, accept_unbalanced
            )
            if problems:
                # Raising inside the transaction also drops accounts created for the file.
                raise ParseError(problems)
            run = ImportRun.objects.create(
                kind=IMPORT_KIND,
                profile=family,
                file_name=path.name,
                file_sha256=sha256,
                entity=entity,
                status=ImportStatus.SUCCEEDED,
                started_at=started_at,
                user=actor,
            )
            result = StatementImportResult(run=run, file_name=path.name, format=family)
            occurrences: dict[int, Counter] = {}
            for statement in parsed:
                account_for = accounts[id(statement)]
                counter = occurrences.setdefault(account_for.pk, Counter())
                _write_statement(statement, account_for, path.name, run, result, counter)
            run.counts = result.counts
            run.problems = [
                {"line": 0, "field": "balance", "message": note} for note in result.notes
            ]
            run.finished_at = timezone.now()
            run.save(update_fields=["counts", "problems", "finished_at"])
    except ParseError as error:
        _record_rejection(
            path, family or "unknown", sha256, started_at, error.problems, entity, actor
        )
        raise StatementFileRejected(path.name, error.problems) from None
    logger.info("Import run %s of %s: %s", run.pk, path.name, result.counts)
    return result


def _parse(data, file_name, family, entity, account, mapping_name) -> list[ParsedStatement]:
    if family == "mt940":
        return parsers.swift.parse(data, file_name)
    if family == "camt":
        return parsers.camt.parse(data, file_name)
    if family == "bai2":
        return parsers.bai2.parse(data, file_name)
    if family != "csv":
        raise ParseError(
            [RecordProblem(file_name, 0, "format", f"{family!r} is not mt940, camt, bai2 or csv")]
        )
    if not account:
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    0,
                    "account",
                    "a CSV export names no account: say which one with --account",
                )
            ]
        )
    identifier = normalize_identifier(account)
    accounts = BankAccount.objects.filter(identifier=identifier)
    if entity is not None:
        accounts = accounts.filter(entity=entity)
    known = accounts.select_related("csv_mapping").first()
    model = None
    if mapping_name:
        model = CsvMapping.objects.filter(name=mapping_name).first()
        if model is None:
            raise ParseError(
                [
                    RecordProblem(
                        file_name,
                        0,
                        "mapping",
                        f"no CSV mapping named {mapping_name!r}; save one with "
                        "`o2c bank mapping save NAME FILE`",
                    )
                ]
            )
    elif known is not None and known.csv_mapping is not None:
        model = known.csv_mapping
    if model is None:
        raise ParseError(
            [
                RecordProblem(
                    file_name,
                    0,
                    "mapping",
                    f"account {identifier} has no saved CSV mapping: name one with --mapping",
                )
            ]
        )
    default_currency = known.currency if known is not None else ""
    return csv_export.parse(
        data, file_name, csv_export.Mapping.from_model(model), identifier, default_currency
    )


def _check(parsed, file_name, entity, create_accounts, accept_unbalanced):
    """Return (problems, {statement: account}) without writing anything but new accounts."""
    problems: list[RecordProblem] = []
    accounts: dict[int, BankAccount | None] = {}
    for statement in parsed:
        problems.extend(statement.problems)
        where = f"statement {statement.statement_id or '?'} of account {statement.account or '?'}"
        if not statement.currency:
            problems.append(
                RecordProblem(
                    file_name, statement.source_line, "currency", f"{where} names no currency"
                )
            )
            continue
        try:
            money.check_currency(statement.currency)
        except money.MoneyError as error:
            problems.append(
                RecordProblem(file_name, statement.source_line, "currency", error.message)
            )
            continue
        problems.extend(_amount_problems(statement, file_name, where))
        account = _resolve_account(statement, entity, create_accounts)
        problems.extend(_currency_problems(statement, account, file_name, where))
        if account is None and statement.account:
            problems.append(
                RecordProblem(
                    file_name,
                    statement.source_line,
                    "account",
                    f"account {normalize_identifier(statement.account, statement.currency)} "
                    f"({statement.currency}) is not registered: add it with `o2c bank account "
                    "add`, or import with --create-accounts --entity CODE",
                )
            )
        accounts[id(statement)] = account
        outcome, difference, note = check_balances(statement)
        statement.balance_outcome = (outcome, difference, note)
        if outcome == BalanceCheck.MISMATCH and not accept_unbalanced:
            problems.append(
                RecordProblem(
                    file_name,
                    statement.source_line,
                    "balance",
                    f"{where} does not add up: {note}. Ask the bank for a corrected "
                    "statement, or import with --accept-unbalanced to take it as it is",
                )
            )
        elif (
            outcome == BalanceCheck.UNCHECKED
            and statement.format in STATEMENT_FORMATS
            and not accept_unbalanced
        ):
            problems.append(
                RecordProblem(
                    file_name,
                    statement.source_line,
                    "balance",
                    f"{where} has no opening and closing balance in {statement.currency} to "
                    "check its lines against; import with --accept-unbalanced to take it "
                    "unchecked",
                )
            )
    return problems, accounts


def _amount_problems(statement: ParsedStatement, file_name: str, where: str):
    """Return a problem for each balance or line too large for o2c to store."""
    problems = []
    figures = [
        (statement.source_line, "balance", statement.opening_balance),
        (statement.source_line, "balance", statement.closing_balance),
        *((line.source_line, "amount", line.amount) for line in statement.lines),
        *((line.source_line, "amount", line.original_amount) for line in statement.lines),
        *((line.source_line, "amount", line.charges_amount) for line in statement.lines),
    ]
    for source_line, field_name, amount in figures:
        if amount is None:
            continue
        try:
            money.check_amount_range(amount, field_name)
        except money.MoneyError as error:
            problems.append(
                RecordProblem(file_name, source_line, field_name, f"{where}: {error.message}")
            )
    return problems


def _currency_problems(statement: ParsedStatement, account, file_name: str, where: str):
    """Return a problem for each line whose currency is not the account's.

    A registered account's currency is the one to hold lines against. Without one,
    the statement's currency is, as the file states it or as its amounts show it.
    """
    if account is not None:
        holder = f"account {account.identifier} in {account.currency}"
        expected = account.currency
    elif statement.currency_stated:
        holder = f"an account in {statement.currency}"
        expected = statement.currency
    else:
        holder = (
            f"a statement in {statement.currency} (the file names no account currency, so "
            "o2c takes that of its balances or first entry)"
        )
        expected = statement.currency
    problems = [
        RecordProblem(
            file_name,
            line.source_line,
            "currency",
            f"{where}: a line in {line.currency} on {holder}",
        )
        for line in statement.lines
        if line.currency != expected
    ]
    if not problems and account is not None and statement.currency != account.currency:
        problems.append(
            RecordProblem(
                file_name,
                statement.source_line,
                "currency",
                f"{where}: the statement's amounts are in {statement.currency}, the account "
                f"is in {account.currency}",
            )
        )
    return problems


def _resolve_account(statement: ParsedStatement, entity, create_accounts) -> BankAccount | None:
    """Return the registered account the statement belongs to, creating it on request.

    When the file names no currency for the account, an identifier registered in one
    currency only is that account, whatever currency the amounts show.
    """
    if not statement.account:
        return None
    identifier = normalize_identifier(statement.account, statement.currency)
    accounts = BankAccount.objects.select_related("entity")
    if entity is not None:
        accounts = accounts.filter(entity=entity)
    candidates = accounts.filter(currency=statement.currency)
    found = candidates.filter(identifier=identifier).first()
    # valid_iban() returns "" for a malformed IBAN, which must not match accounts
    # registered without one.
    iban = valid_iban(statement.account_iban) if statement.account_iban else ""
    if found is None and iban:
        found = candidates.filter(iban=iban).first()
    if found is None and not statement.currency_stated:
        named = Q(identifier=normalize_identifier(statement.account))
        if iban:
            named |= Q(iban=iban)
        same_identifier = list(accounts.filter(named)[:2])
        if len(same_identifier) == 1:
            found = same_identifier[0]
    if found is not None or not create_accounts or entity is None:
        return found
    iban = valid_iban(identifier)
    return BankAccount.objects.create(
        entity=entity,
        identifier=identifier,
        iban=iban,
        bic=statement.account_bic[:11],
        bank_name=statement.bank_name[:100],
        currency=statement.currency,
        name=f"{statement.bank_name or 'Account'} {identifier[-4:]}"[:100],
    )


def _write_statement(
    parsed: ParsedStatement, account: BankAccount, file_name, run, result, occurrences: Counter
) -> None:
    # Imports of one account run one at a time (PostgreSQL; SQLite has one writer), so
    # the checks below see every statement written before.
    BankAccount.objects.select_for_update().filter(pk=account.pk).first()
    fingerprint = parsed.fingerprint()
    if Statement.objects.filter(bank_account=account, fingerprint=fingerprint).exists():
        result.statements_already_imported += 1
        result.lines_already_imported += len(parsed.lines)
        return
    _reject_changed_statement(parsed, account, fingerprint, file_name)
    outcome, difference, note = parsed.balance_outcome
    if outcome == BalanceCheck.UNCHECKED and parsed.format in STATEMENT_FORMATS:
        outcome = BalanceCheck.MISMATCH
    note = note + _continuity_note(account, parsed)
    if outcome == BalanceCheck.MISMATCH:
        result.notes.append(f"statement {parsed.statement_id} of {account.identifier}: {note}")

    fingerprints = _line_fingerprints(account, parsed, occurrences)
    existing: set[str] = set()
    for start in range(0, len(fingerprints), FINGERPRINT_BATCH):
        batch = fingerprints[start : start + FINGERPRINT_BATCH]
        existing.update(
            StatementLine.objects.filter(bank_account=account, fingerprint__in=batch).values_list(
                "fingerprint", flat=True
            )
        )
    now = timezone.now()
    statement = Statement.objects.create(
        bank_account=account,
        format=parsed.format,
        statement_id=parsed.statement_id[:140],
        sequence=parsed.sequence[:40],
        final=parsed.is_final,
        period_from=parsed.period_from,
        period_to=parsed.period_to,
        opening_balance=parsed.opening_balance,
        closing_balance=parsed.closing_balance,
        balance_check=outcome,
        balance_difference=difference,
        check_note=note[:300],
        fingerprint=fingerprint,
        file_name=file_name[:255],
        import_run=run,
        imported_at=now,
    )
    new_lines = []
    for position, (line, line_fingerprint) in enumerate(
        zip(parsed.lines, fingerprints, strict=True), 1
    ):
        if line_fingerprint in existing:
            continue
        existing.add(line_fingerprint)
        new_lines.append(
            StatementLine(
                statement=statement,
                bank_account=account,
                entity_id=account.entity_id,
                position=position,
                booking_date=line.booking_date,
                value_date=line.value_date,
                amount=line.amount,
                currency=line.currency,
                original_amount=line.original_amount,
                original_currency=line.original_currency[:3],
                charges_amount=line.charges_amount,
                is_reversal=line.is_reversal,
                counterparty_name=line.counterparty_name[:140],
                counterparty_account=line.counterparty_account[:60],
                counterparty_bic=line.counterparty_bic[:11],
                remittance_info=line.remittance_info,
                structured_reference=line.structured_reference[:140],
                end_to_end_id=line.end_to_end_id[:140],
                bank_reference=line.bank_reference[:140],
                transaction_code=line.transaction_code[:40],
                entry_reference=line.entry_reference[:140],
                fingerprint=line_fingerprint,
                created_at=now,
            )
        )
    StatementLine.objects.bulk_create(new_lines, batch_size=1000)
    duplicates = len(parsed.lines) - len(new_lines)
    statement.line_count = len(new_lines)
    statement.duplicate_line_count = duplicates
    statement.save(update_fields=["line_count", "duplicate_line_count"])
    _link_reversals(account, statement)
    result.statements_created += 1
    result.lines_created += len(new_lines)
    result.lines_already_imported += duplicates
    result.statements.append(statement)


def _reject_changed_statement(parsed: ParsedStatement, account, fingerprint, file_name) -> None:
    """Raise ParseError if the statement was imported before with other content.

    A statement proper (MT940, camt.053, or a BAI2 group marked final) is identified by
    its reference (:20: and :28C:, Stmt Id and sequence, or BAI2 originator and as-of
    date and time), its account, its start date and opening balance. The same statement
    with other lines is a corrected or tampered copy: importing it would book its changed
    lines a second time. Interim reports (MT942, camt.052, BAI2 interim or unmarked) and
    notifications grow during the day under one reference, so they are not checked
    here. Their lines are matched one by one instead.
    """
    if not parsed.is_final or not parsed.statement_id:
        return
    # Only an earlier final statement is compared: the day's interim reports under the
    # same reference are expected to differ from it.
    earlier = (
        Statement.objects.filter(
            bank_account=account,
            final=True,
            format=parsed.format,
            statement_id=parsed.statement_id[:140],
            sequence=parsed.sequence[:40],
            period_from=parsed.period_from,
            opening_balance=parsed.opening_balance,
        )
        .exclude(fingerprint=fingerprint)
        .order_by("imported_at")
        .first()
    )
    if earlier is None:
        return
    imported = timezone.localtime(earlier.imported_at)
    raise ParseError(
        [
            RecordProblem(
                file_name,
                parsed.source_line,
                "statement",
                f"statement {parsed.statement_id} of account {account.identifier} was already "
                f"imported with different content (imported {imported:%Y-%m-%d %H:%M}, file "
                f"{earlier.file_name}); nothing of this file was imported. Ask the bank which "
                "version is right",
            )
        ]
    )


def _line_fingerprints(account: BankAccount, parsed: ParsedStatement, seen: Counter) -> list[str]:
    """Return one fingerprint per line: the booking's identity and its occurrence number.

    Two identical bookings in one file are two transactions (occurrence 1 and 2), even
    on two pages of a statement. The same booking in an overlapping file has the same
    occurrence number there. `seen` counts the identities of the file so far.
    """
    fingerprints = []
    for line in parsed.lines:
        identity = line.identity()
        seen[identity] += 1
        digest = hashlib.sha256(f"{account.pk}|{identity}|{seen[identity]}".encode())
        fingerprints.append(digest.hexdigest())
    return fingerprints


def _continuity_note(account: BankAccount, parsed: ParsedStatement) -> str:
    if parsed.opening_balance is None or parsed.period_from is None:
        return ""
    previous = (
        Statement.objects.filter(
            bank_account=account,
            closing_balance__isnull=False,
            period_to__lte=parsed.period_from,
        )
        .order_by("-period_to", "-id")
        .first()
    )
    if previous is None or previous.closing_balance == parsed.opening_balance:
        return ""
    return (
        f" (the previous statement {previous.statement_id} closed at "
        f"{money.as_text(previous.closing_balance, account.currency)}, this one opens at "
        f"{parsed.opening_balance})"
    )


def _link_reversals(account: BankAccount, statement: Statement) -> None:
    """Point each reversal line at the booking it reverses, when that booking is identifiable."""
    for reversal in statement.lines.filter(is_reversal=True, reverses__isnull=True):
        candidates = StatementLine.objects.filter(
            bank_account=account,
            amount=-reversal.amount,
            is_reversal=False,
            booking_date__lte=reversal.booking_date,
            reversed_by__isnull=True,
        ).order_by("-booking_date", "-id")
        for attribute in ("end_to_end_id", "bank_reference", "counterparty_account"):
            value = getattr(reversal, attribute)
            if value:
                narrowed = candidates.filter(**{attribute: value})
                if narrowed.exists():
                    candidates = narrowed
                    break
        original = candidates.first()
        if original is not None:
            reversal.reverses = original
            reversal.save(update_fields=["reverses"])


def _record_rejection(path, family, sha256, started_at, problems, entity, actor) -> None:
    ImportRun.objects.create(
        kind=IMPORT_KIND,
        profile=family,
        file_name=path.name,
        file_sha256=sha256,
        entity=entity,
        status=ImportStatus.REJECTED,
        started_at=started_at,
        finished_at=timezone.now(),
        problems=[problem.as_dict() for problem in problems[:1000]],
        counts={"records_with_errors": len(problems)},
        user=actor,
    )
    logger.warning("Statement import of %s: rejected, %d problem(s)", path.name, len(problems))
