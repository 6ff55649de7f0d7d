from o2c.core.errors import O2CError


class CashAppError(O2CError):
    """A cash application decision that cannot be taken as asked."""
