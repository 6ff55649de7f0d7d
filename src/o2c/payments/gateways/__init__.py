"""The card gateways o2c can use, configured from settings.O2C_PAYMENT_GATEWAYS."""

from django.conf import settings

from o2c.payments.gateways.adyen_gateway import AdyenGateway
from o2c.payments.gateways.base import CardGateway
from o2c.payments.gateways.stripe_gateway import StripeGateway

GATEWAY_CLASSES = {"stripe": StripeGateway, "adyen": AdyenGateway}


def card_gateway(name: str) -> CardGateway:
    """Return the adapter of a card gateway with its current configuration."""
    return GATEWAY_CLASSES[name](dict(settings.O2C_PAYMENT_GATEWAYS.get(name, {})))


def card_gateway_for(customer, currency: str) -> CardGateway | None:
    """Return the gateway that takes cards for the customer's entity, if one is set up."""
    for name in GATEWAY_CLASSES:
        gateway = card_gateway(name)
        if gateway.is_available(customer, currency):
            return gateway
    return None
