"""Credit policy, group limits, review dates, and the record of every credit check.

A customer's own limit is the one on the customer (`credit_limit_amount` in
`credit_limit_currency`); a customer group may add a limit shared by its members.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models

from o2c.core.fields import MoneyField
from o2c.orders.models import CustomerGroup, Order
from o2c.parties.models import Customer, LegalEntity, validate_currency


class CreditPolicy(models.Model):
    """An entity's credit rules; an entity without one uses the defaults below."""

    entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="credit_policy"
    )
    past_due_tolerance_days = models.PositiveSmallIntegerField(
        default=15,
        help_text="An order is held when an invoice of the customer is more than this "
        "many days past due.",
    )
    past_due_minimum = MoneyField(
        default=Decimal("0"),
        help_text="Past-due amounts up to this, in the entity's base currency, do not hold "
        "an order.",
    )
    hold_without_limit = models.BooleanField(
        default=False,
        help_text="Hold every order of a customer that has no credit limit.",
    )
    lead_approval_from = MoneyField(
        default=Decimal("10000"),
        help_text="Held orders of at least this value (base currency) need a team lead.",
    )
    leader_approval_from = MoneyField(
        default=Decimal("100000"),
        help_text="Held orders of at least this value (base currency) need the credit leader.",
    )
    approval_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Hours the credit team has to decide on a held order."
    )
    review_interval_months = models.PositiveSmallIntegerField(
        default=12, help_text="Months between two credit reviews of a customer."
    )
    review_notice_days = models.PositiveSmallIntegerField(
        default=14, help_text="Days before a review is due that its work item is opened."
    )

    class Meta:
        verbose_name_plural = "credit policies"

    def __str__(self):
        return f"credit policy of {self.entity.code}"


class GroupCreditLimit(models.Model):
    """A limit on the combined exposure of every customer of a group."""

    group = models.OneToOneField(
        CustomerGroup, on_delete=models.CASCADE, related_name="credit_limit"
    )
    amount = MoneyField()
    currency = models.CharField(max_length=3, validators=[validate_currency])

    def __str__(self):
        return f"{self.group.code}: {self.amount} {self.currency}"


class CreditProfile(models.Model):
    """When a customer's credit was last reviewed and when the next review is due."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="credit_profile"
    )
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True, db_index=True)
    review_interval_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty to use the entity's policy."
    )

    def __str__(self):
        return f"credit profile of {self.customer}"


class CheckTrigger(models.TextChoices):
    SUBMIT = "submit", "Order submitted"
    REOPEN = "reopen", "Cancelled order re-opened"
    INCREASE = "increase", "Order amount increased"


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class CreditCheck(models.Model):
    """The outcome of one credit check of an order, with the figures it was based on.

    Every amount is in the limit's currency, converted once at the rate of
    `checked_on` (rates are kept in `rates`). A failed check puts the order on hold
    and opens an approval; the decision on it is stored here too.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="credit_checks")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=10, choices=CheckTrigger.choices)
    checked_at = models.DateTimeField(auto_now_add=True)
    checked_on = models.DateField()
    passed = models.BooleanField()
    reasons = models.JSONField(default=list, help_text="Why the order was held: code and text.")
    limit_amount = MoneyField(null=True, blank=True)
    limit_currency = models.CharField(max_length=3, blank=True)
    receivables_amount = MoneyField(null=True, blank=True)
    released_orders_amount = MoneyField(null=True, blank=True)
    order_amount = MoneyField(null=True, blank=True)
    exposure_amount = MoneyField(null=True, blank=True)
    group_figures = models.JSONField(default=dict, blank=True)
    past_due_figures = models.JSONField(default=dict, blank=True)
    rates = models.JSONField(default=dict, blank=True)
    order_value_base = MoneyField(
        null=True, blank=True, help_text="The order's value in base currency, for routing."
    )
    required_role = models.CharField(max_length=10, blank=True)
    work_item = models.ForeignKey(
        "teams.WorkItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self):
        return f"credit check of {self.order.number}: {'passed' if self.passed else 'held'}"

    @property
    def headroom(self) -> Decimal | None:
        if self.limit_amount is None or self.exposure_amount is None:
            return None
        return self.limit_amount - self.exposure_amount
