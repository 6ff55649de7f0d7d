"""The one interface every payment method implements, and what gateways report back.

A method is offered to a customer when `is_available` returns true. Starting it returns the
customer's next step: a redirect to a gateway's hosted page (cards and wallets), bank
details to pay to (transfer), or a debit scheduled under a mandate (direct debit).
Card gateways also verify webhooks, refund, and report fees.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

from o2c.core import money
from o2c.core.errors import O2CError


class GatewayError(O2CError):
    """A gateway refused a request or could not be reached."""


class InvalidWebhook(O2CError):
    """A webhook that is malformed or fails verification, rejected unread."""

    def __init__(self, gateway: str, detail: str, code: str = "malformed_webhook"):
        super().__init__(
            code,
            "{gateway} webhook rejected: {detail}.",
            gateway=gateway,
            detail=detail,
        )


class InvalidSignature(InvalidWebhook):
    """A webhook whose signature or timestamp does not verify."""

    def __init__(self, gateway: str, detail: str):
        super().__init__(gateway, detail, code="invalid_signature")


# Messages a customer reads when a gateway fails. The gateway's own error text names
# hosts, ports and support addresses, so it goes to the log only.
GATEWAY_UNREACHABLE = (
    "The card service could not be reached; no money was taken. Try again in a few minutes."
)
GATEWAY_REFUSED = (
    "The card service did not accept the payment; no money was taken. Try again in a few "
    "minutes or pay by bank transfer."
)


# Kinds of verified gateway events, by their effect on a payment.
SUCCEEDED = "succeeded"
PROCESSING = "processing"
ATTEMPT_FAILED = "attempt_failed"
CANCELED = "canceled"
REFUND_SUCCEEDED = "refund_succeeded"
REFUND_FAILED = "refund_failed"
CHARGEBACK = "chargeback"
IGNORED = "ignored"


@dataclass(frozen=True)
class Notification:
    """One verified gateway event, in the gateway-neutral terms o2c acts on."""

    event_id: str
    event_type: str
    kind: str
    payment_reference: str
    occurred_at: dt.datetime
    gateway_payment_id: str = ""
    amount: Decimal | None = None
    currency: str = ""
    refund_id: str = ""
    # The reference o2c sent with its refund request. It is empty for refunds made
    # elsewhere, such as in the gateway's dashboard.
    refund_reference: str = ""
    reason: str = ""
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Checkout:
    """A hosted payment page opened for a payment."""

    session_id: str
    url: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    succeeded: bool


@dataclass(frozen=True)
class Fee:
    amount: Decimal
    currency: str


class PaymentMethodAdapter(ABC):
    """A way to pay that the portal can offer."""

    method: str
    label: str

    @abstractmethod
    def is_available(self, customer, currency: str) -> bool:
        """Return whether the customer can pay invoices of this currency this way."""


class CardGateway(PaymentMethodAdapter):
    """Cards and wallets through a gateway's hosted payment page."""

    method = "card"
    name: str

    def __init__(self, config: dict):
        self.config = config

    @abstractmethod
    def is_configured(self) -> bool:
        """Return whether the keys this gateway needs are set."""

    def is_available(self, customer, currency: str) -> bool:
        from o2c.payments.models import PaymentSettings

        if not self.is_configured():
            return False
        settings_row = PaymentSettings.objects.filter(entity_id=customer.entity_id).first()
        return settings_row is not None and settings_row.card_gateway == self.name

    @abstractmethod
    def start_checkout(
        self, payment, *, return_url: str, cancel_url: str, email: str, language: str
    ) -> Checkout:
        """Open the gateway's hosted page for the payment and return where to send the payer."""

    @abstractmethod
    def checkout_outcome(self, payment, query: dict) -> str:
        """Return the gateway's status of a payer coming back, as a Notification kind."""

    @abstractmethod
    def parse_webhook(self, body: bytes, headers) -> list[Notification]:
        """Verify a webhook's signature and return its events; raise InvalidSignature."""

    @abstractmethod
    def refund(self, payment, amount: Decimal, *, reference: str) -> RefundResult:
        """Ask the gateway to give back part or all of a payment."""

    def fetch_fee(self, payment) -> Fee | None:
        """Return the gateway's fee on the payment when the API reports it at once."""
        return None


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Return the amount as an integer count of the currency's minor unit (JPY 1, EUR 0.01).

    The amount must already be rounded to the currency, so the gateway charges exactly
    what the ledger records.
    """
    exponent = money.minor_unit(currency)
    if money.round_amount(amount, currency) != amount:
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(amount.scaleb(exponent))


def from_minor_units(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-money.minor_unit(currency))
