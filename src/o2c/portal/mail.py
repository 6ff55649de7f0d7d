"""E-mails of the portal: sign-in links, receipts, dispute notes, statements, debit notices.

Each message is written in the recipient's language and carries a single-use sign-in
link to the page it is about. Links are built on O2C_PUBLIC_URL, never on the host
of the request, so a forged Host header cannot send a link to another site.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from o2c.portal import auth
from o2c.portal.models import LinkSource, PortalUser
from o2c.portal.texts import language_of, words

logger = logging.getLogger(__name__)


def public_url(path: str) -> str:
    return f"{settings.O2C_PUBLIC_URL}{path}"


def sign_in_url(portal_user: PortalUser, *, source: str, next_path: str = "", long: bool) -> str:
    """Return an absolute single-use sign-in URL; `long` links live 14 days, others 30 min."""
    token = auth.issue_link(
        portal_user,
        source=source,
        next_path=next_path,
        lifetime=auth.MAILED_LINK_LIFETIME if long else auth.LINK_LIFETIME,
    )
    return public_url(reverse("portal:link", args=[token]))


def user_language(portal_user: PortalUser) -> str:
    contact_language = portal_user.contact.language if portal_user.contact else ""
    return language_of(portal_user.language, contact_language, portal_user.customer.language)


def _deliver(entity, address: str, language: str, subject: str, body: str, attachments=()):
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=entity.email or settings.DEFAULT_FROM_EMAIL,
        to=[address],
        reply_to=[entity.email] if entity.email else None,
        headers={"Content-Language": language},
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send(fail_silently=False)


def _send(portal_user: PortalUser, subject: str, body: str, attachments=()) -> bool:
    """Send account mail to a portal user; return False, sending nothing, when it may not get any.

    Account mail carries sign-in links, so it goes only to an active portal user whose
    address is still a contact of the customer.
    """
    if not portal_user.is_current:
        logger.warning(
            "Portal user %s: not a current contact, account mail not sent", portal_user.pk
        )
        return False
    _deliver(
        portal_user.customer.entity,
        portal_user.email,
        user_language(portal_user),
        subject,
        body,
        attachments,
    )
    return True


def send_contact_changed(customer, old_email: str, language: str) -> None:
    """Tell a replaced billing address that it no longer receives this account's mail.

    The message carries no sign-in link: the address has lost access to the portal.
    """
    w = words(language)
    entity = customer.entity
    _deliver(
        entity,
        old_email,
        language,
        w["mail_contact_changed_subject"].format(customer=customer.name),
        w["mail_contact_changed_body"].format(customer=customer.name, entity=entity.name),
    )
    logger.info("Customer %s: billing contact change notice sent to the old address", customer.pk)


def send_sign_in_link(portal_user: PortalUser, next_path: str = "") -> None:
    language = user_language(portal_user)
    w = words(language)
    customer = portal_user.customer
    url = sign_in_url(portal_user, source=LinkSource.REQUEST, next_path=next_path, long=False)
    if not _send(
        portal_user,
        w["mail_link_subject"].format(entity=customer.entity.name),
        w["mail_link_body"].format(
            customer=customer.name,
            entity=customer.entity.name,
            url=url,
            expiry=w["expiry_minutes"],
        ),
    ):
        return
    logger.info("Portal user %s: sign-in link sent", portal_user.pk)


def send_message(portal_user: PortalUser, subject: str, body: str, attachments=()) -> bool:
    return _send(portal_user, subject, body, attachments)
