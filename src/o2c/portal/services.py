"""Business verbs of the portal: sign in, keep one's details, promise, dispute, statements.

Everything a portal user does acts on their own customer only, and is recorded on that
customer's timeline as done "in the customer portal by <address>", since a portal user
has no staff account to stand as the actor.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from o2c.collections.models import ActivityKind
from o2c.collections.services import record_promise
from o2c.core import money
from o2c.core.errors import O2CError
from o2c.disputes.models import DisputeReason
from o2c.disputes.services import attach_evidence, open_dispute
from o2c.ledger.models import Document, Side
from o2c.parties.models import Contact, ContactRole, Customer
from o2c.parties.services import record_event
from o2c.portal import auth
from o2c.portal.models import AttemptKind, PortalUpload, PortalUser
from o2c.portal.texts import LANGUAGES, language_of

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
MAX_PROMISE_DAYS = 90
# Disputes raised in the portal: their source, and the note after the customer's words.
PORTAL_SOURCE = "portal"
PORTAL_NOTE = "\n\n(raised in the customer portal by {email})"
# Made once, so a password check of an unknown address costs as much as a real one.
_DUMMY_PASSWORD_HASH = make_password("o2c unknown address placeholder")


class PortalError(O2CError):
    """A portal request that cannot be carried out as asked."""


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


# Finding who may sign in ---------------------------------------------------------------


def portal_users_for(email: str) -> list[PortalUser]:
    """Return the portal users of an address, making them for contacts that have none.

    Any contact of a customer with that address may use the portal for that customer.
    A person who is a contact of two customers gets one portal user for each. A portal
    user whose address is no longer a contact of its customer is left out.
    """
    email = normalize_email(email)
    if not email:
        return []
    contacts = (
        Contact.objects.filter(email__iexact=email)
        .exclude(email="")
        .select_related("customer")
        .order_by("customer_id", "-is_primary", "pk")
    )
    users = {
        user.customer_id: user
        for user in PortalUser.objects.filter(email=email).select_related("customer__entity")
    }
    current = []
    for contact in contacts:
        user = users.get(contact.customer_id)
        if user is None:
            user, _ = PortalUser.objects.get_or_create(
                customer=contact.customer,
                email=email,
                defaults={"name": contact.name, "contact": contact, "language": contact.language},
            )
            users[contact.customer_id] = user
        if user.is_active and user not in current:
            current.append(user)
    return current


def portal_user_for_contact(customer: Customer, email: str) -> PortalUser | None:
    """Return the active portal user of a customer's contact address, made if need be."""
    email = normalize_email(email)
    if not email:
        return None
    contact = customer.contacts.filter(email__iexact=email).first()
    if contact is None:
        return None
    user = PortalUser.objects.filter(customer=customer, email=email).first()
    if user is None:
        user = PortalUser.objects.create(
            customer=customer,
            email=email,
            name=contact.name,
            contact=contact,
            language=contact.language,
        )
    return user if user.is_active else None


# Signing in ----------------------------------------------------------------------------


def request_sign_in_link(email: str, *, ip: str | None, next_path: str = "") -> str:
    """Send sign-in links for an address, within the rate limits; return "ok" or "throttled".

    The result and the page shown are the same whether the address is known or not.
    Only the per-network limit ("throttled") is reported, because it reveals nothing
    about the address; `o2c.portal.auth` describes the limits. A task sends the links
    after the request commits.
    """
    from o2c.portal.tasks import send_sign_in_links_task

    email = normalize_email(email)
    if auth.network_throttled(AttemptKind.LINK_REQUEST, ip, auth.LINK_REQUESTS_PER_NETWORK):
        logger.warning("Portal sign-in links: too many requests from network %s", ip)
        return "throttled"
    allowed = auth.may_send_link(email, ip)
    auth.note_attempt(AttemptKind.LINK_REQUEST, email, ip)
    if email and allowed:
        safe = next_path if auth.safe_next(next_path) else ""
        transaction.on_commit(lambda: send_sign_in_links_task.delay(email, safe), robust=True)
    return "ok"


def send_sign_in_links(email: str, next_path: str = "") -> int:
    from o2c.portal.mail import send_sign_in_link

    sent = 0
    for user in portal_users_for(email):
        send_sign_in_link(user, next_path)
        sent += 1
    return sent


def check_password_sign_in(email: str, password: str, *, ip: str | None) -> list[PortalUser]:
    """Return the portal users whose password matches; raise when attempts are exhausted.

    With no match the hasher still runs once, so timing does not tell a known address
    from an unknown one.
    """
    email = normalize_email(email)
    if auth.password_locked(email, ip):
        raise PortalError("password_locked", "Too many failed attempts for this address.")
    candidates = [
        user
        for user in PortalUser.objects.current()
        .filter(email=email)
        .exclude(password="")
        .select_related("customer__entity")
    ]
    if not candidates:
        from django.contrib.auth.hashers import check_password

        check_password(password, _DUMMY_PASSWORD_HASH)
    matching = [user for user in candidates if user.check_password(password)]
    if not matching:
        auth.note_attempt(AttemptKind.PASSWORD, email, ip)
        logger.info("Portal password sign-in failed")
    return matching


@transaction.atomic
def set_password(portal_user: PortalUser, raw: str | None) -> None:
    """Set (or with an empty value, remove) the optional password of a portal user."""
    if raw:
        try:
            validate_password(raw)
        except ValidationError as error:
            raise PortalError(
                "weak_password", "{problems}", problems=" ".join(error.messages)
            ) from None
    portal_user.set_password(raw)
    portal_user.save(update_fields=["password"])
    record_event(
        portal_user.customer,
        "portal_password",
        f"Portal password {'set' if raw else 'removed'} by {portal_user.email}",
    )


# Details and preferences ---------------------------------------------------------------


@transaction.atomic
def update_billing_contact(portal_user: PortalUser, *, name: str, email: str, phone: str):
    """Change the customer's primary billing contact (made if there is none).

    When the old address is no longer a contact of the customer, its portal sessions
    end, its unused links stop working, and it gets a notice of the change without a
    sign-in link. The portal rules in `PortalUserQuerySet.current` keep it out after that.
    """
    from django.core.validators import validate_email

    from o2c.portal.tasks import send_contact_changed_task

    customer = portal_user.customer
    name, email, phone = name.strip(), normalize_email(email), phone.strip()
    if not name:
        raise PortalError("contact_name", "Enter the name of the billing contact.")
    try:
        validate_email(email)
    except ValidationError:
        raise PortalError(
            "contact_email", "{email!r} is not an e-mail address.", email=email
        ) from None
    contact = (
        customer.contacts.filter(role=ContactRole.BILLING).order_by("-is_primary", "pk").first()
    )
    before = f"{contact.name} <{contact.email}>" if contact else "none"
    old_email = normalize_email(contact.email) if contact else ""
    if contact is None:
        contact = Contact(customer=customer, role=ContactRole.BILLING, is_primary=True)
    contact.name, contact.email, contact.phone = name[:200], email, phone[:40]
    contact.save()
    record_event(
        customer,
        "contact_changed",
        f"Billing contact changed in the customer portal by {portal_user.email}: {before} -> "
        f"{contact.name} <{contact.email}>",
    )
    replaced = old_email and not customer.contacts.filter(email__iexact=old_email).exists()
    if replaced:
        old_users = list(PortalUser.objects.filter(customer=customer, email=old_email))
        auth.end_sessions_of(old_users)
        language = language_of(
            *(user.language for user in old_users), contact.language, customer.language
        )
        customer_id = customer.pk
        transaction.on_commit(
            lambda: send_contact_changed_task.delay(customer_id, old_email, language),
            robust=True,
        )
    return contact


def update_preferences(
    portal_user: PortalUser, *, language: str, monthly_statement: bool, receipts: bool
) -> PortalUser:
    if language and language not in LANGUAGES:
        raise PortalError("language", "{language!r} is not offered.", language=language)
    portal_user.language = language
    portal_user.wants_monthly_statement = monthly_statement
    portal_user.wants_receipts = receipts
    portal_user.save(update_fields=["language", "wants_monthly_statement", "wants_receipts"])
    return portal_user


# Promises and disputes -----------------------------------------------------------------


def _customer_invoices(portal_user: PortalUser, ids) -> list[Document]:
    ids = [int(value) for value in ids]
    documents = list(
        Document.objects.filter(customer=portal_user.customer, side=Side.DEBIT, pk__in=ids)
    )
    if len(documents) != len(set(ids)) or not documents:
        raise PortalError(
            "unknown_invoice", "Choose invoices of this account; reload the page and try again."
        )
    return documents


def promise_to_pay(
    portal_user: PortalUser, *, document_ids, amount, promised_on: dt.date, note: str = ""
):
    """Record the customer's promise through the collections service."""
    documents = _customer_invoices(portal_user, document_ids)
    entity = portal_user.customer.entity
    latest = entity.today() + dt.timedelta(days=MAX_PROMISE_DAYS)
    if promised_on > latest:
        raise PortalError(
            "promise_too_late",
            "A promise can be at most {days} days ahead, so by {latest}; call us for a "
            "longer arrangement.",
            days=MAX_PROMISE_DAYS,
            latest=latest,
        )
    text = f"Promised in the customer portal by {portal_user.email}"
    return record_promise(
        portal_user.customer,
        documents=documents,
        amount=amount,
        promised_on=promised_on,
        actor=None,
        channel=ActivityKind.PORTAL,
        note=f"{text}: {note}".strip()[:1000] if note.strip() else text,
    )


def raise_dispute(
    portal_user: PortalUser,
    *,
    document: Document,
    amount,
    reason: str,
    description: str,
    line_reference: str = "",
    upload=None,
):
    """Open a dispute on an invoice (or one of its lines), with an optional evidence file.

    The evidence is checked by the disputes service in the same transaction, so a file
    it rejects leaves no half-opened case behind.
    """
    if document.customer_id != portal_user.customer_id:
        raise PortalError("unknown_invoice", "Choose an invoice of this account.")
    if not description.strip():
        raise PortalError("description_required", "Describe what is wrong with the invoice.")
    if reason in (DisputeReason.UNSPECIFIED, ""):
        raise PortalError("reason_required", "Choose a reason.")
    amount = money.parse_amount(
        amount, document.currency, policy=portal_user.customer.entity.amount_policy
    )
    with transaction.atomic():
        disputes = open_dispute(
            portal_user.customer,
            lines=[(document, amount, line_reference)],
            reason=reason,
            actor=None,
            description=f"{description.strip()}{PORTAL_NOTE.format(email=portal_user.email)}",
            source=PORTAL_SOURCE,
        )
        if upload is not None:
            _store_upload(portal_user, disputes[0], upload)
    return disputes


def customer_description(dispute) -> str:
    """Return the words the customer wrote when raising a dispute in the portal.

    Cases raised by staff or imported may contain internal notes, so they return "".
    """
    if dispute.source != PORTAL_SOURCE:
        return ""
    marker = PORTAL_NOTE.split("{", 1)[0]
    return dispute.description.rsplit(marker, 1)[0]


def add_evidence(portal_user: PortalUser, dispute, upload):
    if dispute.customer_id != portal_user.customer_id:
        raise PortalError("unknown_dispute", "Choose a dispute of this account.")
    with transaction.atomic():
        return _store_upload(portal_user, dispute, upload)


def _store_upload(portal_user: PortalUser, dispute, upload):
    attachment = attach_evidence(dispute, upload, actor=None)
    PortalUpload.objects.create(attachment=attachment, portal_user=portal_user)
    return attachment


# Housekeeping --------------------------------------------------------------------------


def purge_expired(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete attempts, links and sessions that can no longer matter."""
    from o2c.portal.models import PortalAttempt, PortalLink, PortalSession

    now = now or timezone.now()
    attempts, _ = PortalAttempt.objects.filter(attempted_at__lt=now - dt.timedelta(days=2)).delete()
    links, _ = PortalLink.objects.filter(expires_at__lt=now - dt.timedelta(days=30)).delete()
    sessions, _ = PortalSession.objects.filter(
        Q(expires_at__lt=now - dt.timedelta(days=30)) | Q(ended_at__lt=now - dt.timedelta(days=30))
    ).delete()
    return {"attempts": attempts, "links": links, "sessions": sessions}
