"""Business verbs of the receivables ledger: post, allocate, un-apply, reverse.

Each verb validates before its first write and writes inside one transaction. Amounts
are rounded by `o2c.core.money` under the entity's policy, converted once to the base
currency at the document date's rate, and never changed after posting.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from o2c.core import money
from o2c.fx.services import RateTable
from o2c.ledger.errors import LedgerError
from o2c.ledger.models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    Allocation,
    Document,
    DocumentKind,
    Side,
)
from o2c.parties.models import Customer, LegalEntity, PaymentTerm
from o2c.parties.services import record_event

logger = logging.getLogger(__name__)

ZERO = Decimal("0")


def side_of(kind: str) -> str:
    if kind in DEBIT_KINDS:
        return Side.DEBIT
    if kind in CREDIT_KINDS:
        return Side.CREDIT
    raise LedgerError("invalid_kind", "{kind!r} is not a document kind.", kind=kind)


def due_date_for(
    document_date: dt.date, payment_term: PaymentTerm | None, due_date: dt.date | None
) -> dt.date:
    """Return the due date given, or the one the payment term computes, or the date."""
    if due_date is not None:
        if due_date < document_date:
            raise LedgerError(
                "due_before_date",
                "The due date {due} is before the document date {date}.",
                due=due_date,
                date=document_date,
            )
        return due_date
    if payment_term is not None:
        return payment_term.due_date(document_date)
    return document_date


@transaction.atomic
def post_document(
    *,
    customer: Customer,
    kind: str,
    number: str,
    document_date: dt.date,
    amount,
    currency: str | None = None,
    due_date: dt.date | None = None,
    tax_amount=ZERO,
    payment_term: PaymentTerm | None = None,
    reference: str = "",
    description: str = "",
    delivery_channel: str = "",
    related_invoice: Document | None = None,
    source: str = "manual",
    actor=None,
    rates: RateTable | None = None,
) -> Document:
    """Post one document to the customer's account and record it on the timeline."""
    entity: LegalEntity = customer.entity
    currency = money.check_currency(currency or customer.currency)
    side = side_of(kind)
    amount = money.parse_amount(amount, currency, policy=entity.amount_policy)
    tax_amount = money.parse_amount(tax_amount, currency, policy=entity.amount_policy, field="tax")
    number = (number or "").strip()
    if not number:
        raise LedgerError("missing_number", "A {kind} needs a number.", kind=kind)
    if amount <= ZERO:
        raise LedgerError(
            "amount_not_positive",
            "{kind} {number}: the amount must be positive, not {amount}; "
            "post the opposite kind of document instead.",
            kind=kind,
            number=number,
            amount=amount,
        )
    if related_invoice is not None and related_invoice.customer_id != customer.pk:
        raise LedgerError(
            "other_customer",
            "{number} refers to {invoice}, which belongs to another customer.",
            number=number,
            invoice=related_invoice.number,
        )
    term = payment_term if side == Side.DEBIT else None
    if kind == DocumentKind.INVOICE and term is None:
        term = customer.payment_term
    conversion = (rates or RateTable({currency, entity.base_currency})).convert(
        amount, currency, entity.base_currency, document_date
    )

    document = Document(
        entity=entity,
        customer=customer,
        kind=kind,
        side=side,
        number=number,
        document_date=document_date,
        due_date=due_date_for(document_date, term, due_date)
        if side == Side.DEBIT
        else document_date,
        currency=currency,
        amount=amount,
        tax_amount=tax_amount,
        amount_base=conversion.amount,
        fx_rate=conversion.rate,
        fx_rate_on=conversion.rate_on,
        payment_term=term,
        discount_percent=term.discount_percent if term else ZERO,
        discount_until=term.discount_date(document_date) if term else None,
        reference=reference,
        description=description,
        delivery_channel=delivery_channel,
        related_invoice=related_invoice,
        source=source,
        posted_at=timezone.now(),
        posted_by=actor,
    )
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        raise LedgerError(
            "duplicate_number",
            "{kind} {number} is already posted for entity {entity}.",
            kind=document.get_kind_display(),
            number=number,
            entity=entity.code,
        ) from None
    record_event(
        customer,
        "posted",
        f"{document.get_kind_display()} {number} posted: {amount} {currency}",
        actor=actor,
        document=document,
    )
    logger.info("Document %s %s: posted (entity %s)", kind, number, entity.code)
    return document


def open_amount(document: Document, as_of: dt.date | None = None) -> Decimal:
    """Return what is left of one document on `as_of` (default: all allocations)."""
    if document.side == Side.DEBIT:
        allocations = Allocation.objects.filter(debit_document=document)
        field = "amount"
    else:
        allocations = Allocation.objects.filter(credit_document=document)
        field = "credit_amount"
    if as_of is not None:
        allocations = allocations.filter(allocated_on__lte=as_of)
    allocated = allocations.aggregate(total=Sum(field))["total"] or ZERO
    return document.amount - allocated


def _allocated_base(document: Document) -> Decimal:
    if document.side == Side.DEBIT:
        allocations = Allocation.objects.filter(debit_document=document)
        field = "debit_amount_base"
    else:
        allocations = Allocation.objects.filter(credit_document=document)
        field = "credit_amount_base"
    return allocations.aggregate(total=Sum(field))["total"] or ZERO


def _base_share(document: Document, amount: Decimal, closes: bool, base_currency: str) -> Decimal:
    """Return the part of the document's base amount that `amount` relieves.

    When the allocation closes the document, it takes whatever base amount is left, so
    rounding of earlier partial allocations never leaves a residue in base currency.
    """
    if closes:
        return document.amount_base - _allocated_base(document)
    return money.round_amount(document.amount_base * amount / document.amount, base_currency)


@dataclass(frozen=True)
class AllocationResult:
    allocation: Allocation
    debit_open: Decimal
    credit_open: Decimal


@transaction.atomic
def allocate(
    debit: Document,
    credit: Document,
    *,
    on: dt.date,
    amount=None,
    note: str = "",
    source: str = "manual",
    actor=None,
    rates: RateTable | None = None,
) -> AllocationResult:
    """Apply part of a credit document (payment, credit note, ...) to a debit document.

    The amount applied is capped by both sides: what is open on the invoice and what
    is left of the payment. Without `amount`, as much as both allow is applied. Across
    currencies the credit side is converted at the rate of `on`, and the difference
    between the base amounts relieved on each side is the realised exchange result.
    """
    debit, credit = _lock_pair(debit, credit)
    _check_pair(debit, credit, on)
    entity = debit.entity
    rates = rates or RateTable({debit.currency, credit.currency, entity.base_currency})

    debit_open = open_amount(debit)
    credit_open = open_amount(credit)
    credit_capacity = rates.convert(credit_open, credit.currency, debit.currency, on).amount
    requested = (
        money.parse_amount(amount, debit.currency, policy=entity.amount_policy)
        if amount is not None
        else None
    )
    if requested is not None and requested <= ZERO:
        raise LedgerError(
            "amount_not_positive", "An allocation must be positive, not {amount}.", amount=requested
        )
    applied = min(value for value in (requested, debit_open, credit_capacity) if value is not None)
    if applied <= ZERO:
        raise LedgerError(
            "nothing_to_allocate",
            "Nothing to allocate: {debit} has {debit_open} open and {credit} has "
            "{credit_open} left.",
            debit=debit.number,
            debit_open=debit_open,
            credit=credit.number,
            credit_open=credit_open,
        )

    closes_credit = applied == credit_capacity
    if closes_credit:
        credit_applied = credit_open
    else:
        credit_applied = rates.convert(applied, debit.currency, credit.currency, on).amount
    debit_base = _base_share(debit, applied, applied == debit_open, entity.base_currency)
    credit_base = _base_share(credit, credit_applied, closes_credit, entity.base_currency)

    allocation = Allocation(
        entity=entity,
        customer=debit.customer,
        debit_document=debit,
        credit_document=credit,
        allocated_on=on,
        amount=applied,
        credit_amount=credit_applied,
        debit_amount_base=debit_base,
        credit_amount_base=credit_base,
        fx_difference_base=credit_base - debit_base,
        note=note,
        source=source,
        created_at=timezone.now(),
        created_by=actor,
    )
    allocation.save()
    record_event(
        debit.customer,
        "allocated",
        f"{credit.get_kind_display()} {credit.number}: {applied} {debit.currency} applied to "
        f"{debit.get_kind_display().lower()} {debit.number}",
        actor=actor,
        document=debit,
        allocation_id=allocation.pk,
    )
    logger.info(
        "Document %s: %s allocated from %s (allocation %s)",
        debit.number,
        applied,
        credit.number,
        allocation.pk,
    )
    return AllocationResult(allocation, debit_open - applied, credit_open - credit_applied)


def _lock_pair(debit: Document, credit: Document) -> tuple[Document, Document]:
    """Reload both documents under a row lock, so two allocations cannot overdraw them."""
    locked = {
        document.pk: document
        for document in Document.objects.select_for_update()
        .select_related("entity", "customer")
        .filter(pk__in=[debit.pk, credit.pk])
        .order_by("pk")
    }
    return locked[debit.pk], locked[credit.pk]


def _check_pair(debit: Document, credit: Document, on: dt.date) -> None:
    if debit.side != Side.DEBIT or credit.side != Side.CREDIT:
        raise LedgerError(
            "wrong_sides",
            "An allocation applies a credit ({credit}) to a debit ({debit}).",
            credit=credit.number,
            debit=debit.number,
        )
    if debit.customer_id != credit.customer_id:
        raise LedgerError(
            "other_customer",
            "{credit} and {debit} belong to different customers.",
            credit=credit.number,
            debit=debit.number,
        )
    latest = max(debit.document_date, credit.document_date)
    if on < latest:
        raise LedgerError(
            "allocation_before_document",
            "An allocation on {on} cannot precede its documents; use {latest} or later.",
            on=on,
            latest=latest,
        )


@transaction.atomic
def unallocate(allocation: Allocation, *, on: dt.date, note: str = "", actor=None) -> Allocation:
    """Undo an allocation from `on`, by posting its negative; earlier balances stay."""
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.reverses_id is not None or allocation.amount < ZERO:
        raise LedgerError(
            "cannot_undo_undo", "Allocation {id} is itself an undo.", id=allocation.pk
        )
    if Allocation.objects.filter(reverses=allocation).exists():
        raise LedgerError("already_undone", "Allocation {id} is already undone.", id=allocation.pk)
    if on < allocation.allocated_on:
        raise LedgerError(
            "undo_before_allocation",
            "Allocation {id} was made on {made}; it cannot be undone on {on}.",
            id=allocation.pk,
            made=allocation.allocated_on,
            on=on,
        )
    undo = Allocation(
        entity_id=allocation.entity_id,
        customer_id=allocation.customer_id,
        debit_document_id=allocation.debit_document_id,
        credit_document_id=allocation.credit_document_id,
        allocated_on=on,
        amount=-allocation.amount,
        credit_amount=-allocation.credit_amount,
        debit_amount_base=-allocation.debit_amount_base,
        credit_amount_base=-allocation.credit_amount_base,
        fx_difference_base=-allocation.fx_difference_base,
        reverses=allocation,
        note=note,
        source="undo",
        created_at=timezone.now(),
        created_by=actor,
    )
    undo.save()
    record_event(
        allocation.customer,
        "unallocated",
        f"Allocation of {money.as_text(allocation.amount, allocation.debit_document.currency)} "
        f"to {allocation.debit_document.number} undone" + (f": {note}" if note else ""),
        actor=actor,
        document=allocation.debit_document,
    )
    return undo


@transaction.atomic
def reverse_document(document: Document, *, on: dt.date, reason: str, actor=None) -> Document:
    """Reverse a posted document: undo its allocations, then offset it in full.

    Reversing a payment reopens the invoices it paid; reversing an invoice closes it
    without counting as a payment.
    """
    document = Document.objects.select_for_update().get(pk=document.pk)
    if not reason.strip():
        raise LedgerError(
            "reason_required", "Say why {number} is reversed.", number=document.number
        )
    if document.kind == DocumentKind.REVERSAL:
        raise LedgerError(
            "reverse_reversal",
            "{number} is a reversal; post a new document instead.",
            number=document.number,
        )
    if Document.objects.filter(reverses=document).exists():
        raise LedgerError(
            "already_reversed", "{number} is already reversed.", number=document.number
        )
    if on < document.document_date:
        raise LedgerError(
            "reversal_before_document",
            "{number} is dated {date}; it cannot be reversed on {on}.",
            number=document.number,
            date=document.document_date,
            on=on,
        )

    own_side = "debit_document" if document.side == Side.DEBIT else "credit_document"
    live = Allocation.objects.filter(
        **{own_side: document}, reverses__isnull=True, reversed_by__isnull=True, amount__gt=0
    )
    for allocation in live:
        unallocate(allocation, on=on, note=f"reversal of {document.number}", actor=actor)

    reversal = Document(
        entity=document.entity,
        customer=document.customer,
        kind=DocumentKind.REVERSAL,
        side=Side.CREDIT if document.side == Side.DEBIT else Side.DEBIT,
        number=f"R-{document.kind}-{document.number}",
        document_date=on,
        due_date=on,
        currency=document.currency,
        amount=document.amount,
        tax_amount=document.tax_amount,
        # The reversal takes the original's rate, so it leaves no exchange difference.
        amount_base=document.amount_base,
        fx_rate=document.fx_rate,
        fx_rate_on=document.fx_rate_on,
        reverses=document,
        description=reason[:500],
        source="reversal",
        posted_at=timezone.now(),
        posted_by=actor,
    )
    reversal.save()
    debit, credit = (document, reversal) if document.side == Side.DEBIT else (reversal, document)
    Allocation(
        entity=document.entity,
        customer=document.customer,
        debit_document=debit,
        credit_document=credit,
        allocated_on=on,
        amount=document.amount,
        credit_amount=document.amount,
        debit_amount_base=document.amount_base,
        credit_amount_base=document.amount_base,
        note="reversal",
        source="reversal",
        created_at=timezone.now(),
        created_by=actor,
    ).save()
    record_event(
        document.customer,
        "reversed",
        f"{document.get_kind_display()} {document.number} reversed: {reason}",
        actor=actor,
        document=document,
    )
    logger.info("Document %s %s: reversed on %s", document.kind, document.number, on)
    return reversal


def settlement_proposal(
    invoice: Document, on: dt.date, cash_increment: Decimal | None = None
) -> tuple[Decimal, Decimal]:
    """Return (amount to pay on `on`, discount granted) for the invoice's whole balance.

    Within the discount window the discount is the term's percentage of the invoice
    amount, taken off what is still open: after a partial payment the customer pays the
    rest less the discount, never the discounted total again. Any amount asked of a
    customer follows the entity's cash rounding.
    """
    remaining = open_amount(invoice)
    discount = ZERO
    if invoice.discount_until and on <= invoice.discount_until and remaining > ZERO:
        discount = money.round_amount(
            invoice.amount * invoice.discount_percent / Decimal(100), invoice.currency
        )
        discount = min(discount, remaining)
    to_pay = money.cash_round(remaining - discount, invoice.currency, cash_increment)
    return to_pay, remaining - to_pay


def status_of(amount: Decimal, open_now: Decimal, is_reversed: bool = False) -> str:
    """Name a document's state from its amounts: open, partly paid, paid or reversed.

    "Paid" means nothing is left open, whether cash, a credit note or a write-off
    closed it; only a zero balance counts, never the mere existence of an allocation.
    """
    if is_reversed:
        return "reversed"
    if open_now <= ZERO:
        return "paid"
    if open_now < amount:
        return "partly paid"
    return "open"
