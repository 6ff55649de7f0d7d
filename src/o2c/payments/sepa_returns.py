"""Returned and rejected direct debits, read from the bank's pain.002 or camt.054 files.

A pain.002 status report rejects debits before settlement, at group, batch or
transaction level. A camt.054 notification books returns after settlement as debit
entries carrying the original end-to-end id and a return reason. Either way the debit's
payment is reversed, which reopens its invoices, and a reason that says the mandate or
account is no longer usable ends the mandate. Like every import, a file is read whole
and applied in one transaction or not at all, and loading it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from lxml import etree

from o2c.collections.services import collections_team
from o2c.core import money
from o2c.imports.errors import ImportRejected, RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.parties.services import record_event
from o2c.payments.models import (
    DirectDebit,
    DirectDebitStatus,
    MandateStatus,
    SequenceType,
)
from o2c.payments.sepa import revoke_mandate
from o2c.payments.services import reverse_payment
from o2c.teams.models import WorkKind
from o2c.teams.services import create_work_item

logger = logging.getLogger(__name__)

# ISO 20022 external status reason codes most often seen on SEPA R-transactions.
REASONS = {
    "AC01": "account identifier incorrect",
    "AC04": "account closed",
    "AC06": "account blocked",
    "AC13": "debtor account is a consumer account",
    "AG01": "direct debit forbidden on this account",
    "AG02": "invalid bank operation code",
    "AM04": "insufficient funds",
    "AM05": "duplicate collection",
    "BE05": "creditor identifier unknown",
    "FF01": "invalid file format",
    "MD01": "no valid mandate",
    "MD02": "mandate data missing or wrong",
    "MD06": "refund requested by the debtor",
    "MD07": "debtor deceased",
    "MS02": "refused by the debtor",
    "MS03": "reason not given",
    "RC01": "bank identifier incorrect",
    "RR01": "regulatory reason: debtor account or identification missing",
    "RR02": "regulatory reason: debtor name or address missing",
    "RR03": "regulatory reason: creditor name or address missing",
    "RR04": "regulatory reason",
    "SL01": "specific service offered by the debtor bank",
}
# Reasons after which the mandate cannot be used again.
MANDATE_ENDING_REASONS = frozenset({"AC01", "AC04", "AC06", "AC13", "AG01", "MD01", "MD07"})


@dataclass
class ReturnRecord:
    line: int
    end_to_end_id: str
    reason_code: str
    returned_on: dt.date | None


@dataclass
class ReturnsResult:
    run: ImportRun
    counts: dict[str, int] = field(default_factory=dict)


def import_returns(content: bytes, file_name: str, *, actor=None, entities=None) -> ReturnsResult:
    """Apply a pain.002 or camt.054 file of returned direct debits, all or nothing.

    `entities` limits the file to the debits of those entities: a record naming any
    other debit, file or batch rejects the file as if it were unknown. None (for
    operators on the command line) accepts the debits of every entity.
    """
    sha256 = hashlib.sha256(content).hexdigest()
    started_at = timezone.now()
    scope = DirectDebit.objects.all()
    if entities is not None:
        scope = scope.filter(payment__entity__in=entities)
    sender = "o2c sent" if entities is None else "you manage"
    records, problems = read_returns(content, file_name, debits=scope, sender=sender)
    debits = {
        debit.end_to_end_id: debit
        for debit in scope.filter(
            end_to_end_id__in=[record.end_to_end_id for record in records]
        ).select_related("payment", "mandate", "payment__customer", "payment__entity")
    }
    for record in records:
        debit = debits.get(record.end_to_end_id)
        if debit is None:
            problems.append(
                RecordProblem(
                    file_name,
                    record.line,
                    "OrgnlEndToEndId",
                    f"{record.end_to_end_id!r} is not a direct debit {sender}",
                )
            )
        elif debit.status == DirectDebitStatus.SCHEDULED:
            problems.append(
                RecordProblem(
                    file_name,
                    record.line,
                    "OrgnlEndToEndId",
                    f"{record.end_to_end_id} has not been sent to the bank yet",
                )
            )
    if problems:
        _record(file_name, sha256, started_at, ImportStatus.REJECTED, problems, {}, actor)
        raise ImportRejected(file_name, problems)

    counts = {"returned": 0, "already_returned": 0}
    with transaction.atomic():
        for record in records:
            debit = debits[record.end_to_end_id]
            if debit.status == DirectDebitStatus.RETURNED:
                counts["already_returned"] += 1
                continue
            _return_debit(debit, record)
            counts["returned"] += 1
        run = _record(file_name, sha256, started_at, ImportStatus.SUCCEEDED, [], counts, actor)
    logger.info("Direct debit returns %s: %s", file_name, counts)
    return ReturnsResult(run, counts)


def _record(file_name, sha256, started_at, status, problems, counts, actor) -> ImportRun:
    return ImportRun.objects.create(
        kind="sepa_returns",
        profile="pain.002/camt.054",
        file_name=file_name,
        file_sha256=sha256,
        status=status,
        started_at=started_at,
        finished_at=timezone.now(),
        problems=[problem.as_dict() for problem in problems[:1000]],
        counts=counts,
        user=actor,
    )


def _return_debit(debit: DirectDebit, record: ReturnRecord) -> None:
    payment, mandate = debit.payment, debit.mandate
    entity = payment.entity
    code = record.reason_code or "MS03"
    text = REASONS.get(code, "reason code not known to o2c")
    on = max(record.returned_on or entity.today(), payment.paid_on or entity.today())
    reverse_payment(payment, reason=f"direct debit returned, {code}: {text}", on=on)
    debit.status = DirectDebitStatus.RETURNED
    debit.return_reason_code = code
    debit.returned_on = on
    debit.save(update_fields=["status", "return_reason_code", "returned_on"])

    # A returned first collection makes the next one a first collection again.
    if debit.sequence_type == SequenceType.FIRST and mandate.status == MandateStatus.ACTIVE:
        mandate.next_sequence_type = SequenceType.FIRST
        mandate.save(update_fields=["next_sequence_type"])
    if code in MANDATE_ENDING_REASONS:
        revoke_mandate(mandate, reason=f"debit {debit.end_to_end_id} returned: {code} {text}")

    team = collections_team(entity)
    if team is not None:
        create_work_item(
            kind=WorkKind.COLLECTION_CALL,
            title=f"Direct debit returned ({code}, {text}): {payment.customer.name}",
            team=team,
            customer=payment.customer,
            subject_type="payments.directdebit",
            subject_id=debit.pk,
            reason_code=code,
        )
    record_event(
        payment.customer,
        "debit_returned",
        f"Direct debit {debit.end_to_end_id} of {money.as_text(payment.amount, payment.currency)} "
        f"{payment.currency} returned "
        f"by the bank: {code} ({text})",
    )


# Reading the files ---------------------------------------------------------------------


def read_returns(
    content: bytes, file_name: str, *, debits=None, sender: str = "o2c sent"
) -> tuple[list[ReturnRecord], list[RecordProblem]]:
    """Return the returned debits a pain.002 or camt.054 file reports, and its problems.

    A rejected pain.002 group or batch is expanded into the debits of `debits` (all
    direct debits by default) that were sent in it. `sender` completes the problem
    "... is not a collection file {sender}" for a group or batch found in none of them.
    """
    if debits is None:
        debits = DirectDebit.objects.all()
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as error:
        return [], [RecordProblem(file_name, error.lineno or 0, "xml", f"not readable: {error}")]
    namespace = etree.QName(root).namespace or ""
    if ":pain.002." in namespace:
        return _read_pain002(root, file_name, debits, sender)
    if ":camt.054." in namespace:
        return _read_camt054(root, file_name)
    return [], [
        RecordProblem(
            file_name, 1, "Document", f"namespace {namespace!r} is neither pain.002 nor camt.054"
        )
    ]


def _local(node, path: str):
    """Return the first element along "A/B/C" of local names, whatever the namespace."""
    for name in path.split("/"):
        if node is None:
            return None
        node = next((child for child in node if etree.QName(child).localname == name), None)
    return node


def _all(node, name: str):
    return [child for child in node.iter() if etree.QName(child).localname == name]


def _text(node, path: str) -> str:
    found = _local(node, path)
    return (found.text or "").strip() if found is not None else ""


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _read_pain002(root, file_name: str, debits, sender: str):
    records, problems = [], []
    report = _local(root, "CstmrPmtStsRpt")
    created_on = _date(_text(report, "GrpHdr/CreDtTm")) if report is not None else None
    if report is None:
        return [], [RecordProblem(file_name, 1, "CstmrPmtStsRpt", "missing")]
    group = _local(report, "OrgnlGrpInfAndSts")
    group_reason = _text(group, "StsRsnInf/Rsn/Cd") if group is not None else ""
    if group is not None and _text(group, "GrpSts") == "RJCT":
        message_id = _text(group, "OrgnlMsgId")
        for debit in debits.filter(collection_file__message_id=message_id):
            records.append(
                ReturnRecord(group.sourceline or 0, debit.end_to_end_id, group_reason, created_on)
            )
        if not records:
            problems.append(
                RecordProblem(
                    file_name,
                    group.sourceline or 0,
                    "OrgnlMsgId",
                    f"{message_id!r} is not a collection file {sender}",
                )
            )
        return records, problems
    for block in [child for child in report if etree.QName(child).localname == "OrgnlPmtInfAndSts"]:
        block_reason = _text(block, "StsRsnInf/Rsn/Cd")
        if _text(block, "PmtInfSts") == "RJCT":
            block_id = _text(block, "OrgnlPmtInfId")
            rejected = list(debits.filter(payment_information_id=block_id))
            if not rejected:
                problems.append(
                    RecordProblem(
                        file_name,
                        block.sourceline or 0,
                        "OrgnlPmtInfId",
                        f"{block_id!r} is not a batch of a collection file {sender}",
                    )
                )
            for debit in rejected:
                records.append(
                    ReturnRecord(
                        block.sourceline or 0, debit.end_to_end_id, block_reason, created_on
                    )
                )
            continue
        for item in [child for child in block if etree.QName(child).localname == "TxInfAndSts"]:
            if _text(item, "TxSts") != "RJCT":
                continue
            end_to_end_id = _text(item, "OrgnlEndToEndId")
            if not end_to_end_id:
                problems.append(
                    RecordProblem(file_name, item.sourceline or 0, "OrgnlEndToEndId", "missing")
                )
                continue
            records.append(
                ReturnRecord(
                    item.sourceline or 0,
                    end_to_end_id,
                    _text(item, "StsRsnInf/Rsn/Cd") or block_reason,
                    created_on,
                )
            )
    return records, problems


def _read_camt054(root, file_name: str):
    records, problems = [], []
    for entry in _all(root, "Ntry"):
        if _text(entry, "CdtDbtInd") != "DBIT":
            continue
        booked_on = _date(_text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm"))
        for details in _all(entry, "TxDtls"):
            reason = _text(details, "RtrInf/Rsn/Cd")
            if not reason and _local(details, "RtrInf") is None:
                continue
            end_to_end_id = _text(details, "Refs/EndToEndId")
            if not end_to_end_id or end_to_end_id == "NOTPROVIDED":
                problems.append(
                    RecordProblem(file_name, details.sourceline or 0, "EndToEndId", "missing")
                )
                continue
            records.append(ReturnRecord(details.sourceline or 0, end_to_end_id, reason, booked_on))
    if not records and not problems:
        problems.append(
            RecordProblem(file_name, 1, "Ntry", "the file reports no returned direct debit")
        )
    return records, problems
