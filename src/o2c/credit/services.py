"""Credit verbs: check an order, hold it for approval, decide, set limits, review.

An order is held when any of these is true on the check date (the entity's today):
- the customer is blocked;
- the customer has open items more than the policy's tolerance past due, above its
  minimum amount;
- the customer's exposure exceeds its limit, or the group's combined exposure exceeds
  the group's limit;
- a rate needed for the comparison is missing, because an unchecked order must not pass.

A held order opens a credit approval
routed by the order's value in base currency: below `lead_approval_from` to an analyst
(member), below `leader_approval_from` to a lead, otherwise to the leader.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from o2c.core import money
from o2c.core.dates import add_months
from o2c.credit.errors import CreditError
from o2c.credit.exposure import compute_exposure, past_due_beyond, uninvoiced_value
from o2c.credit.models import (
    CheckTrigger,
    CreditCheck,
    CreditPolicy,
    CreditProfile,
    Decision,
    GroupCreditLimit,
)
from o2c.fx.errors import RateError
from o2c.fx.services import convert
from o2c.orders.models import CustomerGroupMember, Order, OrderStatus
from o2c.orders.templatetags.order_money import format_amount
from o2c.parties.models import Customer, LegalEntity
from o2c.parties.services import record_event
from o2c.teams.models import (
    OPEN_WORK_STATES,
    ROLE_RANK,
    Membership,
    Role,
    Team,
    TeamFunction,
    WorkItem,
    WorkKind,
)
from o2c.teams.selectors import is_admin, visible_customers
from o2c.teams.services import close_work_item, create_work_item

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
PRIORITY_BY_ROLE = {Role.MEMBER: 3, Role.LEAD: 2, Role.LEADER: 1}
ORDER_SUBJECT = "orders.order"


def policy_for(entity: LegalEntity) -> CreditPolicy:
    """Return the entity's credit policy, or an unsaved one holding the defaults."""
    return CreditPolicy.objects.filter(entity=entity).first() or CreditPolicy(entity=entity)


def credit_team_for(entity: LegalEntity) -> Team:
    """Return the entity's credit team, creating an empty one named "Credit" if none exists.

    A held order always lands in a queue that a lead or leader can see, even before the
    team has members.
    """
    team = Team.objects.filter(entity=entity, function=TeamFunction.CREDIT).order_by("pk").first()
    if team is None:
        team, created = Team.objects.get_or_create(
            entity=entity, name="Credit", defaults={"function": TeamFunction.CREDIT}
        )
        if created:
            logger.warning("Entity %s: no credit team, created team %s", entity.code, team.pk)
    return team


def _group_limit(customer: Customer) -> tuple[list[int], GroupCreditLimit] | None:
    membership = (
        CustomerGroupMember.objects.select_related("group__credit_limit")
        .filter(customer=customer)
        .first()
    )
    if membership is None:
        return None
    try:
        limit = membership.group.credit_limit
    except GroupCreditLimit.DoesNotExist:
        return None
    member_ids = list(membership.group.members.values_list("customer_id", flat=True))
    return member_ids, limit


def _format(amount: Decimal, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


@transaction.atomic
def check_order_credit(order: Order, *, trigger: str, actor=None) -> CreditCheck:
    """Check an order against the customer's credit and record the outcome.

    Locks the customer row first, so two orders of one customer are checked one after
    the other and cannot both pass on the same headroom.
    """
    customer = (
        Customer.objects.select_for_update().select_related("entity").get(pk=order.customer_id)
    )
    entity = customer.entity
    policy = policy_for(entity)
    on = entity.today()
    reasons: list[dict] = []
    check = CreditCheck(order=order, customer=customer, trigger=trigger, checked_on=on, actor=actor)

    if customer.is_blocked:
        reasons.append(
            {"code": "customer_blocked", "message": f"Customer {customer.number} is blocked."}
        )
    group = _group_limit(customer)
    try:
        _check_past_due(check, customer, policy, on, reasons)
        _check_customer_limit(check, customer, policy, order, on, reasons)
        if group is not None:
            _check_group_limit(check, group, customer, order, on, reasons)
    except RateError as error:
        reasons.append({"code": "no_rate", "message": f"Credit could not be checked: {error}"})
    if reasons:
        # The value in base currency routes the approval; without a rate it goes to the
        # leader (see required_role_for).
        try:
            value = uninvoiced_value(order)
            check.order_value_base = convert(value, order.currency, entity.base_currency, on).amount
        except RateError:
            check.order_value_base = None

    check.passed = not reasons
    check.reasons = reasons
    check.save()
    summary = f"Credit check of order {order.number} ({CheckTrigger(trigger).label.lower()}): " + (
        "passed" if check.passed else "held – " + " ".join(r["message"] for r in reasons)
    )
    record_event(
        customer, "credit_check", summary, actor=actor, order_id=order.pk, check_id=check.pk
    )
    logger.info(
        "Order %s: credit check %s (%s)",
        order.number,
        "passed" if check.passed else "held",
        trigger,
    )
    return check


def _check_past_due(check, customer, policy, on, reasons) -> None:
    past_due = past_due_beyond(customer, on, policy.past_due_tolerance_days)
    check.past_due_figures = {
        **past_due.as_dict(),
        "tolerance_days": policy.past_due_tolerance_days,
        "minimum": str(policy.past_due_minimum),
        "base_currency": customer.entity.base_currency,
    }
    if past_due.items and past_due.amount > policy.past_due_minimum:
        days = (on - past_due.oldest_due_date).days
        reasons.append(
            {
                "code": "past_due",
                "message": f"{past_due.items} open item(s) of "
                f"{_format(past_due.amount, customer.entity.base_currency)} are more than "
                f"{policy.past_due_tolerance_days} days past due (oldest {days} days).",
            }
        )


def _check_customer_limit(check, customer, policy, order, on, reasons) -> None:
    if customer.credit_limit_amount is None:
        if policy.hold_without_limit:
            reasons.append(
                {
                    "code": "no_limit",
                    "message": f"Customer {customer.number} has no credit limit.",
                }
            )
        return
    currency = customer.credit_limit_currency or customer.entity.base_currency
    exposure = compute_exposure(customer.entity, [customer.pk], currency, on, order=order)
    check.limit_amount = customer.credit_limit_amount
    check.limit_currency = currency
    check.receivables_amount = exposure.receivables
    check.released_orders_amount = exposure.released_orders
    check.order_amount = exposure.order
    check.exposure_amount = exposure.total
    check.rates = exposure.rates
    if exposure.total > customer.credit_limit_amount:
        over = exposure.total - customer.credit_limit_amount
        reasons.append(
            {
                "code": "over_limit",
                "message": f"Exposure {_format(exposure.total, currency)} exceeds the credit "
                f"limit of {_format(customer.credit_limit_amount, currency)} by "
                f"{_format(over, currency)}.",
            }
        )


def _check_group_limit(check, group, customer, order, on, reasons) -> None:
    member_ids, limit = group
    exposure = compute_exposure(customer.entity, member_ids, limit.currency, on, order=order)
    check.group_figures = {
        "group": limit.group.code,
        "limit": str(limit.amount),
        **exposure.as_dict(),
    }
    check.rates = {**exposure.rates, **check.rates}
    if exposure.total > limit.amount:
        over = exposure.total - limit.amount
        reasons.append(
            {
                "code": "group_over_limit",
                "message": f"Exposure of group {limit.group.code} "
                f"{_format(exposure.total, limit.currency)} exceeds its limit of "
                f"{_format(limit.amount, limit.currency)} by {_format(over, limit.currency)}.",
            }
        )


# Approval ---------------------------------------------------------------------------


def required_role_for(policy: CreditPolicy, value_base: Decimal | None) -> str:
    """Return the least role that may approve a held order of this base-currency value."""
    if value_base is None or value_base >= policy.leader_approval_from:
        return Role.LEADER
    if value_base >= policy.lead_approval_from:
        return Role.LEAD
    return Role.MEMBER


def _pick_owner(team: Team, role: str, customer: Customer):
    """Return the least busy member of the team with that role who may see the customer."""
    memberships = Membership.objects.filter(team=team, role=role, user__is_active=True)
    if role == Role.MEMBER:
        memberships = memberships.filter(
            user__portfolios__customers=customer, user__portfolios__team=team
        )
    candidates = (
        memberships.annotate(
            open_items=Count(
                "user__work_items",
                filter=Q(user__work_items__state__in=OPEN_WORK_STATES),
                distinct=True,
            )
        )
        .order_by("open_items", "user_id")
        .select_related("user")
    )
    first = candidates.first()
    return first.user if first else None


@transaction.atomic
def open_credit_approval(order: Order, check: CreditCheck, *, actor=None) -> WorkItem:
    """Put a credit approval for a held order in the credit team's queue.

    When no one has the role the amount needs (for a member: no one whose portfolio
    contains the customer), the item goes to the next role up. It stays unassigned if no
    one has that role either, and the required role is kept on the item either way.
    """
    entity = order.entity
    policy = policy_for(entity)
    team = credit_team_for(entity)
    required = required_role_for(policy, check.order_value_base)
    owner = None
    for role in (Role.MEMBER, Role.LEAD, Role.LEADER):
        if ROLE_RANK[role] < ROLE_RANK[required]:
            continue
        owner = _pick_owner(team, role, order.customer)
        if owner is not None:
            break
    value = (
        _format(check.order_value_base, entity.base_currency)
        if check.order_value_base is not None
        else "unknown value"
    )
    item = create_work_item(
        kind=WorkKind.CREDIT_APPROVAL,
        title=f"Order {order.number} of {order.customer.number} on credit hold ({value})",
        team=team,
        customer=order.customer,
        owner=owner,
        assign=False,
        priority=PRIORITY_BY_ROLE[required],
        due_at=timezone.now() + dt.timedelta(hours=policy.approval_hours),
        subject_type=ORDER_SUBJECT,
        subject_id=order.pk,
        actor=actor,
        required_role=str(required),
        check_id=check.pk,
        reasons=[reason["code"] for reason in check.reasons],
    )
    check.required_role = required
    check.work_item = item
    check.save(update_fields=["required_role", "work_item"])
    return item


def open_hold(order: Order) -> CreditCheck | None:
    """Return the failed check that put the order on hold and awaits a decision, if any."""
    return (
        CreditCheck.objects.filter(order=order, passed=False, decision="")
        .select_related("work_item")
        .order_by("-checked_at", "-id")
        .first()
    )


def can_decide(user, check: CreditCheck) -> bool:
    """Return whether the person may approve or reject this hold.

    An administrator may; otherwise the person must be in the entity's credit team with
    at least the required role and must see the customer.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user):
        return True
    if not visible_customers(user).filter(pk=check.customer_id).exists():
        return False
    required = check.required_role or Role.LEADER
    roles = Membership.objects.filter(
        user=user, team__entity_id=check.order.entity_id, team__function=TeamFunction.CREDIT
    ).values_list("role", flat=True)
    return any(ROLE_RANK[role] >= ROLE_RANK[required] for role in roles)


@transaction.atomic
def decide_credit_hold(order: Order, *, approve: bool, reason: str, actor) -> Order:
    """Approve (release) or reject (cancel) a held order, with the reason on record."""
    from o2c.orders import services as order_services

    order = Order.objects.select_for_update().select_related("customer", "entity").get(pk=order.pk)
    if order.status != OrderStatus.ON_CREDIT_HOLD:
        raise CreditError(
            "not_on_hold",
            "Order {number} is {status}, not on credit hold; there is nothing to decide.",
            number=order.number,
            status=order.get_status_display().lower(),
        )
    check = open_hold(order)
    reason = (reason or "").strip()
    if not reason:
        raise CreditError(
            "reason_required",
            "Say why the credit hold on order {number} is {verb}.",
            number=order.number,
            verb="approved" if approve else "rejected",
        )
    if check is None or not can_decide(actor, check):
        raise CreditError(
            "not_authorised",
            "You may not decide on the credit hold of order {number}; it needs a {role} of "
            "the credit team.",
            number=order.number,
            role=(check.required_role if check else "") or Role.LEADER,
        )

    check.decision = Decision.APPROVED if approve else Decision.REJECTED
    check.decision_reason = reason[:500]
    check.decided_at = timezone.now()
    check.decided_by = actor
    check.save(update_fields=["decision", "decision_reason", "decided_at", "decided_by"])
    verb = "approved" if approve else "rejected"
    if check.work_item is not None and check.work_item.state in OPEN_WORK_STATES:
        close_work_item(check.work_item, outcome=f"{verb}: {reason}", actor=actor)
    record_event(
        order.customer,
        f"credit_{verb}",
        f"Credit hold on order {order.number} {verb}: {reason}",
        actor=actor,
        order_id=order.pk,
        check_id=check.pk,
    )
    logger.info("Order %s: credit hold %s by user %s", order.number, verb, actor.pk)
    if approve:
        return order_services.release_order(order, actor=actor, note=f"credit approved: {reason}")
    return order_services.cancel_order(
        order, actor=actor, reason=f"credit rejected: {reason}", _from_credit=True
    )


def withdraw_credit_approval(order: Order, *, actor=None, outcome: str) -> None:
    """Close the open approval of an order that no longer needs one (e.g. cancelled)."""
    check = open_hold(order)
    if check is None:
        return
    if check.work_item is not None and check.work_item.state in OPEN_WORK_STATES:
        close_work_item(check.work_item, outcome=outcome, actor=actor, cancelled=True)


# Limits and blocks ------------------------------------------------------------------


@transaction.atomic
def set_credit_limit(
    customer: Customer, amount, currency: str, *, actor=None, reason: str = ""
) -> Customer:
    """Set a customer's credit limit (None removes it) and note it on the timeline."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    old = (customer.credit_limit_amount, customer.credit_limit_currency)
    if amount is None:
        customer.credit_limit_amount = None
        customer.credit_limit_currency = ""
        summary = "Credit limit removed"
    else:
        currency = money.check_currency(currency)
        amount = money.parse_amount(amount, currency, field="credit limit")
        if amount < ZERO:
            raise CreditError(
                "negative_limit", "A credit limit cannot be negative ({amount}).", amount=amount
            )
        customer.credit_limit_amount = amount
        customer.credit_limit_currency = currency
        summary = f"Credit limit set to {_format(amount, currency)}"
    customer.save(update_fields=["credit_limit_amount", "credit_limit_currency"])
    if old[0] is not None:
        summary += f" (was {_format(old[0], old[1])})"
    record_event(customer, "credit_limit", summary + (f": {reason}" if reason else ""), actor=actor)
    return customer


@transaction.atomic
def set_group_credit_limit(group, amount, currency: str, *, actor=None) -> GroupCreditLimit:
    currency = money.check_currency(currency)
    amount = money.parse_amount(amount, currency, field="group credit limit")
    limit, _ = GroupCreditLimit.objects.update_or_create(
        group=group, defaults={"amount": amount, "currency": currency}
    )
    logger.info(
        "Customer group %s: credit limit set by user %s", group.code, getattr(actor, "pk", None)
    )
    return limit


@transaction.atomic
def set_customer_blocked(customer: Customer, blocked: bool, *, reason: str, actor=None) -> Customer:
    """Block or unblock a customer for credit; orders of a blocked customer are held."""
    if not (reason or "").strip():
        raise CreditError("reason_required", "Say why the customer is blocked or unblocked.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    customer.is_blocked = blocked
    customer.save(update_fields=["is_blocked"])
    record_event(
        customer, "credit_block", f"{'Blocked' if blocked else 'Unblocked'}: {reason}", actor=actor
    )
    return customer


# Reviews ----------------------------------------------------------------------------


def _review_interval(profile: CreditProfile | None, policy: CreditPolicy) -> int:
    if profile is not None and profile.review_interval_months:
        return profile.review_interval_months
    return policy.review_interval_months


def review_due_on(customer: Customer, policy: CreditPolicy, today: dt.date) -> dt.date:
    """Return when the customer's next credit review is due.

    A customer never reviewed is due today: a limit no review has confirmed yet is
    looked at first. Later reviews fall `review_interval_months` after the last one.
    """
    profile = getattr(customer, "credit_profile", None)
    if profile is not None and profile.next_review_on is not None:
        return profile.next_review_on
    return today


def _due_at(entity: LegalEntity, day: dt.date) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=ZoneInfo(entity.time_zone))


def schedule_credit_reviews(
    *, entity: LegalEntity | None = None, on: dt.date | None = None, actor=None
) -> list[WorkItem]:
    """Open a credit review work item for each customer whose review falls due soon.

    Covers customers with a credit limit or a credit profile. A review is opened when
    its due date is within the policy's notice days and the customer has no open review
    yet, so running this twice opens nothing the second time.
    """
    entities = [entity] if entity is not None else list(LegalEntity.objects.all())
    created = []
    for current in entities:
        policy = policy_for(current)
        today = on or current.today()
        customers = (
            Customer.objects.filter(entity=current)
            .filter(Q(credit_limit_amount__isnull=False) | Q(credit_profile__isnull=False))
            .select_related("credit_profile")
        )
        already = set(
            WorkItem.objects.filter(
                entity=current, kind=WorkKind.CREDIT_REVIEW, state__in=OPEN_WORK_STATES
            ).values_list("customer_id", flat=True)
        )
        horizon = today + dt.timedelta(days=policy.review_notice_days)
        team = None
        for customer in customers:
            if customer.pk in already:
                continue
            due_on = review_due_on(customer, policy, today)
            if due_on > horizon:
                continue
            team = team or credit_team_for(current)
            created.append(
                create_work_item(
                    kind=WorkKind.CREDIT_REVIEW,
                    title=f"Credit review of {customer.number} {customer.name} due {due_on}",
                    team=team,
                    customer=customer,
                    priority=2 if due_on <= today else 3,
                    due_at=_due_at(current, due_on),
                    subject_type="parties.customer",
                    subject_id=customer.pk,
                    actor=actor,
                    review_due_on=due_on.isoformat(),
                )
            )
    logger.info("Credit reviews: %d opened", len(created))
    return created


@transaction.atomic
def complete_credit_review(
    customer: Customer,
    *,
    outcome: str,
    actor=None,
    new_limit=None,
    currency: str | None = None,
    on: dt.date | None = None,
) -> CreditProfile:
    """Record a finished review: set the next due date and close the open review item."""
    outcome = (outcome or "").strip()
    if not outcome:
        raise CreditError("outcome_required", "Say what the credit review concluded.")
    policy = policy_for(customer.entity)
    today = on or customer.entity.today()
    profile, _ = CreditProfile.objects.select_for_update().get_or_create(customer=customer)
    if new_limit is not None:
        set_credit_limit(
            customer,
            new_limit,
            currency or customer.credit_limit_currency or customer.entity.base_currency,
            actor=actor,
            reason=f"credit review: {outcome}",
        )
    profile.last_reviewed_on = today
    profile.next_review_on = add_months(today, _review_interval(profile, policy))
    profile.save()
    for item in WorkItem.objects.filter(
        customer=customer, kind=WorkKind.CREDIT_REVIEW, state__in=OPEN_WORK_STATES
    ):
        close_work_item(item, outcome=outcome, actor=actor)
    record_event(
        customer,
        "credit_review",
        f"Credit review done: {outcome}; next review due {profile.next_review_on}",
        actor=actor,
    )
    return profile
