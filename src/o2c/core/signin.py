"""Staff sign-in rules: a limit on failed attempts, and no reuse of a one-time password.

Failures are counted per user name *and* network address, so a stranger guessing from
elsewhere cannot lock a person out of their own account. A second, higher limit per
address slows down guessing over many user names. Both limits count failures of the last
`WINDOW`, and a success does not erase them.
"""

import datetime as dt
import hashlib
import logging

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils import timezone

from o2c.core.models import SignInFailure
from o2c.core.network import client_ip

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(minutes=15)
FAILURES_PER_NAME_AND_ADDRESS = 5
FAILURES_PER_ADDRESS = 30

TOO_MANY = (
    "Too many failed sign-ins. Wait 15 minutes and try again, or ask an administrator to "
    "reset your password."
)


def _name_hash(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()


def client_address(request) -> str | None:
    return client_ip(request) if request is not None else None


def is_throttled(username: str, ip: str | None, now: dt.datetime | None = None) -> bool:
    since = (now or timezone.now()) - WINDOW
    recent = SignInFailure.objects.filter(at__gte=since)
    if recent.filter(username_hash=_name_hash(username), ip=ip).count() >= (
        FAILURES_PER_NAME_AND_ADDRESS
    ):
        return True
    return ip is not None and recent.filter(ip=ip).count() >= FAILURES_PER_ADDRESS


def note_failure(username: str, ip: str | None) -> None:
    now = timezone.now()
    SignInFailure.objects.filter(at__lt=now - WINDOW).delete()
    SignInFailure.objects.create(username_hash=_name_hash(username), ip=ip, at=now)
    logger.warning("Staff sign-in failed from %s", ip or "an unknown address")


class SignInForm(auth_forms.AuthenticationForm):
    """Django's sign-in form, which stops checking passwords once the limit is reached."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_address(self.request)
        if username and is_throttled(username, ip):
            logger.warning("Staff sign-in rejected from %s: too many failures", ip)
            raise forms.ValidationError(TOO_MANY, code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            if username:
                note_failure(username, ip)
            raise


class NewPasswordForm(auth_forms.PasswordChangeForm):
    """Django's password change form, which also rejects the current password as the new one."""

    def clean(self):
        cleaned_data = super().clean()
        password = cleaned_data.get("new_password1")
        if password and self.user.check_password(password):
            self.add_error(
                "new_password1",
                forms.ValidationError(
                    "The new password must differ from the one you signed in with.",
                    code="password_unchanged",
                ),
            )
        return cleaned_data
