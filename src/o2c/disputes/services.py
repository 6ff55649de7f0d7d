"""Business verbs of disputes: open a case, attach evidence, route, resolve.

A case covers one or more invoices (or lines of them); each invoice gets a Dispute
row with its amount, so the disputed amount leaves the dunning run and shows apart in
aging. The case is routed to the team that can fix its reason, with that team's SLA
for disputes. It ends in a credit note, a write-off (a second person approves above
the entity's threshold; the approver cannot be the requester) or a rejection that the
customer is told about.
"""

import hashlib
import logging
import secrets
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from o2c.core import money
from o2c.disputes import signals
from o2c.disputes.errors import DisputeError
from o2c.disputes.models import (
    Dispute,
    DisputeAttachment,
    DisputeReason,
    DisputeStatus,
    Resolution,
    WriteOffPolicy,
    WriteOffRequest,
    WriteOffStatus,
)
from o2c.disputes.routing import responsible_team, route_team
from o2c.fx.services import RateTable
from o2c.ledger.models import DocumentKind, Side
from o2c.ledger.services import allocate, open_amount, post_document
from o2c.parties.services import record_event
from o2c.teams.models import WorkKind
from o2c.teams.selectors import sees_whole_entity
from o2c.teams.services import close_work_item, create_work_item, leads_team, notify, team_leads

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Accepted evidence: extension -> (content type, leading bytes the file must start with).
ALLOWED_EVIDENCE = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain", ()),
    ".csv": ("text/csv", ()),
    ".eml": ("message/rfc822", ()),
}


@transaction.atomic
def open_dispute(
    customer,
    *,
    lines,
    reason: str,
    actor,
    description: str = "",
    opened_on=None,
    source: str = "manual",
) -> list[Dispute]:
    """Open a case on one or more invoices: lines is [(invoice, amount, line reference)].

    Each amount must be positive and at most what is open on its invoice, less what is
    already disputed there. `source` names where the case was raised ("manual",
    "portal").
    """
    if reason not in DisputeReason.values or reason == DisputeReason.UNSPECIFIED:
        raise DisputeError(
            "invalid_reason",
            "{reason!r} is not a dispute reason; choose one of {choices}.",
            reason=reason,
            choices=", ".join(
                value for value in DisputeReason.values if value != DisputeReason.UNSPECIFIED
            ),
        )
    if not lines:
        raise DisputeError("no_invoices", "Choose at least one invoice to dispute.")
    entity = customer.entity
    checked = []
    for invoice, amount, line_reference in lines:
        if invoice.customer_id != customer.pk or invoice.side != Side.DEBIT:
            raise DisputeError(
                "not_customer_invoice",
                "{number} is not an invoice of {customer}.",
                number=invoice.number,
                customer=customer.number,
            )
        amount = money.parse_amount(amount, invoice.currency, policy=entity.amount_policy)
        still_open = open_amount(invoice)
        already = sum(
            (dispute.amount for dispute in invoice.disputes.filter(status=DisputeStatus.OPEN)),
            ZERO,
        )
        if amount <= ZERO or amount > still_open - already:
            raise DisputeError(
                "dispute_amount",
                "{number} has {open} {currency} open, {disputed} already disputed; a dispute "
                "of {amount} must be positive and at most {room}.",
                number=invoice.number,
                open=money.as_text(still_open, invoice.currency),
                currency=invoice.currency,
                disputed=money.as_text(already, invoice.currency),
                amount=money.as_text(amount, invoice.currency),
                room=money.as_text(still_open - already, invoice.currency),
            )
        checked.append((invoice, amount, line_reference or ""))

    today = opened_on or entity.today()
    team = route_team(entity, reason)
    case_number = f"D{today:%y%m}-{secrets.token_hex(3).upper()}"
    disputes = [
        Dispute.objects.create(
            entity=entity,
            customer=customer,
            invoice=invoice,
            amount=amount,
            currency=invoice.currency,
            reason=reason,
            status=DisputeStatus.OPEN,
            opened_on=today,
            description=description,
            source=source,
            case_number=case_number,
            line_reference=line_reference,
            team=team,
            raised_by=actor,
        )
        for invoice, amount, line_reference in checked
    ]
    if team is not None:
        base_total = _base_total(entity, [(d.amount, d.currency) for d in disputes], today)
        item = create_work_item(
            kind=WorkKind.DISPUTE,
            title=f"Dispute {case_number} ({DisputeReason(reason).label}): "
            + ", ".join(d.invoice.number for d in disputes),
            team=team,
            customer=customer,
            amount=base_total,
            subject_type="disputes.case",
            subject_id=case_number,
            actor=actor,
        )
        Dispute.objects.filter(pk__in=[d.pk for d in disputes]).update(
            work_item=item, owner=item.owner
        )
        for dispute in disputes:
            dispute.work_item, dispute.owner = item, item.owner
    record_event(
        customer,
        "dispute_opened",
        f"Dispute {case_number} ({DisputeReason(reason).label}) on "
        + ", ".join(
            f"{d.invoice.number} {money.as_text(d.amount, d.currency)} {d.currency}"
            for d in disputes
        )
        + (f", routed to {team.name}" if team else ""),
        actor=actor,
        case_number=case_number,
    )
    transaction.on_commit(
        lambda: signals.dispute_opened.send(sender=Dispute, disputes=disputes), robust=True
    )
    return disputes


def _base_total(entity, amounts, on) -> Decimal | None:
    rates = RateTable({entity.base_currency} | {currency for _, currency in amounts})
    try:
        return sum(
            (
                rates.convert(amount, currency, entity.base_currency, on).amount
                for amount, currency in amounts
            ),
            ZERO,
        )
    except Exception:
        return None


def can_work_on(user, dispute: Dispute) -> bool:
    """Return whether the person may resolve the dispute.

    Its owner, any member of its responsible team (see `routing.responsible_team`), and
    the leaders and administrators of its entity may.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if dispute.owner_id == user.pk:
        return True
    if sees_whole_entity(user, dispute.entity):
        return True
    team = responsible_team(dispute)
    return team is not None and team.memberships.filter(user=user).exists()


def _check_open(dispute: Dispute, actor) -> Dispute:
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("entity", "invoice", "team")
        .get(pk=dispute.pk)
    )
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError(
            "dispute_closed",
            "Dispute {id} on {number} is already {status}.",
            id=dispute.pk,
            number=dispute.invoice.number,
            status=dispute.status,
        )
    if not can_work_on(actor, dispute):
        team = responsible_team(dispute)
        raise DisputeError(
            "not_your_dispute",
            "Only a member of {team} or a leader of {entity} may resolve dispute {id}.",
            team=team.name if team else "the disputes team",
            entity=dispute.entity.code,
            id=dispute.pk,
        )
    return dispute


def _parse_amount(dispute: Dispute, amount) -> Decimal:
    amount = money.parse_amount(
        amount if amount is not None else dispute.amount,
        dispute.currency,
        policy=dispute.entity.amount_policy,
    )
    room = min(dispute.amount, open_amount(dispute.invoice))
    if amount <= ZERO or amount > room:
        raise DisputeError(
            "resolution_amount",
            "The amount must be positive and at most {room} {currency} (the disputed amount "
            "still open on {number}), not {amount}.",
            room=money.as_text(room, dispute.currency),
            currency=dispute.currency,
            number=dispute.invoice.number,
            amount=money.as_text(amount, dispute.currency),
        )
    return amount


def _finish(dispute: Dispute, resolution: str, actor, note: str, document=None) -> Dispute:
    dispute.status = (
        DisputeStatus.REJECTED if resolution == Resolution.REJECTED else DisputeStatus.RESOLVED
    )
    dispute.resolution = resolution
    dispute.resolution_note = note
    dispute.resolution_document = document
    dispute.resolved_on = dispute.entity.today()
    dispute.resolved_by = actor
    dispute.save()
    transaction.on_commit(
        lambda: signals.dispute_resolved.send(sender=Dispute, dispute=dispute), robust=True
    )
    siblings_open = Dispute.objects.filter(
        work_item_id=dispute.work_item_id, status=DisputeStatus.OPEN
    ).exclude(pk=dispute.pk)
    if dispute.work_item_id and not siblings_open.exists():
        item = dispute.work_item
        if item.state in ("open", "in_progress", "waiting"):
            close_work_item(
                item, outcome=f"{Resolution(resolution).label}: {note}"[:500], actor=actor
            )
    return dispute


@transaction.atomic
def resolve_by_credit_note(dispute: Dispute, *, actor, note: str, amount=None) -> Dispute:
    """Resolve by posting a credit note for the amount and applying it to the invoice."""
    dispute = _check_open(dispute, actor)
    amount = _parse_amount(dispute, amount)
    credit = post_document(
        customer=dispute.customer,
        kind=DocumentKind.CREDIT_NOTE,
        number=f"CN-{dispute.case_number or 'D'}-{dispute.pk}",
        document_date=dispute.entity.today(),
        amount=amount,
        currency=dispute.currency,
        related_invoice=dispute.invoice,
        description=f"Dispute {dispute.case_number}: {note}"[:500],
        source="dispute",
        actor=actor,
    )
    allocate(dispute.invoice, credit, on=dispute.entity.today(), actor=actor, source="dispute")
    record_event(
        dispute.customer,
        "dispute_resolved",
        f"Dispute {dispute.case_number} on {dispute.invoice.number} resolved by credit note "
        f"{credit.number} of {money.as_text(amount, dispute.currency)} {dispute.currency}: {note}",
        actor=actor,
        document=credit,
    )
    return _finish(dispute, Resolution.CREDIT_NOTE, actor, note, credit)


def approval_threshold(entity) -> Decimal:
    """Return the amount above which a write-off needs approval; 0 (all) when unset."""
    policy = WriteOffPolicy.objects.filter(entity=entity).first()
    return policy.approval_threshold_amount if policy else ZERO


@transaction.atomic
def request_write_off(dispute: Dispute, *, actor, reason: str, amount=None) -> WriteOffRequest:
    """Write off (part of) the disputed amount: at once up to the threshold, else on approval."""
    if not reason.strip():
        raise DisputeError("reason_required", "Say why the amount is written off.")
    dispute = _check_open(dispute, actor)
    if dispute.write_offs.filter(status=WriteOffStatus.PENDING).exists():
        raise DisputeError(
            "write_off_pending",
            "A write-off of dispute {id} is already waiting for approval.",
            id=dispute.pk,
        )
    amount = _parse_amount(dispute, amount)
    entity = dispute.entity
    today = entity.today()
    amount_base = (
        RateTable({dispute.currency, entity.base_currency})
        .convert(amount, dispute.currency, entity.base_currency, today)
        .amount
    )
    request = WriteOffRequest.objects.create(
        dispute=dispute,
        amount=amount,
        currency=dispute.currency,
        amount_base=amount_base,
        reason=reason,
        status=WriteOffStatus.PENDING,
        requested_by=actor,
    )
    threshold = approval_threshold(entity)
    shown = f"{money.as_text(amount, dispute.currency)} {dispute.currency}"
    if amount_base <= threshold:
        _post_write_off(request, approver=None)
        return request
    team = responsible_team(dispute)
    if team is not None:
        request.work_item = create_work_item(
            kind=WorkKind.WRITE_OFF_APPROVAL,
            title=f"Approve write-off of {shown} on {dispute.invoice.number}",
            team=team,
            customer=dispute.customer,
            amount=amount_base,
            subject_type="disputes.writeoffrequest",
            subject_id=0,
            actor=actor,
            assign=False,
        )
        request.work_item.subject_id = str(request.pk)
        request.work_item.save(update_fields=["subject_id"])
        request.save(update_fields=["work_item"])
        notify(
            team_leads(team),
            "approval",
            f"{actor.get_username()} asks to write off {shown} on "
            f"{dispute.invoice.number} (above {threshold} {entity.base_currency})",
            item=request.work_item,
            exclude=actor,
        )
    record_event(
        dispute.customer,
        "write_off_requested",
        f"Write-off of {shown} on {dispute.invoice.number} requested, "
        f"above the {threshold} {entity.base_currency} threshold: waiting for approval",
        actor=actor,
    )
    return request


@transaction.atomic
def decide_write_off(request: WriteOffRequest, *, approver, approve: bool, note: str = ""):
    """Approve (and post) or decline a write-off; the requester cannot decide their own."""
    request = (
        WriteOffRequest.objects.select_for_update(of=("self",))
        .select_related("dispute__entity", "dispute__team", "dispute__invoice")
        .get(pk=request.pk)
    )
    if request.status != WriteOffStatus.PENDING:
        raise DisputeError(
            "write_off_decided", "This write-off is already {status}.", status=request.status
        )
    if approver.pk == request.requested_by_id:
        raise DisputeError(
            "approver_is_requester",
            "{user} requested this write-off and cannot approve it; another lead must.",
            user=approver.get_username(),
        )
    team = responsible_team(request.dispute)
    may_decide = sees_whole_entity(approver, request.dispute.entity) or (
        team is not None and leads_team(approver, team)
    )
    if not may_decide:
        raise DisputeError(
            "approver_not_lead",
            "Only a lead of {team} or a leader of the entity may decide a write-off.",
            team=team.name if team else "the disputes team",
        )
    if approve:
        _post_write_off(request, approver=approver, note=note)
    else:
        request.status = WriteOffStatus.DECLINED
        request.decided_by = approver
        request.decided_at = timezone.now()
        request.decision_note = note
        request.save()
        record_event(
            request.dispute.customer,
            "write_off_declined",
            f"Write-off of {money.as_text(request.amount, request.currency)} {request.currency} "
            f"declined: {note}",
            actor=approver,
        )
    if request.work_item_id and request.work_item.state in ("open", "in_progress", "waiting"):
        close_work_item(
            request.work_item,
            outcome="approved" if approve else f"declined: {note}",
            actor=approver,
        )
    return request


def _post_write_off(request: WriteOffRequest, *, approver, note: str = "") -> None:
    dispute = Dispute.objects.select_for_update().get(pk=request.dispute_id)
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError("dispute_closed", "Dispute {id} is no longer open.", id=dispute.pk)
    on = dispute.entity.today()
    document = post_document(
        customer=dispute.customer,
        kind=DocumentKind.WRITE_OFF,
        number=f"WO-{dispute.case_number or 'D'}-{dispute.pk}-{request.pk}",
        document_date=on,
        amount=request.amount,
        currency=request.currency,
        related_invoice=dispute.invoice,
        description=f"Write-off: {request.reason}"[:500],
        source="dispute",
        actor=approver or request.requested_by,
    )
    allocate(dispute.invoice, document, on=on, actor=approver or request.requested_by)
    request.status = WriteOffStatus.APPROVED
    request.document = document
    request.decided_by = approver
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save()
    who = f"approved by {approver.get_username()}" if approver else "within the threshold"
    record_event(
        dispute.customer,
        "written_off",
        f"{money.as_text(request.amount, request.currency)} {request.currency} of "
        f"{dispute.invoice.number} written off ({who}): "
        f"{request.reason}",
        actor=approver or request.requested_by,
        document=document,
    )
    _finish(
        dispute, Resolution.WRITE_OFF, approver or request.requested_by, request.reason, document
    )


@transaction.atomic
def reject_dispute(dispute: Dispute, *, actor, reason: str, notify_customer: bool = True):
    """Reject a dispute and tell the customer why, by e-mail to their contact."""
    if not reason.strip():
        raise DisputeError(
            "reason_required", "Enter the reason to give the customer before rejecting."
        )
    dispute = _check_open(dispute, actor)
    _finish(dispute, Resolution.REJECTED, actor, reason)
    contact = (
        dispute.customer.contacts.exclude(email="").order_by("-is_primary", "role").first()
        if notify_customer
        else None
    )
    told = ""
    if contact is not None:
        recipient, subject = contact.email, f"Your dispute on invoice {dispute.invoice.number}"
        body = (
            f"Dear {contact.name},\n\nWe have reviewed your dispute {dispute.case_number} on "
            f"invoice {dispute.invoice.number} "
            f"({money.as_text(dispute.amount, dispute.currency)} {dispute.currency}) and "
            f"cannot accept it, for this reason:\n\n{reason}\n\nThe invoice remains due. "
            "Reply to this e-mail if you have further information.\n\n"
            f"{dispute.entity.name}\n"
        )
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        )
        told = f"; customer told at {recipient}"
    record_event(
        dispute.customer,
        "dispute_rejected",
        f"Dispute {dispute.case_number} on {dispute.invoice.number} rejected: {reason}{told}",
        actor=actor,
    )
    return dispute


@transaction.atomic
def attach_evidence(dispute: Dispute, upload, *, actor) -> DisputeAttachment:
    """Store an evidence file under MEDIA_ROOT after checking its size and type.

    The stored name is generated, so an uploaded name can never choose the path.
    """
    limit = getattr(settings, "O2C_DISPUTE_MAX_ATTACHMENT_BYTES", MAX_ATTACHMENT_BYTES)
    original = PurePath(upload.name or "evidence").name[:255]
    extension = PurePath(original).suffix.lower()
    if extension not in ALLOWED_EVIDENCE:
        raise DisputeError(
            "attachment_type",
            "{name}: only {allowed} files are accepted as evidence.",
            name=original,
            allowed=", ".join(sorted(ALLOWED_EVIDENCE)),
        )
    if upload.size > limit:
        raise DisputeError(
            "attachment_too_large",
            "{name} is {size} bytes; evidence files may be at most {limit} bytes.",
            name=original,
            size=upload.size,
            limit=limit,
        )
    content_type, signatures = ALLOWED_EVIDENCE[extension]
    head = upload.read(16)
    upload.seek(0)
    if signatures and not any(head.startswith(signature) for signature in signatures):
        raise DisputeError(
            "attachment_content",
            "{name} does not contain what its extension says ({type}).",
            name=original,
            type=content_type,
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = DisputeAttachment(
        dispute=dispute,
        stored_name=f"{secrets.token_hex(12)}{extension}",
        original_name=original,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    attachment.file.save(attachment.stored_name, upload, save=False)
    attachment.save()
    record_event(
        dispute.customer,
        "evidence_added",
        f"Evidence {original} added to dispute {dispute.case_number}",
        actor=actor,
    )
    return attachment
