"""Portal sign-in: sign-in links, sessions in their own cookie, rate limits.

Portal sessions are kept apart from staff sessions on purpose. The cookie has its own
name and the path /portal/, so a browser sends it to portal pages only. Staff pages
and the API read Django's session and users, which a portal sign-in never creates.
Only hashes of link secrets and session keys are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone

from o2c.core.network import client_ip, network_of
from o2c.portal.models import (
    AttemptKind,
    LinkPurpose,
    PortalAttempt,
    PortalLink,
    PortalSession,
    PortalUser,
    is_contact_address,
)

logger = logging.getLogger(__name__)


COOKIE_NAME = "o2c_portal"
COOKIE_PATH = "/portal/"
SESSION_IDLE = dt.timedelta(hours=2)
SESSION_LIFETIME = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(minutes=5)
LINK_LIFETIME = dt.timedelta(minutes=30)
MAILED_LINK_LIFETIME = dt.timedelta(days=14)
ACCOUNT_CHOICE_LIFETIME = dt.timedelta(minutes=5)
ACCOUNT_CHOICE_SALT = "o2c.portal.account-choice"

# Rate limits. A "network" is one IPv4 address or one IPv6 /64, the block a single
# household or office usually gets. The limits keep a stranger from flooding an inbox or
# guessing a password without letting them lock a known customer out:
# - Each network may ask for LINK_REQUESTS_PER_NETWORK links an hour, whatever the
#   addresses; beyond that it gets 429. Behind a reverse proxy this counts per client
#   only when O2C_TRUSTED_PROXIES names the proxy.
# - An e-mail address gets at most LINK_MAILS_PER_ADDRESS_AND_NETWORK links per
#   ATTEMPT_WINDOW for the requests of one network, and LINK_MAILS_PER_ADDRESS an hour
#   for all networks together. Requests over a limit get the same neutral page, and no
#   mail is sent, so the page never reveals whether an address is known or limited.
# - A network is locked for an address after PASSWORD_FAILURES_PER_ADDRESS_AND_NETWORK
#   wrong passwords per ATTEMPT_WINDOW; failures from other networks do not count.
#   After PASSWORD_FAILURES_PER_ADDRESS failures an hour from all networks together,
#   only known networks may still try.
# A known network is one from which the address signed in within KNOWN_NETWORK_AGE. The
# per-address hourly limits do not apply there, so requests from elsewhere cannot
# stop a customer from signing in where they usually do.
LINK_REQUESTS_PER_NETWORK = 20
LINK_MAILS_PER_ADDRESS_AND_NETWORK = 3
LINK_MAILS_PER_ADDRESS = 10
PASSWORD_FAILURES_PER_ADDRESS_AND_NETWORK = 5
PASSWORD_FAILURES_PER_ADDRESS = 20
ATTEMPT_WINDOW = dt.timedelta(minutes=15)
HOUR = dt.timedelta(hours=1)
KNOWN_NETWORK_AGE = dt.timedelta(days=30)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def email_key(email: str) -> str:
    """Return a keyed hash of an address, to count attempts without storing addresses."""
    return hmac.new(
        settings.SECRET_KEY.encode(), email.strip().lower().encode(), hashlib.sha256
    ).hexdigest()


# Rate limits ---------------------------------------------------------------------------


def note_attempt(kind: str, email: str, ip: str | None) -> None:
    """Count an attempt against the address and against the client's network."""
    PortalAttempt.objects.create(
        kind=kind,
        email_hash=email_key(email),
        ip_address=network_of(ip),
        attempted_at=timezone.now(),
    )


def _attempts(kind: str, window: dt.timedelta, *, email=None, ip=None, by_network=False) -> int:
    attempts = PortalAttempt.objects.filter(kind=kind, attempted_at__gte=timezone.now() - window)
    if email is not None:
        attempts = attempts.filter(email_hash=email_key(email))
    if by_network:
        attempts = attempts.filter(ip_address=network_of(ip))
    return attempts.count()


def is_known_network(email: str, ip: str | None) -> bool:
    """Return whether the address signed in to the portal from this network lately."""
    network = network_of(ip)
    if network is None:
        return False
    recent = PortalSession.objects.filter(
        portal_user__email=email.strip().lower(),
        created_at__gte=timezone.now() - KNOWN_NETWORK_AGE,
        ip_address__isnull=False,
    ).values_list("ip_address", flat=True)
    return any(network_of(address) == network for address in recent.distinct())


def network_throttled(kind: str, ip: str | None, limit: int) -> bool:
    """Return whether a network made `limit` attempts of this kind in the last hour."""
    if network_of(ip) is None:
        return False
    return _attempts(kind, HOUR, ip=ip, by_network=True) >= limit


def may_send_link(email: str, ip: str | None) -> bool:
    """Return whether another sign-in link may be mailed to the address for this request."""
    kind = AttemptKind.LINK_REQUEST
    from_network = _attempts(kind, ATTEMPT_WINDOW, email=email, ip=ip, by_network=True)
    if from_network >= LINK_MAILS_PER_ADDRESS_AND_NETWORK:
        return False
    if _attempts(kind, HOUR, email=email) < LINK_MAILS_PER_ADDRESS:
        return True
    return is_known_network(email, ip)


def password_locked(email: str, ip: str | None) -> bool:
    """Return whether password sign-in of the address is locked for this network."""
    kind = AttemptKind.PASSWORD
    from_network = _attempts(kind, ATTEMPT_WINDOW, email=email, ip=ip, by_network=True)
    if from_network >= PASSWORD_FAILURES_PER_ADDRESS_AND_NETWORK:
        return True
    if _attempts(kind, HOUR, email=email) < PASSWORD_FAILURES_PER_ADDRESS:
        return False
    return not is_known_network(email, ip)


# Links ---------------------------------------------------------------------------------


def _salt(purpose: str) -> str:
    return f"o2c.portal.link.{purpose}"


def issue_link(
    portal_user: PortalUser,
    *,
    source: str,
    purpose: str = LinkPurpose.SIGN_IN,
    next_path: str = "",
    lifetime: dt.timedelta | None = None,
) -> str:
    """Create a single-use link and return its token (to put in a URL).

    The token is signed with the purpose as salt, so a token made for one purpose does
    not verify for another. The secret half is stored only as a hash.
    """
    secret = secrets.token_urlsafe(24)
    link = PortalLink.objects.create(
        portal_user=portal_user,
        purpose=purpose,
        source=source,
        secret_hash=_digest(secret),
        next_path=next_path if safe_next(next_path) else "",
        expires_at=timezone.now() + (lifetime or LINK_LIFETIME),
    )
    return signing.dumps({"l": link.pk, "s": secret}, salt=_salt(purpose))


def find_link(token: str, purpose: str = LinkPurpose.SIGN_IN) -> PortalLink | None:
    """Return the usable link a token stands for, or None (forged, used or expired)."""
    try:
        data = signing.loads(token, salt=_salt(purpose), max_age=MAILED_LINK_LIFETIME)
        link_id, secret = int(data["l"]), str(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    link = (
        PortalLink.objects.select_related("portal_user__customer__entity")
        .filter(pk=link_id, purpose=purpose)
        .filter(is_contact_address("portal_user__"))
        .first()
    )
    if link is None or not hmac.compare_digest(link.secret_hash, _digest(secret)):
        return None
    if link.used_at is not None or link.expires_at <= timezone.now():
        return None
    if not link.portal_user.is_active:
        return None
    return link


def use_link(token: str, purpose: str = LinkPurpose.SIGN_IN) -> PortalLink | None:
    """Mark a link used and return it; None when it cannot be used (any more)."""
    with transaction.atomic():
        link = find_link(token, purpose)
        if link is None:
            return None
        claimed = PortalLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if not claimed:
            return None
    return link


def safe_next(path: str) -> bool:
    """Return whether a path is a portal page, so a link cannot send anyone elsewhere."""
    return bool(path) and path.startswith(COOKIE_PATH) and "//" not in path and "\\" not in path


# Choosing among the accounts a password opens -----------------------------------------


def _browser_key(request) -> str:
    from django.middleware.csrf import get_token

    get_token(request)  # makes sure this browser has a CSRF secret
    return _digest(f"{ACCOUNT_CHOICE_SALT}:{request.META.get('CSRF_COOKIE', '')}")


def account_choice_token(request, users: list[PortalUser]) -> str:
    """Sign the accounts that a verified password opens, for the account chooser page.

    The token contains no password. It lists each portal user id with a digest of the
    password hash, so it stops working once a password changes, and a digest of this
    browser's CSRF secret, so it works in this browser only. Signing in rotates that
    secret, which makes the token single-use. It expires after five minutes.
    """
    accounts = [[user.pk, _digest(user.password)] for user in users]
    return signing.dumps({"u": accounts, "b": _browser_key(request)}, salt=ACCOUNT_CHOICE_SALT)


def accounts_of_choice(request, token: str) -> list[PortalUser]:
    """Return the current portal users an account choice token opens; [] when it is not valid."""
    try:
        data = signing.loads(token, salt=ACCOUNT_CHOICE_SALT, max_age=ACCOUNT_CHOICE_LIFETIME)
        expected = {int(user_id): str(password) for user_id, password in data["u"]}
        browser = str(data["b"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return []
    if not hmac.compare_digest(browser, _browser_key(request)):
        return []
    users = PortalUser.objects.current().filter(pk__in=expected).exclude(password="")
    return [
        user
        for user in users.select_related("customer__entity")
        if hmac.compare_digest(_digest(user.password), expected[user.pk])
    ]


# Sessions ------------------------------------------------------------------------------


def start_session(request, response, portal_user: PortalUser) -> PortalSession:
    """Sign the portal user in on this browser, ending any portal session it had."""
    end_session(request, response)
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    session = PortalSession.objects.create(
        portal_user=portal_user,
        key_hash=_digest(key),
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip_address=client_ip(request),
    )
    PortalUser.objects.filter(pk=portal_user.pk).update(last_sign_in_at=now)
    response.set_cookie(
        COOKIE_NAME,
        key,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    logger.info("Portal user %s: signed in (session %s)", portal_user.pk, session.pk)
    return session


def current_session(request) -> PortalSession | None:
    key = request.COOKIES.get(COOKIE_NAME)
    if not key:
        return None
    now = timezone.now()
    session = (
        PortalSession.objects.select_related("portal_user__customer__entity")
        .filter(key_hash=_digest(key), ended_at__isnull=True, expires_at__gt=now)
        .annotate(is_contact=is_contact_address("portal_user__"))
        .first()
    )
    if session is None or session.last_seen_at + SESSION_IDLE <= now:
        return None
    user = session.portal_user
    if not user.is_active or not session.is_contact:
        # The address was removed from the customer's contacts (by staff, for example).
        PortalSession.objects.filter(pk=session.pk).update(ended_at=now)
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        PortalSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return session


def end_sessions_of(users) -> int:
    """End every open session of the given portal users and void their unused links."""
    now = timezone.now()
    ended = PortalSession.objects.filter(portal_user__in=users, ended_at__isnull=True).update(
        ended_at=now
    )
    PortalLink.objects.filter(
        portal_user__in=users, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    return ended


def end_session(request, response) -> None:
    key = request.COOKIES.get(COOKIE_NAME)
    if key:
        PortalSession.objects.filter(key_hash=_digest(key), ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, samesite="Lax")


@dataclass
class PortalContext:
    """The signed-in portal user, one person of one customer."""

    session: PortalSession
    user: PortalUser

    @property
    def customer(self):
        return self.user.customer

    @property
    def entity(self):
        return self.user.customer.entity

    @property
    def language(self) -> str:
        from o2c.portal.texts import language_of

        return language_of(self.user.language, self.user.customer.language)


def portal_login_required(view):
    """Let a view run only for a signed-in portal user, set as `request.portal`."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        session = current_session(request)
        if session is None:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{_sign_in_path()}?{query}")
        request.portal = PortalContext(session=session, user=session.portal_user)
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    return wrapper


def _sign_in_path() -> str:
    from django.urls import reverse

    return reverse("portal:sign_in")
