from o2c.core.errors import O2CError


class BillingError(O2CError):
    """An invoice, credit note or tax computation that o2c cannot accept."""


class TaxError(BillingError):
    """No tax rule fits, or the buyer's tax identity is not usable."""
