"""Business verbs of payments: plan, start, settle, refund and reverse a payment.

A payment is planned from the invoices and amounts a customer chose, each checked
against what is open. It reaches the ledger once, when the gateway's signed event (or
the direct debit file) confirms it: the payment document is posted under the payment's
reference and allocated to the chosen invoices, so replaying an event changes nothing.
A refund or a chargeback reopens the invoices it takes money back from.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from o2c.core import dates, money
from o2c.ledger.errors import LedgerError
from o2c.ledger.models import Allocation, Document, DocumentKind, Side
from o2c.ledger.selectors import with_open_amount
from o2c.ledger.services import (
    allocate,
    open_amount,
    post_document,
    reverse_document,
    settlement_proposal,
    unallocate,
)
from o2c.parties.models import Customer
from o2c.parties.services import record_event
from o2c.payments import signals
from o2c.payments.errors import PaymentError
from o2c.payments.gateways import base as gateway_base
from o2c.payments.gateways import card_gateway, card_gateway_for
from o2c.payments.models import (
    Gateway,
    GatewayEvent,
    Payment,
    PaymentItem,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
PAYABLE_KINDS = (DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE, DocumentKind.CHARGE)


def new_reference(prefix: str = "PAY") -> str:
    """Return a fresh payment reference such as PAY-3F9A1C07B2: unguessable and short."""
    return f"{prefix}-{secrets.token_hex(5).upper()}"


# Planning ------------------------------------------------------------------------------


# Payments that may still take money and are not on the ledger yet: card checkouts that
# have not failed, expired or been canceled, and direct debits scheduled or sent whose
# collection is not booked yet. Their amounts are not offered for payment again.
IN_FLIGHT_STATUSES = (
    PaymentStatus.CREATED,
    PaymentStatus.PENDING,
    PaymentStatus.PROCESSING,
    PaymentStatus.SCHEDULED,
    PaymentStatus.SUBMITTED,
)


def pending_amounts(document_ids) -> dict[int, Decimal]:
    """Return, per invoice id, what payments still in flight are about to pay on it."""
    rows = (
        PaymentItem.objects.filter(
            invoice_id__in=list(document_ids),
            payment__status__in=IN_FLIGHT_STATUSES,
            payment__document__isnull=True,
        )
        .values("invoice_id")
        .annotate(total=Sum("amount"))
    )
    return {row["invoice_id"]: row["total"] for row in rows}


@dataclass(frozen=True)
class PlannedItem:
    invoice: Document
    amount: Decimal
    discount: Decimal
    open_amount: Decimal


def plan_items(customer, requested, *, on: dt.date) -> list[PlannedItem]:
    """Check the invoices and amounts a customer chose to pay: [(document id, amount)].

    Each amount must be positive and at most what is open on its invoice less what card
    payments and direct debits in flight are about to pay on it, and all the invoices
    must share a currency. Paying exactly the discounted balance within the
    early-payment window takes the discount, when nothing else is in flight.
    Start the payment in the same transaction, holding `lock_customer`, so that two
    payments cannot both plan the same open amount.
    """
    requested = list(requested)
    if not requested:
        raise PaymentError("nothing_to_pay", "Choose at least one invoice to pay.")
    ids = [int(document_id) for document_id, _ in requested]
    if len(set(ids)) != len(ids):
        raise PaymentError("duplicate_invoice", "Each invoice can appear only once in a payment.")
    documents = {
        document.pk: document
        for document in with_open_amount(
            Document.objects.filter(
                customer=customer, side=Side.DEBIT, kind__in=PAYABLE_KINDS, pk__in=ids
            ).select_related("entity")
        )
    }
    missing = [document_id for document_id in ids if document_id not in documents]
    if missing:
        raise PaymentError(
            "not_payable_here",
            "One of the chosen documents is not an invoice of this account; reload the page "
            "and choose again.",
        )
    currencies = {document.currency for document in documents.values()}
    if len(currencies) != 1:
        raise PaymentError(
            "mixed_currencies",
            "The chosen invoices are in {currencies}; pay the invoices of one currency at a time.",
            currencies=", ".join(sorted(currencies)),
        )

    entity = customer.entity
    pending = pending_amounts(documents)
    planned = []
    for document_id, amount in requested:
        document = documents[int(document_id)]
        if document.is_reversed or document.open_amount <= ZERO:
            raise PaymentError(
                "already_paid", "{number} has nothing left to pay.", number=document.number
            )
        in_flight = pending.get(document.pk, ZERO)
        payable = document.open_amount - in_flight
        if payable <= ZERO:
            raise PaymentError(
                "payment_in_flight",
                "{number} is already being paid by a card payment or direct debit that has "
                "not completed yet; nothing is left to pay.",
                number=document.number,
            )
        amount = money.parse_amount(
            amount, document.currency, policy=entity.amount_policy, field=document.number
        )
        if amount <= ZERO or amount > payable:
            raise PaymentError(
                "amount_out_of_range",
                "{number}: pay an amount above zero and at most {open} {currency}, not {amount}.",
                number=document.number,
                open=money.as_text(payable, document.currency),
                currency=document.currency,
                amount=amount,
            )
        discount = ZERO
        increment = (
            entity.cash_rounding_increment if document.currency == entity.base_currency else None
        )
        to_pay, discount_offered = settlement_proposal(document, on, increment)
        if discount_offered > ZERO and amount == to_pay and in_flight == ZERO:
            discount = discount_offered
        planned.append(PlannedItem(document, amount, discount, document.open_amount))
    return planned


def proposed_amount(
    document, on: dt.date, disputed: Decimal = ZERO, pending: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """Return (amount to propose, discount it includes) for paying a document's balance.

    The balance less what is disputed and what payments in flight are about to pay is
    proposed. Within the early-payment window the discounted amount is proposed
    instead, when nothing of the invoice is disputed or in flight.
    """
    entity = document.entity
    increment = (
        entity.cash_rounding_increment if document.currency == entity.base_currency else None
    )
    to_pay, discount = settlement_proposal(document, on, increment)
    if disputed > ZERO or pending > ZERO:
        return max(open_amount(document) - disputed - pending, ZERO), ZERO
    return to_pay, discount


def lock_customer(customer) -> None:
    """Lock the customer's row until the transaction ends, to start one payment at a time."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()


# Starting ------------------------------------------------------------------------------


def start_card_payment(
    customer,
    requested,
    *,
    idempotency_key: str,
    return_url,
    cancel_url: str,
    portal_user=None,
    actor=None,
    email: str = "",
    language: str = "en",
) -> Payment:
    """Create a card payment for the chosen invoices and open the gateway's hosted page.

    `return_url` is called with the payment and returns where the gateway sends the
    payer back. Submitting the same form twice (same idempotency key) returns the first
    payment instead of charging twice.
    """
    with transaction.atomic():
        lock_customer(customer)
        existing = Payment.objects.filter(
            customer=customer, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing
        items = plan_items(customer, requested, on=customer.entity.today())
        currency = items[0].invoice.currency
        gateway = card_gateway_for(customer, currency)
        if gateway is None:
            raise PaymentError(
                "no_card_gateway",
                "Card payments are not available for {entity}; pay by bank transfer instead.",
                entity=customer.entity.name,
            )
        payment = Payment.objects.create(
            entity=customer.entity,
            customer=customer,
            reference=new_reference(),
            method=PaymentMethod.CARD,
            gateway=gateway.name,
            amount=sum((item.amount for item in items), ZERO),
            currency=currency,
            idempotency_key=idempotency_key,
            portal_user=portal_user,
            created_by=actor,
        )
        _create_items(payment, items)

    try:
        checkout = gateway.start_checkout(
            payment,
            return_url=return_url(payment),
            cancel_url=cancel_url,
            email=email,
            language=language,
        )
    except gateway_base.GatewayError as error:
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED, failure_reason=error.message[:300]
        )
        raise
    payment.gateway_session_id = checkout.session_id
    payment.checkout_url = checkout.url
    payment.status = PaymentStatus.PENDING
    payment.save(update_fields=["gateway_session_id", "checkout_url", "status", "updated_at"])
    record_event(
        customer,
        "payment_started",
        f"Card payment {payment.reference} of {money.as_text(payment.amount, currency)} "
        f"{currency} started through {gateway.label} for "
        + ", ".join(item.invoice.number for item in items),
        actor=actor,
    )
    logger.info("Payment %s: checkout opened at %s", payment.reference, gateway.name)
    return payment


def _create_items(payment: Payment, items: list[PlannedItem]) -> None:
    PaymentItem.objects.bulk_create(
        [
            PaymentItem(
                payment=payment,
                invoice=item.invoice,
                amount=item.amount,
                discount_amount=item.discount,
            )
            for item in items
        ]
    )


def note_return(payment: Payment, query: dict) -> str:
    """Ask the gateway about a payer coming back from its page and note its status.

    The ledger is not touched here: only the signed webhook posts the payment, so a
    forged return address cannot mark anything paid.
    """
    if payment.method != PaymentMethod.CARD or not payment.is_open:
        return payment.status
    outcome = card_gateway(payment.gateway).checkout_outcome(payment, query)
    if outcome in (gateway_base.SUCCEEDED, gateway_base.PROCESSING):
        Payment.objects.filter(
            pk=payment.pk, status__in=[PaymentStatus.CREATED, PaymentStatus.PENDING]
        ).update(status=PaymentStatus.PROCESSING, updated_at=timezone.now())
        payment.refresh_from_db()
    return payment.status


# Gateway events ------------------------------------------------------------------------


def receive_webhook(gateway_name: str, body: bytes, headers) -> list[str]:
    """Verify a gateway's webhook and act on each of its events once.

    Raises InvalidWebhook (InvalidSignature when the signature does not verify) for an
    event that is rejected, and records nothing then.
    Returns one outcome per event, "duplicate" for an event already processed.
    """
    gateway = card_gateway(gateway_name)
    if not gateway.is_configured():
        raise PaymentError(
            "gateway_not_configured", "{gateway} is not configured.", gateway=gateway_name
        )
    notifications = gateway.parse_webhook(body, headers)
    outcomes = []
    for notification in notifications:
        outcome, settled = _process_notification(gateway_name, notification)
        outcomes.append(outcome)
        if settled is not None:
            _record_fee_later(gateway, settled)
    return outcomes


def _process_notification(gateway_name: str, notification) -> tuple[str, Payment | None]:
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = GatewayEvent.objects.create(
                    gateway=gateway_name,
                    event_id=notification.event_id,
                    event_type=notification.event_type,
                    payload=notification.payload,
                )
        except IntegrityError:
            logger.info("Gateway event %s: already processed", notification.event_id)
            return "duplicate", None
        payment = _payment_of(gateway_name, notification)
        if payment is None:
            event.outcome = "no matching payment"
            event.save(update_fields=["outcome"])
            if notification.kind != gateway_base.IGNORED:
                logger.warning(
                    "Gateway event %s (%s): no payment matches",
                    notification.event_id,
                    notification.event_type,
                )
            return event.outcome, None
        outcome = _apply_notification(payment, notification)
        event.payment = payment
        event.outcome = outcome[:300]
        event.save(update_fields=["payment", "outcome"])
    settled = Payment.objects.get(pk=payment.pk) if outcome == "settled" else None
    return outcome, settled


def _payment_of(gateway_name: str, notification) -> Payment | None:
    payments = Payment.objects.select_for_update().filter(gateway=gateway_name)
    if notification.payment_reference:
        found = payments.filter(reference=notification.payment_reference).first()
        if found is not None:
            return found
    if notification.gateway_payment_id:
        return payments.filter(gateway_payment_id=notification.gateway_payment_id).first()
    return None


def _apply_notification(payment: Payment, notification) -> str:
    kind = notification.kind
    if kind == gateway_base.SUCCEEDED:
        mismatch = notification.amount is not None and (
            notification.amount != payment.amount or notification.currency != payment.currency
        )
        reported = f"{notification.amount} {notification.currency}"
        if payment.document_id is not None:
            # A settled payment keeps its record: a later event cannot rewrite it.
            if mismatch:
                logger.warning(
                    "Payment %s: event %s reports %s on a settled payment; ignored",
                    payment.reference,
                    notification.event_id,
                    reported,
                )
                return "already settled: amount mismatch ignored"
            return "already settled"
        if mismatch:
            payment.failure_reason = (
                f"gateway reported {reported}, expected "
                f"{money.as_text(payment.amount, payment.currency)} {payment.currency}"
            )
            payment.save(update_fields=["failure_reason", "updated_at"])
            logger.error("Payment %s: amount mismatch, not posted", payment.reference)
            return "amount mismatch: not posted"
        paid_on = dates.local_date(payment.entity.time_zone, notification.occurred_at)
        settle_payment(payment, paid_on=paid_on, gateway_payment_id=notification.gateway_payment_id)
        return "settled"
    if kind == gateway_base.PROCESSING:
        if payment.status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            payment.status = PaymentStatus.PROCESSING
            if notification.gateway_payment_id:
                payment.gateway_payment_id = notification.gateway_payment_id
            payment.save(update_fields=["status", "gateway_payment_id", "updated_at"])
        return "processing"
    if kind == gateway_base.ATTEMPT_FAILED:
        # The payer may try another card on the same page; only note why this one failed.
        if payment.is_open:
            payment.failure_reason = (notification.reason or "declined")[:300]
            payment.save(update_fields=["failure_reason", "updated_at"])
        return "attempt failed"
    if kind == gateway_base.CANCELED:
        if payment.is_open:
            payment.status = PaymentStatus.CANCELED
            payment.save(update_fields=["status", "updated_at"])
            return "canceled"
        return "not open: ignored"
    if kind == gateway_base.REFUND_SUCCEEDED:
        refund = _refund_of(payment, notification)
        apply_refund(refund, on=dates.local_date(payment.entity.time_zone))
        return f"refund {refund.reference} applied"
    if kind == gateway_base.REFUND_FAILED:
        return _refund_failed(payment, notification)
    if kind == gateway_base.CHARGEBACK:
        if payment.document_id is None:
            return "chargeback on an unposted payment: ignored"
        reverse_payment(payment, reason=f"chargeback: {notification.reason}".strip())
        return "reversed by chargeback"
    return "ignored"


def _find_refund(payment: Payment, notification) -> Refund | None:
    """Return and lock the refund an event reports, if o2c has a record of it.

    The gateway's refund id is stored only once the refund call returns, and the
    gateway may send its event before that. So a refund o2c asked for is also found by
    the reference it sent with the request, and gets the gateway's id here.
    """
    refunds = Refund.objects.select_for_update().filter(payment=payment)
    if notification.refund_id:
        refund = refunds.filter(gateway_refund_id=notification.refund_id).first()
        if refund is not None:
            return refund
    if not notification.refund_reference:
        return None
    refund = refunds.filter(reference=notification.refund_reference).first()
    if refund is None:
        return None
    if notification.amount is not None and notification.amount != refund.amount:
        logger.warning(
            "Refund %s: event %s reports %s, o2c asked for %s",
            refund.reference,
            notification.event_id,
            notification.amount,
            refund.amount,
        )
    if not refund.gateway_refund_id and notification.refund_id:
        refund.gateway_refund_id = notification.refund_id
        refund.save(update_fields=["gateway_refund_id"])
    return refund


def _refund_of(payment: Payment, notification) -> Refund:
    """Return the refund the event reports, recording one made in the gateway's dashboard."""
    refund = _find_refund(payment, notification)
    if refund is not None:
        return refund
    return Refund.objects.create(
        payment=payment,
        reference=_refund_reference(payment),
        amount=notification.amount,
        currency=payment.currency,
        gateway_refund_id=notification.refund_id,
        status=RefundStatus.PENDING,
        reason="refunded at the gateway",
    )


def _refund_failed(payment: Payment, notification) -> str:
    refund = _find_refund(payment, notification)
    if refund is None or refund.status == RefundStatus.FAILED:
        return "refund failure noted"
    if refund.document_id is not None:
        # The refund was applied when the gateway first accepted it: take it back, so the
        # money stays on the customer's account.
        reverse_document(
            refund.document,
            on=payment.entity.today(),
            reason=f"refund failed at the gateway: {notification.reason}",
        )
        Payment.objects.filter(pk=payment.pk).update(
            refunded_amount=payment.refunded_amount - refund.amount
        )
    refund.status = RefundStatus.FAILED
    refund.save(update_fields=["status"])
    record_event(
        payment.customer,
        "refund_failed",
        f"Refund {refund.reference} of {money.as_text(refund.amount, refund.currency)} "
        f"{refund.currency} failed: {notification.reason}",
    )
    return f"refund {refund.reference} failed"


def _record_fee_later(gateway, payment: Payment) -> None:
    """Read the gateway's fee on a settled payment, outside the webhook's transaction."""
    fee = gateway.fetch_fee(payment)
    if fee is not None:
        Payment.objects.filter(pk=payment.pk).update(
            fee_amount=fee.amount, fee_currency=fee.currency
        )


# Settling ------------------------------------------------------------------------------


@transaction.atomic
def settle_payment(payment: Payment, *, paid_on: dt.date, gateway_payment_id: str = "", actor=None):
    """Post the payment to the ledger and allocate it to the invoices it was meant for.

    Runs once per payment: a second call finds the payment document and does nothing.
    If an invoice was settled some other way meanwhile, the rest of the payment stays
    on the customer's account as a credit instead of being lost.
    """
    payment = (
        Payment.objects.select_for_update().select_related("entity", "customer").get(pk=payment.pk)
    )
    if payment.document_id is not None:
        return payment
    method_label = PaymentMethod(payment.method).label
    document = post_document(
        customer=payment.customer,
        kind=DocumentKind.PAYMENT,
        number=payment.reference,
        document_date=paid_on,
        amount=payment.amount,
        currency=payment.currency,
        reference=payment.reference,
        description=method_label
        if payment.method == PaymentMethod.DIRECT_DEBIT
        else f"{method_label} through {Gateway(payment.gateway).label}",
        source=payment.gateway,
        actor=actor,
    )
    left_on_account = ZERO
    items = list(payment.items.select_related("invoice").order_by("id"))
    for index, item in enumerate(items, start=1):
        invoice = item.invoice
        on = max(paid_on, invoice.document_date)
        _take_discount(payment, item, index, on)
        try:
            result = allocate(
                invoice, document, on=on, amount=item.amount, source=payment.gateway, actor=actor
            )
        except LedgerError as error:
            if error.code != "nothing_to_allocate":
                raise
            left_on_account += item.amount
            continue
        left_on_account += item.amount - result.allocation.amount

    payment.document = document
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_on = paid_on
    if gateway_payment_id:
        payment.gateway_payment_id = gateway_payment_id
    payment.save(update_fields=["document", "status", "paid_on", "gateway_payment_id"])
    record_event(
        payment.customer,
        "payment_received",
        f"{method_label} {payment.reference} of {money.as_text(payment.amount, payment.currency)} "
        f"{payment.currency} received"
        + (
            f", {money.as_text(left_on_account, payment.currency)} {payment.currency} "
            "left on account"
            if left_on_account
            else ""
        ),
        actor=actor,
        document=document,
    )
    logger.info("Payment %s: settled on %s", payment.reference, paid_on)
    transaction.on_commit(
        lambda: signals.payment_settled.send(sender=Payment, payment=payment), robust=True
    )
    return payment


def _take_discount(payment: Payment, item: PaymentItem, index: int, on: dt.date) -> None:
    """Post the early-payment discount when the rest of the balance is paid in its window."""
    invoice = item.invoice
    if item.discount_amount <= ZERO or invoice.discount_until is None:
        return
    if on > invoice.discount_until or open_amount(invoice) != item.amount + item.discount_amount:
        return
    discount = post_document(
        customer=payment.customer,
        kind=DocumentKind.DISCOUNT,
        number=f"{payment.reference}-D{index}",
        document_date=on,
        amount=item.discount_amount,
        currency=invoice.currency,
        related_invoice=invoice,
        description=f"Early-payment discount on {invoice.number}",
        source=payment.gateway,
    )
    allocate(invoice, discount, on=on, source=payment.gateway)
    item.discount_document = discount
    item.save(update_fields=["discount_document"])


@transaction.atomic
def reverse_payment(payment: Payment, *, reason: str, on: dt.date | None = None, actor=None):
    """Take back a posted payment (chargeback, returned debit): its invoices reopen.

    An early-payment discount granted with it is reversed too, since the balance was
    not paid in the window after all.
    """
    payment = (
        Payment.objects.select_for_update().select_related("entity", "customer").get(pk=payment.pk)
    )
    if payment.status == PaymentStatus.RETURNED:
        return payment
    on = on or payment.entity.today()
    if payment.document_id is not None:
        reverse_document(
            payment.document, on=max(on, payment.document.document_date), reason=reason
        )
        for item in payment.items.exclude(discount_document=None).select_related(
            "discount_document"
        ):
            reverse_document(
                item.discount_document,
                on=max(on, item.discount_document.document_date),
                reason=f"discount lost: {reason}",
                actor=actor,
            )
    payment.status = PaymentStatus.RETURNED
    payment.failure_reason = reason[:300]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])
    record_event(
        payment.customer,
        "payment_reversed",
        f"Payment {payment.reference} of {money.as_text(payment.amount, payment.currency)} "
        f"{payment.currency} taken back: "
        f"{reason}; its invoices are open again",
        actor=actor,
        document=payment.document,
    )
    logger.warning("Payment %s: reversed (%s)", payment.reference, reason)
    return payment


# Refunds -------------------------------------------------------------------------------


def _refund_reference(payment: Payment) -> str:
    count = Refund.objects.filter(payment=payment).count()
    return f"{payment.reference}-R{count + 1}"


def refund_payment(payment: Payment, amount, *, actor, reason: str) -> Refund:
    """Refund part or all of a card payment through its gateway.

    The refund is applied to the ledger when the gateway confirms it: at once when the
    API response reports it succeeded (Stripe, usually), otherwise on its webhook (Adyen).
    """
    if not reason.strip():
        raise PaymentError("reason_required", "Say why the payment is refunded.")
    if payment.method != PaymentMethod.CARD:
        raise PaymentError(
            "not_refundable",
            "Payment {reference} was not taken by card; refund it by bank transfer.",
            reference=payment.reference,
        )
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise PaymentError(
            "not_refundable",
            "Payment {reference} is {status}; only a received payment can be refunded.",
            reference=payment.reference,
            status=payment.get_status_display().lower(),
        )
    amount = money.parse_amount(amount, payment.currency, policy=payment.entity.amount_policy)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        pending = sum(
            (
                refund.amount
                for refund in Refund.objects.filter(payment=locked, status=RefundStatus.PENDING)
            ),
            ZERO,
        )
        room = locked.amount - locked.refunded_amount - pending
        if amount <= ZERO or amount > room:
            raise PaymentError(
                "refund_amount",
                "Refund an amount above zero and at most {room} {currency} on {reference}, "
                "not {amount}.",
                room=money.as_text(room, payment.currency),
                currency=payment.currency,
                reference=payment.reference,
                amount=amount,
            )
        refund = Refund.objects.create(
            payment=locked,
            reference=_refund_reference(locked),
            amount=amount,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            reason=reason[:300],
            requested_by=actor,
        )
    # The refund is committed before the call: the gateway's event may arrive while the
    # call runs, and finds this refund by its reference (see _find_refund).
    try:
        result = card_gateway(payment.gateway).refund(payment, amount, reference=refund.reference)
    except gateway_base.GatewayError:
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED
        )
        raise
    Refund.objects.filter(pk=refund.pk, gateway_refund_id="").update(
        gateway_refund_id=result.refund_id
    )
    record_event(
        payment.customer,
        "refund_requested",
        f"Refund {refund.reference} of {amount} {payment.currency} on {payment.reference} "
        f"sent to {Gateway(payment.gateway).label}: {reason}",
        actor=actor,
    )
    if result.succeeded:
        apply_refund(refund, on=payment.entity.today(), actor=actor)
    refund.refresh_from_db()
    return refund


@transaction.atomic
def apply_refund(refund: Refund, *, on: dt.date, actor=None) -> Refund:
    """Post a confirmed refund and reopen the invoices the money came from.

    The refund first uses what the payment left on account. Beyond that, allocations
    to invoices are undone, latest first, and any part undone beyond the refund goes
    back to its invoice. Runs once per refund.
    """
    # Lock the payment before the refund, in the order the webhook path takes them.
    payment = (
        Payment.objects.select_for_update()
        .select_related("entity", "customer")
        .get(pk=refund.payment_id)
    )
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if refund.status == RefundStatus.SUCCEEDED:
        return refund
    if payment.document_id is None:
        raise PaymentError(
            "not_refundable",
            "Payment {reference} is not on the ledger; nothing to refund.",
            reference=payment.reference,
        )
    document = payment.document
    on = max(on, document.document_date)
    shortfall = refund.amount - open_amount(document)
    undone: list[Allocation] = []
    freed = ZERO
    if shortfall > ZERO:
        live = (
            Allocation.objects.filter(
                credit_document=document,
                amount__gt=0,
                reverses__isnull=True,
                reversed_by__isnull=True,
            )
            .exclude(debit_document__kind=DocumentKind.REFUND)
            .select_related("debit_document")
            .order_by("-allocated_on", "-id")
        )
        for allocation in live:
            if freed >= shortfall:
                break
            if allocation.debit_document.currency != payment.currency:
                raise PaymentError(
                    "refund_currency",
                    "Payment {reference} paid an invoice in another currency; refund it by hand.",
                    reference=payment.reference,
                )
            unallocate(allocation, on=on, note=f"refund {refund.reference}", actor=actor)
            undone.append(allocation)
            freed += allocation.credit_amount

    refund_document = post_document(
        customer=payment.customer,
        kind=DocumentKind.REFUND,
        number=refund.reference,
        document_date=on,
        amount=refund.amount,
        currency=payment.currency,
        reference=payment.reference,
        description=f"Refund of {payment.reference}: {refund.reason}",
        source=payment.gateway,
        actor=actor,
    )
    allocate(refund_document, document, on=on, amount=refund.amount, source=payment.gateway)
    if shortfall > ZERO and freed > shortfall:
        # The last allocation undone was larger than needed: its invoice gets the rest back.
        allocate(
            undone[-1].debit_document,
            document,
            on=on,
            amount=freed - shortfall,
            source=payment.gateway,
            actor=actor,
        )

    refund.document = refund_document
    refund.status = RefundStatus.SUCCEEDED
    refund.save(update_fields=["document", "status"])
    payment.refunded_amount += refund.amount
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_amount >= payment.amount
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])
    reopened = ", ".join(allocation.debit_document.number for allocation in undone)
    record_event(
        payment.customer,
        "refunded",
        f"Refund {refund.reference} of {money.as_text(refund.amount, refund.currency)} "
        f"{refund.currency} on {payment.reference}"
        + (f"; reopened {reopened}" if reopened else ""),
        actor=actor,
        document=refund_document,
    )
    logger.info("Refund %s: applied on %s", refund.reference, on)
    return refund


# Upkeep --------------------------------------------------------------------------------

ABANDONED_AFTER = dt.timedelta(hours=2)


def expire_abandoned_payments(now: dt.datetime | None = None) -> int:
    """Cancel card payments whose hosted page was left unpaid for longer than it lives.

    A gateway that reports the success afterwards still gets its money posted: a late
    success settles a canceled payment like any other.
    """
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    return Payment.objects.filter(
        method=PaymentMethod.CARD,
        status__in=[PaymentStatus.CREATED, PaymentStatus.PENDING],
        created_at__lt=cutoff,
    ).update(status=PaymentStatus.CANCELED, failure_reason="checkout abandoned")
