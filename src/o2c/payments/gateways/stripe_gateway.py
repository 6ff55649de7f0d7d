"""Stripe through its official Python SDK: Checkout Sessions, webhooks, refunds, fees.

The payer is sent to a Stripe Checkout page, which takes cards and the wallets Stripe
shows there (Apple Pay, Google Pay) and runs 3-D Secure when the card requires it.
The money reaches the ledger only on a signed webhook event. `api_base` points the SDK
at another address through its `base_addresses` setting, which tests use for a local
server speaking Stripe's API.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import time

import stripe
from django.utils import timezone

from o2c.payments.gateways import base
from o2c.payments.gateways.base import (
    Checkout,
    Fee,
    GatewayError,
    InvalidSignature,
    InvalidWebhook,
    Notification,
    RefundResult,
    from_minor_units,
    to_minor_units,
)

logger = logging.getLogger(__name__)

# Stripe Checkout's shortest session life is 30 minutes.
SESSION_MINUTES = 30
METADATA_KEY = "o2c_payment"
REFUND_METADATA_KEY = "o2c_refund"
CHECKOUT_LOCALES = {"en", "fr", "de", "es"}
# Seconds a webhook signature may be off the clock, either way: the SDK's default
# tolerance (stripe-python 16.1, `Webhook.DEFAULT_TOLERANCE`). The SDK checks only the
# past side, so the future side is checked here.
WEBHOOK_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE


class StripeGateway(base.CardGateway):
    name = "stripe"
    label = "Stripe"

    def is_configured(self) -> bool:
        return bool(self.config.get("secret_key") and self.config.get("webhook_secret"))

    def client(self) -> stripe.StripeClient:
        addresses = {"api": self.config["api_base"]} if self.config.get("api_base") else None
        return stripe.StripeClient(
            self.config["secret_key"], base_addresses=addresses, max_network_retries=2
        )

    def start_checkout(self, payment, *, return_url, cancel_url, email, language) -> Checkout:
        params = {
            "mode": "payment",
            "client_reference_id": payment.reference,
            "success_url": f"{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": cancel_url,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": to_minor_units(item.amount, payment.currency),
                        "product_data": {"name": f"{item.invoice.number}"},
                    },
                }
                for item in payment.items.select_related("invoice")
            ],
            "metadata": {METADATA_KEY: payment.reference},
            "payment_intent_data": {
                "metadata": {METADATA_KEY: payment.reference},
                "description": f"{payment.reference} {payment.customer.number}",
            },
            "expires_at": int(
                (timezone.now() + dt.timedelta(minutes=SESSION_MINUTES, seconds=30)).timestamp()
            ),
        }
        if email:
            params["customer_email"] = email
        if language in CHECKOUT_LOCALES:
            params["locale"] = language
        try:
            session = self.client().v1.checkout.sessions.create(
                params, {"idempotency_key": f"checkout-{payment.idempotency_key}"}
            )
        except stripe.StripeError as error:
            logger.warning(
                "Payment %s of customer %s: Stripe checkout failed (%s, request %s): %s",
                payment.reference,
                payment.customer.number,
                type(error).__name__,
                error.request_id,
                error,
            )
            if isinstance(error, stripe.APIConnectionError):
                raise GatewayError("gateway_unreachable", base.GATEWAY_UNREACHABLE) from None
            raise GatewayError("gateway_refused", base.GATEWAY_REFUSED) from None
        return Checkout(session_id=session.id, url=session.url)

    def checkout_outcome(self, payment, query: dict) -> str:
        session_id = query.get("session_id") or payment.gateway_session_id
        if session_id != payment.gateway_session_id:
            return base.IGNORED
        try:
            session = self.client().v1.checkout.sessions.retrieve(session_id)
        except stripe.StripeError as error:
            logger.warning("Payment %s: Stripe session not read: %s", payment.reference, error)
            return base.IGNORED
        if session.payment_status in ("paid", "no_payment_required"):
            return base.SUCCEEDED
        if session.status == "expired":
            return base.CANCELED
        return base.PROCESSING if session.status == "complete" else base.IGNORED

    def parse_webhook(self, body: bytes, headers) -> list[Notification]:
        signature = headers.get("Stripe-Signature")
        try:
            text = body.decode("utf-8")
            stripe.WebhookSignature.verify_header(
                text, signature, self.config["webhook_secret"], WEBHOOK_TOLERANCE
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            raise InvalidSignature("Stripe", str(error)) from None
        if _signed_at(signature) > time.time() + WEBHOOK_TOLERANCE:
            raise InvalidSignature("Stripe", "the signature's timestamp is in the future")
        try:
            payload = json.loads(text)
        except ValueError:
            raise InvalidWebhook("Stripe", "the body is not JSON") from None
        problem = _event_problem(payload)
        if problem:
            raise InvalidWebhook("Stripe", f"event {_event_id(payload)!r}: {problem}")
        try:
            return [self._notification(payload)]
        except (
            TypeError,
            ValueError,
            AttributeError,
            OverflowError,
            OSError,
            decimal.InvalidOperation,
        ) as error:
            raise InvalidWebhook(
                "Stripe", f"event {_event_id(payload)!r} has a field of the wrong type: {error}"
            ) from None

    def _notification(self, payload: dict) -> Notification:
        data = payload["data"]["object"]
        occurred_at = dt.datetime.fromtimestamp(payload["created"], tz=dt.UTC)
        kind, reference, payment_id, amount, currency = base.IGNORED, "", "", None, ""
        refund_id, refund_reference, reason = "", "", ""
        metadata = data.get("metadata") or {}
        event_type = payload["type"]
        if event_type in (
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
            "checkout.session.async_payment_failed",
            "checkout.session.expired",
        ):
            reference = data.get("client_reference_id") or metadata.get(METADATA_KEY, "")
            payment_id = data.get("payment_intent") or ""
            currency = (data.get("currency") or "").upper()
            if data.get("amount_total") is not None and currency:
                amount = from_minor_units(data["amount_total"], currency)
            kind = {
                "checkout.session.async_payment_failed": base.CANCELED,
                "checkout.session.expired": base.CANCELED,
            }.get(event_type)
            if kind is None:
                kind = base.SUCCEEDED if data.get("payment_status") == "paid" else base.PROCESSING
        elif event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            reference = metadata.get(METADATA_KEY, "")
            payment_id = data.get("id", "")
            currency = (data.get("currency") or "").upper()
            if event_type == "payment_intent.succeeded":
                kind = base.SUCCEEDED
                amount = from_minor_units(data.get("amount_received") or 0, currency)
            else:
                kind = base.ATTEMPT_FAILED
                reason = ((data.get("last_payment_error") or {}).get("message")) or ""
        elif event_type in ("refund.created", "refund.updated", "refund.failed"):
            payment_id = data.get("payment_intent") or ""
            reference = metadata.get(METADATA_KEY, "")
            refund_id = data.get("id", "")
            refund_reference = metadata.get(REFUND_METADATA_KEY, "")
            currency = (data.get("currency") or "").upper()
            amount = from_minor_units(data.get("amount") or 0, currency)
            status = data.get("status")
            if status == "succeeded":
                kind = base.REFUND_SUCCEEDED
            elif status in ("failed", "canceled"):
                kind = base.REFUND_FAILED
                reason = data.get("failure_reason") or status
        elif event_type == "charge.dispute.funds_withdrawn":
            payment_id = data.get("payment_intent") or ""
            currency = (data.get("currency") or "").upper()
            amount = from_minor_units(data.get("amount") or 0, currency)
            kind = base.CHARGEBACK
            reason = f"card dispute {data.get('id', '')}: {data.get('reason', '')}"
        return Notification(
            event_id=payload["id"],
            event_type=payload["type"],
            kind=kind,
            payment_reference=reference,
            gateway_payment_id=payment_id,
            amount=amount,
            currency=currency,
            refund_id=refund_id,
            refund_reference=refund_reference,
            reason=reason,
            occurred_at=occurred_at,
            payload=payload,
        )

    def refund(self, payment, amount, *, reference: str) -> RefundResult:
        if not payment.gateway_payment_id:
            raise GatewayError(
                "not_refundable",
                "Payment {reference} has no Stripe payment intent to refund.",
                reference=payment.reference,
            )
        try:
            refund = self.client().v1.refunds.create(
                {
                    "payment_intent": payment.gateway_payment_id,
                    "amount": to_minor_units(amount, payment.currency),
                    "metadata": {METADATA_KEY: payment.reference, REFUND_METADATA_KEY: reference},
                },
                {"idempotency_key": f"refund-{reference}"},
            )
        except stripe.StripeError as error:
            logger.warning(
                "Refund %s of payment %s: Stripe failed (%s, request %s): %s",
                reference,
                payment.reference,
                type(error).__name__,
                error.request_id,
                error,
            )
            if isinstance(error, stripe.APIConnectionError):
                raise GatewayError(
                    "gateway_unreachable",
                    "Stripe could not be reached for the refund of {reference}; nothing was "
                    "refunded. Try again in a few minutes.",
                    reference=payment.reference,
                ) from None
            raise GatewayError(
                "gateway_refused",
                "Stripe refused the refund of {reference}: {detail}",
                reference=payment.reference,
                detail=error.user_message or type(error).__name__,
            ) from None
        return RefundResult(refund_id=refund.id, succeeded=refund.status == "succeeded")

    def fetch_fee(self, payment) -> Fee | None:
        if not payment.gateway_payment_id:
            return None
        try:
            intent = self.client().v1.payment_intents.retrieve(
                payment.gateway_payment_id,
                {"expand": ["latest_charge.balance_transaction"]},
            )
        except stripe.StripeError as error:
            logger.warning("Payment %s: Stripe fee not read: %s", payment.reference, error)
            return None
        charge = intent.to_dict().get("latest_charge")
        transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
        if not isinstance(transaction, dict) or transaction.get("fee") is None:
            return None
        currency = transaction["currency"].upper()
        return Fee(from_minor_units(transaction["fee"], currency), currency)


def _signed_at(header: str) -> int:
    """Return the timestamp of a Stripe-Signature header that has already been verified."""
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            return int(value)
    raise InvalidSignature("Stripe", "the signature has no timestamp")


def _event_id(payload) -> str:
    return str(payload.get("id", "")) if isinstance(payload, dict) else ""


def _event_problem(payload) -> str:
    """Return what is missing from a Stripe event for o2c to act on it, or ""."""
    if not isinstance(payload, dict):
        return "the body is not a JSON object"
    for key in ("id", "type"):
        if not isinstance(payload.get(key), str) or not payload[key]:
            return f"{key!r} is missing"
    created = payload.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        return "'created' is missing or not a Unix time"
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "'data.object' is missing"
    return ""
