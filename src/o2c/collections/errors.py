from o2c.core.errors import O2CError


class CollectionsError(O2CError):
    """A dunning, promise or hold request that the rules of collections do not allow."""
