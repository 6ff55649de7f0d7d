import hashlib
import secrets

from django.conf import settings
from django.db import models


class UserSettings(models.Model):
    """Per-person settings that Django's user model does not carry."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="o2c_settings"
    )
    must_change_password = models.BooleanField(
        default=False,
        help_text="Ask for a new password at the next sign-in (set for one-time passwords).",
    )
    language = models.CharField(max_length=8, blank=True)
    email_notifications = models.BooleanField(default=True)

    def __str__(self):
        return f"settings of {self.user}"


def hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the REST API, acting with its user's roles.

    Only a hash of the token is stored; the token itself is shown once, when created.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """Create a token for the user and return it with its secret text."""
        raw = "o2c_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, token_hash=hash_token(raw), prefix=raw[:8])
        return token, raw


class SignInAttempt(models.Model):
    """A staff sign-in attempt, kept for a while to slow down password guessing.

    Failures are kept for the limit's window, successes for longer: a person who signed
    in from an address before is not held back by other people's failures there. The
    user name is stored as a hash, because attempts are counted, not read.
    """

    username_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(db_index=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["username_hash", "at"]), models.Index(fields=["ip", "at"])]

    def __str__(self):
        outcome = "sign-in" if self.succeeded else "failed sign-in"
        return f"{outcome} from {self.ip} at {self.at:%Y-%m-%d %H:%M}"
