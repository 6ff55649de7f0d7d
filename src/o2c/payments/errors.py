from o2c.core.errors import O2CError


class PaymentError(O2CError):
    """A payment that cannot be started, confirmed, refunded or collected as asked."""
