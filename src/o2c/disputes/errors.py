from o2c.core.errors import O2CError


class DisputeError(O2CError):
    """A dispute request that the dispute rules do not allow."""
