"""Reads of customers that apply the person's scope; views and the API call only these."""

import datetime as dt

from django.db.models import Q, QuerySet
from django.http import Http404

from o2c.ledger.models import Document, Side
from o2c.ledger.selectors import open_documents, with_open_amount
from o2c.parties.models import Customer
from o2c.teams.selectors import visible_customers


def customers_for(user, *, entity=None, search: str = "") -> QuerySet:
    customers = visible_customers(user).select_related("entity", "payment_term")
    if entity is not None:
        customers = customers.filter(entity=entity)
    if search:
        customers = customers.filter(Q(number__icontains=search) | Q(name__icontains=search))
    return customers.order_by("entity__code", "number")


def customer_for(user, customer_id: int) -> Customer:
    """Return the customer if the person may see it; otherwise raise 404.

    Not found and not allowed look the same, so the answer does not reveal which
    customers exist outside the person's scope.
    """
    customer = customers_for(user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def open_items(customer: Customer, as_of: dt.date | None = None) -> QuerySet:
    documents = Document.objects.filter(customer=customer).select_related("customer")
    return open_documents(documents, as_of).order_by("side", "due_date", "id")


def document_history(customer: Customer) -> QuerySet:
    return with_open_amount(Document.objects.filter(customer=customer)).order_by(
        "-document_date", "-id"
    )


def debit_open_items(customer: Customer, as_of: dt.date | None = None) -> QuerySet:
    return open_items(customer, as_of).filter(side=Side.DEBIT)
