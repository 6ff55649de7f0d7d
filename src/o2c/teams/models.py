from django.conf import settings
from django.db import models

from o2c.parties.models import Customer, LegalEntity


class TeamFunction(models.TextChoices):
    CREDIT = "credit", "Credit"
    COLLECTIONS = "collections", "Collections"
    DISPUTES = "disputes", "Disputes and deductions"
    CASH_APPLICATION = "cash_application", "Cash application"
    SALES = "sales", "Sales"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    BILLING = "billing", "Billing"
    LOGISTICS = "logistics", "Logistics"


class Role(models.TextChoices):
    """What a member may see and do; each role includes the ones before it.

    member: the customers of their own portfolios; lead: every portfolio of their
    team; leader: every customer of the team's entity; admin: every entity.
    """

    MEMBER = "member", "Member"
    LEAD = "lead", "Lead"
    LEADER = "leader", "Leader"
    ADMIN = "admin", "Administrator"


ROLE_RANK = {Role.MEMBER: 1, Role.LEAD: 2, Role.LEADER: 3, Role.ADMIN: 4}


class Team(models.Model):
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=100)
    function = models.CharField(max_length=20, choices=TeamFunction.choices)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["entity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="team_name_per_entity")
        ]

    def __str__(self):
        return f"{self.name} ({self.entity.code})"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")
        ]

    def __str__(self):
        return f"{self.user} in {self.team} as {self.role}"


class Portfolio(models.Model):
    """A set of customers that members of a team look after."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="portfolios")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="portfolios")
    customers = models.ManyToManyField(Customer, related_name="portfolios", blank=True)

    class Meta:
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="portfolio_name_per_team")
        ]

    def __str__(self):
        return f"{self.name} ({self.team.name})"


class WorkKind(models.TextChoices):
    CREDIT_APPROVAL = "credit_approval", "Credit approval"
    CREDIT_REVIEW = "credit_review", "Credit review"
    COLLECTION_CALL = "collection_call", "Collection call"
    PROMISE_FOLLOW_UP = "promise_follow_up", "Promise follow-up"
    DISPUTE = "dispute", "Dispute"
    DEDUCTION = "deduction", "Deduction"
    CASH_EXCEPTION = "cash_exception", "Cash application exception"
    WRITE_OFF_APPROVAL = "write_off_approval", "Write-off approval"
    GENERAL = "general", "General task"


class WorkState(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING = "waiting", "Waiting on someone else"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_WORK_STATES = (WorkState.OPEN, WorkState.IN_PROGRESS, WorkState.WAITING)


class WorkItem(models.Model):
    """A piece of work a team owns about a customer, with an owner and a deadline."""

    kind = models.CharField(max_length=30, choices=WorkKind.choices)
    title = models.CharField(max_length=200)
    entity = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="work_items")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="work_items", null=True, blank=True
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="work_items")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_items",
    )
    priority = models.PositiveSmallIntegerField(default=3, help_text="1 is the most urgent.")
    state = models.CharField(max_length=20, choices=WorkState.choices, default=WorkState.OPEN)
    due_at = models.DateTimeField(null=True, blank=True)
    subject_type = models.CharField(
        max_length=40, blank=True, help_text="What the work is about, e.g. 'orders.order'."
    )
    subject_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["priority", "due_at", "id"]
        indexes = [
            models.Index(fields=["team", "state", "due_at"]),
            models.Index(fields=["owner", "state"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"
