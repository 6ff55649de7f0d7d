"""Cash application: run the engine over bank lines, post what it is sure of, queue the rest.

Posting a match goes through the ledger's services only. The bank line becomes a
payment document, applied by allocations capped by both sides; across currencies the
ledger posts the realised exchange difference. A settled shortfall gets a write-off or
discount document, and a disputed one a short-payment dispute with a deduction work
item for the disputes team. Whatever the line does not cover stays open on the
invoice. Whatever exceeds the invoices stays open on the payment, as unapplied cash on
the customer's account.
Every decision goes on the customer's timeline with its evidence.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from o2c.banking.models import OPEN_LINE_STATES, BankAccount, LineState, StatementLine
from o2c.cashapp.engine import (
    AdviceInfo,
    CustomerInfo,
    LineFacts,
    OpenBook,
    OpenItem,
    Proposal,
    Rules,
    compact,
    name_key,
)
from o2c.cashapp.errors import CashAppError
from o2c.cashapp.models import (
    CustomerHint,
    Decision,
    HintKind,
    LineMatch,
    MatchingRules,
    RemittanceAdvice,
    Suggestion,
)
from o2c.core import money
from o2c.disputes.models import Dispute, DisputeReason
from o2c.fx.services import RateTable
from o2c.ledger.models import Document, DocumentKind, Side
from o2c.ledger.selectors import open_documents
from o2c.ledger.services import allocate, open_amount, post_document, reverse_document
from o2c.parties.models import Customer, LegalEntity
from o2c.parties.services import record_event
from o2c.teams.models import Team, TeamFunction, WorkKind
from o2c.teams.services import create_work_item

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
SOURCE = "cashapp"
DEBIT_KINDS_MATCHED = (DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE, DocumentKind.CHARGE)
DEDUCTION_DUE_DAYS = 10


def rules_for(entity: LegalEntity) -> MatchingRules:
    rules, _ = MatchingRules.objects.get_or_create(entity=entity)
    return rules


@transaction.atomic
def update_rules(entity: LegalEntity, *, actor=None, **values) -> MatchingRules:
    """Change an entity's matching rules; the caller has checked the person may."""
    rules = MatchingRules.objects.select_for_update().get(pk=rules_for(entity).pk)
    allowed = set(Rules.__dataclass_fields__)
    for name, value in values.items():
        if name not in allowed:
            raise CashAppError("unknown_rule", "{name} is not a matching rule.", name=name)
        setattr(rules, name, value)
    rules.full_clean(exclude=["entity", "updated_by"])
    rules.updated_by = actor
    rules.save()
    logger.info("Matching rules of entity %s: changed %s", entity.code, sorted(values))
    return rules


def add_hint(customer: Customer, kind: str, value: str, *, actor=None, learned=False):
    """Record (or confirm) that a payer account, name or text belongs to a customer."""
    normalized = compact(value) if kind == HintKind.PAYER_ACCOUNT else name_key(value)
    if not normalized:
        raise CashAppError("empty_hint", "A hint needs a value.")
    hint, created = CustomerHint.objects.get_or_create(
        entity=customer.entity,
        kind=kind,
        value=normalized[:140],
        customer=customer,
        defaults={"learned": learned, "created_by": actor},
    )
    if not created:
        CustomerHint.objects.filter(pk=hint.pk).update(times_confirmed=hint.times_confirmed + 1)
    return hint


# Loading the open book -------------------------------------------------------


def load_book(entity: LegalEntity, currencies: set[str] | None = None) -> OpenBook:
    """Load the entity's open items, customers, hints and advices into an `OpenBook`."""
    documents = Document.objects.filter(
        entity=entity, side=Side.DEBIT, kind__in=DEBIT_KINDS_MATCHED
    )
    rows = open_documents(documents).values_list(
        "id",
        "customer_id",
        "number",
        "currency",
        "amount",
        "open_amount",
        "due_date",
        "document_date",
        "discount_percent",
        "discount_until",
    )
    items = []
    for row in rows.iterator(chunk_size=5000):
        item = OpenItem(*row)
        # MoneyField reads back with four decimals; the engine compares at the currency's.
        item.amount = money.round_amount(item.amount, item.currency)
        item.open_amount = money.round_amount(item.open_amount, item.currency)
        items.append(item)
    customers = [
        CustomerInfo(*row)
        for row in Customer.objects.filter(entity=entity).values_list("id", "number", "name")
    ]
    account_hints: dict[str, set[int]] = {}
    name_hints: dict[str, set[int]] = {}
    for kind, value, customer_id in CustomerHint.objects.filter(entity=entity).values_list(
        "kind", "value", "customer_id"
    ):
        target = account_hints if kind == HintKind.PAYER_ACCOUNT else name_hints
        target.setdefault(value, set()).add(customer_id)
    advices = [
        AdviceInfo(
            id=advice.pk,
            customer_id=advice.customer_id,
            payer_key=name_key(advice.payer_name),
            payer_account=compact(advice.payer_account),
            reference=advice.payment_reference,
            total_amount=advice.total_amount,
            currency=advice.currency,
            items=[
                (compact(item.invoice_number), item.amount, item.deduction_amount or ZERO)
                for item in advice.items.all()
            ],
        )
        for advice in RemittanceAdvice.objects.filter(
            entity=entity, line__isnull=True
        ).prefetch_related("items")
    ]
    account_currencies = set(
        BankAccount.objects.filter(entity=entity).values_list("currency", flat=True)
    )
    all_currencies = (
        {item.currency for item in items}
        | account_currencies
        | set(currencies or ())
        | {entity.base_currency}
    )
    rates = RateTable(all_currencies) if len(all_currencies) > 1 else None
    return OpenBook(
        items,
        customers,
        rules=Rules.from_model(rules_for(entity)),
        base_currency=entity.base_currency,
        rates=rates,
        account_hints=account_hints,
        name_hints=name_hints,
        advices=advices,
    )


# Running the engine ------------------------------------------------------------


@dataclass
class MatchRunResult:
    lines_seen: int = 0
    auto_applied: int = 0
    queued: int = 0
    reversals: int = 0
    ignored: int = 0
    errors: list[str] = field(default_factory=list)
    # With post=False: (line id, best proposal or None, whether it would post).
    decisions: list[tuple[int, Proposal | None, bool]] = field(default_factory=list)


def run_matching(
    entity: LegalEntity | None = None,
    *,
    lines=None,
    actor=None,
    book: OpenBook | None = None,
    post: bool = True,
) -> MatchRunResult:
    """Run the engine over every line not yet decided (or the lines given).

    Receipts the engine is sure of are posted; the others go to the queue with their
    suggestions. Reversal lines undo what their original line posted; other outgoing
    lines are not receipts and are set aside. With `post=False` nothing is written:
    the decisions are returned, and the in-memory book still takes off what would have
    been applied, so later lines see the same open amounts as in a real run.
    """
    result = MatchRunResult()
    if lines is None:
        lines = StatementLine.objects.filter(state__in=OPEN_LINE_STATES)
        if entity is not None:
            lines = lines.filter(entity=entity)
    lines = lines.select_related("bank_account", "entity").order_by(
        "entity_id", "booking_date", "statement_id", "position"
    )
    books: dict[int, OpenBook] = {}
    for line in lines.iterator(chunk_size=2000):
        result.lines_seen += 1
        if line.amount <= ZERO or line.is_reversal:
            # A reversed debit (RD) brings back money the company paid out: no receipt.
            if not post:
                result.ignored += 1
            elif line.is_reversal and line.amount < ZERO:
                _process_reversal(line, actor, result)
            else:
                StatementLine.objects.filter(pk=line.pk).update(state=LineState.IGNORED)
                result.ignored += 1
            continue
        if post and _settled_elsewhere(line):
            result.auto_applied += 1
            continue
        if line.entity_id not in books:
            books[line.entity_id] = book or load_book(line.entity)
        current = books[line.entity_id]
        proposals = current.propose(LineFacts.from_line(line))
        threshold = current.rules.auto_post_threshold
        sure = bool(proposals) and proposals[0].confidence >= threshold
        if not post:
            result.decisions.append((line.pk, proposals[0] if proposals else None, sure))
            if sure:
                result.auto_applied += 1
                for allocation in proposals[0].allocations:
                    current.consume(
                        allocation.item.id,
                        allocation.amount + allocation.discount + allocation.write_off,
                    )
            else:
                result.queued += 1
            continue
        if sure:
            try:
                apply_proposal(
                    line, proposals[0], decision=Decision.AUTO, actor=actor, book=current
                )
                result.auto_applied += 1
                continue
            except Exception as error:
                logger.exception("Statement line %s: automatic posting failed", line.pk)
                result.errors.append(f"line {line.pk}: {error}")
        _queue(line, proposals)
        result.queued += 1
    logger.info("Matching run: %s", result)
    return result


def _settled_elsewhere(line: StatementLine) -> bool:
    """Return whether another module recognised and settled the line (see signals)."""
    from o2c.cashapp.signals import bank_credit_received

    replies = bank_credit_received.send(sender=StatementLine, line=line)
    return any(handled for _, handled in replies)


def _queue(line: StatementLine, proposals: list[Proposal]) -> None:
    now = timezone.now()
    with transaction.atomic():
        Suggestion.objects.filter(line=line).delete()
        Suggestion.objects.bulk_create(
            [
                Suggestion(
                    line=line,
                    rank=rank,
                    customer_id=proposal.customer_id,
                    confidence=proposal.confidence,
                    outcome=proposal.outcome,
                    evidence=proposal.evidence,
                    allocations=_allocations_json(proposal),
                    created_at=now,
                )
                for rank, proposal in enumerate(proposals, start=1)
            ]
        )
        StatementLine.objects.filter(pk=line.pk).update(state=LineState.EXCEPTION)


def _allocations_json(proposal: Proposal) -> list[dict]:
    return [
        {
            "document_id": allocation.item.id,
            "number": allocation.item.number,
            "currency": allocation.item.currency,
            "amount": str(allocation.amount),
            "discount": str(allocation.discount),
            "write_off": str(allocation.write_off),
            "deduction": str(allocation.deduction),
        }
        for allocation in proposal.allocations
    ]


# Posting -------------------------------------------------------------------------


@dataclass
class PlannedAllocation:
    """One invoice and what a line does to it, in the invoice's currency."""

    document: Document
    amount: Decimal
    discount: Decimal = ZERO
    write_off: Decimal = ZERO
    deduction: Decimal = ZERO


def apply_proposal(
    line: StatementLine,
    proposal: Proposal,
    *,
    decision: str,
    actor=None,
    book: OpenBook | None = None,
) -> LineMatch:
    """Post a proposal of the engine (or a suggestion a person accepted)."""
    documents = Document.objects.in_bulk(
        [allocation.item.id for allocation in proposal.allocations]
    )
    planned = [
        PlannedAllocation(
            documents[allocation.item.id],
            allocation.amount,
            allocation.discount,
            allocation.write_off,
            allocation.deduction,
        )
        for allocation in proposal.allocations
    ]
    customer = Customer.objects.select_related("entity").get(pk=proposal.customer_id)
    match = post_line(
        line,
        customer,
        planned,
        decision=decision,
        confidence=proposal.confidence,
        evidence=proposal.evidence,
        write_off_reason=proposal.write_off_reason,
        actor=actor,
    )
    if proposal.advice_id is not None:
        RemittanceAdvice.objects.filter(pk=proposal.advice_id).update(line=line)
    if book is not None:
        if proposal.advice_id is not None:
            book.drop_advice(proposal.advice_id)
        for allocation in proposal.allocations:
            book.consume(
                allocation.item.id,
                allocation.amount + allocation.discount + allocation.write_off,
            )
    return match


@transaction.atomic
def post_line(
    line: StatementLine,
    customer: Customer,
    planned: list[PlannedAllocation],
    *,
    decision: str,
    confidence: Decimal | None = None,
    evidence: list[str] | None = None,
    write_off_reason: str = "",
    note: str = "",
    actor=None,
) -> LineMatch:
    """Post a bank line as a payment of the customer and apply it as planned.

    The payment is the line's amount in the line's currency. Each allocation is capped
    by the ledger by both open amounts; what the line does not use stays on account.
    """
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    _check_open(line)
    if customer.entity_id != line.entity_id:
        raise CashAppError(
            "other_entity",
            "Customer {customer} belongs to another entity than the bank account.",
            customer=customer.number,
        )
    for item in planned:
        if item.document.customer_id != customer.pk:
            raise CashAppError(
                "other_customer",
                "Invoice {number} belongs to another customer than {customer}.",
                number=item.document.number,
                customer=customer.number,
            )
    on = line.booking_date
    payment = post_document(
        customer=customer,
        kind=DocumentKind.PAYMENT,
        number=f"BANK-{line.pk}",
        document_date=on,
        amount=line.amount,
        currency=line.currency,
        reference=(line.structured_reference or line.end_to_end_id)[:140],
        description=f"{line.counterparty_name} {line.remittance_info}"[:500],
        source=SOURCE,
        actor=actor,
    )
    applied = []
    other_documents = []
    totals = {"write_off": ZERO, "discount": ZERO, "deduction": ZERO}
    disputes = []
    for index, item in enumerate(planned, start=1):
        invoice = item.document
        # Money received before the invoice was posted waits on account until its date.
        applied_on = max(on, invoice.document_date)
        entry = {
            "document_id": invoice.pk,
            "invoice": invoice.number,
            "amount": "0",
            "currency": invoice.currency,
            "fx_difference_base": "0",
        }
        if item.amount > ZERO:
            result = allocate(
                invoice,
                payment,
                on=applied_on,
                amount=item.amount,
                note="bank receipt",
                source=SOURCE,
                actor=actor,
            )
            entry["amount"] = str(result.allocation.amount)
            entry["fx_difference_base"] = str(result.allocation.fx_difference_base)
        applied.append(entry)
        if item.discount > ZERO:
            document = _settle_rest(
                invoice,
                DocumentKind.DISCOUNT,
                f"DSC-BANK-{line.pk}-{index}",
                item.discount,
                applied_on,
                "early-payment discount",
                actor,
            )
            if document is not None:
                other_documents.append(document)
                totals["discount"] += document.amount
        if item.write_off > ZERO:
            remainder = open_amount(invoice)
            document = _settle_rest(
                invoice,
                DocumentKind.WRITE_OFF,
                f"WO-BANK-{line.pk}-{index}",
                remainder,
                applied_on,
                write_off_reason or "small difference",
                actor,
            )
            if document is not None:
                other_documents.append(document)
                totals["write_off"] += document.amount
        if item.deduction > ZERO:
            remainder = money.round_amount(open_amount(invoice), invoice.currency)
            if remainder > ZERO:
                disputes.append(_open_deduction(invoice, remainder, line, actor))
                totals["deduction"] += remainder
    on_account = money.round_amount(open_amount(payment), line.currency)
    match = LineMatch.objects.create(
        line=line,
        entity_id=line.entity_id,
        customer=customer,
        decision=decision,
        confidence=confidence,
        evidence=list(evidence or []),
        applied=applied,
        payment=payment,
        on_account_amount=on_account or None,
        write_off_amount=totals["write_off"] or None,
        discount_amount=totals["discount"] or None,
        deduction_amount=totals["deduction"] or None,
        note=note[:500],
        decided_at=timezone.now(),
        decided_by=actor,
    )
    if other_documents:
        match.other_documents.add(*other_documents)
    line.state = LineState.MATCHED if planned else LineState.ON_ACCOUNT
    line.save(update_fields=["state"])
    Suggestion.objects.filter(line=line).delete()
    _record_decision(line, customer, match, disputes, actor)
    if decision != Decision.AUTO and actor is not None:
        learn_from(line, customer, actor)
    return match


def _check_open(line: StatementLine) -> None:
    if line.state not in OPEN_LINE_STATES:
        raise CashAppError(
            "line_decided",
            "Bank line {id} is already {state}; undo that decision first.",
            id=line.pk,
            state=line.get_state_display().lower(),
        )
    if line.amount <= ZERO:
        raise CashAppError("not_a_receipt", "Bank line {id} is not money received.", id=line.pk)


def _settle_rest(invoice, kind, number, amount, on, reason, actor) -> Document | None:
    amount = min(amount, open_amount(invoice))
    if amount <= ZERO:
        return None
    document = post_document(
        customer=invoice.customer,
        kind=kind,
        number=number,
        document_date=on,
        amount=amount,
        currency=invoice.currency,
        related_invoice=invoice,
        description=f"{reason} on {invoice.number}",
        source=SOURCE,
        actor=actor,
    )
    allocate(invoice, document, on=on, note=reason, source=SOURCE, actor=actor)
    return document


def _open_deduction(invoice: Document, amount: Decimal, line: StatementLine, actor) -> Dispute:
    """Open a short-payment dispute and a deduction work item for the disputes team."""
    dispute = Dispute.objects.create(
        entity=invoice.entity,
        customer=invoice.customer,
        invoice=invoice,
        amount=amount,
        currency=invoice.currency,
        reason=DisputeReason.SHORT_PAYMENT,
        opened_on=line.booking_date,
        description=(
            f"Bank line {line.pk} paid {invoice.number} short by {amount} {invoice.currency}."
        ),
        source=SOURCE,
    )
    team = Team.objects.filter(entity=invoice.entity, function=TeamFunction.DISPUTES).first()
    if team is None:
        team = Team.objects.create(
            entity=invoice.entity, name="Disputes and deductions", function=TeamFunction.DISPUTES
        )
    create_work_item(
        kind=WorkKind.DEDUCTION,
        title=f"Deduction of {amount} {invoice.currency} on {invoice.number}",
        team=team,
        customer=invoice.customer,
        priority=2,
        due_at=timezone.now() + dt.timedelta(days=DEDUCTION_DUE_DAYS),
        subject_type="disputes.dispute",
        subject_id=dispute.pk,
        actor=actor,
        invoice=invoice.number,
        amount=str(amount),
        currency=invoice.currency,
        line_id=line.pk,
    )
    return dispute


def _record_decision(line, customer, match: LineMatch, disputes, actor) -> None:
    parts = [
        f"{item['invoice']} {item['amount']} {item['currency']}"
        for item in match.applied
        if item["amount"] != "0"
    ]
    summary = f"Bank receipt of {line.shown_amount} {line.currency} on {line.booking_date}"
    if parts:
        summary += " applied to " + ", ".join(parts)
    if match.on_account_amount:
        summary += f"; {money.as_text(match.on_account_amount, line.currency)} {line.currency}"
        summary += " on account"
    if match.write_off_amount:
        summary += f"; {money.as_text(match.write_off_amount, line.currency)} written off"
    if match.discount_amount:
        summary += f"; {money.as_text(match.discount_amount, line.currency)} discount granted"
    if disputes:
        deduction = money.as_text(match.deduction_amount, line.currency)
        summary += f"; deduction of {deduction} sent to the disputes team"
    summary += f" ({match.get_decision_display().lower()}"
    if match.confidence is not None:
        summary += f", confidence {match.confidence:.2f}"
    summary += ")"
    record_event(
        customer,
        "cash_applied",
        summary,
        actor=actor,
        document=match.payment,
        line_id=line.pk,
        decision=match.decision,
        confidence=str(match.confidence) if match.confidence is not None else None,
        evidence=match.evidence,
    )


def learn_from(line: StatementLine, customer: Customer, actor) -> None:
    """Remember the payer's account and name for the customer a person chose."""
    if line.counterparty_account:
        add_hint(
            customer, HintKind.PAYER_ACCOUNT, line.counterparty_account, actor=actor, learned=True
        )
    if name_key(line.counterparty_name):
        add_hint(customer, HintKind.PAYER_NAME, line.counterparty_name, actor=actor, learned=True)


# Decisions a person takes in the queue ---------------------------------------------


def accept_suggestion(suggestion: Suggestion, *, actor) -> LineMatch:
    """Post a queued suggestion unchanged, as a person's decision."""
    line = suggestion.line
    documents = Document.objects.in_bulk([entry["document_id"] for entry in suggestion.allocations])
    planned = []
    for entry in suggestion.allocations:
        document = documents.get(entry["document_id"])
        if document is None:
            raise CashAppError("suggestion_stale", "The suggestion refers to a missing document.")
        planned.append(
            PlannedAllocation(
                document,
                Decimal(entry["amount"]),
                Decimal(entry.get("discount") or "0"),
                Decimal(entry.get("write_off") or "0"),
                Decimal(entry.get("deduction") or "0"),
            )
        )
    return post_line(
        line,
        suggestion.customer,
        planned,
        decision=Decision.MANUAL,
        confidence=suggestion.confidence,
        evidence=[*suggestion.evidence, "accepted by a person"],
        write_off_reason="small difference",
        actor=actor,
    )


def apply_split(
    line: StatementLine,
    customer: Customer,
    parts: list[tuple[Document, Decimal]],
    *,
    actor,
    note: str = "",
) -> LineMatch:
    """Apply a line to invoices with the amounts a person chose; the rest goes on account."""
    if not parts:
        raise CashAppError("nothing_chosen", "Choose at least one invoice and an amount.")
    total = ZERO
    for document, amount in parts:
        if amount <= ZERO:
            raise CashAppError(
                "amount_not_positive",
                "The amount for {number} must be positive, not {amount}.",
                number=document.number,
                amount=amount,
            )
        if document.currency != line.currency:
            raise CashAppError(
                "split_other_currency",
                "Invoice {number} is in {currency}; split only invoices in {line_currency}, "
                "or accept a suggestion to convert.",
                number=document.number,
                currency=document.currency,
                line_currency=line.currency,
            )
        total += amount
    if total > line.amount:
        raise CashAppError(
            "split_exceeds_line",
            "The amounts add up to {total}, more than the {amount} {currency} received.",
            total=total,
            amount=line.shown_amount,
            currency=line.currency,
        )
    planned = [PlannedAllocation(document, amount) for document, amount in parts]
    return post_line(
        line,
        customer,
        planned,
        decision=Decision.MANUAL,
        evidence=["split by a person"],
        note=note,
        actor=actor,
    )


def put_on_account(line: StatementLine, customer: Customer, *, actor, note: str = "") -> LineMatch:
    """Post the line as a payment of the customer without applying it to invoices."""
    return post_line(
        line,
        customer,
        [],
        decision=Decision.ON_ACCOUNT,
        evidence=["put on account by a person"],
        note=note,
        actor=actor,
    )


@transaction.atomic
def refund_line(line: StatementLine, customer: Customer, *, actor, reason: str) -> LineMatch:
    """Take the money in for the customer and pay it back: payment plus refund, closed."""
    if not reason.strip():
        raise CashAppError("reason_required", "Say why the money is refunded.")
    match = post_line(
        line,
        customer,
        [],
        decision=Decision.REFUND,
        evidence=["refunded by a person"],
        note=reason,
        actor=actor,
    )
    refund = post_document(
        customer=customer,
        kind=DocumentKind.REFUND,
        number=f"RFD-BANK-{line.pk}",
        document_date=line.booking_date,
        amount=line.amount,
        currency=line.currency,
        description=f"Refund of bank receipt {line.pk}: {reason}"[:500],
        source=SOURCE,
        actor=actor,
    )
    allocate(refund, match.payment, on=line.booking_date, note="refund", source=SOURCE, actor=actor)
    match.other_documents.add(refund)
    match.on_account_amount = None
    match.save(update_fields=["on_account_amount"])
    StatementLine.objects.filter(pk=line.pk).update(state=LineState.REFUNDED)
    record_event(
        customer,
        "cash_refunded",
        f"Bank receipt of {line.shown_amount} {line.currency} refunded: {reason}",
        actor=actor,
        document=refund,
        line_id=line.pk,
    )
    return match


@transaction.atomic
def return_line(
    line: StatementLine, *, actor, reason: str, customer: Customer | None = None
) -> LineMatch:
    """Send the money back to the payer without posting it to any customer."""
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    _check_open(line)
    if not reason.strip():
        raise CashAppError("reason_required", "Say why the money is returned.")
    match = LineMatch.objects.create(
        line=line,
        entity_id=line.entity_id,
        customer=customer,
        decision=Decision.RETURN,
        evidence=["returned by a person"],
        note=reason[:500],
        decided_at=timezone.now(),
        decided_by=actor,
    )
    line.state = LineState.RETURNED
    line.save(update_fields=["state"])
    Suggestion.objects.filter(line=line).delete()
    if customer is not None:
        record_event(
            customer,
            "cash_returned",
            f"Bank receipt of {line.shown_amount} {line.currency} from "
            f"{line.counterparty_name or 'an unknown payer'} returned: {reason}",
            actor=actor,
            line_id=line.pk,
        )
    logger.info("Statement line %s: returned to the payer", line.pk)
    return match


# Reversals -----------------------------------------------------------------------


@transaction.atomic
def _process_reversal(line: StatementLine, actor, result: MatchRunResult) -> None:
    """Undo what the reversed line posted, so the invoices it paid are open again."""
    original = line.reverses
    if original is None:
        _queue(line, [])
        result.queued += 1
        return
    match = LineMatch.objects.filter(line=original).select_related("payment", "customer").first()
    customer = match.customer if match is not None else None
    if match is not None and match.payment is not None:
        documents = [*match.other_documents.all(), match.payment]
        for document in documents:
            if not Document.objects.filter(reverses=document).exists():
                reverse_document(
                    document,
                    on=line.booking_date,
                    reason=f"the bank reversed receipt {original.pk} (line {line.pk})",
                    actor=actor,
                )
    LineMatch.objects.create(
        line=line,
        entity_id=line.entity_id,
        customer=customer,
        decision=Decision.REVERSAL,
        evidence=[f"reverses bank line {original.pk}"],
        note=f"reversal of line {original.pk}",
        decided_at=timezone.now(),
        decided_by=actor,
    )
    StatementLine.objects.filter(pk=original.pk).update(state=LineState.REVERSED)
    StatementLine.objects.filter(pk=line.pk).update(state=LineState.REVERSED)
    Suggestion.objects.filter(line__in=[line, original]).delete()
    if customer is not None:
        record_event(
            customer,
            "cash_reversed",
            f"The bank reversed the receipt of {original.shown_amount} {original.currency} of "
            f"{original.booking_date}; its application is undone",
            actor=actor,
            line_id=line.pk,
        )
    result.reversals += 1


def prefetch_matches():
    return Prefetch("match", queryset=LineMatch.objects.select_related("customer"))
