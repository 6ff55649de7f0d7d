"""Gateway payouts: what a gateway transferred to the bank, and the fees it kept.

The import reads Stripe's itemized payout reconciliation report (CSV): one row per
balance transaction with its payout id, gross, fee and net amounts in major units,
and the payment intent it belongs to. Each payout and each card payment gets its fee.
The customer paid the invoices in full, so the net amount that reaches the bank is the
sum of those invoices less the fees. `match_bank_credit` finds the payout behind a
bank line.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from o2c.core import money
from o2c.core.errors import O2CError
from o2c.imports.errors import ImportRejected, RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.parties.models import LegalEntity
from o2c.payments.models import Gateway, Payment, Payout, PayoutLine

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
STRIPE_REQUIRED = (
    "automatic_payout_id",
    "automatic_payout_effective_at",
    "balance_transaction_id",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
)
PAYOUT_ID_PATTERN = re.compile(r"\bpo_[A-Za-z0-9]+")
MATCH_WINDOW_DAYS = 3


@dataclass
class PayoutRow:
    line: int
    payout_id: str
    arrival_on: dt.date
    transaction_id: str
    category: str
    currency: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    payment_intent: str


@dataclass
class PayoutImportResult:
    run: ImportRun
    counts: dict[str, int] = field(default_factory=dict)


def import_stripe_payouts(content: bytes, file_name: str, *, entity: LegalEntity, actor=None):
    """Load a Stripe itemized payout reconciliation report, all or nothing.

    A payout already imported is compared with the file and left as it is. A payout
    that disagrees with what was imported before rejects the file.
    """
    sha256 = hashlib.sha256(content).hexdigest()
    started_at = timezone.now()
    rows, problems = read_stripe_report(content, file_name)
    payouts: dict[str, list[PayoutRow]] = {}
    for row in rows:
        payouts.setdefault(row.payout_id, []).append(row)
    existing = {
        payout.payout_id: payout
        for payout in Payout.objects.filter(gateway=Gateway.STRIPE, payout_id__in=list(payouts))
    }
    for payout_id, lines in payouts.items():
        currencies = {line.currency for line in lines}
        if len(currencies) > 1:
            problems.append(
                RecordProblem(file_name, lines[0].line, "currency", f"{payout_id} mixes currencies")
            )
            continue
        found = existing.get(payout_id)
        net = sum((line.net for line in lines), ZERO)
        if found is not None and (found.net_amount != net or found.entity_id != entity.pk):
            problems.append(
                RecordProblem(
                    file_name,
                    lines[0].line,
                    "net",
                    f"{payout_id} was imported with net {found.net_amount}, the file says {net}",
                )
            )
    if problems:
        _record(file_name, sha256, started_at, ImportStatus.REJECTED, problems, {}, actor, entity)
        raise ImportRejected(file_name, problems)

    counts = {"payouts_created": 0, "payouts_present": 0, "fees_recorded": 0}
    with transaction.atomic():
        run = _record(file_name, sha256, started_at, ImportStatus.SUCCEEDED, [], {}, actor, entity)
        intents = {line.payment_intent for lines in payouts.values() for line in lines}
        payments = {
            payment.gateway_payment_id: payment
            for payment in Payment.objects.filter(
                gateway=Gateway.STRIPE, entity=entity, gateway_payment_id__in=intents - {""}
            )
        }
        for payout_id, lines in payouts.items():
            if payout_id in existing:
                counts["payouts_present"] += 1
                continue
            payout = Payout.objects.create(
                gateway=Gateway.STRIPE,
                payout_id=payout_id,
                entity=entity,
                arrival_on=lines[0].arrival_on,
                currency=lines[0].currency,
                gross_amount=sum((line.gross for line in lines), ZERO),
                fee_amount=sum((line.fee for line in lines), ZERO),
                net_amount=sum((line.net for line in lines), ZERO),
                import_run=run,
            )
            PayoutLine.objects.bulk_create(
                [
                    PayoutLine(
                        payout=payout,
                        transaction_id=line.transaction_id,
                        category=line.category,
                        payment=payments.get(line.payment_intent),
                        gateway_payment_id=line.payment_intent,
                        gross_amount=line.gross,
                        fee_amount=line.fee,
                        net_amount=line.net,
                    )
                    for line in lines
                ]
            )
            for line in lines:
                payment = payments.get(line.payment_intent)
                if payment is not None and line.category == "charge":
                    Payment.objects.filter(pk=payment.pk).update(
                        fee_amount=line.fee, fee_currency=line.currency
                    )
                    counts["fees_recorded"] += 1
            counts["payouts_created"] += 1
        run.counts = counts
        run.save(update_fields=["counts"])
    logger.info("Payout report %s: %s", file_name, counts)
    return PayoutImportResult(run, counts)


def _record(file_name, sha256, started_at, status, problems, counts, actor, entity) -> ImportRun:
    return ImportRun.objects.create(
        kind="gateway_payouts",
        profile="stripe_payout_reconciliation",
        file_name=file_name,
        file_sha256=sha256,
        entity=entity,
        status=status,
        started_at=started_at,
        finished_at=timezone.now(),
        problems=[problem.as_dict() for problem in problems[:1000]],
        counts=counts,
        user=actor,
    )


def read_stripe_report(content: bytes, file_name: str):
    """Return the rows of a Stripe itemized payout report and the problems found in it."""
    rows: list[PayoutRow] = []
    problems: list[RecordProblem] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return rows, [RecordProblem(file_name, 0, "encoding", f"not UTF-8 ({error.reason})")]
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in STRIPE_REQUIRED if column not in (reader.fieldnames or [])]
    if missing:
        return rows, [
            RecordProblem(file_name, 1, column, "column missing from the header")
            for column in missing
        ]
    for line_number, record in enumerate(reader, start=2):
        row = _stripe_row(record, line_number, file_name, problems)
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append(RecordProblem(file_name, 1, "automatic_payout_id", "the file has no rows"))
    return rows, problems


def _stripe_row(record: dict, line: int, file_name: str, problems: list) -> PayoutRow | None:
    before = len(problems)

    def fail(column: str, message: str) -> None:
        problems.append(RecordProblem(file_name, line, column, message))

    payout_id = (record.get("automatic_payout_id") or "").strip()
    if not payout_id:
        fail("automatic_payout_id", "empty: only automatic payouts can be reconciled")
    currency = ""
    try:
        currency = money.check_currency(record.get("currency") or "")
    except O2CError as error:
        fail("currency", error.message)
    amounts = {}
    for column in ("gross", "fee", "net"):
        try:
            amounts[column] = money.parse_amount(
                record.get(column) or "", currency or "EUR", field=column
            )
        except O2CError as error:
            fail(column, error.message)
    arrival = (record.get("automatic_payout_effective_at") or "").strip()
    try:
        arrival_on = dt.date.fromisoformat(arrival[:10])
    except ValueError:
        fail("automatic_payout_effective_at", f"{arrival!r} is not a date")
        arrival_on = None
    if len(amounts) == 3 and amounts["gross"] - amounts["fee"] != amounts["net"]:
        fail("net", f"gross {amounts['gross']} less fee {amounts['fee']} is not {amounts['net']}")
    if len(problems) > before:
        return None
    return PayoutRow(
        line=line,
        payout_id=payout_id,
        arrival_on=arrival_on,
        transaction_id=(record.get("balance_transaction_id") or "").strip(),
        category=(record.get("reporting_category") or "").strip(),
        currency=currency,
        gross=amounts["gross"],
        fee=amounts["fee"],
        net=amounts["net"],
        payment_intent=(record.get("payment_intent_id") or "").strip(),
    )


def match_bank_credit(
    entity, *, amount: Decimal, currency: str, booked_on: dt.date, text: str = ""
) -> Payout | None:
    """Return the unreconciled payout behind a bank credit, if exactly one fits.

    A payout id in the bank text decides. Without one, the text must name the gateway
    (banks show "STRIPE" or "ADYEN" as the payer), the net amount must match exactly and
    the payout must arrive within 3 days of the booking date. A customer's transfer of
    the same amount is therefore never taken for a payout.
    """
    unreconciled = Payout.objects.filter(entity=entity, reconciled_at__isnull=True)
    identifiers = PAYOUT_ID_PATTERN.findall(text or "")
    if identifiers:
        found = unreconciled.filter(payout_id__in=identifiers, net_amount=amount).first()
        if found is not None:
            return found
    upper = (text or "").upper()
    gateways = [gateway for gateway in (Gateway.STRIPE, Gateway.ADYEN) if gateway.upper() in upper]
    if not gateways:
        return None
    window = dt.timedelta(days=MATCH_WINDOW_DAYS)
    candidates = list(
        unreconciled.filter(
            gateway__in=gateways,
            currency=currency,
            net_amount=amount,
            arrival_on__range=(booked_on - window, booked_on + window),
        )[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


def reconcile_payout(payout: Payout, *, bank_reference: str) -> Payout:
    """Mark a payout as found on the bank statement."""
    Payout.objects.filter(pk=payout.pk, reconciled_at__isnull=True).update(
        reconciled_at=timezone.now(), bank_reference=bank_reference[:140]
    )
    payout.refresh_from_db()
    return payout
