"""Stripe through its official Python SDK: Checkout Sessions, webhooks, refunds, fees.

The payer is sent to a Stripe Checkout page, which takes cards and the wallets Stripe
shows there (Apple Pay, Google Pay) and runs 3-D Secure when the card requires it.
The money reaches the ledger only on a signed webhook event. `api_base` points the SDK
at another address through its `base_addresses` setting, which tests use for a local
server speaking Stripe's API.
"""

from __future__ import annotations

import datetime as dt
import logging

import stripe
from django.utils import timezone

from o2c.payments.gateways import base
from o2c.payments.gateways.base import (
    Checkout,
    Fee,
    GatewayError,
    InvalidSignature,
    Notification,
    RefundResult,
    from_minor_units,
    to_minor_units,
)

logger = logging.getLogger(__name__)

# Stripe Checkout's shortest session life is 30 minutes.
SESSION_MINUTES = 30
METADATA_KEY = "o2c_payment"
CHECKOUT_LOCALES = {"en", "fr", "de", "es"}


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
            logger.warning("Payment %s: Stripe rejected the checkout: %s", payment.reference, error)
            raise GatewayError(
                "gateway_refused",
                "The card payment could not be started ({detail}); try again or pay by "
                "bank transfer.",
                detail=error.user_message or "gateway error",
            ) from None
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
            event = stripe.Webhook.construct_event(
                body.decode("utf-8"), signature, self.config["webhook_secret"]
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidSignature("Stripe", str(error)) from None
        return [self._notification(event)]

    def _notification(self, event) -> Notification:
        payload = event.to_dict()
        data = payload["data"]["object"]
        occurred_at = dt.datetime.fromtimestamp(payload["created"], tz=dt.UTC)
        kind, reference, payment_id, amount, currency = base.IGNORED, "", "", None, ""
        refund_id, reason = "", ""
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
                    "metadata": {METADATA_KEY: payment.reference, "o2c_refund": reference},
                },
                {"idempotency_key": f"refund-{reference}"},
            )
        except stripe.StripeError as error:
            raise GatewayError(
                "gateway_refused",
                "Stripe refused the refund of {reference}: {detail}",
                reference=payment.reference,
                detail=error.user_message or str(error),
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
