"""Customer portal accounts: who may see one customer's documents, and how they sign in.

A portal user is not a staff user: it has no Django user, no role and no team, and its
session lives in its own cookie that only portal pages read. Each portal user belongs
to exactly one customer account; a person who pays for two companies has two.
"""

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower

from o2c.parties.models import Contact, Customer


def is_contact_address(user_path: str = "") -> Exists:
    """Return a condition, true while a contact of the portal user's customer has its address.

    `user_path` leads from the queried model to the portal user, e.g. "portal_user__".
    Contact addresses are compared in lower case, as portal users store them.
    """
    return Exists(
        Contact.objects.annotate(address=Lower("email")).filter(
            customer=OuterRef(f"{user_path}customer"), address=OuterRef(f"{user_path}email")
        )
    )


class PortalUserQuerySet(models.QuerySet):
    def current(self):
        """Keep the active portal users whose address is still a contact of their customer.

        Only these may sign in or get account mail. A replaced address keeps its row (and
        its preferences) but loses access until a contact has that address again.
        """
        return self.filter(is_active=True).filter(is_contact_address())


class PortalUser(models.Model):
    """A person at a customer who may use the portal, found by e-mail address."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_users")
    email = models.EmailField(help_text="Stored in lower case.")
    name = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    language = models.CharField(
        max_length=8, blank=True, help_text="Empty: the customer's language."
    )
    password = models.CharField(
        max_length=128, blank=True, help_text="Password hash; empty when none is set."
    )
    is_active = models.BooleanField(default=True)
    wants_monthly_statement = models.BooleanField(
        default=False, help_text="E-mail a statement of account on the first day of each month."
    )
    wants_receipts = models.BooleanField(
        default=True, help_text="E-mail a receipt for each payment received."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    objects = PortalUserQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "email"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "email"], name="portal_user_per_customer")
        ]

    def __str__(self):
        return f"{self.email} ({self.customer.number})"

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def set_password(self, raw: str | None) -> None:
        self.password = make_password(raw) if raw else ""

    def check_password(self, raw: str) -> bool:
        if not self.password:
            return False
        return check_password(raw, self.password)

    @property
    def is_current(self) -> bool:
        """Whether the user is active and a contact of the customer still has the address."""
        return PortalUser.objects.current().filter(pk=self.pk).exists()


class LinkPurpose(models.TextChoices):
    SIGN_IN = "sign_in", "Sign in"


class LinkSource(models.TextChoices):
    REQUEST = "request", "Requested on the sign-in page"
    REMINDER = "reminder", "Payment reminder"
    RECEIPT = "receipt", "Payment receipt"
    STATEMENT = "statement", "Monthly statement"
    DISPUTE = "dispute", "Dispute note"
    STAFF = "staff", "Sent by staff"


class PortalLink(models.Model):
    """A single-use, expiring sign-in link. Only a hash of its secret part is stored."""

    portal_user = models.ForeignKey(PortalUser, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=20, choices=LinkPurpose.choices)
    source = models.CharField(max_length=20, choices=LinkSource.choices)
    secret_hash = models.CharField(max_length=64)
    next_path = models.CharField(
        max_length=200, blank=True, help_text="Portal page to open after signing in."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.purpose} link {self.pk} for portal user {self.portal_user_id}"


class PortalSession(models.Model):
    """A signed-in portal browser. Its cookie contains a secret whose hash is stored here."""

    portal_user = models.ForeignKey(PortalUser, on_delete=models.CASCADE, related_name="sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"portal session {self.pk} of portal user {self.portal_user_id}"


class AttemptKind(models.TextChoices):
    LINK_REQUEST = "link_request", "Sign-in link requested"
    PASSWORD = "password", "Password sign-in failed"


class PortalAttempt(models.Model):
    """A sign-in attempt, counted to limit how often links and passwords can be tried.

    The e-mail address is kept only as a keyed hash, so the table does not list who
    tried to sign in.
    """

    kind = models.CharField(max_length=20, choices=AttemptKind.choices)
    email_hash = models.CharField(max_length=64, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    attempted_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self):
        return f"{self.kind} at {self.attempted_at:%Y-%m-%d %H:%M}"


class PortalUpload(models.Model):
    """Evidence a customer added to a dispute from the portal, so they can see it listed."""

    attachment = models.OneToOneField(
        "disputes.DisputeAttachment", on_delete=models.CASCADE, related_name="portal_upload"
    )
    portal_user = models.ForeignKey(
        PortalUser, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self):
        return f"portal upload of {self.attachment}"
