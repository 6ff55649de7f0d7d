"""Reads of orders and the catalogue that apply the person's scope."""

from django.db.models import Q, QuerySet
from django.http import Http404

from o2c.orders.models import Order, PriceList, Product
from o2c.teams.selectors import visible_customers, visible_entities


def orders_for(
    user, *, status: str = "", customer_id: int | None = None, search: str = ""
) -> QuerySet:
    """Return the orders of the customers the person may see, newest first."""
    orders = Order.objects.filter(customer__in=visible_customers(user)).select_related(
        "customer", "entity"
    )
    if status:
        orders = orders.filter(status=status)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if search:
        orders = orders.filter(
            Q(number__icontains=search)
            | Q(customer_reference__icontains=search)
            | Q(customer__name__icontains=search)
        )
    return orders.order_by("-order_date", "-id")


def order_for(user, order_id: int) -> Order:
    """Return the order if the person may see its customer; otherwise raise 404."""
    order = orders_for(user).filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    return order


def products_for(user) -> QuerySet:
    return Product.objects.filter(entity__in=visible_entities(user)).select_related("entity")


def price_lists_for(user) -> QuerySet:
    return (
        PriceList.objects.filter(entity__in=visible_entities(user))
        .select_related("entity", "customer_group")
        .prefetch_related("items__product")
    )
