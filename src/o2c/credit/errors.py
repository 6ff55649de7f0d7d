from o2c.core.errors import O2CError


class CreditError(O2CError):
    """A credit decision or setting that the rules or the person's role do not allow."""
