"""Reads of the credit team's work that apply the person's scope."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from o2c.credit.models import CreditCheck
from o2c.orders.models import Order, OrderStatus
from o2c.teams.models import OPEN_WORK_STATES, Membership, Role, TeamFunction, WorkItem, WorkKind
from o2c.teams.selectors import is_admin, visible_customers

CREDIT_KINDS = (WorkKind.CREDIT_APPROVAL, WorkKind.CREDIT_REVIEW)


def is_credit_member(user, entity=None) -> bool:
    memberships = Membership.objects.filter(user=user, team__function=TeamFunction.CREDIT)
    if entity is not None:
        memberships = memberships.filter(team__entity=entity)
    return is_admin(user) or memberships.exists()


def may_manage_credit(user, entity) -> bool:
    """Return whether the person may set limits and blocks: a credit lead, leader or admin."""
    return (
        is_admin(user)
        or Membership.objects.filter(
            user=user,
            team__entity=entity,
            team__function=TeamFunction.CREDIT,
            role__in=[Role.LEAD, Role.LEADER, Role.ADMIN],
        ).exists()
    )


def holds_without_open_approval(user, *, is_member: bool | None = None) -> QuerySet:
    """Return held orders the person may see whose approval item is no longer open.

    An approval closed from the generic work item page (not through a credit decision)
    leaves its order on hold. Listing those keeps such orders in the credit team's view.
    """
    if not (is_credit_member(user) if is_member is None else is_member):
        return Order.objects.none()
    open_approvals = CreditCheck.objects.filter(
        order=OuterRef("pk"), decision="", work_item__state__in=OPEN_WORK_STATES
    )
    return (
        Order.objects.filter(
            status=OrderStatus.ON_CREDIT_HOLD, customer__in=visible_customers(user)
        )
        .exclude(Exists(open_approvals))
        .select_related("customer")
        .order_by("order_date", "id")
    )


def credit_queue(user, *, mine: bool = False, kind: str = "") -> QuerySet:
    """Return the open credit work items the person may see, most urgent first.

    Members of a credit team see the items of their team about customers they may see,
    and every item assigned to them. People outside credit teams see nothing here.
    """
    items = WorkItem.objects.filter(kind__in=CREDIT_KINDS, state__in=OPEN_WORK_STATES)
    if not is_admin(user):
        teams = Membership.objects.filter(user=user, team__function=TeamFunction.CREDIT).values(
            "team_id"
        )
        items = items.filter(team_id__in=teams).filter(
            Q(customer__in=visible_customers(user)) | Q(owner=user)
        )
    if mine:
        items = items.filter(owner=user)
    if kind:
        items = items.filter(kind=kind)
    return items.select_related("customer", "owner", "team", "entity").order_by(
        "priority", "due_at", "id"
    )
