"""REST endpoints for credit: a customer's exposure, the queue, decisions on held orders."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.credit import services
from o2c.credit.exposure import compute_exposure
from o2c.credit.selectors import credit_queue
from o2c.orders.selectors import order_for
from o2c.parties.selectors import customer_for

router = Router()


class ExposureOut(MoneySchema):
    money_fields = {
        "limit": "currency",
        "receivables": "currency",
        "released_orders": "currency",
        "total": "currency",
        "headroom": "currency",
    }

    customer_id: int
    currency: str
    on: dt.date
    limit: Decimal | None
    receivables: Decimal
    released_orders: Decimal
    total: Decimal
    headroom: Decimal | None
    rates: dict


class CreditWorkItemOut(Schema):
    id: int
    kind: str
    title: str
    customer_id: int | None
    owner: str | None
    priority: int
    due_at: dt.datetime | None
    subject_type: str
    subject_id: str
    required_role: str = ""

    @staticmethod
    def resolve_owner(item):
        return item.owner.get_username() if item.owner else None

    @staticmethod
    def resolve_required_role(item):
        return item.data.get("required_role", "")


class DecisionIn(Schema):
    reason: str


@router.get("/customers/{customer_id}/exposure", response=ExposureOut)
def get_exposure(request, customer_id: int):
    """Return the customer's exposure today, in its limit's currency (base if no limit)."""
    customer = customer_for(request.user, customer_id)
    today = customer.entity.today()
    currency = customer.credit_limit_currency or customer.entity.base_currency
    exposure = compute_exposure(customer.entity, [customer.pk], currency, today)
    limit = customer.credit_limit_amount
    return {
        "customer_id": customer.pk,
        "currency": currency,
        "on": today,
        "limit": limit,
        "receivables": exposure.receivables,
        "released_orders": exposure.released_orders,
        "total": exposure.total,
        "headroom": None if limit is None else limit - exposure.total,
        "rates": exposure.rates,
    }


@router.get("/queue", response=list[CreditWorkItemOut])
@paginate
def list_queue(request, mine: bool = False, kind: str = ""):
    return credit_queue(request.user, mine=mine, kind=kind)


def _decide(request, order_id: int, approve: bool, reason: str):
    order = order_for(request.user, order_id)
    hold = services.open_hold(order)
    if hold is not None and not services.can_decide(request.user, hold):
        raise HttpError(403, "You may not decide on this credit hold.")
    order = services.decide_credit_hold(order, approve=approve, reason=reason, actor=request.user)
    return {"id": order.pk, "number": order.number, "status": order.status}


@router.post("/orders/{order_id}/approve", response=dict)
def approve_hold(request, order_id: int, payload: DecisionIn):
    return _decide(request, order_id, True, payload.reason)


@router.post("/orders/{order_id}/reject", response=dict)
def reject_hold(request, order_id: int, payload: DecisionIn):
    return _decide(request, order_id, False, payload.reason)
