"""Order verbs: place, submit, change, cancel, re-open, ship and invoice.

Status flow: draft → submitted → released or on credit hold. A held order is released
(approved) or cancelled (rejected). A released order goes on to partly fulfilled,
fulfilled and invoiced. Draft, submitted, held and released orders with nothing shipped
may be cancelled, and a cancelled order may be re-opened. The credit check runs on every step that
raises the customer's exposure: submit, re-open and a change that raises a released
order's value. A check that fails puts the order on credit hold and opens an approval
in the credit team's queue.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum

from o2c.billing import services as billing
from o2c.billing.services import InvoiceLineInput
from o2c.core.fields import MoneyField
from o2c.credit import services as credit
from o2c.credit.models import CheckTrigger
from o2c.orders.errors import OrderError, OrderInvalid, OrderProblem
from o2c.orders.intake import (
    LineRequest,
    OrderRequest,
    ValidOrder,
    _check_quantity,
    _Checker,
    line_net,
    order_signature,
    validate_order,
)
from o2c.orders.models import (
    EXPOSURE_STATUSES,
    Order,
    OrderEvent,
    OrderInvoice,
    OrderInvoiceLine,
    OrderLine,
    OrderSequence,
    OrderStatus,
    Shipment,
    ShipmentLine,
)
from o2c.orders.templatetags.order_money import format_amount
from o2c.parties.services import record_event
from o2c.teams.selectors import visible_customers

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
CANCELLABLE = (
    OrderStatus.DRAFT,
    OrderStatus.SUBMITTED,
    OrderStatus.ON_CREDIT_HOLD,
    OrderStatus.RELEASED,
)
CHANGEABLE = (OrderStatus.DRAFT, OrderStatus.RELEASED, OrderStatus.PARTLY_FULFILLED)
SHIPPABLE = (OrderStatus.RELEASED, OrderStatus.PARTLY_FULFILLED)
INVOICEABLE = (OrderStatus.PARTLY_FULFILLED, OrderStatus.FULFILLED)


def _next_number(entity) -> str:
    sequence, _ = OrderSequence.objects.select_for_update().get_or_create(entity=entity)
    number = sequence.next_number
    sequence.next_number = F("next_number") + 1
    sequence.save(update_fields=["next_number"])
    return f"SO-{number:06d}"


def _set_status(order: Order, status: str, *, actor, summary: str) -> None:
    OrderEvent.objects.create(
        order=order, actor=actor, from_status=order.status, to_status=status, summary=summary[:500]
    )
    order.status = status
    order.save(update_fields=["status", "updated_at"])


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("customer", "entity").get(pk=order.pk)


def _check_scope(customer, actor) -> None:
    if actor is not None and not visible_customers(actor).filter(pk=customer.pk).exists():
        raise OrderInvalid([OrderProblem(0, "customer", "unknown_customer", "No such customer.")])


def place_order(
    request: OrderRequest,
    *,
    actor=None,
    submit: bool = True,
    resend: str = "reject",
    import_run=None,
    validated: ValidOrder | None = None,
) -> tuple[Order, bool]:
    """Validate and create an order, then submit it unless `submit` is False.

    Returns (order, created). An order whose customer reference (the buyer's PO
    number) is already on an open or finished order is rejected. With
    `resend="return"`, an identical resend returns the existing order instead, so a
    file or interchange loaded twice creates nothing the second time.

    `validated` is the result of `validate_order(request)` when the caller has just
    checked a whole file with it, so the request is not validated twice.
    """
    _check_scope(request.customer, actor)
    valid = validated or validate_order(request)
    if valid.duplicate_of is not None:
        existing = valid.duplicate_of
        if resend == "return" and order_signature(existing) == valid.signature():
            return existing, False
        raise OrderInvalid(
            [
                OrderProblem(
                    0,
                    "customer_reference",
                    "duplicate_reference",
                    f"{valid.customer_reference} is already order {existing.number}"
                    + (" with other lines" if resend == "return" else "")
                    + "; change that order instead.",
                )
            ],
            valid.customer_reference,
        )
    with transaction.atomic():
        order = _create(valid, actor=actor, import_run=import_run)
        if submit:
            order = submit_order(order, actor=actor)
    return order, True


def _create(valid: ValidOrder, *, actor, import_run) -> Order:
    customer = valid.customer
    order = Order.objects.create(
        entity=customer.entity,
        customer=customer,
        number=_next_number(customer.entity),
        channel=valid.channel,
        status=OrderStatus.DRAFT,
        currency=valid.currency,
        order_date=valid.order_date,
        customer_reference=valid.customer_reference,
        requested_delivery_on=valid.requested_delivery_on,
        notes=valid.notes,
        net_amount=valid.net_amount,
        created_by=actor,
        import_run=import_run,
    )
    _create_lines(order, valid.lines)
    OrderEvent.objects.create(
        order=order,
        actor=actor,
        to_status=OrderStatus.DRAFT,
        summary=f"Received by {order.get_channel_display()}",
    )
    reference = f" (PO {order.customer_reference})" if order.customer_reference else ""
    record_event(
        customer,
        "order_received",
        f"Order {order.number}{reference} received by {order.get_channel_display()}: "
        f"{format_amount(order.net_amount, order.currency)} {order.currency} net",
        actor=actor,
        order_id=order.pk,
    )
    logger.info(
        "Order %s: received by %s (entity %s)", order.number, order.channel, order.entity.code
    )
    return order


def _credit_gate(order: Order, *, trigger: str, actor) -> Order:
    """Run the credit check and release the order or put it on hold."""
    check = credit.check_order_credit(order, trigger=trigger, actor=actor)
    if check.passed:
        if order.status != OrderStatus.RELEASED:
            _set_status(order, OrderStatus.RELEASED, actor=actor, summary="Credit check passed")
        return order
    reasons = " ".join(reason["message"] for reason in check.reasons)
    _set_status(order, OrderStatus.ON_CREDIT_HOLD, actor=actor, summary=f"Credit hold: {reasons}")
    credit.open_credit_approval(order, check, actor=actor)
    return order


@transaction.atomic
def submit_order(order: Order, *, actor=None) -> Order:
    order = _lock(order)
    if order.status != OrderStatus.DRAFT:
        raise OrderError(
            "not_draft",
            "Order {number} is {status}; only a draft can be submitted.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    if not order.lines.exists():
        raise OrderError("no_lines", "Order {number} has no lines.", number=order.number)
    _set_status(order, OrderStatus.SUBMITTED, actor=actor, summary="Submitted")
    return _credit_gate(order, trigger=CheckTrigger.SUBMIT, actor=actor)


@transaction.atomic
def release_order(order: Order, *, actor=None, note: str = "") -> Order:
    """Release a held order; the credit decision itself is made by the credit module."""
    order = _lock(order)
    if order.status != OrderStatus.ON_CREDIT_HOLD:
        raise OrderError(
            "not_on_hold", "Order {number} is not on credit hold.", number=order.number
        )
    _set_status(order, OrderStatus.RELEASED, actor=actor, summary=note or "Released")
    return order


@transaction.atomic
def cancel_order(order: Order, *, actor=None, reason: str, _from_credit: bool = False) -> Order:
    order = _lock(order)
    reason = (reason or "").strip()
    if not reason:
        raise OrderError(
            "reason_required", "Say why order {number} is cancelled.", number=order.number
        )
    if order.status not in CANCELLABLE or order.lines.filter(shipped_quantity__gt=0).exists():
        raise OrderError(
            "cannot_cancel",
            "Order {number} is {status}; only orders with nothing shipped can be cancelled.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    if order.status == OrderStatus.ON_CREDIT_HOLD and not _from_credit:
        credit.withdraw_credit_approval(order, actor=actor, outcome=f"order cancelled: {reason}")
    _set_status(order, OrderStatus.CANCELLED, actor=actor, summary=f"Cancelled: {reason}")
    record_event(
        order.customer,
        "order_cancelled",
        f"Order {order.number} cancelled: {reason}",
        actor=actor,
        order_id=order.pk,
    )
    return order


@transaction.atomic
def reopen_order(order: Order, *, actor=None, reason: str = "") -> Order:
    """Re-open a cancelled order; unless it was a draft, it goes through the credit check.

    Re-opening brings the order's value back into exposure, so it is checked exactly as
    a new submission would be.
    """
    order = _lock(order)
    if order.status != OrderStatus.CANCELLED:
        raise OrderError(
            "not_cancelled",
            "Order {number} is {status}; only a cancelled order can be re-opened.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    if order.customer_reference:
        clash = (
            Order.objects.filter(
                customer=order.customer, customer_reference=order.customer_reference
            )
            .exclude(pk=order.pk)
            .exclude(status=OrderStatus.CANCELLED)
            .first()
        )
        if clash is not None:
            raise OrderError(
                "duplicate_reference",
                "Order {number} cannot be re-opened: its PO {reference} is on order {other}.",
                number=order.number,
                reference=order.customer_reference,
                other=clash.number,
            )
    before_cancel = (
        order.events.filter(to_status=OrderStatus.CANCELLED)
        .order_by("-id")
        .values_list("from_status", flat=True)
    ).first()
    record_event(
        order.customer,
        "order_reopened",
        f"Order {order.number} re-opened" + (f": {reason}" if reason else ""),
        actor=actor,
        order_id=order.pk,
    )
    if before_cancel == OrderStatus.DRAFT:
        _set_status(order, OrderStatus.DRAFT, actor=actor, summary="Re-opened as draft")
        return order
    _set_status(order, OrderStatus.SUBMITTED, actor=actor, summary="Re-opened")
    return _credit_gate(order, trigger=CheckTrigger.REOPEN, actor=actor)


@transaction.atomic
def change_order(
    order: Order,
    *,
    quantities: dict[int, object] | None = None,
    add_lines: list[LineRequest] = (),
    actor=None,
) -> Order:
    """Change line quantities or add lines; a rise in a released order's value is re-checked.

    New lines are validated by the same rules as a new order (price list, unit,
    quantity). A quantity may not drop below what is already shipped.
    """
    order = _lock(order)
    if order.status not in CHANGEABLE:
        raise OrderError(
            "cannot_change",
            "Order {number} is {status}; only draft, released or partly fulfilled orders "
            "can be changed.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    before = order.net_amount
    lines = {line.line_number: line for line in order.lines.select_related("product")}
    check = _Checker()
    changed: list[OrderLine] = []
    for line_number, value in (quantities or {}).items():
        line = lines.get(int(line_number))
        if line is None:
            check.add(int(line_number), "line", "unknown_line", "The order has no such line.")
            continue
        quantity = _check_quantity(
            check, line.line_number, LineRequest(quantity=value), line.product
        )
        if quantity is None:
            continue
        if quantity < line.shipped_quantity:
            check.add(
                line.line_number,
                "quantity",
                "below_shipped",
                f"{quantity} is less than the {line.shipped_quantity} already shipped.",
            )
            continue
        if quantity != line.quantity:
            line.quantity = quantity
            line.net_amount = line_net(
                quantity, line.unit_price, line.discount_percent, order.currency
            )
            changed.append(line)
    new_lines = []
    if add_lines:
        try:
            valid = validate_order(
                OrderRequest(
                    customer=order.customer,
                    channel=order.channel,
                    lines=list(add_lines),
                    currency=order.currency,
                    order_date=order.order_date,
                )
            )
        except OrderInvalid as error:
            offset = max(lines, default=0)
            for problem in error.problems:
                line_number = problem.line + offset if problem.line else 0
                check.add(line_number, problem.field, problem.code, problem.message)
        else:
            offset = max(lines, default=0)
            new_lines = valid.lines
            for line in new_lines:
                line.line_number += offset
    if check.problems:
        raise OrderInvalid(check.problems, order.number)

    if changed:
        OrderLine.objects.bulk_update(changed, ["quantity", "net_amount"])
    _create_lines(order, new_lines)
    order.net_amount = order.lines.aggregate(total=Sum("net_amount"))["total"] or ZERO
    order.save(update_fields=["net_amount", "updated_at"])
    OrderEvent.objects.create(
        order=order,
        actor=actor,
        summary=f"Changed: net {format_amount(before, order.currency)} → "
        f"{format_amount(order.net_amount, order.currency)} {order.currency}",
    )
    _update_fulfilment_status(order, actor=actor)
    if order.status in EXPOSURE_STATUSES and order.net_amount > before:
        return _credit_gate(order, trigger=CheckTrigger.INCREASE, actor=actor)
    return order


def _update_fulfilment_status(order: Order, *, actor) -> None:
    totals = order.lines.aggregate(
        ordered=Sum("quantity"), shipped=Sum("shipped_quantity"), invoiced=Sum("invoiced_quantity")
    )
    if order.status not in (
        OrderStatus.RELEASED,
        OrderStatus.PARTLY_FULFILLED,
        OrderStatus.FULFILLED,
    ):
        return
    if not totals["shipped"]:
        target = OrderStatus.RELEASED
    elif totals["shipped"] < totals["ordered"]:
        target = OrderStatus.PARTLY_FULFILLED
    else:
        target = OrderStatus.FULFILLED
    if target != order.status:
        _set_status(order, target, actor=actor, summary=OrderStatus(target).label)


@transaction.atomic
def record_shipment(
    order: Order,
    quantities: dict[int, object],
    *,
    shipped_on: dt.date | None = None,
    reference: str = "",
    actor=None,
) -> Shipment:
    """Record what was shipped today (or on `shipped_on`), by line number; partial is fine."""
    order = _lock(order)
    if order.status not in SHIPPABLE:
        raise OrderError(
            "cannot_ship",
            "Order {number} is {status}; only released orders can be shipped.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    shipped_on = shipped_on or order.entity.today()
    lines = {line.line_number: line for line in order.lines.select_related("product")}
    check = _Checker()
    shipped: list[tuple[OrderLine, Decimal]] = []
    for line_number, value in quantities.items():
        if value is None or str(value).strip() in ("", "0"):
            continue
        line = lines.get(int(line_number))
        if line is None:
            check.add(int(line_number), "line", "unknown_line", "The order has no such line.")
            continue
        quantity = _check_quantity(
            check, line.line_number, LineRequest(quantity=value), line.product
        )
        if quantity is None:
            continue
        if quantity > line.to_ship:
            check.add(
                line.line_number,
                "quantity",
                "over_shipped",
                f"{quantity} is more than the {line.to_ship} still to ship.",
            )
            continue
        shipped.append((line, quantity))
    if not shipped and not check.problems:
        check.add(0, "quantities", "nothing_shipped", "Give a shipped quantity for some line.")
    if check.problems:
        raise OrderInvalid(check.problems, order.number)

    shipment = Shipment.objects.create(
        order=order, shipped_on=shipped_on, reference=reference[:60], created_by=actor
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line=line, quantity=quantity)
        for line, quantity in shipped
    )
    for line, quantity in shipped:
        line.shipped_quantity += quantity
    OrderLine.objects.bulk_update([line for line, _ in shipped], ["shipped_quantity"])
    summary = ", ".join(f"line {line.line_number}: {quantity}" for line, quantity in shipped)
    OrderEvent.objects.create(
        order=order, actor=actor, summary=f"Shipped on {shipped_on}: {summary}"
    )
    _update_fulfilment_status(order, actor=actor)
    record_event(
        order.customer,
        "order_shipped",
        f"Order {order.number} shipped on {shipped_on}: {summary}",
        actor=actor,
        order_id=order.pk,
    )
    return shipment


@transaction.atomic
def invoice_order(order: Order, *, actor=None, invoice_date: dt.date | None = None):
    """Create and post one invoice for everything shipped and not yet invoiced.

    Each order line becomes an invoice line for its shipped-but-uninvoiced quantity, at
    the order's unit price, discount and tax category. The billing service computes the
    tax and posts the receivable. A partly shipped order therefore gets a partial invoice,
    and the rest is invoiced when it ships. Returns the posted billing invoice.
    """
    order = _lock(order)
    if order.status not in INVOICEABLE:
        raise OrderError(
            "cannot_invoice",
            "Order {number} is {status}; only shipped orders can be invoiced.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    lines = uninvoiced_lines(order)
    if not lines:
        raise OrderError(
            "nothing_to_invoice",
            "Order {number} has nothing shipped that is not invoiced yet.",
            number=order.number,
        )
    invoice_date = invoice_date or order.entity.today()
    inputs = [
        InvoiceLineInput(
            description=line.description,
            quantity=line.to_invoice,
            unit_price=line.unit_price,
            tax_category=line.tax_category,
            product_code=line.product.code,
            unit=line.unit,
            discount_percent=line.discount_percent,
            source_reference=f"order {order.number} line {line.line_number}",
        )
        for line in lines
    ]
    draft = billing.create_invoice(
        customer=order.customer,
        lines=inputs,
        invoice_date=invoice_date,
        currency=order.currency,
        buyer_reference=order.customer_reference or order.number,
        order_reference=order.customer_reference,
        actor=actor,
    )
    invoice = billing.post_invoice(draft, actor=actor)

    link = OrderInvoice.objects.create(order=order, invoice=invoice, created_by=actor)
    nets = dict(invoice.lines.values_list("position", "net_amount"))
    billed = []
    for position, line in enumerate(lines, start=1):
        quantity = line.to_invoice
        billed.append(
            OrderInvoiceLine(
                order_invoice=link,
                order_line=line,
                invoice_position=position,
                quantity=quantity,
                net_amount=nets[position],
            )
        )
        line.invoiced_quantity += quantity
        # Once a line is wholly invoiced it leaves nothing in exposure, even if the
        # invoices' rounded nets add up to a cent more or less than the line's net.
        if line.invoiced_quantity == line.quantity:
            line.invoiced_amount = line.net_amount
        else:
            line.invoiced_amount += nets[position]
    OrderInvoiceLine.objects.bulk_create(billed)
    OrderLine.objects.bulk_update(lines, ["invoiced_quantity", "invoiced_amount"])
    payable = format_amount(invoice.payable_amount, invoice.currency)
    summary = (
        f"Invoice {invoice.number} posted: {payable} {invoice.currency} for {len(lines)} line(s)"
    )
    OrderEvent.objects.create(order=order, actor=actor, summary=summary)
    if not order.lines.exclude(invoiced_quantity=F("quantity")).exists():
        _set_status(order, OrderStatus.INVOICED, actor=actor, summary="Invoiced in full")
    record_event(
        order.customer,
        "order_invoiced",
        f"Order {order.number}: {summary}",
        actor=actor,
        document=invoice.document,
        order_id=order.pk,
        invoice_id=invoice.pk,
    )
    logger.info("Order %s: invoiced as %s", order.number, invoice.number)
    return invoice


def uninvoiced_lines(order: Order) -> list[OrderLine]:
    return list(
        order.lines.filter(shipped_quantity__gt=F("invoiced_quantity"))
        .select_related("product")
        .order_by("line_number")
    )


def order_totals(order: Order) -> dict:
    return order.lines.aggregate(
        net=Sum("net_amount"),
        invoiced=Sum("invoiced_amount"),
        open=Sum(F("net_amount") - F("invoiced_amount"), output_field=MoneyField()),
    )


def _create_lines(order: Order, lines) -> None:
    """Store validated order lines on the order."""
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_number=line.line_number,
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            net_amount=line.net_amount,
            tax_category=line.tax_category,
            buyer_line_reference=line.buyer_line_reference,
            requested_on=line.requested_on,
        )
        for line in lines
    )
