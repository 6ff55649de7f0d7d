import pytest

from o2c.payments.tests.fixtures import (  # noqa: F401 (fixtures)
    bill,
    buyer,
    fake_adyen,
    fake_stripe,
    other_buyer,
    seller,
)


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    # The tests' receivers listen on 127.0.0.1, which endpoints may not use by default.
    settings.O2C_WEBHOOK_ALLOW_PRIVATE = True
    # Deliver as soon as the event's transaction commits, as with a broker.
    settings.O2C_WEBHOOKS_SEND_INLINE = True
