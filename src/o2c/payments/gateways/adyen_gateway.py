"""Adyen through its official Python SDK: hosted Checkout sessions, webhooks, refunds.

The payer is sent to Adyen's hosted checkout page (a session in "hosted" mode), which
takes cards and wallets and runs 3-D Secure. Adyen reports the outcome by webhook; each
notification item carries its own HMAC signature, verified with the SDK's helper. Fees
are not in these notifications: they come with the settlement or payout report.
`checkout_base` replaces the Checkout API host, for a local test server.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import Adyen
from Adyen import util as adyen_util
from django.utils import timezone

from o2c.payments.gateways import base
from o2c.payments.gateways.base import (
    Checkout,
    GatewayError,
    InvalidSignature,
    InvalidWebhook,
    Notification,
    RefundResult,
    from_minor_units,
    to_minor_units,
)

logger = logging.getLogger(__name__)

SESSION_MINUTES = 30
DEFAULT_CHECKOUT_HOST = "https://checkout-test.adyen.com"
SHOPPER_LOCALES = {"en": "en-GB", "fr": "fr-FR", "de": "de-DE", "es": "es-ES"}


class AdyenGateway(base.CardGateway):
    name = "adyen"
    label = "Adyen"

    def is_configured(self) -> bool:
        return all(self.config.get(key) for key in ("api_key", "merchant_account", "hmac_key"))

    def checkout(self):
        client = Adyen.Adyen(
            xapikey=self.config["api_key"],
            platform=self.config.get("environment") or "test",
            live_endpoint_prefix=self.config.get("live_prefix") or None,
            http_timeout=20,
        )
        checkout = client.checkout
        host = self.config.get("checkout_base")
        if host:
            for api in (checkout.payments_api, checkout.modifications_api):
                api.baseUrl = api.baseUrl.replace(DEFAULT_CHECKOUT_HOST, host.rstrip("/"))
        return checkout

    def start_checkout(self, payment, *, return_url, cancel_url, email, language) -> Checkout:
        request = {
            "merchantAccount": self.config["merchant_account"],
            "amount": {
                "value": to_minor_units(payment.amount, payment.currency),
                "currency": payment.currency,
            },
            "reference": payment.reference,
            "returnUrl": return_url,
            "mode": "hosted",
            "expiresAt": (timezone.now() + dt.timedelta(minutes=SESSION_MINUTES)).isoformat(),
            "lineItems": [
                {
                    "id": item.invoice.number,
                    "description": item.invoice.number,
                    "quantity": 1,
                    "amountIncludingTax": to_minor_units(item.amount, payment.currency),
                }
                for item in payment.items.select_related("invoice")
            ],
            "metadata": {"o2c_customer": payment.customer.number},
        }
        if payment.customer.country:
            request["countryCode"] = payment.customer.country
        if email:
            request["shopperEmail"] = email
        if language in SHOPPER_LOCALES:
            request["shopperLocale"] = SHOPPER_LOCALES[language]
        try:
            result = self.checkout().payments_api.sessions(
                request, idempotency_key=f"checkout-{payment.idempotency_key}"
            )
        except (Adyen.AdyenError, OSError) as error:
            # The SDK sends through requests (whose errors are OSErrors) or urllib, and
            # raises AdyenError only for responses it received.
            logger.warning(
                "Payment %s of customer %s: Adyen session failed (%s): %s",
                payment.reference,
                payment.customer.number,
                type(error).__name__,
                error,
            )
            if isinstance(error, OSError):
                raise GatewayError("gateway_unreachable", base.GATEWAY_UNREACHABLE) from None
            raise GatewayError("gateway_refused", base.GATEWAY_REFUSED) from None
        message = result.message
        return Checkout(session_id=message["id"], url=message["url"])

    def checkout_outcome(self, payment, query: dict) -> str:
        session_id = query.get("sessionId", "")
        result = query.get("sessionResult", "")
        if not session_id or session_id != payment.gateway_session_id or not result:
            return base.IGNORED
        try:
            message = (
                self.checkout()
                .payments_api.get_result_of_payment_session(
                    session_id, query_parameters={"sessionResult": result}
                )
                .message
            )
        except (Adyen.AdyenError, OSError) as error:
            logger.warning("Payment %s: Adyen session not read: %s", payment.reference, error)
            return base.IGNORED
        return {
            "completed": base.SUCCEEDED,
            "paymentPending": base.PROCESSING,
            "canceled": base.CANCELED,
            "expired": base.CANCELED,
            "refused": base.ATTEMPT_FAILED,
        }.get(message.get("status"), base.IGNORED)

    def parse_webhook(self, body: bytes, headers) -> list[Notification]:
        try:
            document = json.loads(body)
            items = [entry["NotificationRequestItem"] for entry in document["notificationItems"]]
        except (ValueError, KeyError, TypeError):
            raise InvalidWebhook("Adyen", "the body is not a notification request") from None
        notifications = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("amount"), dict):
                raise InvalidWebhook("Adyen", "a notification item has no amount")
            if not self._signed(item):
                raise InvalidSignature(
                    "Adyen", f"the HMAC of item {item.get('pspReference', '?')} does not verify"
                )
            notifications.append(self._notification(item))
        return notifications

    def _signed(self, item: dict) -> bool:
        additional = item.get("additionalData")
        signature = additional.get("hmacSignature") if isinstance(additional, dict) else None
        if not signature:
            return False
        try:
            return bool(adyen_util.is_valid_hmac_notification(item, self.config["hmac_key"]))
        except (ValueError, TypeError, KeyError):
            return False

    def _notification(self, item: dict) -> Notification:
        code = item.get("eventCode", "")
        success = str(item.get("success", "")).lower() == "true"
        currency = item["amount"].get("currency", "")
        amount = from_minor_units(item["amount"].get("value", 0), currency) if currency else None
        reference, payment_id, refund_id = item.get("merchantReference", ""), "", ""
        refund_reference = ""
        kind = base.IGNORED
        if code == "AUTHORISATION":
            payment_id = item.get("pspReference", "")
            kind = base.SUCCEEDED if success else base.ATTEMPT_FAILED
        elif code == "REFUND":
            payment_id = item.get("originalReference", "")
            refund_id = item.get("pspReference", "")
            kind = base.REFUND_SUCCEEDED if success else base.REFUND_FAILED
        elif code in ("REFUND_FAILED", "REFUNDED_REVERSED"):
            payment_id = item.get("originalReference", "")
            refund_id = item.get("pspReference", "")
            kind = base.REFUND_FAILED
        elif code == "CHARGEBACK":
            payment_id = item.get("originalReference", "")
            kind = base.CHARGEBACK
        elif code in ("OFFER_CLOSED", "CANCELLATION"):
            payment_id = item.get("pspReference", "")
            kind = base.CANCELED if success else base.IGNORED
        if code in ("REFUND", "REFUND_FAILED", "REFUNDED_REVERSED"):
            # For a refund the merchant reference is the one o2c sent with the refund.
            refund_reference = reference
        if code in ("REFUND", "REFUND_FAILED", "REFUNDED_REVERSED", "CHARGEBACK"):
            # For modifications the merchant reference is not the payment's.
            reference = ""
        return Notification(
            # Adyen may repeat a notification; event code, PSP reference and outcome name it.
            event_id=f"{code}:{item.get('pspReference', '')}:{str(success).lower()}",
            event_type=code,
            kind=kind,
            payment_reference=reference,
            gateway_payment_id=payment_id,
            amount=amount,
            currency=currency,
            refund_id=refund_id,
            refund_reference=refund_reference,
            reason=item.get("reason", ""),
            occurred_at=_event_time(item.get("eventDate")),
            payload=item,
        )

    def refund(self, payment, amount, *, reference: str) -> RefundResult:
        if not payment.gateway_payment_id:
            raise GatewayError(
                "not_refundable",
                "Payment {reference} has no Adyen PSP reference to refund.",
                reference=payment.reference,
            )
        request = {
            "merchantAccount": self.config["merchant_account"],
            "amount": {
                "value": to_minor_units(amount, payment.currency),
                "currency": payment.currency,
            },
            "reference": reference,
        }
        try:
            result = self.checkout().modifications_api.refund_captured_payment(
                request, payment.gateway_payment_id, idempotency_key=f"refund-{reference}"
            )
        except (Adyen.AdyenError, OSError) as error:
            logger.warning(
                "Refund %s of payment %s: Adyen failed (%s): %s",
                reference,
                payment.reference,
                type(error).__name__,
                error,
            )
            if isinstance(error, OSError):
                raise GatewayError(
                    "gateway_unreachable",
                    "Adyen could not be reached for the refund of {reference}; nothing was "
                    "refunded. Try again in a few minutes.",
                    reference=payment.reference,
                ) from None
            raise GatewayError(
                "gateway_refused",
                "Adyen refused the refund of {reference} ({kind}); see the log for details.",
                reference=payment.reference,
                kind=type(error).__name__,
            ) from None
        # Adyen returns "received" here. The REFUND notification reports the outcome.
        return RefundResult(refund_id=result.message["pspReference"], succeeded=False)


def _event_time(text: str | None) -> dt.datetime:
    if text:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None and timezone.is_aware(moment):
            return moment
    return timezone.now()
