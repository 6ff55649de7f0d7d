from o2c.core.errors import O2CError


class RateError(O2CError):
    """No usable exchange rate, or a rates file that cannot be read."""
