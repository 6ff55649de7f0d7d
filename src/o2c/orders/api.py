"""REST endpoints for orders: create (with an idempotency key), read, act, EDI in.

Every endpoint reads through the person's scope, so an order of a customer outside it
returns 404, as if it did not exist. Problems with an order come back as HTTP 400
{code, message, problems: [{line, field, code, message}]}.
"""

import datetime as dt
import hashlib
import json
from decimal import Decimal

from django.db import IntegrityError, transaction
from ninja import Header, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from o2c.core import money
from o2c.orders import selectors, services
from o2c.orders.edi import EdiError, receive_850
from o2c.orders.intake import LineRequest, OrderRequest
from o2c.orders.models import IdempotencyKey, Order, OrderChannel
from o2c.orders.templatetags.order_money import price_value, quantity_value
from o2c.parties.selectors import customer_for

router = Router()


class ErrorOut(Schema):
    code: str
    message: str


class LineIn(Schema):
    product: str = ""
    buyer_product_code: str = ""
    gtin: str = ""
    quantity: Decimal | str
    unit: str = ""
    unit_price: Decimal | str | None = None
    discount_percent: Decimal | str | None = None
    description: str = ""
    buyer_line_reference: str = ""
    requested_on: str | None = None


class OrderIn(Schema):
    customer_id: int
    customer_reference: str = ""
    currency: str = ""
    order_date: str | None = None
    requested_delivery_on: str | None = None
    notes: str = ""
    lines: list[LineIn]
    submit: bool = True


class OrderLineOut(Schema):
    line_number: int
    product: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_category: str
    shipped_quantity: Decimal
    invoiced_quantity: Decimal

    @staticmethod
    def resolve_product(line):
        return line.product.code

    @staticmethod
    def resolve_quantity(line):
        return quantity_value(line.quantity)

    @staticmethod
    def resolve_unit_price(line):
        return price_value(line.unit_price, line.order.currency)

    @staticmethod
    def resolve_discount_percent(line):
        return quantity_value(line.discount_percent)

    @staticmethod
    def resolve_net_amount(line):
        return money.round_amount(line.net_amount, line.order.currency)

    @staticmethod
    def resolve_shipped_quantity(line):
        return quantity_value(line.shipped_quantity)

    @staticmethod
    def resolve_invoiced_quantity(line):
        return quantity_value(line.invoiced_quantity)


class OrderOut(Schema):
    id: int
    number: str
    entity: str
    customer_id: int
    customer_number: str
    channel: str
    status: str
    currency: str
    order_date: dt.date
    customer_reference: str
    requested_delivery_on: dt.date | None
    net_amount: Decimal
    lines: list[OrderLineOut]
    invoices: list[str]

    @staticmethod
    def resolve_entity(order):
        return order.entity.code

    @staticmethod
    def resolve_customer_number(order):
        return order.customer.number

    @staticmethod
    def resolve_lines(order):
        return list(order.lines.select_related("product", "order").order_by("line_number"))

    @staticmethod
    def resolve_net_amount(order):
        return money.round_amount(order.net_amount, order.currency)

    @staticmethod
    def resolve_invoices(order):
        return list(order.invoices.order_by("id").values_list("invoice__number", flat=True))


class OrderSummaryOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_reference: str
    status: str
    currency: str
    order_date: dt.date
    net_amount: Decimal

    @staticmethod
    def resolve_net_amount(order):
        return money.round_amount(order.net_amount, order.currency)


class ReasonIn(Schema):
    reason: str = ""


class ShipmentLineIn(Schema):
    line: int
    quantity: Decimal | str


class ShipmentIn(Schema):
    lines: list[ShipmentLineIn]
    shipped_on: dt.date | None = None
    reference: str = ""


class ChangeIn(Schema):
    quantities: dict[int, Decimal | str] = {}
    add_lines: list[LineIn] = []


class EdiOut(Schema):
    accepted: bool
    orders: list[str]
    problems: list[dict]
    acknowledgment: str


def _order_out(order: Order) -> dict:
    order = Order.objects.select_related("customer", "entity").get(pk=order.pk)
    return json.loads(OrderOut.from_orm(order).model_dump_json())


def _request_from(payload: OrderIn, customer) -> OrderRequest:
    return OrderRequest(
        customer=customer,
        channel=OrderChannel.API,
        customer_reference=payload.customer_reference,
        currency=payload.currency,
        order_date=payload.order_date,
        requested_delivery_on=payload.requested_delivery_on,
        notes=payload.notes,
        lines=[
            LineRequest(
                product_code=line.product,
                buyer_product_code=line.buyer_product_code,
                gtin=line.gtin,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                description=line.description,
                buyer_line_reference=line.buyer_line_reference,
                requested_on=line.requested_on,
            )
            for line in payload.lines
        ],
    )


@router.get("/", response=list[OrderSummaryOut])
@paginate
def list_orders(request, status: str = "", customer_id: int | None = None, search: str = ""):
    return selectors.orders_for(request.user, status=status, customer_id=customer_id, search=search)


@router.get("/{order_id}", response=OrderOut)
def get_order(request, order_id: int):
    return selectors.order_for(request.user, order_id)


@router.post("/", response={200: dict, 201: dict, 400: dict, 409: ErrorOut})
def create_order(
    request,
    payload: OrderIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    """Create an order and, unless `submit` is false, submit it for the credit check.

    With an `Idempotency-Key` header, a retry with the same key and the same body returns
    the first response and creates nothing. The same key with another body is rejected
    with 409. Keys are per user and kept with the order.
    """
    body_sha256 = hashlib.sha256(
        json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    key = (idempotency_key or "").strip()[:100]
    if key:
        replay = _replay(request.user, key, body_sha256)
        if replay is not None:
            return replay
    customer = customer_for(request.user, payload.customer_id)
    try:
        with transaction.atomic():
            order, _ = services.place_order(
                _request_from(payload, customer), actor=request.user, submit=payload.submit
            )
            body = _order_out(order)
            if key:
                IdempotencyKey.objects.create(
                    user=request.user,
                    key=key,
                    request_sha256=body_sha256,
                    order=order,
                    response=body,
                )
    except IntegrityError:
        # A concurrent request with the same key was stored first, so return its response.
        replay = _replay(request.user, key, body_sha256) if key else None
        if replay is None:
            raise
        return replay
    return Status(201, body)


def _replay(user, key: str, body_sha256: str):
    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
    if stored is None:
        return None
    if stored.request_sha256 != body_sha256:
        return Status(
            409,
            {
                "code": "idempotency_key_reused",
                "message": f"Idempotency key {key!r} was already used for another request "
                f"(order {stored.order.number}); use a new key for a new order.",
            },
        )
    return Status(201, stored.response)


def _act(request, order_id: int, action, **kwargs):
    order = selectors.order_for(request.user, order_id)
    action(order, actor=request.user, **kwargs)
    return Status(200, _order_out(order))


@router.post("/{order_id}/submit", response={200: dict, 400: dict})
def submit_order(request, order_id: int):
    return _act(request, order_id, services.submit_order)


@router.post("/{order_id}/cancel", response={200: dict, 400: dict})
def cancel_order(request, order_id: int, payload: ReasonIn):
    return _act(request, order_id, services.cancel_order, reason=payload.reason)


@router.post("/{order_id}/reopen", response={200: dict, 400: dict})
def reopen_order(request, order_id: int, payload: ReasonIn):
    return _act(request, order_id, services.reopen_order, reason=payload.reason)


@router.post("/{order_id}/change", response={200: dict, 400: dict})
def change_order(request, order_id: int, payload: ChangeIn):
    """Change line quantities (by line number) or add lines; a higher value is re-checked."""
    customer = selectors.order_for(request.user, order_id).customer
    added = _request_from(OrderIn(customer_id=customer.pk, lines=payload.add_lines), customer)
    return _act(
        request,
        order_id,
        services.change_order,
        quantities=payload.quantities,
        add_lines=added.lines,
    )


@router.post("/{order_id}/shipments", response={200: dict, 400: dict})
def record_shipment(request, order_id: int, payload: ShipmentIn):
    return _act(
        request,
        order_id,
        services.record_shipment,
        quantities={line.line: line.quantity for line in payload.lines},
        shipped_on=payload.shipped_on,
        reference=payload.reference,
    )


class OrderInvoiceOut(Schema):
    order: dict
    invoice_id: int
    invoice_number: str
    payable_amount: Decimal
    currency: str


@router.post("/{order_id}/invoice", response={200: OrderInvoiceOut, 400: dict})
def invoice_order(request, order_id: int):
    """Invoice everything shipped and not yet invoiced, and post the invoice."""
    order = selectors.order_for(request.user, order_id)
    invoice = services.invoice_order(order, actor=request.user)
    return {
        "order": _order_out(order),
        "invoice_id": invoice.pk,
        "invoice_number": invoice.number,
        "payable_amount": money.round_amount(invoice.payable_amount, invoice.currency),
        "currency": invoice.currency,
    }


@router.post("/edi/850", response={200: EdiOut, 400: dict})
def receive_edi_850(request, file_name: str = "api.edi"):
    """Take an X12 850 interchange as the raw request body and return the 855 to send back.

    Returns 200 with `accepted` true and the orders created, or 400 with the problems
    (no order is created) and an 855 that rejects the purchase orders.
    """
    try:
        result = receive_850(request.body, file_name, actor=request.user)
    except EdiError as error:
        return Status(400, error.as_dict())
    body = {
        "accepted": result.accepted,
        "orders": [order.number for order in result.orders],
        "problems": [
            {"segment": p.line, "field": p.field, "message": p.message} for p in result.problems
        ],
        "acknowledgment": result.acknowledgment,
    }
    if not result.accepted:
        return Status(
            400,
            {
                "code": "edi_rejected",
                "message": f"{file_name} was not loaded; see problems.",
                **body,
            },
        )
    return Status(200, body)
