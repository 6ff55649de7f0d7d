"""Billing fixtures: sellers and buyers with real tax identities, and a short invoice maker."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.billing.services import InvoiceLineInput, create_invoice, post_invoice

D = Decimal


@pytest.fixture
def seller_fr(make_entity):
    return make_entity(
        code="FR1",
        name="Atelier Lumière SAS",
        base_currency="EUR",
        time_zone="Europe/Paris",
        country="FR",
        vat_number="FR40303265045",
        street="12 rue des Lilas",
        city="Lyon",
        postal_code="69003",
        email="factures@atelier-lumiere.example",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        electronic_address="0009:30326504500012",
    )


@pytest.fixture
def buyer_fr(seller_fr, make_customer, net30):
    return make_customer(
        seller_fr,
        name="Boulangerie Martin",
        country="FR",
        tax_number="FR40303265045",
        street="3 place Bellecour",
        city="Lyon",
        postal_code="69002",
        payment_term=net30,
        language="fr",
    )


@pytest.fixture
def buyer_de(seller_fr, make_customer, net30):
    return make_customer(
        seller_fr,
        name="Müller Maschinenbau GmbH",
        country="DE",
        tax_number="DE136695976",
        street="Hauptstraße 5",
        city="Berlin",
        postal_code="10115",
        payment_term=net30,
        language="de",
    )


def line(description="Item", quantity="1", unit_price="100.00", category="standard", **extra):
    return InvoiceLineInput(
        description=description,
        quantity=D(quantity),
        unit_price=D(unit_price),
        tax_category=category,
        **{key: D(value) if key == "discount_percent" else value for key, value in extra.items()},
    )


@pytest.fixture
def invoice_for():
    """Create (and optionally post) an invoice: invoice_for(customer, [line(...)], on=...)."""

    def make(customer, lines, on="2025-03-03", post=False, **extra):
        invoice = create_invoice(
            customer=customer,
            lines=lines,
            invoice_date=dt.date.fromisoformat(on) if isinstance(on, str) else on,
            **extra,
        )
        return post_invoice(invoice) if post else invoice

    return make
