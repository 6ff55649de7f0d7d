"""Refunds, chargebacks, discounts and minor units: what reopens, what stays paid."""

import json
from decimal import Decimal

import pytest
import time_machine

from o2c.core.money import MoneyError
from o2c.ledger.models import DocumentKind
from o2c.ledger.services import open_amount
from o2c.parties.models import PaymentTerm
from o2c.payments import services
from o2c.payments.errors import PaymentError
from o2c.payments.gateways.base import from_minor_units, to_minor_units
from o2c.payments.models import (
    GatewayEvent,
    PaymentSettings,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from o2c.payments.tests.fixtures import deliver

D = Decimal

pytestmark = pytest.mark.django_db


def paid(client, fake, customer, invoices, amounts=None):
    amounts = amounts or [open_amount(invoice.document) for invoice in invoices]
    payment = services.start_card_payment(
        customer,
        [
            (invoice.document.pk, str(amount))
            for invoice, amount in zip(invoices, amounts, strict=True)
        ],
        idempotency_key=f"key-{len(fake.sessions)}",
        return_url=lambda payment: "http://127.0.0.1:9/back/",
        cancel_url="http://127.0.0.1:9/home/",
    )
    fake.submit_card(payment.checkout_url.removeprefix(fake.url), "4242424242424242")
    deliver(client, fake, "stripe")
    payment.refresh_from_db()
    return payment


def test_partial_refund_reopens_latest_invoice(client, fake_stripe, buyer, bill):
    # given one card payment of 240.00 for two invoices of 120.00
    first, second = bill(buyer, "100.00"), bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [first, second])

    # when 50.00 is refunded (Stripe confirms at once)
    refund = services.refund_payment(payment, "50.00", actor=None, reason="goodwill")

    # then the last invoice paid reopens by 50.00, the first stays paid
    payment.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.document.kind == DocumentKind.REFUND
    assert refund.document.amount == D("50.00")
    assert open_amount(first.document) == D("0")
    assert open_amount(second.document) == D("50.00")
    assert open_amount(payment.document) == D("0")
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert payment.refunded_amount == D("50.00")


def test_full_refund_reopens_every_invoice(client, fake_stripe, buyer, bill):
    first, second = bill(buyer, "100.00"), bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [first, second])

    services.refund_payment(payment, "240.00", actor=None, reason="order canceled")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert open_amount(first.document) == D("120.00")
    assert open_amount(second.document) == D("120.00")


def test_refund_webhook_after_api_answer_is_applied_once(client, fake_stripe, buyer, bill):
    # given a refund applied from Stripe's API response
    invoice = bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [invoice])
    services.refund_payment(payment, "20.00", actor=None, reason="discount")

    # when Stripe's refund.created webhook arrives afterwards
    deliver(client, fake_stripe, "stripe")

    # then the refund is not applied twice
    assert Refund.objects.count() == 1
    assert open_amount(invoice.document) == D("20.00")


def test_refund_made_in_the_dashboard_is_recorded(client, fake_stripe, buyer, bill):
    # given a paid invoice
    invoice = bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [invoice])

    # when someone refunds 30.00 in Stripe's dashboard and the webhook arrives
    fake_stripe.create_refund({"payment_intent": payment.gateway_payment_id, "amount": "3000"})
    deliver(client, fake_stripe, "stripe")

    # then o2c records and applies it
    refund = Refund.objects.get()
    assert refund.amount == D("30.00")
    assert refund.reason == "refunded at the gateway"
    assert open_amount(invoice.document) == D("30.00")


def test_refund_first_uses_what_is_on_account(client, fake_stripe, buyer, bill, post):
    # given a card payment of 120.00 whose invoice was also paid by transfer
    from o2c.ledger.services import allocate

    invoice = bill(buyer, "100.00")
    payment = services.start_card_payment(
        buyer,
        [(invoice.document.pk, "120.00")],
        idempotency_key="k",
        return_url=lambda payment: "http://127.0.0.1:9/back/",
        cancel_url="http://127.0.0.1:9/home/",
    )
    transfer = post(buyer, "payment", "BANK-1", "2025-03-10", "120.00")
    allocate(invoice.document, transfer, on=transfer.document_date)
    fake_stripe.submit_card(payment.checkout_url.removeprefix(fake_stripe.url), "4242424242424242")
    deliver(client, fake_stripe, "stripe")
    payment.refresh_from_db()

    # when the double payment is refunded
    services.refund_payment(payment, "120.00", actor=None, reason="paid twice")

    # then the invoice stays paid by the transfer
    assert open_amount(invoice.document) == D("0")
    assert open_amount(payment.document) == D("0")


def test_refund_above_what_is_left_is_refused(client, fake_stripe, buyer, bill):
    invoice = bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [invoice])
    services.refund_payment(payment, "100.00", actor=None, reason="part")
    payment.refresh_from_db()

    with pytest.raises(PaymentError) as raised:
        services.refund_payment(payment, "20.01", actor=None, reason="too much")

    assert raised.value.code == "refund_amount"
    assert raised.value.message == (
        f"Refund an amount above zero and at most 20.00 EUR on {payment.reference}, not 20.01."
    )


def test_refund_needs_a_reason(client, fake_stripe, buyer, bill):
    invoice = bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [invoice])

    with pytest.raises(PaymentError) as raised:
        services.refund_payment(payment, "10.00", actor=None, reason=" ")

    assert raised.value.code == "reason_required"


def test_stripe_chargeback_reopens_invoice(client, fake_stripe, buyer, bill):
    invoice = bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [invoice])

    fake_stripe.dispute(payment.gateway_payment_id)
    deliver(client, fake_stripe, "stripe")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.RETURNED
    assert payment.failure_reason.startswith("chargeback: card dispute dp_")
    assert open_amount(invoice.document) == D("120.00")


def test_discount_taken_when_paid_in_window(client, fake_stripe, buyer, bill):
    # given 2/10 net 30 on an invoice of 120.00 dated 2025-03-03
    term = PaymentTerm.objects.create(
        code="2-10-N30", name="2/10 net 30", days=30, discount_percent=D("2"), discount_days=10
    )
    buyer.payment_term = term
    buyer.save()
    invoice = bill(buyer, "100.00")

    # when the customer pays the proposed 117.60 on 2025-03-10
    with time_machine.travel("2025-03-10 10:00:00+01:00", tick=False):
        proposed, discount = services.proposed_amount(invoice.document, buyer.entity.today())
        payment = paid(client, fake_stripe, buyer, [invoice], amounts=[proposed])

    # then the invoice closes with a 2.40 discount document
    assert (proposed, discount) == (D("117.60"), D("2.40"))
    item = payment.items.get()
    assert item.discount_document.kind == DocumentKind.DISCOUNT
    assert item.discount_document.amount == D("2.40")
    assert open_amount(invoice.document) == D("0")

    # and a chargeback later takes the discount back too
    with time_machine.travel("2025-04-20 10:00:00+02:00", tick=False):
        fake_stripe.dispute(payment.gateway_payment_id)
        deliver(client, fake_stripe, "stripe")
    assert open_amount(invoice.document) == D("120.00")


def test_no_discount_after_the_window(client, fake_stripe, buyer, bill):
    term = PaymentTerm.objects.create(
        code="2-10-N30", name="2/10 net 30", days=30, discount_percent=D("2"), discount_days=10
    )
    buyer.payment_term = term
    buyer.save()
    invoice = bill(buyer, "100.00")

    with time_machine.travel("2025-03-20 10:00:00+01:00", tick=False):
        proposed, discount = services.proposed_amount(invoice.document, buyer.entity.today())

    assert (proposed, discount) == (D("120.00"), D("0"))


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (D("20.00"), "USD", 2000),
        (D("1.000"), "KWD", 1000),
        (D("1235"), "JPY", 1235),
        (D("10.00"), "EUR", 1000),
    ],
)
def test_minor_units_follow_the_currency(amount, currency, minor):
    # the gateway amount is the ledger amount, at the currency's own exponent
    assert to_minor_units(amount, currency) == minor
    assert from_minor_units(minor, currency) == amount


def test_sub_minor_amount_never_reaches_a_gateway():
    with pytest.raises(ValueError, match="more decimals than JPY allows"):
        to_minor_units(D("1234.5"), "JPY")


def test_too_many_decimals_refused_under_reject_policy(fake_stripe, buyer, bill):
    invoice = bill(buyer, "100.00")

    with pytest.raises(MoneyError) as raised:
        services.plan_items(buyer, [(invoice.document.pk, "10.004")], on=buyer.entity.today())

    assert raised.value.code == "too_many_decimals"
    assert raised.value.message == f"{invoice.number} 10.004 has more decimals than EUR allows (2)."


@pytest.mark.django_db(transaction=True)
def test_refund_webhook_during_the_call_is_matched(
    live_server, client, fake_stripe, buyer, bill, make_user
):
    # given a paid invoice, and Stripe posting its webhooks to a running o2c, which for a
    # refund happens before the refund call returns
    invoice = bill(buyer, "100.00")
    payment = paid(client, fake_stripe, buyer, [invoice])
    fake_stripe.webhook_url = f"{live_server.url}/payments/webhooks/stripe/"
    cash = make_user("cash.fr1", entity=buyer.entity, role="member", function="cash_application")

    # when cash application refunds 30.00 through the API
    response = client.post(
        f"/api/payments/{payment.pk}/refunds",
        data=json.dumps({"amount": "30.00", "reason": "goodwill"}),
        content_type="application/json",
        **_bearer(cash),
    )

    # then the event found o2c's own refund: one refund, applied once, returned by the API
    assert response.status_code == 200
    refund = Refund.objects.get()
    assert response.json()["reference"] == refund.reference
    assert response.json()["status"] == "succeeded"
    assert refund.gateway_refund_id == next(iter(fake_stripe.refunds))
    assert refund.reason == "goodwill"
    event = GatewayEvent.objects.get(event_type="refund.created")
    assert event.outcome == f"refund {refund.reference} applied"
    payment.refresh_from_db()
    assert payment.refunded_amount == D("30.00")
    assert open_amount(invoice.document) == D("30.00")
    # and the room left to refund is the other 90.00
    with pytest.raises(PaymentError) as raised:
        services.refund_payment(payment, "90.01", actor=None, reason="too much")
    assert "at most 90.00 EUR" in raised.value.message


@pytest.mark.django_db(transaction=True)
def test_adyen_refund_notification_during_the_call(live_server, client, fake_adyen, buyer, bill):
    # given an Adyen payment, and Adyen notifying a running o2c before the call returns
    PaymentSettings.objects.filter(entity=buyer.entity).update(card_gateway="adyen")
    invoice = bill(buyer, "100.00")
    payment = services.start_card_payment(
        buyer,
        [(invoice.document.pk, "120.00")],
        idempotency_key="adyen-1",
        return_url=lambda payment: "http://127.0.0.1:9/back/",
        cancel_url="http://127.0.0.1:9/home/",
    )
    fake_adyen.submit_card(payment.checkout_url.removeprefix(fake_adyen.url), "4242424242424242")
    deliver(client, fake_adyen, "adyen")
    payment.refresh_from_db()
    fake_adyen.webhook_url = f"{live_server.url}/payments/webhooks/adyen/"

    # when 20.00 is refunded
    refund = services.refund_payment(payment, "20.00", actor=None, reason="damaged lamp")

    # then the REFUND notification found that refund and applied it once
    assert Refund.objects.count() == 1
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.gateway_refund_id
    payment.refresh_from_db()
    assert payment.refunded_amount == D("20.00")
    assert open_amount(invoice.document) == D("20.00")


def _bearer(user) -> dict:
    from o2c.core.models import ApiToken

    _, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
