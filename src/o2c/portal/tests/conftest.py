from o2c.payments.tests.fixtures import (  # noqa: F401 (fixtures)
    bill,
    buyer,
    fake_adyen,
    fake_stripe,
    other_buyer,
    seller,
)
