"""Card payments through Adyen's hosted checkout, HMAC-signed notifications, refunds."""

import json
import logging
import socket
from decimal import Decimal

import pytest

from o2c.ledger.models import Document
from o2c.ledger.services import open_amount
from o2c.payments import services
from o2c.payments.gateways.base import GATEWAY_UNREACHABLE, GatewayError
from o2c.payments.models import (
    GatewayEvent,
    Payment,
    PaymentSettings,
    PaymentStatus,
    RefundStatus,
)
from o2c.payments.tests.fakes import CARD_3DS, CARD_DECLINED
from o2c.payments.tests.fixtures import deliver

D = Decimal

pytestmark = pytest.mark.django_db


@pytest.fixture
def adyen_seller(seller, fake_adyen):
    PaymentSettings.objects.filter(entity=seller).update(card_gateway="adyen")
    return seller


def start(customer, invoices, key="form-1"):
    return services.start_card_payment(
        customer,
        [(invoice.document.pk, str(open_amount(invoice.document))) for invoice in invoices],
        idempotency_key=key,
        return_url=lambda payment: f"http://127.0.0.1:9/portal/pay/{payment.reference}/return/",
        cancel_url="http://127.0.0.1:9/portal/home/",
        email="compta@boulangerie-martin.example",
        language="de",
    )


def pay_on_page(fake, payment, card="4242424242424242", authenticate=True):
    return fake.submit_card(
        payment.checkout_url.removeprefix(fake.url), card, authenticate=authenticate
    )


def test_two_invoices_paid_through_adyen(client, fake_adyen, adyen_seller, buyer, bill):
    # given two open invoices
    first, second = bill(buyer, "100.00"), bill(buyer, "25.50")

    # when the customer pays them on Adyen's page and the notification arrives
    payment = start(buyer, [first, second])
    session = fake_adyen.sessions[payment.gateway_session_id]
    back = pay_on_page(fake_adyen, payment)
    responses = deliver(client, fake_adyen, "adyen")

    # then the session was opened in minor units for our reference, in hosted mode
    assert session["amount"] == {"value": 15060, "currency": "EUR"}
    assert session["reference"] == payment.reference
    assert session["mode"] == "hosted"
    assert session["shopperLocale"] == "de-DE"
    assert [item["id"] for item in session["lineItems"]] == [first.number, second.number]
    # and the notification is acknowledged the way Adyen expects
    assert [response.content for response in responses] == [b"[accepted]"]
    # and both invoices are paid
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.gateway_payment_id == fake_adyen.sessions[payment.gateway_session_id]["psp"]
    assert open_amount(first.document) == D("0")
    assert open_amount(second.document) == D("0")
    # and the payer's return is read from the session result
    query = dict(part.split("=", 1) for part in back.split("?", 1)[1].split("&"))
    assert services.note_return(payment, query) == PaymentStatus.SUCCEEDED


def test_replayed_notification_changes_nothing(client, fake_adyen, adyen_seller, buyer, bill):
    # given a settled payment
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_adyen, payment)
    kept = list(fake_adyen.outbox)
    deliver(client, fake_adyen, "adyen")
    documents = Document.objects.count()

    # when Adyen sends the notification again
    fake_adyen.outbox.extend(kept)
    responses = deliver(client, fake_adyen, "adyen")

    # then it is accepted and nothing changes
    assert responses[0].status_code == 200
    assert Document.objects.count() == documents
    assert GatewayEvent.objects.count() == 1


def test_forged_notification_is_rejected(client, fake_adyen, adyen_seller, buyer, bill):
    # given a notification whose amount is changed after signing
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_adyen, payment)
    body, _ = fake_adyen.outbox.pop(0)
    forged = json.loads(body)
    forged["notificationItems"][0]["NotificationRequestItem"]["amount"]["value"] = 1
    unsigned = json.loads(body)
    del unsigned["notificationItems"][0]["NotificationRequestItem"]["additionalData"]

    # when the forged and the unsigned versions arrive
    forged_response = client.post(
        "/payments/webhooks/adyen/", data=json.dumps(forged), content_type="application/json"
    )
    unsigned_response = client.post(
        "/payments/webhooks/adyen/", data=json.dumps(unsigned), content_type="application/json"
    )
    garbage = client.post("/payments/webhooks/adyen/", data=b"[1]", content_type="text/plain")

    # then each is rejected and nothing is recorded
    assert forged_response.status_code == 400
    assert unsigned_response.status_code == 400
    assert garbage.status_code == 400
    assert GatewayEvent.objects.count() == 0
    assert open_amount(invoice.document) == D("120.00")


def test_three_d_secure_with_adyen(client, fake_adyen, adyen_seller, buyer, bill):
    # given a card asking for 3-D Secure
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])

    # when the challenge is failed, then passed on a second try
    pay_on_page(fake_adyen, payment, CARD_3DS, authenticate=False)
    deliver(client, fake_adyen, "adyen")
    payment.refresh_from_db()
    failed_reason = payment.failure_reason
    pay_on_page(fake_adyen, payment, CARD_3DS)
    deliver(client, fake_adyen, "adyen")

    # then the failure was noted and the second attempt paid the invoice
    assert failed_reason == "3D Not Authenticated"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert open_amount(invoice.document) == D("0")


def test_refused_card_leaves_invoice_open(client, fake_adyen, adyen_seller, buyer, bill):
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])

    pay_on_page(fake_adyen, payment, CARD_DECLINED)
    deliver(client, fake_adyen, "adyen")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert payment.failure_reason == "Refused"
    assert open_amount(invoice.document) == D("120.00")


def test_refund_waits_for_adyen_notification(client, fake_adyen, adyen_seller, buyer, bill):
    # given an Adyen payment of 120.00
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_adyen, payment)
    deliver(client, fake_adyen, "adyen")
    payment.refresh_from_db()

    # when 20.00 is refunded: Adyen first returns "received"
    refund = services.refund_payment(payment, "20.00", actor=None, reason="damaged lamp")

    # then nothing moves until the REFUND notification arrives
    assert refund.status == RefundStatus.PENDING
    assert open_amount(invoice.document) == D("0")
    deliver(client, fake_adyen, "adyen")
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert open_amount(invoice.document) == D("20.00")


def test_chargeback_reopens_invoices(client, fake_adyen, adyen_seller, buyer, bill):
    # given a paid invoice
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_adyen, payment)
    deliver(client, fake_adyen, "adyen")
    payment.refresh_from_db()

    # when the cardholder's bank charges it back
    fake_adyen.chargeback(payment.gateway_payment_id)
    deliver(client, fake_adyen, "adyen")

    # then the payment is reversed and the invoice is open again
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.RETURNED
    assert open_amount(invoice.document) == D("120.00")


def test_unreachable_adyen_shows_plain_message(adyen_seller, buyer, bill, settings, caplog):
    # given Adyen's Checkout API on a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.O2C_PAYMENT_GATEWAYS["adyen"]["checkout_base"] = f"http://127.0.0.1:{port}"
    invoice = bill(buyer, "100.00")

    # when a card payment starts
    with pytest.raises(GatewayError) as raised, caplog.at_level(logging.WARNING):
        start(buyer, [invoice])

    # then the customer reads a plain sentence, and the detail is in the log
    assert raised.value.code == "gateway_unreachable"
    assert raised.value.message == GATEWAY_UNREACHABLE
    assert "127.0.0.1" not in raised.value.message
    assert Payment.objects.get().reference in caplog.text


def test_malformed_notification_is_rejected(client, fake_adyen, adyen_seller):
    body = json.dumps({"notificationItems": [{"NotificationRequestItem": "text"}]})

    response = client.post("/payments/webhooks/adyen/", data=body, content_type="application/json")

    assert response.status_code == 400
    assert GatewayEvent.objects.count() == 0
