from o2c.core.errors import O2CError


class LedgerError(O2CError):
    """A posting or allocation that would break the ledger's rules."""


class ImmutableDocumentError(LedgerError):
    def __init__(self, what: str):
        super().__init__(
            "posted_is_immutable",
            "{what} is posted and cannot be changed or deleted; post a reversal instead.",
            what=what,
        )
