"""Staff sign-in rules: a limit on failed attempts, and no reuse of a one-time password.

Failures are counted per user name *and* network address, so a stranger guessing from
elsewhere cannot lock a person out of their own account. A second, higher limit per
address slows down guessing over many user names. It does not apply to a name that
signed in successfully from that address in the last `KNOWN_ADDRESS_AGE`, so colleagues
behind one office address are not locked out together. Both limits count failures of the
last `WINDOW`, and a success does not erase them. The same rules guard the
administration site's sign-in page.
"""

import datetime as dt
import hashlib
import logging

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.utils import timezone

from o2c.core.models import SignInAttempt
from o2c.core.network import client_ip

logger = logging.getLogger(__name__)

WINDOW = dt.timedelta(minutes=15)
KNOWN_ADDRESS_AGE = dt.timedelta(days=30)
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
    now = now or timezone.now()
    name = _name_hash(username)
    failures = SignInAttempt.objects.filter(succeeded=False, at__gte=now - WINDOW)
    if failures.filter(username_hash=name, ip=ip).count() >= FAILURES_PER_NAME_AND_ADDRESS:
        return True
    if ip is None or failures.filter(ip=ip).count() < FAILURES_PER_ADDRESS:
        return False
    known = SignInAttempt.objects.filter(
        succeeded=True, username_hash=name, ip=ip, at__gte=now - KNOWN_ADDRESS_AGE
    )
    return not known.exists()


def note_attempt(username: str, ip: str | None, *, succeeded: bool) -> None:
    now = timezone.now()
    SignInAttempt.objects.filter(succeeded=False, at__lt=now - WINDOW).delete()
    SignInAttempt.objects.filter(succeeded=True, at__lt=now - KNOWN_ADDRESS_AGE).delete()
    SignInAttempt.objects.create(
        username_hash=_name_hash(username), ip=ip, at=now, succeeded=succeeded
    )
    if not succeeded:
        logger.warning("Staff sign-in failed from %s", ip or "an unknown address")


class LimitedSignInMixin:
    """Stop checking passwords once the limit is reached, and count every attempt."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_address(self.request)
        if username and is_throttled(username, ip):
            logger.warning("Staff sign-in rejected from %s: too many failures", ip)
            raise forms.ValidationError(TOO_MANY, code="throttled")
        try:
            cleaned_data = super().clean()
        except forms.ValidationError:
            if username:
                note_attempt(username, ip, succeeded=False)
            raise
        note_attempt(username, ip, succeeded=True)
        return cleaned_data


class SignInForm(LimitedSignInMixin, auth_forms.AuthenticationForm):
    """Django's sign-in form with o2c's limit on failed attempts."""


class AdminSignInForm(LimitedSignInMixin, AdminAuthenticationForm):
    """The administration site's sign-in form with the same limit."""


class NewPasswordForm(auth_forms.PasswordChangeForm):
    """Django's password change form, which also rejects the current password as the new one."""

    def clean(self):
        cleaned_data = super().clean()
        password = cleaned_data.get("new_password1")
        # Spaces around the old password would keep it in all but name.
        candidates = {password, password.strip()} if password else set()
        if any(self.user.check_password(candidate) for candidate in candidates):
            self.add_error(
                "new_password1",
                forms.ValidationError(
                    "The new password must differ from the one you signed in with.",
                    code="password_unchanged",
                ),
            )
        return cleaned_data
