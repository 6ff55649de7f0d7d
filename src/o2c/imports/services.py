"""Import of receivables histories: atomic, idempotent, with errors that name the record.

A file is read whole and checked before anything is written. Then, in one transaction,
each invoice not yet in the ledger is posted, and each settlement the ledger does not
have yet becomes a payment allocated to its invoice on the settlement date. Loading the
same file again finds everything present and writes nothing. A record that disagrees
with what is already posted is an error, because posted documents are never edited.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from o2c.core import money
from o2c.core.db import insert_rows
from o2c.core.errors import O2CError
from o2c.disputes.models import Dispute, DisputeReason, DisputeStatus
from o2c.disputes.routing import route_team
from o2c.fx.services import RateTable
from o2c.imports.errors import ImportRejected, RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.imports.profiles import get_profile
from o2c.imports.profiles.base import EntitySpec, Profile, ReceivableRow, TermSpec
from o2c.ledger.models import Allocation, Document, DocumentKind, Side
from o2c.parties.models import Customer, LegalEntity, PaymentTerm, TimelineEvent

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
BATCH_SIZE = 2000
PROGRESS_EVERY = 10_000
PAYMENT_PREFIX = "P-"

Progress = Callable[[str], None]


@dataclass
class ImportResult:
    run: ImportRun
    counts: dict[str, int]
    quarantined: list[RecordProblem] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any(value for key, value in self.counts.items() if key.endswith("_created"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_receivables(
    path: Path,
    profile_name: str,
    *,
    entity_code: str | None = None,
    mapping: Path | None = None,
    quarantine: bool = False,
    actor=None,
    progress: Progress | None = None,
) -> ImportResult:
    """Load a receivables history file, all or nothing (or all but quarantined records).

    Raises `ImportRejected` listing every bad record, by file, line and field, unless
    `quarantine` is set; then the bad records are left out and listed in the result.
    A problem with the file itself (a missing column) always rejects it.
    """
    path = Path(path)
    report = progress or (lambda message: None)
    profile = get_profile(profile_name, mapping)
    started_at = timezone.now()
    sha256 = file_sha256(path)

    rows, problems = _read_rows(path, profile, report)
    records_read = len(rows) + count_records(problems)
    file_level = [problem for problem in problems if problem.line <= 1 or problem.whole_file]
    if file_level or (problems and not quarantine):
        _record_rejection(path, profile, sha256, started_at, problems, actor)
        raise ImportRejected(path.name, problems)

    try:
        with transaction.atomic():
            loader = _Loader(path, profile, entity_code, actor, report)
            rows = loader.check_rows(rows, problems)
            if problems and not quarantine:
                raise ImportRejected(path.name, problems)
            run = ImportRun.objects.create(
                kind="receivables",
                profile=profile.name,
                file_name=path.name,
                file_sha256=sha256,
                entity=loader.single_entity(),
                status=ImportStatus.QUARANTINED if problems else ImportStatus.SUCCEEDED,
                started_at=started_at,
                problems=[problem.as_dict() for problem in problems],
                user=actor,
            )
            counts = loader.write(rows, run)
            counts["records_read"] = records_read
            counts["records_imported"] = len(rows)
            counts["records_quarantined"] = count_records(problems)
            run.counts = counts
            run.finished_at = timezone.now()
            run.save(update_fields=["counts", "finished_at"])
    except ImportRejected as rejection:
        _record_rejection(path, profile, sha256, started_at, rejection.problems, actor)
        raise
    if problems:
        report(
            f"read {records_read:,} records: imported {len(rows):,}, "
            f"quarantined {counts['records_quarantined']:,}"
        )
    logger.info("Import run %s of %s: %s", run.pk, path.name, counts)
    return ImportResult(run, counts, problems)


def count_records(problems: list[RecordProblem]) -> int:
    """Return how many records the problems are about: a record can have several."""
    return len({problem.line for problem in problems})


def _read_rows(path: Path, profile: Profile, report: Progress):
    rows: list[ReceivableRow] = []
    problems: list[RecordProblem] = []
    for item in profile.rows(path):
        if isinstance(item, RecordProblem):
            problems.append(item)
        else:
            rows.append(item)
            if len(rows) % PROGRESS_EVERY == 0:
                report(f"read {len(rows):,} records")
    if any(problem.whole_file for problem in problems):
        report("stopped reading: the file cannot be read as a whole")
    else:
        with_errors = count_records(problems)
        report(f"read {len(rows) + with_errors:,} records, {with_errors:,} with errors")
    return rows, problems


def _record_rejection(path, profile, sha256, started_at, problems, actor) -> None:
    ImportRun.objects.create(
        kind="receivables",
        profile=profile.name,
        file_name=path.name,
        file_sha256=sha256,
        status=ImportStatus.REJECTED,
        started_at=started_at,
        finished_at=timezone.now(),
        problems=[problem.as_dict() for problem in problems[:1000]],
        counts={"records_with_errors": count_records(problems)},
        user=actor,
    )
    logger.warning("Import of %s: rejected, %d problem(s)", path.name, len(problems))


class _Loader:
    """Checks rows against the database and writes them in bulk, inside a transaction."""

    def __init__(self, path: Path, profile: Profile, entity_code, actor, report: Progress):
        self.path = path
        self.profile = profile
        self.override_entity = entity_code
        self.actor = actor
        self.report = report
        self.now = timezone.now()
        self.entities: dict[str, LegalEntity] = {}
        self.terms: dict[str, PaymentTerm] = {}
        self.rates: RateTable | None = None

    # Checking -----------------------------------------------------------------

    def _problem(self, row: ReceivableRow, field_name: str, message: str) -> RecordProblem:
        """Return a problem of the row's field, named by its column in the file if it has one."""
        return RecordProblem(self.path.name, row.line, self.profile.column_for(field_name), message)

    def entity_code_of(self, row: ReceivableRow) -> str:
        return self.override_entity or row.entity_code or self.profile.default_entity

    def check_rows(self, rows: list[ReceivableRow], problems: list[RecordProblem]):
        """Return the rows that pass every check; add a problem for each that does not."""
        self._resolve_entities(rows, problems)
        currencies = {row.currency for row in rows} | {
            entity.base_currency for entity in self.entities.values()
        }
        first_day = min((row.invoice_date for row in rows), default=None)
        self.rates = RateTable(currencies, since=first_day)
        seen: dict[tuple[str, str], int] = {}
        good = []
        for row in rows:
            row_problems = self._check_row(row, seen)
            if row_problems:
                problems.extend(row_problems)
            else:
                good.append(row)
        problems.sort(key=lambda problem: problem.line)
        return good

    def _resolve_entities(self, rows, problems) -> None:
        codes = {self.entity_code_of(row) for row in rows}
        existing = {entity.code: entity for entity in LegalEntity.objects.filter(code__in=codes)}
        for code in sorted(codes - set(existing)):
            spec = self._entity_spec(code)
            if spec is None:
                continue
            existing[code] = _create_entity(spec)
            transaction.on_commit(
                lambda code=code: logger.info(
                    "Entity %s: created from import profile %s", code, self.profile.name
                )
            )
        self.entities = existing
        term_codes = {row.payment_term for row in rows if row.payment_term}
        terms = {term.code: term for term in PaymentTerm.objects.filter(code__in=term_codes)}
        for code in sorted(term_codes - set(terms)):
            spec = self.profile.terms.get(code)
            if spec is not None:
                terms[code] = _create_term(spec)
        self.terms = terms

    def _entity_spec(self, code: str) -> EntitySpec | None:
        if code in self.profile.entities:
            return self.profile.entities[code]
        if self.override_entity == code and self.profile.default_entity in self.profile.entities:
            template = self.profile.entities[self.profile.default_entity]
            return EntitySpec(
                code, template.name, template.base_currency, template.time_zone, template.country
            )
        return None

    def _check_row(self, row: ReceivableRow, seen: dict) -> list[RecordProblem]:
        found = []
        code = self.entity_code_of(row)
        entity = self.entities.get(code)
        if entity is None:
            message = f"entity {code!r} does not exist and the profile does not define it"
            if row.entity_code and not self.override_entity:
                return [self._problem(row, "entity", message)]
            return [RecordProblem(self.path.name, row.line, "--entity", message)]
        try:
            row.currency = money.check_currency(row.currency)
        except O2CError as error:
            return [self._problem(row, "currency", error.message)]
        for field_name in ("amount", "paid_amount"):
            value = getattr(row, field_name)
            if value is None:
                continue
            try:
                amount = money.parse_amount(
                    value,
                    row.currency,
                    policy=entity.amount_policy,
                    field=self.profile.column_for(field_name),
                )
            except O2CError as error:
                found.append(self._problem(row, field_name, error.message))
            else:
                setattr(row, field_name, amount)
        if found:
            return found
        if row.amount <= ZERO:
            found.append(self._problem(row, "amount", f"must be positive, not {row.amount}"))
        if row.due_date < row.invoice_date:
            found.append(
                self._problem(
                    row, "due_date", f"{row.due_date} is before the invoice date {row.invoice_date}"
                )
            )
        found.extend(self._check_settlement(row, entity))
        if row.payment_term and row.payment_term not in self.terms:
            found.append(self._problem(row, "payment_term", f"{row.payment_term!r} does not exist"))
        key = (code, row.invoice_number)
        if key in seen:
            found.append(
                self._problem(
                    row,
                    "invoice_number",
                    f"{row.invoice_number} already appears on line {seen[key]}",
                )
            )
        else:
            seen[key] = row.line
        if not found:
            found.extend(self._check_rates(row, entity))
        return found

    def _check_settlement(self, row: ReceivableRow, entity: LegalEntity) -> list[RecordProblem]:
        found = []
        if row.paid_amount is not None and row.paid_on is None:
            found.append(self._problem(row, "paid_on", "a paid amount needs the date it was paid"))
        if row.paid_on is None:
            return found
        if row.paid_on < row.invoice_date:
            found.append(
                self._problem(
                    row, "paid_on", f"{row.paid_on} is before the invoice date {row.invoice_date}"
                )
            )
        if row.paid_on > entity.today():
            found.append(self._problem(row, "paid_on", f"{row.paid_on} is in the future"))
        if row.paid_amount is not None and row.paid_amount <= ZERO:
            found.append(
                self._problem(row, "paid_amount", f"must be positive, not {row.paid_amount}")
            )
        return found

    def _check_rates(self, row: ReceivableRow, entity: LegalEntity) -> list[RecordProblem]:
        if row.currency == entity.base_currency:
            return []
        dates = [row.invoice_date] + ([row.paid_on] if row.paid_on else [])
        try:
            for day in dates:
                self.rates.rate(row.currency, entity.base_currency, day)
        except O2CError as error:
            return [self._problem(row, "currency", error.message)]
        return []

    def single_entity(self) -> LegalEntity | None:
        return next(iter(self.entities.values())) if len(self.entities) == 1 else None

    # Writing ------------------------------------------------------------------

    def write(self, rows: list[ReceivableRow], run: ImportRun) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        by_entity: dict[str, list[ReceivableRow]] = defaultdict(list)
        for row in rows:
            by_entity[self.entity_code_of(row)].append(row)
        for code, entity_rows in by_entity.items():
            self._write_entity(self.entities[code], entity_rows, run, counts)
        return dict(counts)

    def _write_entity(self, entity, rows, run, counts) -> None:
        customers = self._ensure_customers(entity, rows, counts)
        existing = {
            number: values
            for number, *values in Document.objects.filter(
                entity=entity, kind=DocumentKind.INVOICE
            ).values_list(
                "number", "id", "amount", "currency", "document_date", "due_date", "customer_id"
            )
        }
        imported_payments = {
            number: (paid_on, amount)
            for number, paid_on, amount in Document.objects.filter(
                entity=entity, kind=DocumentKind.PAYMENT, number__startswith=PAYMENT_PREFIX
            ).values_list("number", "document_date", "amount")
        }
        conflicts = []
        new_rows, settle_existing = [], []
        for row in rows:
            known = existing.get(row.invoice_number)
            if known is None:
                new_rows.append(row)
                continue
            conflict = self._conflict(row, known, customers, imported_payments)
            if conflict:
                conflicts.append(conflict)
            elif row.paid_on and PAYMENT_PREFIX + row.invoice_number not in imported_payments:
                settle_existing.append((row, known[0]))
            else:
                counts["records_unchanged"] += 1
        if conflicts:
            raise ImportRejected(self.path.name, conflicts)

        invoices = self._post_invoices(entity, new_rows, customers, run)
        counts["invoices_created"] += len(invoices)
        settlements = [(row, invoices[row.invoice_number]) for row in new_rows if row.paid_on]
        settlements += self._existing_settlements(settle_existing)
        payments, allocations = self._post_settlements(entity, settlements, run)
        counts["payments_created"] += payments
        counts["allocations_created"] += allocations
        counts["disputes_created"] += self._open_disputes(entity, rows, run)
        self._note_on_timelines(run, self._touched(new_rows, settlements, customers))

    def _ensure_customers(self, entity, rows, counts) -> dict[str, Customer]:
        existing = {
            customer.number: customer for customer in Customer.objects.filter(entity=entity)
        }
        new = {}
        for row in rows:
            if row.customer_number in existing or row.customer_number in new:
                continue
            new[row.customer_number] = Customer(
                entity=entity,
                number=row.customer_number,
                name=row.customer_name or row.customer_number,
                country=row.country[:2],
                region=row.region,
                segment=row.segment,
                currency=row.currency,
                language=row.language or "en",
                paperless_since=row.paperless_since,
                payment_term=self.terms.get(row.payment_term),
            )
        Customer.objects.bulk_create(new.values(), batch_size=BATCH_SIZE)
        counts["customers_created"] += len(new)
        existing.update(
            {
                customer.number: customer
                for customer in Customer.objects.filter(entity=entity, number__in=list(new))
            }
        )
        return existing

    def _conflict(self, row, known, customers, imported_payments) -> RecordProblem | None:
        _, amount, currency, invoice_date, due_date, customer_id = known
        customer = customers[row.customer_number]
        differences = [
            ("customer_number", customer.pk, customer_id, row.customer_number),
            ("amount", row.amount, amount, row.amount),
            ("currency", row.currency, currency, row.currency),
            ("invoice_date", row.invoice_date, invoice_date, row.invoice_date),
            ("due_date", row.due_date, due_date, row.due_date),
        ]
        for field_name, mine, theirs, shown in differences:
            if mine != theirs:
                described = "customer" if field_name == "customer_number" else field_name
                return self._problem(
                    row,
                    field_name,
                    f"invoice {row.invoice_number} is already posted with a different "
                    f"{described.replace('_', ' ')} "
                    f"(this file: {shown}); posted invoices are not edited, post a credit note",
                )
        payment = imported_payments.get(PAYMENT_PREFIX + row.invoice_number)
        if payment is not None:
            paid_on, paid_amount = payment
            expected_amount = row.paid_amount if row.paid_amount is not None else row.amount
            if row.paid_on is None or row.paid_on != paid_on or expected_amount != paid_amount:
                return self._problem(
                    row,
                    "paid_on",
                    f"invoice {row.invoice_number} was imported as paid {paid_amount} "
                    f"on {paid_on}; "
                    "this file says otherwise. Reverse that payment first if it was wrong",
                )
        return None

    def _post_invoices(self, entity, rows, customers, run) -> dict[str, _InvoiceRef]:
        documents = []
        for index, row in enumerate(rows, start=1):
            conversion = self.rates.convert(
                row.amount, row.currency, entity.base_currency, row.invoice_date
            )
            term = self.terms.get(row.payment_term)
            documents.append(
                {
                    "entity_id": entity.pk,
                    "customer_id": customers[row.customer_number].pk,
                    "kind": DocumentKind.INVOICE,
                    "side": Side.DEBIT,
                    "number": row.invoice_number,
                    "document_date": row.invoice_date,
                    "due_date": row.due_date,
                    "currency": row.currency,
                    "amount": row.amount,
                    "amount_base": conversion.amount,
                    "fx_rate": conversion.rate,
                    "fx_rate_on": conversion.rate_on,
                    "payment_term_id": term.pk if term else None,
                    "discount_percent": term.discount_percent if term else ZERO,
                    "discount_until": term.discount_date(row.invoice_date) if term else None,
                    "description": row.description[:500],
                    "delivery_channel": row.delivery_channel,
                    "source": "import",
                    "import_run_id": run.pk,
                    "posted_at": self.now,
                    "posted_by_id": _pk(self.actor),
                }
            )
            if index % PROGRESS_EVERY == 0:
                self.report(f"prepared {index:,} of {len(rows):,} invoices")
        self._insert(Document, documents, "invoices")
        ids = dict(
            Document.objects.filter(
                entity=entity, kind=DocumentKind.INVOICE, import_run=run
            ).values_list("number", "id")
        )
        return {
            document["number"]: _InvoiceRef(
                ids[document["number"]],
                document["customer_id"],
                document["amount"],
                document["amount_base"],
                document["document_date"],
                previously_allocated=None,
            )
            for document in documents
        }

    def _insert(self, model, rows: list[dict], label: str) -> None:
        for start in range(0, len(rows), PROGRESS_EVERY):
            insert_rows(model, rows[start : start + PROGRESS_EVERY])
            if len(rows) >= PROGRESS_EVERY:
                done = min(start + PROGRESS_EVERY, len(rows))
                self.report(f"wrote {done:,} of {len(rows):,} {label}")

    def _existing_settlements(self, pairs) -> list[tuple[ReceivableRow, _InvoiceRef]]:
        """Return invoices already posted that the file now shows as settled."""
        if not pairs:
            return []
        ids = [document_id for _, document_id in pairs]
        allocated = dict(
            Allocation.objects.filter(debit_document__in=ids)
            .values("debit_document")
            .annotate(total=Sum("amount"))
            .values_list("debit_document", "total")
        )
        allocated_base = dict(
            Allocation.objects.filter(debit_document__in=ids)
            .values("debit_document")
            .annotate(total=Sum("debit_amount_base"))
            .values_list("debit_document", "total")
        )
        refs = {
            pk: _InvoiceRef(
                pk,
                customer_id,
                amount,
                amount_base,
                document_date,
                previously_allocated=(allocated.get(pk, ZERO), allocated_base.get(pk, ZERO)),
            )
            for pk, customer_id, amount, amount_base, document_date in Document.objects.filter(
                pk__in=ids
            ).values_list("pk", "customer_id", "amount", "amount_base", "document_date")
        }
        return [(row, refs[document_id]) for row, document_id in pairs]

    def _post_settlements(self, entity, settlements, run) -> tuple[int, int]:
        """Post a payment per settled row and allocate it to its invoice on that day."""
        if not settlements:
            return 0, 0
        payments = []
        for row, invoice in settlements:
            paid = row.paid_amount if row.paid_amount is not None else row.amount
            conversion = self.rates.convert(paid, row.currency, entity.base_currency, row.paid_on)
            payments.append(
                {
                    "entity_id": entity.pk,
                    "customer_id": invoice.customer_id,
                    "kind": DocumentKind.PAYMENT,
                    "side": Side.CREDIT,
                    "number": PAYMENT_PREFIX + row.invoice_number,
                    "document_date": row.paid_on,
                    "due_date": row.paid_on,
                    "currency": row.currency,
                    "amount": paid,
                    "amount_base": conversion.amount,
                    "fx_rate": conversion.rate,
                    "fx_rate_on": conversion.rate_on,
                    "reference": row.invoice_number,
                    "source": "import",
                    "import_run_id": run.pk,
                    "posted_at": self.now,
                    "posted_by_id": _pk(self.actor),
                }
            )
        self._insert(Document, payments, "payments")
        payment_ids = dict(
            Document.objects.filter(
                entity=entity, kind=DocumentKind.PAYMENT, import_run=run
            ).values_list("number", "id")
        )

        allocations = []
        for (row, invoice), payment in zip(settlements, payments, strict=True):
            allocation = self._allocation(entity, run, row, invoice, payment)
            if allocation is not None:
                allocation["credit_document_id"] = payment_ids[payment["number"]]
                allocations.append(allocation)
        self._insert(Allocation, allocations, "allocations")
        return len(payments), len(allocations)

    def _allocation(self, entity, run, row, invoice: _InvoiceRef, payment: dict) -> dict | None:
        """Return the allocation of a settlement to its invoice, capped by what is open."""
        allocated, allocated_base = invoice.previously_allocated or (ZERO, ZERO)
        invoice_open = invoice.amount - allocated
        applied = min(payment["amount"], invoice_open)
        if applied <= ZERO:
            return None  # the invoice was settled otherwise: the payment stays unapplied
        base = entity.base_currency
        if applied == invoice_open:
            debit_base = invoice.amount_base - allocated_base
        else:
            debit_base = money.round_amount(invoice.amount_base * applied / invoice.amount, base)
        if applied == payment["amount"]:
            credit_base = payment["amount_base"]
        else:
            credit_base = money.round_amount(
                payment["amount_base"] * applied / payment["amount"], base
            )
        return {
            "entity_id": entity.pk,
            "customer_id": invoice.customer_id,
            "debit_document_id": invoice.id,
            "allocated_on": max(row.paid_on, invoice.document_date),
            "amount": applied,
            "credit_amount": applied,
            "debit_amount_base": debit_base,
            "credit_amount_base": credit_base,
            "fx_difference_base": credit_base - debit_base,
            "source": "import",
            "import_run_id": run.pk,
            "created_at": self.now,
            "created_by_id": _pk(self.actor),
        }

    def _open_disputes(self, entity, rows, run) -> int:
        """Record the disputes a history flags; their opening date is not known."""
        disputed = [row for row in rows if row.disputed]
        if not disputed:
            return 0
        invoices = {
            number: (invoice_id, customer_id)
            for number, invoice_id, customer_id in Document.objects.filter(
                entity=entity,
                kind=DocumentKind.INVOICE,
                number__in=[row.invoice_number for row in disputed],
            ).values_list("number", "id", "customer_id")
        }
        recorded = set(
            Dispute.objects.filter(
                invoice_id__in=[invoice_id for invoice_id, _ in invoices.values()], source="import"
            ).values_list("invoice_id", flat=True)
        )
        # Open disputes go to the team that works on unspecified disputes. Before the
        # entity has teams they stay unrouted, and `routing.responsible_team` gives them
        # to the disputes team once there is one.
        team = route_team(entity, DisputeReason.UNSPECIFIED)
        disputes = []
        for row in disputed:
            invoice_id, customer_id = invoices[row.invoice_number]
            if invoice_id in recorded:
                continue
            settled = row.paid_on is not None and (
                row.paid_amount is None or row.paid_amount >= row.amount
            )
            disputes.append(
                Dispute(
                    entity=entity,
                    customer_id=customer_id,
                    invoice_id=invoice_id,
                    amount=row.amount,
                    currency=row.currency,
                    reason=DisputeReason.UNSPECIFIED,
                    status=DisputeStatus.RESOLVED if settled else DisputeStatus.OPEN,
                    team=None if settled else team,
                    opened_on=None,
                    resolved_on=row.paid_on if settled else None,
                    source="import",
                    import_run=run,
                )
            )
        Dispute.objects.bulk_create(disputes, batch_size=BATCH_SIZE)
        return len(disputes)

    def _touched(self, new_rows, settlements, customers) -> dict[int, dict[str, int]]:
        touched: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in new_rows:
            touched[customers[row.customer_number].pk]["invoices"] += 1
        for _, invoice in settlements:
            touched[invoice.customer_id]["payments"] += 1
        return touched

    def _note_on_timelines(self, run, counts_by_customer) -> None:
        """Add one timeline event per customer the import touched."""
        events = [
            TimelineEvent(
                customer_id=customer_id,
                occurred_at=self.now,
                actor=self.actor,
                kind="imported",
                summary=(
                    f"Imported from {run.file_name} (import {run.pk}): "
                    f"{counts['invoices']} invoice(s), {counts['payments']} payment(s)"
                ),
                data={"import_run": run.pk, **counts},
            )
            for customer_id, counts in counts_by_customer.items()
        ]
        TimelineEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)


@dataclass(frozen=True)
class _InvoiceRef:
    """The fields of an invoice that settling it needs, read without loading the model."""

    id: int
    customer_id: int
    amount: Decimal
    amount_base: Decimal
    document_date: object
    previously_allocated: tuple[Decimal, Decimal] | None


def _pk(instance) -> int | None:
    return instance.pk if instance is not None else None


def _create_entity(spec: EntitySpec) -> LegalEntity:
    entity = LegalEntity(
        code=spec.code,
        name=spec.name,
        base_currency=spec.base_currency,
        time_zone=spec.time_zone,
        country=spec.country,
    )
    entity.full_clean()
    entity.save()
    return entity


def _create_term(spec: TermSpec) -> PaymentTerm:
    return PaymentTerm.objects.create(
        code=spec.code,
        name=spec.name,
        days=spec.days,
        months=spec.months,
        end_of_month=spec.end_of_month,
        discount_percent=spec.discount_percent,
        discount_days=spec.discount_days,
    )
