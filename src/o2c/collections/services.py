"""Business verbs of collections: dunning runs, promises to pay, contacts, holds, charges.

A dunning run looks at every open invoice, debit note and charge of an entity on a
date (the entity's calendar date: "today" is taken in its time zone). Each document
reaches the highest step of its customer's strategy whose day offset it has passed;
a step is done once per document (a unique constraint on document and step makes a
second reminder for the same step impossible, even from two runs at once). Disputed
amounts and documents under an open promise to pay are left out. A run can be
previewed, which writes nothing, and then executed.

When a document reaches a step for the first time after a gap (the first run, or a
run after a pause), only the highest step reached is done, not the ones skipped.
"""

import datetime as dt
import email
import email.policy
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from o2c.collections.errors import CollectionsError
from o2c.collections.letters import store_letter
from o2c.collections.models import (
    ActivityKind,
    ActivityOutcome,
    CollectionActivity,
    CollectionsPolicy,
    CustomerHold,
    DunningNotice,
    DunningNoticeItem,
    DunningRun,
    DunningStep,
    DunningStrategy,
    InboundKind,
    InboundMessage,
    NoticeStatus,
    PromiseStatus,
    PromiseToPay,
    StepAction,
    StepChannel,
)
from o2c.collections.reminders import reminder_language, render_reminder, template_overrides
from o2c.collections.selectors import behaviour_by_customer, dunning_candidates, no_history
from o2c.core import money
from o2c.fx.errors import RateError
from o2c.fx.services import RateTable
from o2c.ledger.models import Allocation, Document, DocumentKind, Side
from o2c.ledger.selectors import open_documents
from o2c.ledger.services import post_document, reverse_document
from o2c.parties.models import Contact, ContactRole, Customer
from o2c.parties.services import record_event
from o2c.teams.models import Team, TeamFunction, WorkKind
from o2c.teams.services import create_work_item

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
CONTACT_ROLE_ORDER = {ContactRole.COLLECTIONS: 0, ContactRole.BILLING: 1, ContactRole.GENERAL: 2}


def policy_for(entity) -> CollectionsPolicy:
    policy, _ = CollectionsPolicy.objects.get_or_create(entity=entity)
    return policy


def collections_team(entity) -> Team | None:
    return Team.objects.filter(entity=entity, function=TeamFunction.COLLECTIONS).first()


# Planning ----------------------------------------------------------------------------


@dataclass
class PlannedItem:
    document: Document
    step: DunningStep
    open_amount: Decimal
    disputed: Decimal
    days_past_due: int
    interest: Decimal = ZERO
    interest_from: dt.date | None = None
    interest_to: dt.date | None = None


@dataclass
class PlannedNotice:
    customer: Customer
    currency: str
    step: DunningStep
    channel: str
    items: list[PlannedItem]
    also_overdue: list[dict]
    behaviour: dict
    language: str
    contact: Contact | None
    recipient: str
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    total_due: Decimal = ZERO
    subject: str = ""
    body: str = ""


@dataclass
class DunningPlan:
    entity: object
    as_of: dt.date
    notices: list[PlannedNotice] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for notice in self.notices:
            key = "holds" if notice.step.action == StepAction.HOLD_ORDERS else notice.channel
            counts[str(key)] += 1
            counts["documents"] += len(notice.items)
        for skipped in self.skipped:
            counts[f"skipped_{skipped['reason']}"] += 1
        return dict(counts)


def _strategies(entity) -> dict[str, list[DunningStep]]:
    strategies = DunningStrategy.objects.filter(entity=entity, is_active=True).prefetch_related(
        "steps"
    )
    return {
        strategy.segment: sorted(strategy.steps.all(), key=lambda step: step.days_after_due)
        for strategy in strategies
    }


def _best_contact(contacts: list[Contact]) -> Contact | None:
    with_email = [contact for contact in contacts if contact.email]
    if not with_email:
        return None
    return min(
        with_email,
        key=lambda contact: (CONTACT_ROLE_ORDER.get(contact.role, 9), not contact.is_primary),
    )


def plan_dunning(entity, as_of: dt.date) -> DunningPlan:
    """Work out what a run on `as_of` would do, without writing anything."""
    policy = policy_for(entity)
    strategies = _strategies(entity)
    plan = DunningPlan(entity, as_of)
    if not strategies:
        return plan
    earliest_offset = min(
        (step.days_after_due for steps in strategies.values() for step in steps), default=0
    )
    due_by = as_of - dt.timedelta(days=min(earliest_offset, 0))
    candidates = list(dunning_candidates(entity, as_of, due_by, policy.promise_grace_days))

    groups: dict[tuple[int, str, str], list[PlannedItem]] = defaultdict(list)
    overdue: dict[tuple[int, str], list[dict]] = defaultdict(list)
    customers: dict[int, Customer] = {}
    for document in candidates:
        customer = document.customer
        customers[customer.pk] = customer
        steps = strategies.get(customer.segment) or strategies.get("")
        if not steps:
            continue
        days_past_due = (as_of - document.due_date).days
        undisputed = document.open_amount - min(document.open_amount, document.disputed)
        if undisputed <= ZERO:
            plan.skipped.append(_skip(document, "disputed"))
            continue
        if document.promised:
            plan.skipped.append(_skip(document, "promised"))
            continue
        if days_past_due > 0:
            overdue[(customer.pk, document.currency)].append(
                {
                    "number": document.number,
                    "document_date": document.document_date,
                    "due_date": document.due_date,
                    "days_past_due": days_past_due,
                    "amount": undisputed,
                    "document_id": document.pk,
                }
            )
        reached = [step for step in steps if step.days_after_due <= days_past_due]
        if not reached:
            continue
        step = max(reached, key=lambda candidate: candidate.days_after_due)
        if step.sequence <= document.level:
            continue
        item = PlannedItem(document, step, undisputed, document.disputed, days_past_due)
        if (
            policy.charge_interest
            and step.charge_interest
            and document.kind != DocumentKind.CHARGE
            and days_past_due > 0
        ):
            _add_interest(item, policy, as_of, document.interest_until)
        kind = step.action or step.channel
        groups[(customer.pk, document.currency, kind)].append(item)

    contacts: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in={key[0] for key in groups}):
        contacts[contact.customer_id].append(contact)
    behaviour = behaviour_by_customer(entity, {key[0] for key in groups}, as_of)
    rates = RateTable({entity.base_currency} | {key[1] for key in groups})
    overrides = template_overrides(entity)

    for (customer_id, currency, _kind), items in groups.items():
        customer = customers[customer_id]
        step = max((item.step for item in items), key=lambda step: step.days_after_due)
        contact = _best_contact(contacts[customer_id])
        channel = step.channel
        if channel == StepChannel.EMAIL and contact is None:
            channel = StepChannel.LETTER
        notice = PlannedNotice(
            customer=customer,
            currency=currency,
            step=step,
            channel=channel,
            items=items,
            also_overdue=[
                line
                for line in overdue[(customer_id, currency)]
                if line["document_id"] not in {item.document.pk for item in items}
            ],
            behaviour=behaviour.get(customer_id) or no_history(),
            language=reminder_language(contact.language if contact else "", customer.language),
            contact=contact,
            recipient=contact.email if contact and channel == StepChannel.EMAIL else "",
        )
        if (
            policy.charge_fees
            and step.fee_amount
            and channel
            in (
                StepChannel.EMAIL,
                StepChannel.LETTER,
            )
        ):
            notice.fee = _fee_in(step.fee_amount, entity.base_currency, currency, as_of, rates)
        notice.interest = money.round_amount(sum((item.interest for item in items), ZERO), currency)
        due = sum((item.open_amount for item in items), ZERO) + sum(
            (line["amount"] for line in notice.also_overdue), ZERO
        )
        notice.total_due = money.cash_round(
            due + notice.fee + notice.interest, currency, entity.cash_rounding_increment
        )
        if notice.total_due < policy.minimum_amount and channel != StepChannel.ACTION:
            for item in items:
                plan.skipped.append(_skip(item.document, "below_minimum"))
            continue
        if channel in (StepChannel.EMAIL, StepChannel.LETTER):
            _render(notice, entity, as_of, overrides)
        plan.notices.append(notice)
    plan.notices.sort(key=lambda notice: (notice.customer.number, notice.currency, notice.channel))
    return plan


def _skip(document: Document, reason: str) -> dict:
    return {
        "customer": document.customer,
        "document": document,
        "reason": reason,
        "open_amount": document.open_amount,
    }


def _add_interest(item: PlannedItem, policy, as_of: dt.date, charged_until) -> None:
    """Charge simple interest from the due date, or from the day it was last charged to."""
    start = max(item.document.due_date, charged_until or item.document.due_date)
    days = (as_of - start).days
    if days <= 0:
        return
    raw = (
        item.open_amount
        * policy.annual_interest_percent
        / Decimal(100)
        * Decimal(days)
        / Decimal(policy.day_count_basis)
    )
    item.interest = money.round_amount(raw, item.document.currency)
    item.interest_from = start
    item.interest_to = as_of


def _fee_in(fee: Decimal, base: str, currency: str, on: dt.date, rates: RateTable) -> Decimal:
    if currency == base:
        return fee
    try:
        return rates.convert(fee, base, currency, on).amount
    except RateError:
        logger.warning("Dunning fee: no %s/%s rate on %s, fee left out", base, currency, on)
        return ZERO


def _render(notice: PlannedNotice, entity, as_of: dt.date, overrides: dict) -> None:
    lines = [
        {
            "number": item.document.number,
            "document_date": item.document.document_date,
            "due_date": item.document.due_date,
            "days_past_due": item.days_past_due,
            "amount": item.open_amount,
        }
        for item in notice.items
    ] + notice.also_overdue
    lines.sort(key=lambda line: (line["due_date"], line["number"]))
    notice.subject, notice.body = render_reminder(
        entity=entity,
        tone=notice.step.tone,
        language=notice.language,
        customer_name=notice.customer.name,
        contact_name=notice.contact.name if notice.contact else "",
        items=lines,
        currency=notice.currency,
        total_due=notice.total_due,
        fee=notice.fee,
        interest=notice.interest,
        behaviour=notice.behaviour["class"],
        as_of=as_of,
        overrides=overrides,
    )


# Executing ---------------------------------------------------------------------------


def run_dunning(entity, as_of: dt.date, *, actor=None, preview=False, source="web"):
    """Preview (write nothing) or execute the dunning of an entity on `as_of`.

    Executing posts fees and interest as charge documents, records each document at its
    step, creates call tasks, places order holds, stores letters, and sends e-mails
    once the transaction has committed. Returns the plan, or the run when executed.
    """
    if preview:
        return plan_dunning(entity, as_of)
    if as_of > entity.today():
        raise CollectionsError(
            "dunning_in_future",
            "A dunning run cannot be executed for {as_of}, after today ({today}) in {entity}; "
            "preview it instead.",
            as_of=as_of,
            today=entity.today(),
            entity=entity.code,
        )
    with transaction.atomic():
        # One run per entity at a time: the policy row is the lock.
        policy = policy_for(entity)
        CollectionsPolicy.objects.select_for_update().get(pk=policy.pk)
        plan = plan_dunning(entity, as_of)
        run = DunningRun.objects.create(
            entity=entity, as_of=as_of, source=source, created_by=actor, counts=plan.counts
        )
        for planned in plan.notices:
            _execute_notice(run, planned, policy, actor)
    transaction.on_commit(lambda: send_notices(run.pk))
    logger.info("Dunning run %s of %s as of %s: %s", run.pk, entity.code, as_of, run.counts)
    return run


def _execute_notice(run: DunningRun, planned: PlannedNotice, policy, actor) -> DunningNotice:
    customer, as_of = planned.customer, run.as_of
    notice = DunningNotice.objects.create(
        run=run,
        customer=customer,
        step=planned.step,
        channel=planned.channel,
        currency=planned.currency,
        language=planned.language,
        behaviour=planned.behaviour["class"],
        contact=planned.contact,
        recipient=planned.recipient,
        subject=planned.subject,
        body=planned.body,
        total_due=planned.total_due,
    )
    DunningNoticeItem.objects.bulk_create(
        [
            DunningNoticeItem(
                notice=notice,
                document=item.document,
                step=item.step,
                open_amount=item.open_amount,
                days_past_due=item.days_past_due,
                interest_amount=item.interest,
                interest_from=item.interest_from,
                interest_to=item.interest_to,
            )
            for item in planned.items
        ]
    )
    charge_due = as_of + dt.timedelta(days=policy.charge_due_days)
    if planned.fee:
        notice.fee_document = post_document(
            customer=customer,
            kind=DocumentKind.CHARGE,
            number=f"DUN{notice.pk}-FEE",
            document_date=as_of,
            due_date=charge_due,
            amount=planned.fee,
            currency=planned.currency,
            description=f"Reminder fee, {planned.step.name}",
            source="dunning",
            actor=actor,
        )
    if planned.interest:
        notice.interest_document = post_document(
            customer=customer,
            kind=DocumentKind.CHARGE,
            number=f"DUN{notice.pk}-INT",
            document_date=as_of,
            due_date=charge_due,
            amount=planned.interest,
            currency=planned.currency,
            description="Late-payment interest on "
            + ", ".join(item.document.number for item in planned.items if item.interest),
            source="dunning",
            actor=actor,
        )
    numbers = ", ".join(item.document.number for item in planned.items)
    if planned.step.action == StepAction.HOLD_ORDERS:
        place_hold(
            customer,
            reason=f"Dunning step {planned.step.name}: {numbers}",
            actor=actor,
            on=as_of,
            notice=notice,
        )
        notice.status = NoticeStatus.DONE
    elif planned.channel == StepChannel.CALL:
        team = collections_team(customer.entity)
        if team is not None:
            notice.work_item = create_work_item(
                kind=WorkKind.COLLECTION_CALL,
                title=f"Call {customer.name}: {planned.step.name}",
                team=team,
                customer=customer,
                amount=_base_amount(customer.entity, planned.total_due, planned.currency, as_of),
                subject_type="collections.dunningnotice",
                subject_id=notice.pk,
                actor=actor,
                documents=numbers,
            )
        notice.status = NoticeStatus.DONE
    elif planned.channel == StepChannel.LETTER:
        store_letter(notice)
        notice.status = NoticeStatus.READY_TO_PRINT
    notice.save()
    record_event(
        customer,
        "dunning",
        f"{planned.step.name} ({notice.get_channel_display()}, {notice.language}) for "
        f"{numbers}: {money.as_text(planned.total_due, planned.currency)} {planned.currency} due",
        actor=actor,
        notice_id=notice.pk,
        run_id=run.pk,
    )
    return notice


def _base_amount(entity, amount: Decimal, currency: str, on: dt.date) -> Decimal | None:
    try:
        return (
            RateTable({currency, entity.base_currency})
            .convert(amount, currency, entity.base_currency, on)
            .amount
        )
    except RateError:
        return None


def send_notices(run_id: int | None = None, notice_ids=None) -> dict[str, int]:
    """Send the e-mail reminders not yet sent (planned or failed), one SMTP session.

    A failure is recorded on the reminder and retried by the next call.
    """
    pending = DunningNotice.objects.filter(
        channel=StepChannel.EMAIL, status__in=[NoticeStatus.PLANNED, NoticeStatus.FAILED]
    ).select_related("customer__entity", "run")
    if run_id is not None:
        pending = pending.filter(run_id=run_id)
    if notice_ids is not None:
        pending = pending.filter(pk__in=list(notice_ids))
    counts = {"sent": 0, "failed": 0}
    pending = list(pending)
    if not pending:
        return counts
    connection = get_connection()
    try:
        connection.open()
    except OSError as error:
        DunningNotice.objects.filter(pk__in=[notice.pk for notice in pending]).update(
            status=NoticeStatus.FAILED, error=f"SMTP connection failed: {error}"[:500]
        )
        logger.error("Dunning e-mail: SMTP connection failed: %s", error)
        counts["failed"] = len(pending)
        return counts
    try:
        for notice in pending:
            policy = policy_for(notice.customer.entity)
            message_id = notice.message_id or make_msgid(domain="o2c.local")
            message = EmailMessage(
                notice.subject,
                notice.body + _appended_text(notice),
                settings.DEFAULT_FROM_EMAIL,
                [notice.recipient],
                reply_to=[policy.reply_to] if policy.reply_to else None,
                headers={"Message-ID": message_id, "Content-Language": notice.language},
                connection=connection,
            )
            try:
                message.send()
            except OSError as error:
                notice.status = NoticeStatus.FAILED
                notice.error = str(error)[:500]
                notice.message_id = message_id
                counts["failed"] += 1
                logger.warning("Dunning notice %s: sending failed: %s", notice.pk, error)
            else:
                notice.status = NoticeStatus.SENT
                notice.sent_at = timezone.now()
                notice.message_id = message_id
                notice.error = ""
                counts["sent"] += 1
            notice.save(update_fields=["status", "sent_at", "message_id", "error"])
    finally:
        connection.close()
    return counts


def _appended_text(notice: DunningNotice) -> str:
    from o2c.collections.signals import reminder_sending

    parts = [text for _, text in reminder_sending.send(sender=DunningNotice, notice=notice)]
    return "".join(text for text in parts if text)


# Bounces and replies -------------------------------------------------------------------


def _message_ids(text: str | None) -> list[str]:
    return [part for part in (text or "").replace(",", " ").split() if part.startswith("<")]


def _referenced_ids(message) -> list[str]:
    ids = _message_ids(message.get("In-Reply-To")) + _message_ids(message.get("References"))
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            for inner in part.iter_parts():
                ids += _message_ids(inner.get("Message-ID"))
        elif content_type == "text/rfc822-headers":
            headers = email.message_from_string(part.get_content(), policy=email.policy.default)
            ids += _message_ids(headers.get("Message-ID"))
    return ids


def _is_bounce(message) -> bool:
    if message.get_content_type() == "multipart/report":
        return message.get_param("report-type") == "delivery-status"
    sender = (message.get("From") or "").lower()
    return "mailer-daemon" in sender or "postmaster@" in sender


def _text_of(message) -> str:
    part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
    if part is None:
        return ""
    try:
        return part.get_content()[:10_000]
    except (LookupError, KeyError):
        return ""


@transaction.atomic
def record_inbound(raw: bytes) -> InboundMessage:
    """Record a bounce or a reply to a reminder, read from a raw RFC 5322 message.

    The reminder is found by the Message-ID it was sent with (In-Reply-To, References,
    or the returned headers of a delivery status notification). A bounce marks the
    reminder bounced; either way a work item asks the collector to act. A message seen
    before (same Message-ID) is recorded once.
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = (message.get("Message-ID") or "").strip()[:200]
    if message_id:
        known = InboundMessage.objects.filter(message_id=message_id).first()
        if known is not None:
            return known
    referenced = _referenced_ids(message)
    notice = (
        DunningNotice.objects.filter(message_id__in=referenced).select_related("customer").first()
        if referenced
        else None
    )
    bounce = _is_bounce(message)
    kind = (
        InboundKind.UNMATCHED
        if notice is None
        else (InboundKind.BOUNCE if bounce else InboundKind.REPLY)
    )
    inbound = InboundMessage.objects.create(
        notice=notice,
        kind=kind,
        message_id=message_id,
        sender=str(message.get("From") or "")[:200],
        subject=str(message.get("Subject") or "")[:300],
        text=_text_of(message),
        received_at=timezone.now(),
    )
    if notice is None:
        logger.warning("Inbound message %s: matches no reminder", message_id or "(no id)")
        return inbound
    customer = notice.customer
    if bounce:
        notice.status = NoticeStatus.BOUNCED
        notice.save(update_fields=["status"])
        summary = f"Reminder to {notice.recipient} bounced; check the contact's e-mail address"
        title = f"Reminder bounced: check {customer.name}'s e-mail address"
    else:
        summary = f"Reply to reminder from {inbound.sender}: {inbound.subject}"
        title = f"Reply from {customer.name} to a reminder"
    record_event(customer, f"reminder_{kind}", summary, notice_id=notice.pk)
    team = collections_team(customer.entity)
    if team is not None:
        inbound.work_item = create_work_item(
            kind=WorkKind.GENERAL,
            title=title,
            team=team,
            customer=customer,
            subject_type="collections.inboundmessage",
            subject_id=inbound.pk,
        )
        inbound.save(update_fields=["work_item"])
    return inbound


# Contacts, promises and holds ---------------------------------------------------------------


@transaction.atomic
def log_contact(customer, *, actor, kind: str, outcome: str, note: str = "") -> CollectionActivity:
    """Record a call or e-mail with a customer on the worklist and the timeline."""
    if kind not in ActivityKind.values:
        raise CollectionsError("invalid_kind", "{kind!r} is not a kind of contact.", kind=kind)
    if outcome not in ActivityOutcome.values:
        raise CollectionsError(
            "invalid_outcome", "{outcome!r} is not a contact outcome.", outcome=outcome
        )
    activity = CollectionActivity.objects.create(
        customer=customer,
        user=actor,
        kind=kind,
        outcome=outcome,
        note=note,
        occurred_at=timezone.now(),
    )
    record_event(
        customer,
        "contact",
        f"{activity.get_kind_display()}: {activity.get_outcome_display()}"
        + (f" ({note})" if note else ""),
        actor=actor,
        activity_id=activity.pk,
    )
    return activity


@transaction.atomic
def record_promise(
    customer,
    *,
    documents,
    amount,
    promised_on: dt.date,
    actor,
    channel: str = ActivityKind.CALL,
    note: str = "",
) -> PromiseToPay:
    """Record a customer's promise to pay an amount of some open invoices by a date."""
    entity = customer.entity
    documents = list(documents)
    if not documents:
        raise CollectionsError(
            "promise_without_invoices", "Choose the invoices the customer promises to pay."
        )
    foreign = [document.number for document in documents if document.customer_id != customer.pk]
    if foreign:
        raise CollectionsError(
            "other_customer",
            "{numbers} belong to another customer than {customer}.",
            numbers=", ".join(foreign),
            customer=customer.number,
        )
    currencies = {document.currency for document in documents}
    if len(currencies) != 1:
        raise CollectionsError(
            "promise_currencies",
            "A promise covers invoices of one currency; record one promise per currency.",
        )
    currency = currencies.pop()
    amount = money.parse_amount(amount, currency, policy=entity.amount_policy)
    today = entity.today()
    open_now = sum(
        (
            document.open_amount
            for document in open_documents(
                Document.objects.filter(pk__in=[document.pk for document in documents])
            )
        ),
        ZERO,
    )
    if amount <= ZERO:
        raise CollectionsError(
            "promise_amount",
            "A promise must be for a positive amount, not {amount}.",
            amount=amount,
        )
    if amount > open_now:
        raise CollectionsError(
            "promise_exceeds_open",
            "The invoices chosen have {open} {currency} open; a promise of {amount} is more "
            "than that.",
            open=money.as_text(open_now, currency),
            currency=currency,
            amount=money.as_text(amount, currency),
        )
    if promised_on < today:
        raise CollectionsError(
            "promise_in_past",
            "The promised date {on} is before today ({today}); enter the date the customer "
            "will pay.",
            on=promised_on,
            today=today,
        )
    team = Team.objects.filter(
        entity=entity, function=TeamFunction.COLLECTIONS, members=actor
    ).first() or collections_team(entity)
    promise = PromiseToPay.objects.create(
        entity=entity,
        customer=customer,
        team=team,
        amount=amount,
        currency=currency,
        promised_on=promised_on,
        recorded_on=today,
        channel=channel,
        note=note,
        recorded_by=actor,
    )
    promise.documents.set(documents)
    if channel in (ActivityKind.CALL, ActivityKind.EMAIL):
        CollectionActivity.objects.create(
            customer=customer,
            user=actor,
            kind=channel,
            outcome=ActivityOutcome.PROMISED,
            note=note,
            occurred_at=timezone.now(),
        )
    record_event(
        customer,
        "promise",
        f"Promise to pay {money.as_text(amount, currency)} {currency} by {promised_on} for "
        + ", ".join(document.number for document in documents),
        actor=actor,
        promise_id=promise.pk,
    )
    return promise


def review_promises(*, entity=None, customer_ids=None, today: dt.date | None = None) -> dict:
    """Settle open promises: kept once paid in full, broken once the grace days pass.

    Payments count when applied to the promised invoices from the day the promise was
    made to the promised date plus grace. A broken promise opens a follow-up work item
    for the person who recorded it.
    """
    promises = PromiseToPay.objects.filter(status=PromiseStatus.OPEN).select_related(
        "entity", "customer", "team", "recorded_by"
    )
    if entity is not None:
        promises = promises.filter(entity=entity)
    if customer_ids is not None:
        promises = promises.filter(customer_id__in=list(customer_ids))
    promises = list(promises.prefetch_related("documents"))
    counts = {"kept": 0, "broken": 0}
    if not promises:
        return counts
    document_ids = {document.pk for promise in promises for document in promise.documents.all()}
    payments = defaultdict(list)
    for row in (
        Allocation.objects.filter(
            debit_document_id__in=document_ids, credit_document__kind=DocumentKind.PAYMENT
        )
        .values("debit_document_id", "allocated_on")
        .annotate(total=Sum("amount"))
        .order_by("allocated_on")
    ):
        payments[row["debit_document_id"]].append((row["allocated_on"], row["total"]))
    for promise in promises:
        policy = policy_for(promise.entity)
        day = today or promise.entity.today()
        deadline = promise.promised_on + dt.timedelta(days=policy.promise_grace_days)
        paid, paid_on = ZERO, None
        for document in promise.documents.all():
            for allocated_on, total in payments[document.pk]:
                if promise.recorded_on <= allocated_on <= deadline:
                    paid += total
                    paid_on = max(paid_on or allocated_on, allocated_on)
        if paid >= promise.amount:
            _settle_promise(promise, PromiseStatus.KEPT, paid, paid_on)
            counts["kept"] += 1
        elif day > deadline:
            _settle_promise(promise, PromiseStatus.BROKEN, paid, day)
            counts["broken"] += 1
        elif paid != promise.paid_amount:
            PromiseToPay.objects.filter(pk=promise.pk).update(paid_amount=paid)
    return counts


@transaction.atomic
def _settle_promise(promise: PromiseToPay, status: str, paid: Decimal, on: dt.date) -> None:
    locked = PromiseToPay.objects.select_for_update().get(pk=promise.pk)
    if locked.status != PromiseStatus.OPEN:
        return
    locked.status = status
    locked.paid_amount = paid
    locked.settled_on = on
    # The stored amount reads back with four decimals; show the currency's.
    amount = money.round_amount(promise.amount, promise.currency)
    if status == PromiseStatus.BROKEN:
        team = promise.team or collections_team(promise.entity)
        if team is not None:
            locked.work_item = create_work_item(
                kind=WorkKind.PROMISE_FOLLOW_UP,
                title=f"Broken promise: {promise.customer.name} promised "
                f"{amount} {promise.currency} by {promise.promised_on}",
                team=team,
                customer=promise.customer,
                owner=promise.recorded_by
                if promise.recorded_by and team.members.filter(pk=promise.recorded_by.pk).exists()
                else None,
                subject_type="collections.promisetopay",
                subject_id=promise.pk,
                paid=str(paid),
            )
    locked.save(update_fields=["status", "paid_amount", "settled_on", "work_item"])
    summary = f"Promise to pay {amount} {promise.currency} by {promise.promised_on} " + (
        "kept"
        if status == PromiseStatus.KEPT
        else f"broken ({money.as_text(paid, promise.currency)} paid)"
    )
    record_event(promise.customer, f"promise_{status}", summary, promise_id=promise.pk)


@transaction.atomic
def cancel_promise(promise: PromiseToPay, *, actor, reason: str) -> PromiseToPay:
    if not reason.strip():
        raise CollectionsError("reason_required", "Say why the promise is cancelled.")
    promise = PromiseToPay.objects.select_for_update().get(pk=promise.pk)
    if promise.status != PromiseStatus.OPEN:
        raise CollectionsError(
            "promise_settled", "This promise is already {status}.", status=promise.status
        )
    promise.status = PromiseStatus.CANCELLED
    promise.settled_on = promise.entity.today()
    promise.save(update_fields=["status", "settled_on"])
    record_event(promise.customer, "promise_cancelled", f"Promise cancelled: {reason}", actor=actor)
    return promise


@transaction.atomic
def place_hold(customer, *, reason: str, actor=None, on=None, notice=None) -> CustomerHold:
    """Hold the customer's new orders: set `Customer.is_blocked` and say why."""
    hold = CustomerHold.objects.create(
        customer=customer,
        reason=reason[:200],
        placed_on=on or customer.entity.today(),
        placed_by=actor,
        notice=notice,
        source="dunning" if notice else "manual",
    )
    Customer.objects.filter(pk=customer.pk).update(is_blocked=True)
    customer.is_blocked = True
    record_event(customer, "hold_placed", f"New orders on hold: {reason}", actor=actor)
    return hold


@transaction.atomic
def release_hold(hold: CustomerHold, *, actor, reason: str) -> CustomerHold:
    """Release a hold; the customer is unblocked once no other hold remains."""
    hold = CustomerHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_on is not None:
        raise CollectionsError("hold_released", "This hold was already released.")
    if not reason.strip():
        raise CollectionsError("reason_required", "Say why the hold is released.")
    hold.released_on = hold.customer.entity.today()
    hold.released_by = actor
    hold.save(update_fields=["released_on", "released_by"])
    if not CustomerHold.objects.filter(customer=hold.customer, released_on__isnull=True).exists():
        Customer.objects.filter(pk=hold.customer_id).update(is_blocked=False)
    record_event(hold.customer, "hold_released", f"Hold released: {reason}", actor=actor)
    return hold


@transaction.atomic
def waive_charge(charge: Document, *, actor, reason: str) -> Document:
    """Waive a dunning fee or interest charge: an explicit, logged reversal."""
    if charge.kind != DocumentKind.CHARGE or charge.side != Side.DEBIT:
        raise CollectionsError(
            "not_a_charge", "{number} is not a fee or interest charge.", number=charge.number
        )
    return reverse_document(
        charge, on=charge.entity.today(), reason=f"charge waived: {reason}", actor=actor
    )
