from django.conf import settings
from django.db import models

from o2c.core.fields import MoneyField
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
    amount = MoneyField(
        null=True, blank=True, help_text="Amount at stake, in the entity's base currency."
    )
    required_skill = models.CharField(max_length=40, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "due_at", "id"]
        indexes = [
            models.Index(fields=["team", "state", "due_at"]),
            models.Index(fields=["owner", "state"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


# Work management -------------------------------------------------------------------


class MemberSettings(models.Model):
    """How much work a person takes and which work suits them, one row per membership."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="settings")
    capacity = models.PositiveSmallIntegerField(
        default=25, help_text="Open work items this person can hold at once in this team."
    )
    worklist_size = models.PositiveSmallIntegerField(
        default=20, help_text="Customers this person can work in a day on the collections worklist."
    )
    skills = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated skills, e.g. 'legal, key accounts'."
    )
    languages = models.CharField(
        max_length=60, blank=True, help_text="Comma-separated language codes, e.g. 'en, fr'."
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"settings of {self.membership}"

    @staticmethod
    def split(text: str) -> set[str]:
        return {part.strip().lower() for part in text.split(",") if part.strip()}


class SlaPolicy(models.Model):
    """How long a team has for one kind of work, counted in calendar hours from creation."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="sla_policies")
    kind = models.CharField(max_length=30, choices=WorkKind.choices)
    resolution_hours = models.PositiveIntegerField(
        help_text="Hours from creation until the item is due."
    )
    priority = models.PositiveSmallIntegerField(default=3, help_text="1 is the most urgent.")

    class Meta:
        ordering = ["team", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["team", "kind"], name="one_sla_per_team_and_kind")
        ]

    def __str__(self):
        return f"{self.team.name}: {self.kind} in {self.resolution_hours} h"


class AssignmentRule(models.Model):
    """A rule that picks who gets new work: the first active rule that matches applies.

    Conditions left empty match anything. Candidates are the named assignees, or else
    the members of the portfolio, or else every member of the team; among candidates
    with free capacity and not away, the one assigned longest ago gets the item.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="assignment_rules")
    sequence = models.PositiveSmallIntegerField(default=10)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    kind = models.CharField(max_length=30, choices=WorkKind.choices, blank=True)
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    region = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, blank=True)
    skill = models.CharField(
        max_length=40, blank=True, help_text="Candidates must have this skill."
    )
    min_amount = MoneyField(null=True, blank=True, help_text="In the entity's base currency.")
    max_amount = MoneyField(null=True, blank=True, help_text="In the entity's base currency.")
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["team", "sequence", "id"]

    def __str__(self):
        return f"{self.team.name} #{self.sequence} {self.name}"


class Absence(models.Model):
    """A person away from work; while away, their open items go to the deputy."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deputising"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]

    def __str__(self):
        return f"{self.user} away {self.starts_on}–{self.ends_on}"


class WorkEventKind(models.TextChoices):
    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Assigned"
    UNASSIGNED = "unassigned", "Left in the team queue"
    REASSIGNED = "reassigned", "Reassigned"
    HANDED_OFF = "handed_off", "Handed off to another team"
    COMMENTED = "commented", "Commented"
    ESCALATED = "escalated", "Escalated"
    STATE = "state", "State changed"
    CLOSED = "closed", "Closed"


class WorkEvent(models.Model):
    """One step in a work item's history: who moved it where, and why."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=WorkEventKind.choices)
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, related_name="+")
    to_team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.kind} of work item {self.item_id}"


class Comment(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"comment {self.pk} on work item {self.item_id}"


class Notification(models.Model):
    """A message for one person in the app, also sent by e-mail when they want it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    item = models.ForeignKey(
        WorkItem, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=20)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.kind} for {self.user}: {self.message}"


class TargetMetric(models.TextChoices):
    WORK_DONE = "work_done", "Work items done"
    SLA_BREACHES = "sla_breaches", "SLA breaches (at most)"
    PROMISES_KEPT_RATE = "promises_kept_rate", "Promises kept (%)"
    COLLECTED = "collected", "Collected (base currency)"
    DISPUTES_RESOLVED = "disputes_resolved", "Disputes resolved"
    DAYS_TO_RESOLVE = "days_to_resolve", "Days to resolve a dispute (at most)"


class Target(models.Model):
    """A figure a leader expects of a team, or of one person in it, over a period."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="targets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        help_text="Empty for the whole team.",
    )
    metric = models.CharField(max_length=30, choices=TargetMetric.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=19, decimal_places=4)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "period_start", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user", "metric", "period_start", "period_end"],
                name="one_target_per_period",
            )
        ]

    def __str__(self):
        return f"{self.metric} {self.value} for {self.user or self.team}"
