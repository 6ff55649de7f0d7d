"""REST endpoints for customers, their open items and their timeline."""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.parties import selectors
from o2c.teams.selectors import visible_entities

router = Router()


class CustomerOut(MoneySchema):
    money_fields = {"credit_limit_amount": "credit_limit_currency"}

    id: int
    entity: str
    number: str
    name: str
    country: str
    currency: str
    language: str
    payment_term: str | None
    credit_limit_amount: Decimal | None
    credit_limit_currency: str

    @staticmethod
    def resolve_entity(customer):
        return customer.entity.code

    @staticmethod
    def resolve_payment_term(customer):
        return customer.payment_term.code if customer.payment_term else None


class OpenItemOut(MoneySchema):
    money_fields = {"amount": "currency", "open_amount": "currency"}

    id: int
    kind: str
    number: str
    document_date: dt.date
    due_date: dt.date
    currency: str
    amount: Decimal
    open_amount: Decimal


class TimelineOut(Schema):
    occurred_at: dt.datetime
    kind: str
    summary: str
    actor: str | None

    @staticmethod
    def resolve_actor(event):
        return event.actor.get_username() if event.actor else None


@router.get("/", response=list[CustomerOut])
@paginate
def list_customers(request, entity: str | None = None, search: str = ""):
    chosen = None
    if entity:
        chosen = get_object_or_404(visible_entities(request.user), code=entity)
    return selectors.customers_for(request.user, entity=chosen, search=search)


@router.get("/{customer_id}", response=CustomerOut)
def get_customer(request, customer_id: int):
    return selectors.customer_for(request.user, customer_id)


@router.get("/{customer_id}/open-items", response=list[OpenItemOut])
@paginate
def list_open_items(request, customer_id: int, as_of: dt.date | None = None):
    customer = selectors.customer_for(request.user, customer_id)
    return selectors.open_items(customer, as_of)


@router.get("/{customer_id}/timeline", response=list[TimelineOut])
@paginate
def list_timeline(request, customer_id: int):
    customer = selectors.customer_for(request.user, customer_id)
    return customer.timeline.select_related("actor")
