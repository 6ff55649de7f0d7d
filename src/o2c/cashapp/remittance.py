"""Remittance advice import: the payer's list of invoices a payment settles.

Two sources are read:

- CSV, one row per invoice, with the columns payer_name, payer_account, customer,
  payment_reference, paid_on (YYYY-MM-DD), currency, invoice_number, amount and
  optionally deduction and note. Rows with the same payment reference and payer form
  one advice.
- The text of an e-mail: a "Reference:" (or "Payment reference:") line, a date, a
  currency, and one line per invoice with its number and amount. A "Total" line, when
  present, must equal the sum of the invoice lines.

An advice the engine sees while matching a bank line of the same amount, payer or
reference tells it which invoices the line pays. Import is atomic and idempotent.
"""

import contextlib
import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from o2c.cashapp.engine import compact
from o2c.cashapp.models import RemittanceAdvice, RemittanceItem
from o2c.core import money
from o2c.imports.errors import ImportRejected, RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.ledger.models import Document, Side
from o2c.parties.models import Customer, LegalEntity

CSV_COLUMNS = ["payment_reference", "currency", "invoice_number", "amount"]
AMOUNT = r"-?\d{1,3}(?:[,. ]\d{3})*(?:[.,]\d{1,3})?|-?\d+(?:[.,]\d{1,3})?"
ITEM_LINE = re.compile(
    rf"^\s*(?P<number>[A-Za-z0-9][A-Za-z0-9/\-_.]*\d[A-Za-z0-9/\-_.]*)\s+"
    rf"(?:[A-Z]{{3}}\s+)?(?P<amount>{AMOUNT})\s*(?:[A-Z]{{3}})?\s*$"
)
TOTAL_LINE = re.compile(rf"^\s*total\b.*?(?P<amount>{AMOUNT})\s*(?:[A-Z]{{3}})?\s*$", re.I)
REFERENCE_LINE = re.compile(
    r"^\s*(?:payment\s+)?ref(?:erence)?\.?\s*[:#]\s*(?P<ref>\S.*?)\s*$", re.I
)
DATE_LINE = re.compile(r"\b(?P<date>\d{4}-\d{2}-\d{2})\b")
CURRENCY_LINE = re.compile(r"^\s*currency\s*:\s*(?P<currency>[A-Za-z]{3})\s*$", re.I)
FROM_LINE = re.compile(r"^\s*from\s*:\s*(?P<name>[^<]+?)\s*(?:<[^>]*>)?\s*$", re.I)


@dataclass
class ParsedAdvice:
    payment_reference: str
    currency: str
    paid_on: dt.date | None = None
    payer_name: str = ""
    payer_account: str = ""
    customer_number: str = ""
    items: list[tuple[str, Decimal, Decimal | None, str]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount, _, _ in self.items), Decimal("0"))

    def fingerprint(self) -> str:
        parts = [
            self.payment_reference,
            self.currency,
            str(self.paid_on),
            self.payer_name.upper(),
            compact(self.payer_account),
        ]
        parts += [f"{compact(number)}={amount}" for number, amount, _, _ in self.items]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _amount(text: str) -> Decimal:
    """Read 1,234.56 / 1.234,56 / 1234.56 / 1 234,56 as a Decimal."""
    cleaned = text.replace(" ", "")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        cleaned = (
            f"{head.replace(',', '')}.{tail}" if len(tail) in (1, 2) else cleaned.replace(",", "")
        )
    return Decimal(cleaned)


def parse_csv(data: str, file_name: str) -> tuple[list[ParsedAdvice], list[RecordProblem]]:
    reader = csv.DictReader(io.StringIO(data))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        return [], [
            RecordProblem(file_name, 1, ", ".join(missing), "column missing from the header")
        ]
    advices: dict[tuple, ParsedAdvice] = {}
    problems = []
    for line, record in enumerate(reader, start=2):
        values = {key: (value or "").strip() for key, value in record.items() if key}
        try:
            currency = money.check_currency(values["currency"])
        except money.MoneyError as error:
            problems.append(RecordProblem(file_name, line, "currency", error.message))
            continue
        try:
            amount = money.parse_amount(values["amount"], currency)
            deduction = (
                money.parse_amount(values["deduction"], currency)
                if values.get("deduction")
                else None
            )
        except money.MoneyError as error:
            problems.append(RecordProblem(file_name, line, "amount", error.message))
            continue
        paid_on = None
        if values.get("paid_on"):
            try:
                paid_on = dt.date.fromisoformat(values["paid_on"])
            except ValueError:
                problems.append(
                    RecordProblem(
                        file_name, line, "paid_on", f"{values['paid_on']!r} is not YYYY-MM-DD"
                    )
                )
                continue
        if not values["invoice_number"]:
            problems.append(RecordProblem(file_name, line, "invoice_number", "is empty"))
            continue
        if not values["payment_reference"]:
            problems.append(RecordProblem(file_name, line, "payment_reference", "is empty"))
            continue
        key = (values["payment_reference"], values.get("payer_name", ""), currency)
        advice = advices.setdefault(
            key,
            ParsedAdvice(
                payment_reference=values["payment_reference"],
                currency=currency,
                paid_on=paid_on,
                payer_name=values.get("payer_name", ""),
                payer_account=values.get("payer_account", ""),
                customer_number=values.get("customer", ""),
            ),
        )
        advice.items.append(
            (values["invoice_number"], amount, deduction, values.get("note", "")[:200])
        )
    return list(advices.values()), problems


def parse_email(text: str, file_name: str) -> tuple[list[ParsedAdvice], list[RecordProblem]]:
    reference = ""
    currency = ""
    paid_on = None
    payer = ""
    total = None
    items = []
    problems = []
    in_body = False
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            in_body = True
            continue
        if not in_body and (match := FROM_LINE.match(line)):
            payer = match.group("name").strip().strip('"')
            continue
        if match := CURRENCY_LINE.match(line):
            currency = match.group("currency").upper()
            continue
        if match := REFERENCE_LINE.match(line):
            reference = match.group("ref")
            continue
        if match := TOTAL_LINE.match(line):
            total = _amount(match.group("amount"))
            continue
        if match := ITEM_LINE.match(line):
            try:
                items.append((match.group("number"), _amount(match.group("amount")), None, ""))
            except InvalidOperation:
                problems.append(
                    RecordProblem(file_name, line_number, "amount", f"{line!r} has no amount")
                )
            continue
        if paid_on is None and (match := DATE_LINE.search(line)):
            with contextlib.suppress(ValueError):
                paid_on = dt.date.fromisoformat(match.group("date"))
    if not items:
        problems.append(
            RecordProblem(file_name, 0, "invoices", "no line with an invoice number and an amount")
        )
    if not currency:
        problems.append(
            RecordProblem(file_name, 0, "currency", "no 'Currency: XXX' line says the currency")
        )
    if not reference:
        problems.append(
            RecordProblem(file_name, 0, "reference", "no 'Reference:' line names the payment")
        )
    advice = ParsedAdvice(
        payment_reference=reference,
        currency=currency,
        paid_on=paid_on,
        payer_name=payer,
        items=items,
    )
    if total is not None and items and total != advice.total:
        problems.append(
            RecordProblem(
                file_name,
                0,
                "total",
                f"the total {total} differs from the invoices' sum {advice.total}",
            )
        )
    if currency:
        try:
            money.check_currency(currency)
        except money.MoneyError as error:
            problems.append(RecordProblem(file_name, 0, "currency", error.message))
    return ([advice] if not problems else []), problems


def import_remittance(
    path: Path, *, entity: LegalEntity, source: str | None = None, actor=None
) -> tuple[ImportRun, int, int]:
    """Import a remittance file, all or nothing; return (run, created, already known)."""
    path = Path(path)
    started_at = timezone.now()
    data = path.read_bytes()
    text = data.decode("utf-8-sig", errors="replace")
    source = source or ("csv" if path.suffix.lower() == ".csv" else "email")
    parser = parse_csv if source == "csv" else parse_email
    advices, problems = parser(text, path.name)
    sha256 = hashlib.sha256(data).hexdigest()
    if problems:
        ImportRun.objects.create(
            kind="remittance",
            profile=source,
            file_name=path.name,
            file_sha256=sha256,
            entity=entity,
            status=ImportStatus.REJECTED,
            started_at=started_at,
            finished_at=timezone.now(),
            problems=[problem.as_dict() for problem in problems],
            user=actor,
        )
        raise ImportRejected(path.name, problems)
    created = known = 0
    with transaction.atomic():
        run = ImportRun.objects.create(
            kind="remittance",
            profile=source,
            file_name=path.name,
            file_sha256=sha256,
            entity=entity,
            status=ImportStatus.SUCCEEDED,
            started_at=started_at,
            user=actor,
        )
        for advice in advices:
            fingerprint = advice.fingerprint()
            if RemittanceAdvice.objects.filter(entity=entity, fingerprint=fingerprint).exists():
                known += 1
                continue
            record = RemittanceAdvice.objects.create(
                entity=entity,
                customer=_customer_of(entity, advice),
                payer_name=advice.payer_name[:140],
                payer_account=compact(advice.payer_account)[:60],
                payment_reference=advice.payment_reference[:140],
                paid_on=advice.paid_on,
                total_amount=advice.total,
                currency=advice.currency,
                source=source,
                file_name=path.name[:255],
                fingerprint=fingerprint,
                import_run=run,
                received_at=timezone.now(),
            )
            RemittanceItem.objects.bulk_create(
                [
                    RemittanceItem(
                        advice=record,
                        invoice_number=number[:60],
                        amount=amount,
                        deduction_amount=deduction,
                        note=note,
                    )
                    for number, amount, deduction, note in advice.items
                ]
            )
            created += 1
        run.counts = {"advices_created": created, "advices_already_imported": known}
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "finished_at"])
    return run, created, known


def _customer_of(entity: LegalEntity, advice: ParsedAdvice) -> Customer | None:
    if advice.customer_number:
        found = Customer.objects.filter(entity=entity, number=advice.customer_number).first()
        if found is not None:
            return found
    numbers = [number for number, _, _, _ in advice.items]
    owners = set(
        Document.objects.filter(entity=entity, side=Side.DEBIT, number__in=numbers).values_list(
            "customer_id", flat=True
        )
    )
    if len(owners) == 1:
        return Customer.objects.get(pk=owners.pop())
    return None
