"""The base of every error o2c shows to a person or returns from its API."""


class O2CError(Exception):
    """A refusal with a stable code, a message template and its parameters.

    The code lets API clients and tests tell errors apart; the message is written as
    the fix a person can make.
    """

    def __init__(self, code: str, message: str, **params):
        self.code = code
        self.template = message
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template.format(**self.params)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
