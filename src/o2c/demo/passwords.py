"""Readable one-time passwords for the demo accounts."""

import secrets


def readable_password() -> str:
    """Return 4 groups of 5 characters without look-alikes (0/O, 1/l/I), about 115 bits."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)
