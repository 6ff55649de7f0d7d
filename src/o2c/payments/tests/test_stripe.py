"""Card payments through Stripe, with the SDK pointed at a local fake that sends signed
webhooks. The ledger shows the invoices paid once, whatever is replayed or forged."""

import datetime as dt
import json
import logging
import socket
import time
from decimal import Decimal

import pytest
import time_machine

from o2c.ledger.models import Allocation, Document, DocumentKind
from o2c.ledger.services import open_amount
from o2c.payments import services
from o2c.payments.errors import PaymentError
from o2c.payments.gateways.base import GATEWAY_REFUSED, GATEWAY_UNREACHABLE, GatewayError
from o2c.payments.models import GatewayEvent, Payment, PaymentStatus
from o2c.payments.tests.fakes import CARD_3DS, CARD_DECLINED, CARD_OK
from o2c.payments.tests.fixtures import deliver, event_types

D = Decimal

pytestmark = pytest.mark.django_db


def start(customer, invoices, key="form-1", amounts=None):
    amounts = amounts or [open_amount(invoice.document) for invoice in invoices]
    return services.start_card_payment(
        customer,
        [
            (invoice.document.pk, str(amount))
            for invoice, amount in zip(invoices, amounts, strict=True)
        ],
        idempotency_key=key,
        return_url=lambda payment: f"http://127.0.0.1:9/portal/pay/{payment.reference}/return/",
        cancel_url="http://127.0.0.1:9/portal/home/",
        email="compta@boulangerie-martin.example",
        language="fr",
    )


def pay_on_page(fake, payment, card=CARD_OK, authenticate=True):
    path = payment.checkout_url.removeprefix(fake.url)
    return fake.submit_card(path, card, authenticate=authenticate)


def test_two_invoices_paid_by_card(client, fake_stripe, buyer, bill):
    # given two open invoices of 120.00 each (100.00 + 20 % VAT)
    first, second = bill(buyer, "100.00"), bill(buyer, "100.00", on="2025-03-04")

    # when the customer pays both on the Stripe page and Stripe's webhooks arrive
    payment = start(buyer, [first, second])
    assert payment.status == PaymentStatus.PENDING
    assert payment.checkout_url.startswith(fake_stripe.url)
    back = pay_on_page(fake_stripe, payment)
    assert (
        back
        == f"http://127.0.0.1:9/portal/pay/{payment.reference}/return/?session_id={payment.gateway_session_id}"
    )
    assert event_types(fake_stripe) == ["checkout.session.completed", "payment_intent.succeeded"]
    responses = deliver(client, fake_stripe, "stripe")

    # then both invoices are paid by one payment document of 240.00
    assert [response.status_code for response in responses] == [200, 200]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.document.kind == DocumentKind.PAYMENT
    assert payment.document.amount == D("240.00")
    assert open_amount(first.document) == D("0")
    assert open_amount(second.document) == D("0")
    assert open_amount(payment.document) == D("0")
    # and Stripe's fee on the charge is recorded: 1.5 % of 240.00 + 0.25
    assert payment.fee_amount == D("3.85")
    assert payment.fee_currency == "EUR"


def test_checkout_sends_each_invoice_as_a_line(fake_stripe, buyer, bill):
    # given two invoices
    first, second = bill(buyer, "100.00"), bill(buyer, "50.00")

    # when a payment starts
    payment = start(buyer, [first, second])

    # then the session lists each invoice and totals the payment, in minor units
    session = fake_stripe.sessions[payment.gateway_session_id]
    assert session["line_item_names"] == [first.number, second.number]
    assert session["amount_total"] == 18000
    assert session["currency"] == "eur"
    assert session["client_reference_id"] == payment.reference
    assert session["locale"] == "fr"


def test_replayed_webhook_changes_nothing(client, fake_stripe, buyer, bill):
    # given a payment settled by its webhooks
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)
    kept = list(fake_stripe.outbox)
    deliver(client, fake_stripe, "stripe")
    documents, allocations = Document.objects.count(), Allocation.objects.count()

    # when Stripe sends the same events again
    fake_stripe.outbox.extend(kept)
    responses = deliver(client, fake_stripe, "stripe")

    # then they are acknowledged and nothing changes
    assert [response.status_code for response in responses] == [200, 200]
    assert Document.objects.count() == documents
    assert Allocation.objects.count() == allocations
    assert GatewayEvent.objects.count() == 2
    assert open_amount(invoice.document) == D("0")


def test_both_success_events_settle_once(client, fake_stripe, buyer, bill):
    # given checkout.session.completed and payment_intent.succeeded for one payment
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)

    # when both are delivered
    deliver(client, fake_stripe, "stripe")

    # then one payment document exists and the second event reports it as settled
    outcomes = list(GatewayEvent.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["settled", "already settled"]
    assert Document.objects.filter(kind=DocumentKind.PAYMENT).count() == 1


def test_forged_webhook_is_rejected(client, fake_stripe, buyer, bill):
    # given a real event whose body is altered after signing
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)
    body, headers = fake_stripe.outbox[0]
    forged = json.loads(body)
    forged["data"]["object"]["amount_total"] = 1

    # when the forged body and a body signed with another secret arrive
    altered = client.post(
        "/payments/webhooks/stripe/",
        data=json.dumps(forged),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
    )
    wrong_key = client.post(
        "/payments/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1700000000,v1=" + "0" * 64,
    )
    unsigned = client.post("/payments/webhooks/stripe/", data=body, content_type="application/json")

    # then each is rejected and nothing is recorded or posted
    assert altered.status_code == 400
    assert wrong_key.status_code == 400
    assert unsigned.status_code == 400
    assert GatewayEvent.objects.count() == 0
    assert open_amount(invoice.document) == D("120.00")


def test_old_signature_is_rejected(client, fake_stripe, buyer, bill):
    # given an event signed ten minutes ago (Stripe's SDK allows five)
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)
    body, _ = fake_stripe.outbox[0]
    import time

    stale = fake_stripe.sign(body, timestamp=int(time.time()) - 600)

    # when it arrives
    response = client.post(
        "/payments/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stale,
    )

    # then it is rejected
    assert response.status_code == 400
    assert GatewayEvent.objects.count() == 0


def test_three_d_secure_challenge_then_paid(client, fake_stripe, buyer, bill):
    # given a card that requires 3-D Secure
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])

    # when the payer passes the bank's challenge
    back = pay_on_page(fake_stripe, payment, CARD_3DS)
    deliver(client, fake_stripe, "stripe")

    # then the payer is sent back and the invoice is paid
    assert back.startswith("http://127.0.0.1:9/portal/pay/")
    assert ("POST", f"/3ds/{payment.gateway_session_id}") in fake_stripe.requests
    assert open_amount(invoice.document) == D("0")


def test_failed_authentication_leaves_invoice_open(client, fake_stripe, buyer, bill):
    # given a card that requires 3-D Secure
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])

    # when the payer fails the challenge
    pay_on_page(fake_stripe, payment, CARD_3DS, authenticate=False)
    deliver(client, fake_stripe, "stripe")

    # then the payment waits for another card, with the reason noted, and nothing is posted
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert payment.failure_reason == "We are unable to authenticate your payment method."
    assert payment.document is None
    assert open_amount(invoice.document) == D("120.00")


def test_declined_card_then_good_card(client, fake_stripe, buyer, bill):
    # given a payment whose first card is declined
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment, CARD_DECLINED)
    deliver(client, fake_stripe, "stripe")

    # when the payer tries a good card on the same page
    pay_on_page(fake_stripe, payment, CARD_OK)
    deliver(client, fake_stripe, "stripe")

    # then it is paid once
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert open_amount(invoice.document) == D("0")


def test_partial_payment_leaves_rest_open(client, fake_stripe, buyer, bill):
    # given an invoice of 120.00 of which the customer pays 50.00
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice], amounts=["50.00"])

    # when it is paid
    pay_on_page(fake_stripe, payment)
    deliver(client, fake_stripe, "stripe")

    # then 70.00 stays open
    assert open_amount(invoice.document) == D("70.00")
    assert payment.amount == D("50.00")


def test_same_form_twice_is_one_payment(fake_stripe, buyer, bill):
    # given a payment started from a form
    invoice = bill(buyer, "100.00")
    first = start(buyer, [invoice], key="form-9")

    # when the form is submitted again
    again = start(buyer, [invoice], key="form-9")

    # then the same payment and session come back
    assert again.pk == first.pk
    assert len(fake_stripe.sessions) == 1


def test_amount_above_open_is_refused(fake_stripe, buyer, bill):
    # given an invoice with 120.00 open
    invoice = bill(buyer, "100.00")

    # when the customer tries to pay more
    with pytest.raises(PaymentError) as raised:
        start(buyer, [invoice], amounts=["120.01"])

    # then nothing is created
    assert raised.value.code == "amount_out_of_range"
    assert Payment.objects.count() == 0


def test_another_customers_invoice_is_refused(fake_stripe, buyer, other_buyer, bill):
    # given an invoice of another customer
    invoice = bill(other_buyer, "100.00")

    # when the first customer tries to pay it
    with pytest.raises(PaymentError) as raised:
        start(buyer, [invoice])

    # then it is refused as not found
    assert raised.value.code == "not_payable_here"


def test_invoice_settled_meanwhile_leaves_credit(client, fake_stripe, buyer, bill, post):
    # given a card payment started for an invoice that is then paid by transfer
    from o2c.ledger.services import allocate

    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    transfer = post(buyer, "payment", "BANK-1", "2025-03-10", "120.00")
    allocate(invoice.document, transfer, on=transfer.document_date)

    # when the card payment succeeds too
    pay_on_page(fake_stripe, payment)
    deliver(client, fake_stripe, "stripe")

    # then the card payment stays on the customer's account as a credit, never lost
    payment.refresh_from_db()
    assert open_amount(payment.document) == D("120.00")
    assert open_amount(invoice.document) == D("0")


def test_expired_session_cancels_payment(client, fake_stripe, buyer, bill):
    # given an abandoned checkout
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])

    # when Stripe expires the session
    fake_stripe.expire(payment.gateway_session_id)
    deliver(client, fake_stripe, "stripe")

    # then the payment is canceled and the invoice still open
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert open_amount(invoice.document) == D("120.00")


def test_amount_mismatch_is_not_posted(client, fake_stripe, buyer, bill):
    # given a session whose amount differs from the payment's (a tampered session)
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    fake_stripe.sessions[payment.gateway_session_id]["amount_total"] = 100

    # when Stripe reports it paid
    pay_on_page(fake_stripe, payment)
    deliver(client, fake_stripe, "stripe")

    # then nothing reaches the ledger and the reason is noted
    payment.refresh_from_db()
    assert payment.document is None
    assert payment.failure_reason == "gateway reported 1.00 EUR, expected 120.00 EUR"
    assert open_amount(invoice.document) == D("120.00")


def test_no_card_gateway_refuses(buyer, bill, settings):
    # given an entity whose card gateway has no keys
    invoice = bill(buyer, "100.00")

    # when a card payment starts
    with pytest.raises(PaymentError) as raised:
        start(buyer, [invoice])

    # then it is refused with a way out
    assert raised.value.code == "no_card_gateway"


def test_webhook_of_unconfigured_gateway_is_not_found(client):
    response = client.post(
        "/payments/webhooks/stripe/", data=b"{}", content_type="application/json"
    )

    assert response.status_code == 404


def test_returning_payer_sees_processing_before_webhook(fake_stripe, buyer, bill):
    # given a paid session whose webhooks have not arrived
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)

    # when the payer comes back
    status = services.note_return(payment, {"session_id": payment.gateway_session_id})

    # then the payment is being confirmed but nothing is posted by the return address
    assert status == PaymentStatus.PROCESSING
    assert open_amount(invoice.document) == D("120.00")


def test_paid_on_is_entity_local_date(client, fake_stripe, buyer, bill):
    # given a card payment made at 22:30 UTC on 31 March, already 1 April in Paris
    invoice = bill(buyer, "100.00")
    with time_machine.travel("2025-03-31 22:30:00+00:00", tick=False):
        payment = start(buyer, [invoice])
        pay_on_page(fake_stripe, payment)

        # when its webhooks arrive
        deliver(client, fake_stripe, "stripe")

    # then the payment and its allocations are dated by the entity's calendar
    payment.refresh_from_db()
    assert payment.paid_on == dt.date(2025, 4, 1)
    assert payment.document.document_date == dt.date(2025, 4, 1)
    assert Allocation.objects.get(credit_document=payment.document).allocated_on == dt.date(
        2025, 4, 1
    )


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_stripe_shows_plain_message(fake_stripe, buyer, bill, settings, caplog):
    # given Stripe's API address on a port where nothing listens
    settings.O2C_PAYMENT_GATEWAYS["stripe"]["api_base"] = closed_port_url()
    invoice = bill(buyer, "100.00")

    # when a card payment starts
    with pytest.raises(GatewayError) as raised, caplog.at_level(logging.WARNING):
        start(buyer, [invoice])

    # then the customer reads a plain sentence, and the detail is in the log with the ids
    assert raised.value.code == "gateway_unreachable"
    assert raised.value.message == GATEWAY_UNREACHABLE
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_reason == GATEWAY_UNREACHABLE
    logged = caplog.text
    assert payment.reference in logged
    assert buyer.number in logged
    assert "APIConnectionError" in logged


def test_refused_checkout_hides_stripe_text(fake_stripe, buyer, bill, settings):
    # given a secret key that Stripe does not accept
    settings.O2C_PAYMENT_GATEWAYS["stripe"]["secret_key"] = "sk_test_wrong"
    invoice = bill(buyer, "100.00")

    with pytest.raises(GatewayError) as raised:
        start(buyer, [invoice])

    assert raised.value.code == "gateway_refused"
    assert raised.value.message == GATEWAY_REFUSED
    assert "Invalid API Key" not in raised.value.message


def post_signed(client, fake, event: dict, timestamp: int | None = None):
    body = json.dumps(event).encode()
    return client.post(
        "/payments/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake.sign(body, timestamp=timestamp),
    )


@pytest.mark.parametrize("missing", ["data", "created", "id", "type"])
def test_signed_event_missing_a_field_is_rejected(client, fake_stripe, missing, caplog):
    # given an event signed with the right secret but without one of its fields
    event = fake_stripe.event("checkout.session.completed", {"id": "cs_test_1"})
    del event[missing]

    # when it arrives
    with caplog.at_level(logging.WARNING):
        response = post_signed(client, fake_stripe, event)

    # then it is rejected as malformed, logged, and nothing is recorded
    assert response.status_code == 400
    assert response.content == b"malformed event"
    assert "Webhook from stripe rejected" in caplog.text
    assert GatewayEvent.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"data": {"object": "not an object"}},
        {"created": "yesterday"},
        {"data": {"object": {"metadata": "text", "payment_intent": "pi_1"}}},
    ],
)
def test_signed_event_of_wrong_shape_is_rejected(client, fake_stripe, change):
    event = fake_stripe.event("payment_intent.succeeded", {"id": "pi_1"})
    event.update(change)

    response = post_signed(client, fake_stripe, event)

    assert response.status_code == 400
    assert GatewayEvent.objects.count() == 0


def test_future_signature_is_rejected(client, fake_stripe, buyer, bill):
    # given an event signed ten minutes ahead of the clock (the tolerance is five)
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)
    body, _ = fake_stripe.outbox[0]
    ahead = fake_stripe.sign(body, timestamp=int(time.time()) + 600)

    # when it arrives
    response = client.post(
        "/payments/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=ahead,
    )

    # then it is rejected like a stale one
    assert response.status_code == 400
    assert response.content == b"invalid signature"
    assert GatewayEvent.objects.count() == 0
    assert open_amount(invoice.document) == D("120.00")


def test_mismatch_on_settled_payment_keeps_it(client, fake_stripe, buyer, bill):
    # given a settled card payment of 120.00
    invoice = bill(buyer, "100.00")
    payment = start(buyer, [invoice])
    pay_on_page(fake_stripe, payment)
    deliver(client, fake_stripe, "stripe")

    # when a later signed event for it reports another amount
    session = dict(fake_stripe.sessions[payment.gateway_session_id], amount_total=100)
    fake_stripe.send_event("checkout.session.completed", fake_stripe.public_session(session))
    deliver(client, fake_stripe, "stripe")

    # then the settled payment is left as it is
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.failure_reason == ""
    assert GatewayEvent.objects.order_by("id").last().outcome == (
        "already settled: amount mismatch ignored"
    )
    assert open_amount(invoice.document) == D("0")


def test_open_checkout_holds_its_amount(client, fake_stripe, buyer, bill):
    # given a card checkout for 120.00 that the customer has not paid yet
    invoice = bill(buyer, "100.00")
    first = start(buyer, [invoice], key="tab-1")

    # when a second checkout for the same invoice starts
    with pytest.raises(PaymentError) as raised:
        start(buyer, [invoice], key="tab-2")

    # then it is refused, and once the first expires the amount can be paid again
    assert raised.value.code == "payment_in_flight"
    fake_stripe.expire(first.gateway_session_id)
    deliver(client, fake_stripe, "stripe")
    second = start(buyer, [invoice], key="tab-3")
    assert second.amount == D("120.00")


def test_failed_checkout_holds_nothing(fake_stripe, buyer, bill, settings):
    # given a checkout that the gateway refused
    invoice = bill(buyer, "100.00")
    settings.O2C_PAYMENT_GATEWAYS["stripe"]["secret_key"] = "sk_test_wrong"
    with pytest.raises(GatewayError):
        start(buyer, [invoice], key="tab-1")

    # then the invoice can still be paid in full
    settings.O2C_PAYMENT_GATEWAYS["stripe"]["secret_key"] = fake_stripe.secret_key
    assert start(buyer, [invoice], key="tab-2").amount == D("120.00")
