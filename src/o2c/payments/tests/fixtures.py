"""Fixtures shared by the payments, portal and webhooks tests.

A seller with a bank account and both gateways' settings, two buyers, billed invoices,
an SMTP server on 127.0.0.1, and the fake gateways of `fakes.py` wired into settings.
"""

import copy
import datetime as dt
import json
import secrets
from decimal import Decimal

import pytest

from o2c.billing.services import InvoiceLineInput, create_invoice, post_invoice
from o2c.parties.models import Contact, ContactRole
from o2c.payments.models import PaymentSettings
from o2c.payments.tests.fakes import FakeAdyen, FakeStripe

D = Decimal


@pytest.fixture
def seller(make_entity):
    entity = make_entity(
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
    )
    PaymentSettings.objects.create(
        entity=entity, card_gateway="stripe", sepa_creditor_id="FR72ZZZ123456"
    )
    return entity


def _buyer(make_customer, seller, net30, *, name, email, language, number):
    customer = make_customer(
        seller,
        number=number,
        name=name,
        country="FR",
        tax_number="FR40303265045",
        street="3 place Bellecour",
        city="Lyon",
        postal_code="69002",
        payment_term=net30,
        language=language,
    )
    Contact.objects.create(
        customer=customer,
        name=f"Accounts of {name}",
        email=email,
        role=ContactRole.BILLING,
        is_primary=True,
    )
    return customer


@pytest.fixture
def buyer(seller, make_customer, net30):
    return _buyer(
        make_customer,
        seller,
        net30,
        name="Boulangerie Martin",
        email="compta@boulangerie-martin.example",
        language="fr",
        number="C0001",
    )


@pytest.fixture
def other_buyer(seller, make_customer, net30):
    return _buyer(
        make_customer,
        seller,
        net30,
        name="Müller Maschinenbau GmbH",
        email="buchhaltung@mueller.example",
        language="de",
        number="C0002",
    )


@pytest.fixture
def bill():
    """Create and post a billing invoice: bill(customer, "100.00", on="2025-03-03")."""

    def make(customer, unit_price="100.00", *, on="2025-03-03", quantity="1", lines=None):
        inputs = lines or [
            InvoiceLineInput(
                description="Lampe d'atelier",
                quantity=D(quantity),
                unit_price=D(unit_price),
                tax_category="standard",
            )
        ]
        invoice = create_invoice(
            customer=customer, lines=inputs, invoice_date=dt.date.fromisoformat(on)
        )
        return post_invoice(invoice)

    return make


def _gateways(settings) -> dict:
    gateways = copy.deepcopy(settings.O2C_PAYMENT_GATEWAYS)
    settings.O2C_PAYMENT_GATEWAYS = gateways
    return gateways


@pytest.fixture
def fake_stripe(settings):
    fake = FakeStripe(
        secret_key=f"sk_test_{secrets.token_hex(12)}",
        webhook_secret=f"whsec_{secrets.token_hex(16)}",
    ).start()
    gateways = _gateways(settings)
    gateways["stripe"] = {
        "secret_key": fake.secret_key,
        "webhook_secret": fake.webhook_secret,
        "api_base": fake.url,
    }
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_adyen(settings):
    fake = FakeAdyen(
        api_key=f"AQE{secrets.token_hex(16)}",
        hmac_key=secrets.token_hex(32).upper(),
        merchant_account="AtelierLumiereECOM",
    ).start()
    gateways = _gateways(settings)
    gateways["adyen"] = {
        "api_key": fake.api_key,
        "merchant_account": fake.merchant_account,
        "hmac_key": fake.hmac_key,
        "environment": "test",
        "live_prefix": "",
        "checkout_base": fake.url,
    }
    try:
        yield fake
    finally:
        fake.stop()


def deliver(client, fake, gateway: str) -> list:
    """Post the fake's pending webhooks to o2c; return the responses."""
    responses = []
    while fake.outbox:
        body, headers = fake.outbox.pop(0)
        extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
        responses.append(
            client.post(
                f"/payments/webhooks/{gateway}/",
                data=body,
                content_type="application/json",
                **extra,
            )
        )
    return responses


def event_types(fake) -> list[str]:
    return [json.loads(body)["type"] for body, _ in fake.outbox]
