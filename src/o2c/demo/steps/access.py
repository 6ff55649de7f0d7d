"""One-time sign-ins: passwords for the demo people and a portal link for one customer."""

import logging

from django.contrib.auth import get_user_model

from o2c.core.models import UserSettings
from o2c.demo.passwords import readable_password
from o2c.portal.mail import sign_in_url
from o2c.portal.models import LinkSource
from o2c.portal.services import portal_user_for_contact
from o2c.teams.models import Membership

logger = logging.getLogger(__name__)


def issue_people_passwords() -> dict[str, str]:
    """Give every demo team member a new one-time password; return them by username.

    Each person must choose their own password at the first sign-in.
    """
    User = get_user_model()
    passwords = {}
    people = User.objects.filter(
        pk__in=Membership.objects.values("user_id"), is_superuser=False
    ).order_by("username")
    for user in people:
        password = readable_password()
        user.set_password(password)
        user.last_login = None
        user.save(update_fields=["password", "last_login"])
        UserSettings.objects.update_or_create(user=user, defaults={"must_change_password": True})
        passwords[user.username] = password
    logger.info("Demo people: %d one-time passwords issued", len(passwords))
    return passwords


def portal_link(customer) -> str:
    """Return a single-use portal sign-in link for the customer's primary contact."""
    contact = customer.contacts.exclude(email="").order_by("-is_primary", "pk").first()
    if contact is None:
        return ""
    portal_user = portal_user_for_contact(customer, contact.email)
    if portal_user is None:
        return ""
    return sign_in_url(portal_user, source=LinkSource.STAFF, long=False)
