"""REST endpoints for staff: payments taken online or by direct debit, and refunds."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from o2c.core import money
from o2c.payments import selectors, services
from o2c.payments.models import PaymentStatus

router = Router()


class PaymentItemOut(Schema):
    invoice: str
    amount: Decimal
    discount_amount: Decimal

    @staticmethod
    def resolve_invoice(item):
        return item.invoice.number

    @staticmethod
    def resolve_amount(item):
        return money.round_amount(item.amount, item.payment.currency)

    @staticmethod
    def resolve_discount_amount(item):
        return money.round_amount(item.discount_amount, item.payment.currency)


class PaymentOut(Schema):
    id: int
    reference: str
    entity: str
    customer_number: str
    method: str
    gateway: str
    status: str
    amount: Decimal
    currency: str
    refunded_amount: Decimal
    fee_amount: Decimal | None
    fee_currency: str
    gateway_payment_id: str
    paid_on: dt.date | None
    created_at: dt.datetime
    failure_reason: str

    @staticmethod
    def resolve_entity(payment):
        return payment.entity.code

    @staticmethod
    def resolve_customer_number(payment):
        return payment.customer.number

    @staticmethod
    def resolve_amount(payment):
        return money.round_amount(payment.amount, payment.currency)

    @staticmethod
    def resolve_refunded_amount(payment):
        return money.round_amount(payment.refunded_amount, payment.currency)


class PaymentDetailOut(PaymentOut):
    items: list[PaymentItemOut]

    @staticmethod
    def resolve_items(payment):
        return list(payment.items.all())


class RefundIn(Schema):
    amount: Decimal
    reason: str


class RefundOut(Schema):
    reference: str
    amount: Decimal
    currency: str
    status: str
    gateway_refund_id: str

    @staticmethod
    def resolve_amount(refund):
        return money.round_amount(refund.amount, refund.currency)


@router.get("/", response=list[PaymentOut])
@paginate
def list_payments(request, status: str = "", search: str = ""):
    if status and status not in PaymentStatus.values:
        raise HttpError(400, f"{status!r} is not a payment status.")
    return selectors.payments_for(request.user, status=status, search=search)


@router.get("/{payment_id}", response=PaymentDetailOut)
def get_payment(request, payment_id: int):
    return selectors.payment_for(request.user, payment_id)


@router.post("/{payment_id}/refunds", response=RefundOut)
def refund_payment(request, payment_id: int, payload: RefundIn):
    payment = selectors.payment_for(request.user, payment_id)
    if not selectors.can_manage_payments(request.user, payment.entity):
        raise HttpError(403, "Only cash application, billing or leaders may refund.")
    return services.refund_payment(
        payment, str(payload.amount), actor=request.user, reason=payload.reason
    )
