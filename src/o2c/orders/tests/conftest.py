"""Fixtures for order and credit tests: a small catalogue, rates for today, orders."""

from decimal import Decimal

import pytest


@pytest.fixture
def catalogue(entity):
    """Three products with EUR, USD and JPY general price lists of entity E1."""
    from o2c.orders.models import PriceList, PriceListItem, Product

    widget = Product.objects.create(
        entity=entity, code="WIDGET", name="Widget", unit="EA", tax_category="standard"
    )
    consulting = Product.objects.create(
        entity=entity,
        code="CONSULT",
        name="Consulting",
        kind="service",
        unit="HUR",
        tax_category="standard",
    )
    book = Product.objects.create(
        entity=entity, code="BOOK", name="Handbook", unit="EA", tax_category="reduced"
    )
    prices = {
        "EUR": {widget: "12.50", consulting: "150.00", book: "39.90"},
        "USD": {widget: "14.00", consulting: "170.00", book: "45.00"},
        "JPY": {widget: "2000", consulting: "25000", book: "6000"},
    }
    for currency, items in prices.items():
        price_list = PriceList.objects.create(
            entity=entity, code=f"GEN-{currency}", name=f"General {currency}", currency=currency
        )
        for product, price in items.items():
            PriceListItem.objects.create(
                price_list=price_list, product=product, unit_price=Decimal(price)
            )
    return {"widget": widget, "consulting": consulting, "book": book}


@pytest.fixture
def rates_today(entity):
    """Manual rates for the entity's today: 1 EUR = 1.25 USD = 160 JPY."""
    from o2c.fx.services import set_manual_rate

    today = entity.today()
    set_manual_rate("USD", today, Decimal("1.25"))
    set_manual_rate("JPY", today, Decimal("160"))
    return today


@pytest.fixture
def place(db):
    """Place an order: place(customer, [("WIDGET", "10")], currency="EUR", ...)."""
    from o2c.orders.intake import LineRequest, OrderRequest
    from o2c.orders.services import place_order

    def make(customer, lines, *, channel="web", actor=None, submit=True, **header):
        request = OrderRequest(
            customer=customer,
            channel=channel,
            lines=[
                LineRequest(product_code=code, quantity=quantity, **extra)
                for code, quantity, *rest in lines
                for extra in [rest[0] if rest else {}]
            ],
            **header,
        )
        order, _ = place_order(request, actor=actor, submit=submit)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def credit_team(entity, make_user):
    """A credit team with an analyst, a lead and a leader."""
    analyst = make_user("analyst", entity=entity, role="member", function="credit")
    lead = make_user("lead", entity=entity, role="lead", function="credit")
    leader = make_user("leader", entity=entity, role="leader", function="credit")
    return {"analyst": analyst, "lead": lead, "leader": leader}
