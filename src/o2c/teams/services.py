"""Business verbs on teams and their work items.

A work item is created with a due date from its team's SLA for that kind of work and
given to a person by the team's assignment rules, within each person's capacity. It
can then be reassigned inside the team, handed off to another team with a note,
commented on (an @mention notifies the person in the app and by e-mail), escalated
when its SLA is breached, and moved to a deputy while its owner is away.
"""

import datetime as dt
import logging
import re
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from o2c.core import dates
from o2c.core.errors import O2CError
from o2c.parties.services import record_event
from o2c.teams.models import (
    OPEN_WORK_STATES,
    ROLE_RANK,
    Absence,
    AssignmentRule,
    Comment,
    MemberSettings,
    Membership,
    Notification,
    Role,
    SlaPolicy,
    Target,
    Team,
    WorkEvent,
    WorkEventKind,
    WorkItem,
    WorkState,
)

logger = logging.getLogger(__name__)

# A breach still open this long after the first escalation goes up to the leaders.
SECOND_ESCALATION_HOURS = 24
MENTION_PATTERN = re.compile(r"(?<![\w@])@([A-Za-z0-9_.+-]*[A-Za-z0-9_+-])")


class WorkError(O2CError):
    """A change to a work item that its state or the person's role does not allow."""


# Reading roles ---------------------------------------------------------------------


def role_in(user, team: Team) -> str | None:
    """Return the person's role in the team, counting entity leaders and administrators."""
    if user.is_superuser:
        return Role.ADMIN
    roles = list(
        Membership.objects.filter(user=user)
        .filter(Q(team=team) | Q(team__entity=team.entity, role=Role.LEADER) | Q(role=Role.ADMIN))
        .values_list("team_id", "role")
    )
    best = None
    for team_id, role in roles:
        if team_id != team.pk and role not in (Role.LEADER, Role.ADMIN):
            continue
        if best is None or ROLE_RANK[role] > ROLE_RANK[best]:
            best = role
    return best


def leads_team(user, team: Team) -> bool:
    role = role_in(user, team)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.LEAD]


def settings_for(membership: Membership) -> MemberSettings:
    found, _ = MemberSettings.objects.get_or_create(membership=membership)
    return found


def _require_lead(user, team: Team, doing: str) -> None:
    if not leads_team(user, team):
        raise WorkError(
            "lead_required",
            "Only a lead of {team} (or a leader of its entity) may {doing}.",
            team=team.name,
            doing=doing,
        )


# Creating and assigning -------------------------------------------------------------


def sla_due_at(team: Team, kind: str, start: dt.datetime) -> tuple[dt.datetime | None, int | None]:
    """Return (due instant, priority) from the team's SLA for the kind, or (None, None)."""
    policy = SlaPolicy.objects.filter(team=team, kind=kind).first()
    if policy is None:
        return None, None
    return start + dt.timedelta(hours=policy.resolution_hours), policy.priority


@transaction.atomic
def create_work_item(
    *,
    kind,
    title,
    team,
    customer=None,
    owner=None,
    priority=None,
    due_at=None,
    subject_type="",
    subject_id="",
    actor=None,
    amount: Decimal | None = None,
    required_skill: str = "",
    assign: bool = True,
    **data,
) -> WorkItem:
    """Open a work item in a team's queue and note it on the customer's timeline.

    Without `due_at` the due date comes from the team's SLA for the kind of work; without
    `owner` the team's assignment rules pick a person with free capacity (unless
    `assign` is false), and the item stays in the team queue when nobody has room.
    """
    now = timezone.now()
    sla_due, sla_priority = sla_due_at(team, kind, now)
    item = WorkItem.objects.create(
        kind=kind,
        title=title[:200],
        entity=team.entity,
        customer=customer,
        team=team,
        owner=owner,
        priority=priority or sla_priority or 3,
        due_at=due_at or sla_due,
        subject_type=subject_type,
        subject_id=str(subject_id),
        created_by=actor,
        amount=amount,
        required_skill=required_skill,
        assigned_at=now if owner else None,
        data=data,
    )
    _event(item, WorkEventKind.CREATED, actor, to_team=team, to_owner=owner)
    if customer is not None:
        record_event(
            customer,
            "work_opened",
            f"{item.get_kind_display()} opened for {team.name}: {item.title}",
            actor=actor,
            work_item_id=item.pk,
        )
    if owner is not None:
        _note_assignment(owner, item)
    elif assign:
        auto_assign(item, actor=actor)
    logger.info("Work item %s: opened (%s, team %s)", item.pk, kind, team.pk)
    return item


def open_counts(user_ids) -> dict[int, int]:
    """Return {user id: open work items owned} for the given people, in one query."""
    rows = (
        WorkItem.objects.filter(owner_id__in=list(user_ids), state__in=OPEN_WORK_STATES)
        .values("owner_id")
        .annotate(total=Count("id"))
        .order_by()
    )
    return {row["owner_id"]: row["total"] for row in rows}


def away_user_ids(user_ids, on: dt.date) -> set[int]:
    return set(
        Absence.objects.filter(
            user_id__in=list(user_ids), starts_on__lte=on, ends_on__gte=on
        ).values_list("user_id", flat=True)
    )


def _rule_matches(rule: AssignmentRule, item: WorkItem) -> bool:
    customer = item.customer
    if rule.kind and rule.kind != item.kind:
        return False
    if rule.portfolio_id and (
        customer is None or not rule.portfolio.customers.filter(pk=customer.pk).exists()
    ):
        return False
    if rule.region and (customer is None or customer.region.lower() != rule.region.lower()):
        return False
    if rule.language and (customer is None or customer.language.lower() != rule.language.lower()):
        return False
    if rule.min_amount is not None and (item.amount is None or item.amount < rule.min_amount):
        return False
    return not (
        rule.max_amount is not None and (item.amount is None or item.amount > rule.max_amount)
    )


def required_role(item: WorkItem) -> str | None:
    """Return the least role that may decide the item (its data's `required_role`), if set."""
    role = (item.data or {}).get("required_role")
    return role if role in ROLE_RANK else None


def assignable_roles(item: WorkItem) -> list[str]:
    """Return the team roles that may own the item, from its required role up to leader.

    Without a required role, members and leads of the team may own it.
    """
    needed = required_role(item)
    if needed is None:
        return [Role.MEMBER, Role.LEAD]
    return [
        role
        for role in (Role.MEMBER, Role.LEAD, Role.LEADER)
        if ROLE_RANK[role] >= ROLE_RANK[needed]
    ]


def _candidates(item: WorkItem, rule: AssignmentRule | None) -> list[int]:
    team_members = Membership.objects.filter(team=item.team, role__in=assignable_roles(item))
    if rule is not None and rule.assignees.exists():
        pool = list(rule.assignees.values_list("pk", flat=True))
    elif rule is not None and rule.portfolio_id:
        pool = list(rule.portfolio.members.values_list("pk", flat=True))
    elif (
        item.customer_id
        and required_role(item) in (None, Role.MEMBER)
        and item.team.portfolios.filter(customers=item.customer_id).exists()
    ):
        # A lead or leader sees every portfolio, so only member-level work follows the book.
        pool = list(
            get_user_model()
            .objects.filter(portfolios__team=item.team, portfolios__customers=item.customer_id)
            .values_list("pk", flat=True)
        )
    else:
        pool = list(team_members.values_list("user_id", flat=True))
    return list(team_members.filter(user_id__in=pool).values_list("user_id", flat=True))


def choose_assignee(item: WorkItem) -> tuple[int | None, str]:
    """Return (user id or None, why) for an unassigned item under the team's rules."""
    rules = [
        rule
        for rule in AssignmentRule.objects.filter(team=item.team, is_active=True).select_related(
            "portfolio"
        )
        if _rule_matches(rule, item)
    ]
    rule = rules[0] if rules else None
    candidates = _candidates(item, rule)
    skill = (rule.skill if rule else "") or item.required_skill
    memberships = {
        membership.user_id: membership
        for membership in Membership.objects.filter(
            team=item.team, user_id__in=candidates, user__is_active=True
        ).select_related("settings")
    }
    loads = open_counts(memberships)
    away = away_user_ids(memberships, item.entity.today())
    eligible = []
    for user_id, membership in memberships.items():
        own = getattr(membership, "settings", None) or MemberSettings(membership=membership)
        if skill and skill.lower() not in MemberSettings.split(own.skills):
            continue
        if user_id in away or loads.get(user_id, 0) >= own.capacity:
            continue
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        eligible.append((own.last_assigned_at or never, user_id))
    label = f"rule {rule.name!r}" if rule else "no rule matched"
    if not eligible:
        return None, f"{label}: nobody with free capacity" + (
            f" and skill {skill!r}" if skill else ""
        )
    # Round robin: the eligible person assigned longest ago goes next.
    eligible.sort()
    return eligible[0][1], f"{label}, round robin within capacity"


def auto_assign(item: WorkItem, *, actor=None) -> WorkItem:
    user_id, why = choose_assignee(item)
    if user_id is None:
        _event(item, WorkEventKind.UNASSIGNED, actor, note=why)
        return item
    item.owner_id = user_id
    item.assigned_at = timezone.now()
    item.save(update_fields=["owner", "assigned_at"])
    _event(item, WorkEventKind.ASSIGNED, actor, to_owner_id=user_id, note=why)
    _note_assignment(item.owner, item)
    return item


def _note_assignment(user, item: WorkItem) -> None:
    MemberSettings.objects.filter(membership__user=user, membership__team=item.team).update(
        last_assigned_at=timezone.now()
    )
    if not MemberSettings.objects.filter(membership__user=user, membership__team=item.team):
        membership = Membership.objects.filter(user=user, team=item.team).first()
        if membership is not None:
            MemberSettings.objects.create(membership=membership, last_assigned_at=timezone.now())


def _event(item, kind, actor, note="", **links) -> WorkEvent:
    return WorkEvent.objects.create(
        item=item, occurred_at=timezone.now(), actor=actor, kind=kind, note=note, **links
    )


# Moving work --------------------------------------------------------------------------


def may_own(user, item: WorkItem) -> bool:
    """Return whether the person's role in the item's team reaches its required role."""
    needed = required_role(item)
    if needed is None:
        return True
    role = role_in(user, item.team)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[needed]


def _require_role(user, item: WorkItem) -> None:
    if not may_own(user, item):
        raise WorkError(
            "role_required",
            "Work item {id} needs a {role} or above to decide it; {user} cannot own it.",
            id=item.pk,
            role=required_role(item),
            user=user.get_username(),
        )


def _lock_open(item: WorkItem) -> WorkItem:
    item = WorkItem.objects.select_for_update().select_related("team__entity").get(pk=item.pk)
    if item.state not in OPEN_WORK_STATES:
        raise WorkError(
            "work_closed", "Work item {id} is already {state}.", id=item.pk, state=item.state
        )
    return item


@transaction.atomic
def reassign_work_item(item: WorkItem, to_user, *, actor, note: str = "") -> WorkItem:
    """Give an item to another member of its team; a lead's decision, kept in its history."""
    item = _lock_open(item)
    _require_lead(actor, item.team, "reassign its work")
    if not Membership.objects.filter(user=to_user, team=item.team).exists():
        raise WorkError(
            "not_a_member",
            "{user} is not a member of {team}; hand the item off to their team instead.",
            user=to_user.get_username(),
            team=item.team.name,
        )
    _require_role(to_user, item)
    previous = item.owner
    item.owner = to_user
    item.assigned_at = timezone.now()
    item.save(update_fields=["owner", "assigned_at"])
    _event(item, WorkEventKind.REASSIGNED, actor, from_owner=previous, to_owner=to_user, note=note)
    _note_assignment(to_user, item)
    notify(
        [to_user],
        "assigned",
        f"{actor.get_username()} gave you work item {item.pk}: {item.title}",
        item=item,
        exclude=actor,
    )
    if item.customer_id:
        record_event(
            item.customer,
            "work_reassigned",
            f"{item.get_kind_display()} {item.pk} reassigned to {to_user.get_username()}"
            + (f": {note}" if note else ""),
            actor=actor,
            work_item_id=item.pk,
        )
    return item


@transaction.atomic
def hand_off_work_item(item: WorkItem, to_team: Team, *, actor, note: str) -> WorkItem:
    """Move an item to another team with a note saying what they need to do.

    The receiving team's assignment rules then pick an owner, and its SLA for the kind
    of work sets a new due date.
    """
    if not note or not note.strip():
        raise WorkError(
            "note_required",
            "Write a note for {team} saying what they need to do before handing off.",
            team=to_team.name,
        )
    item = _lock_open(item)
    if item.owner_id != actor.pk and not leads_team(actor, item.team):
        raise WorkError(
            "not_yours",
            "Only the owner of work item {id} or a lead of {team} may hand it off.",
            id=item.pk,
            team=item.team.name,
        )
    if to_team.entity_id != item.entity_id:
        raise WorkError(
            "other_entity",
            "{team} works for another entity; work can only move within {entity}.",
            team=to_team.name,
            entity=item.entity.code,
        )
    if to_team.pk == item.team_id:
        raise WorkError(
            "same_team", "Work item {id} is already with {team}.", id=item.pk, team=to_team.name
        )
    from_team, from_owner = item.team, item.owner
    now = timezone.now()
    due_at, priority = sla_due_at(to_team, item.kind, now)
    item.team = to_team
    item.owner = None
    item.assigned_at = None
    item.escalation_level = 0
    item.escalated_at = None
    if due_at is not None:
        item.due_at = due_at
        item.priority = priority
    item.save(
        update_fields=[
            "team",
            "owner",
            "assigned_at",
            "escalation_level",
            "escalated_at",
            "due_at",
            "priority",
        ]
    )
    _event(
        item,
        WorkEventKind.HANDED_OFF,
        actor,
        from_team=from_team,
        to_team=to_team,
        from_owner=from_owner,
        note=note.strip(),
    )
    if item.customer_id:
        record_event(
            item.customer,
            "work_handed_off",
            f"{item.get_kind_display()} {item.pk} handed off from {from_team.name} to "
            f"{to_team.name}: {note.strip()}",
            actor=actor,
            work_item_id=item.pk,
        )
    auto_assign(item, actor=actor)
    item.refresh_from_db()
    recipients = [item.owner] if item.owner else team_leads(to_team)
    notify(
        recipients,
        "handed_off",
        f"{from_team.name} handed off work item {item.pk} ({item.title}): {note.strip()}",
        item=item,
        exclude=actor,
    )
    return item


@transaction.atomic
def decision_url(item: WorkItem) -> str | None:
    """Return the page where the item's subject is decided, if another module owns it.

    A credit approval is decided on its order, a dispute on its case: closing such an
    item by hand would leave the order on hold or the dispute open. Modules name their
    subjects in their AppConfig as `work_item_subjects`, {subject_type: dotted path of a
    function(item) returning a URL or None}.
    """
    for config in apps.get_app_configs():
        resolver = getattr(config, "work_item_subjects", {}).get(item.subject_type)
        if resolver:
            return import_string(resolver)(item)
    return None


def set_work_state(item: WorkItem, state: str, *, actor, outcome: str = "") -> WorkItem:
    """Move an item between open states, or close it (done or cancelled) with an outcome."""
    item = _lock_open(item)
    url = decision_url(item) if state in (WorkState.DONE, WorkState.CANCELLED) else None
    if url:
        raise WorkError(
            "decide_on_subject",
            "Work item {id} closes when its {subject} is decided; decide it at {url}.",
            id=item.pk,
            subject=item.get_kind_display().lower(),
            url=url,
        )
    if item.owner_id != actor.pk and not leads_team(actor, item.team):
        raise WorkError(
            "not_yours",
            "Only the owner of work item {id} or a lead of {team} may change it.",
            id=item.pk,
            team=item.team.name,
        )
    if state in (WorkState.DONE, WorkState.CANCELLED):
        if not outcome.strip():
            raise WorkError(
                "outcome_required", "Say what was done before closing work item {id}.", id=item.pk
            )
        return close_work_item(
            item, outcome=outcome, actor=actor, cancelled=state == WorkState.CANCELLED
        )
    if state not in WorkState.values:
        raise WorkError("invalid_state", "{state!r} is not a work item state.", state=state)
    item.state = state
    item.save(update_fields=["state"])
    _event(item, WorkEventKind.STATE, actor, note=state)
    return item


@transaction.atomic
def close_work_item(item: WorkItem, *, outcome: str, actor=None, cancelled=False) -> WorkItem:
    """Mark a work item done (or cancelled) with the outcome a person can read later."""
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    if item.state not in OPEN_WORK_STATES:
        raise WorkError(
            "work_closed", "Work item {id} is already {state}.", id=item.pk, state=item.state
        )
    item.state = WorkState.CANCELLED if cancelled else WorkState.DONE
    item.closed_at = timezone.now()
    item.outcome = outcome[:500]
    item.save(update_fields=["state", "closed_at", "outcome"])
    _event(item, WorkEventKind.CLOSED, actor, note=outcome)
    if item.customer_id:
        record_event(
            item.customer,
            "work_closed",
            f"{item.get_kind_display()} {item.get_state_display().lower()}: {outcome}",
            actor=actor,
            work_item_id=item.pk,
        )
    return item


# Comments and notifications ---------------------------------------------------------


def mentioned_users(body: str):
    names = {match.group(1) for match in MENTION_PATTERN.finditer(body)}
    if not names:
        return []
    return list(get_user_model().objects.filter(username__in=names, is_active=True))


@transaction.atomic
def add_comment(item: WorkItem, *, author, body: str) -> Comment:
    """Comment on an item; each @username mentioned is notified in the app and by e-mail.

    A person mentioned must be able to see the item; to bring in someone from another
    team, hand the item off instead.
    """
    from o2c.teams.selectors import visible_work_items

    body = (body or "").strip()
    if not body:
        raise WorkError("empty_comment", "Write something before posting a comment.")
    mentioned = [user for user in mentioned_users(body) if user.pk != author.pk]
    for user in mentioned:
        if not visible_work_items(user).filter(pk=item.pk).exists():
            raise WorkError(
                "mention_out_of_scope",
                "@{user} cannot see work item {id}; hand it off to their team instead.",
                user=user.get_username(),
                id=item.pk,
            )
    comment = Comment.objects.create(item=item, author=author, body=body)
    comment.mentions.set(mentioned)
    _event(item, WorkEventKind.COMMENTED, author, note=body[:1000])
    notify(
        mentioned,
        "mention",
        f"{author.get_username()} mentioned you on work item {item.pk} ({item.title}): "
        f"{body[:200]}",
        item=item,
    )
    if item.customer_id:
        record_event(
            item.customer,
            "commented",
            f"{author.get_username()} on {item.get_kind_display().lower()} {item.pk}: {body}",
            actor=author,
            work_item_id=item.pk,
        )
    return comment


def notify(users, kind: str, message: str, *, item: WorkItem | None = None, exclude=None):
    """Create in-app notifications and e-mail them after the transaction commits."""
    recipients = {user.pk: user for user in users if user is not None}
    if exclude is not None:
        recipients.pop(exclude.pk, None)
    notifications = Notification.objects.bulk_create(
        [
            Notification(user=user, item=item, kind=kind, message=message[:500])
            for user in recipients.values()
        ]
    )
    ids = [notification.pk for notification in notifications]
    if ids:
        transaction.on_commit(lambda: email_notifications(ids))
    return notifications


def email_notifications(notification_ids) -> int:
    """Send each notification by e-mail to people who have an address and want e-mail."""
    sent = 0
    pending = Notification.objects.filter(
        pk__in=notification_ids, emailed_at__isnull=True
    ).select_related("user", "user__o2c_settings", "item")
    for notification in pending:
        user = notification.user
        user_settings = getattr(user, "o2c_settings", None)
        if not user.email or (user_settings is not None and not user_settings.email_notifications):
            continue
        link = (
            reverse("teams:item_detail", args=[notification.item_id])
            if notification.item_id
            else reverse("teams:notifications")
        )
        try:
            send_mail(
                f"[o2c] {notification.message[:80]}",
                f"{notification.message}\n\nOpen it in o2c: {link}\n",
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
            )
        except OSError:
            logger.exception("Notification %s: e-mail to user %s failed", notification.pk, user.pk)
            continue
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


def mark_notifications_read(user, ids=None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def team_leads(team: Team) -> list:
    leads = [
        membership.user
        for membership in Membership.objects.filter(team=team, role=Role.LEAD).select_related(
            "user"
        )
    ]
    return leads or entity_leaders(team.entity_id)


def entity_leaders(entity_id) -> list:
    return [
        membership.user
        for membership in Membership.objects.filter(
            team__entity_id=entity_id, role=Role.LEADER
        ).select_related("user")
    ]


# Escalation -------------------------------------------------------------------------


@transaction.atomic
def escalate_breached_work(now: dt.datetime | None = None) -> dict[str, int]:
    """Escalate open items past their due instant: first to team leads, then to leaders.

    Level 1 happens once the due instant has passed: the item becomes priority 1 and the
    team's leads are told. Level 2 follows when the item is still open
    SECOND_ESCALATION_HOURS later: the entity's leaders are told. Each level happens once.
    """
    now = now or timezone.now()
    counts = {"level_1": 0, "level_2": 0}
    first = WorkItem.objects.select_related("team").filter(
        state__in=OPEN_WORK_STATES, due_at__lt=now, escalation_level=0
    )
    for item in first.select_for_update(of=("self",)):
        item.escalation_level = 1
        item.escalated_at = now
        item.priority = 1
        item.save(update_fields=["escalation_level", "escalated_at", "priority"])
        late = _hours_late(item, now)
        _event(item, WorkEventKind.ESCALATED, None, note=f"SLA breached by {late} h; level 1")
        notify(
            [*team_leads(item.team), item.owner],
            "escalated",
            f"SLA breached: work item {item.pk} ({item.title}) was due "
            f"{item.due_at:%Y-%m-%d %H:%M} UTC",
            item=item,
        )
        counts["level_1"] += 1
    second_cutoff = now - dt.timedelta(hours=SECOND_ESCALATION_HOURS)
    second = WorkItem.objects.select_related("team").filter(
        state__in=OPEN_WORK_STATES, due_at__lt=second_cutoff, escalation_level=1
    )
    for item in second.select_for_update(of=("self",)):
        item.escalation_level = 2
        item.escalated_at = now
        item.save(update_fields=["escalation_level", "escalated_at"])
        late = _hours_late(item, now)
        _event(item, WorkEventKind.ESCALATED, None, note=f"SLA breached by {late} h; level 2")
        notify(
            entity_leaders(item.entity_id),
            "escalated",
            f"Still open {late} h after its SLA: work item {item.pk} ({item.title}) "
            f"in {item.team.name}",
            item=item,
        )
        counts["level_2"] += 1
    if any(counts.values()):
        logger.info("Escalation: %s", counts)
    return counts


def _hours_late(item: WorkItem, now: dt.datetime) -> int:
    return int((now - item.due_at).total_seconds() // 3600)


# Out of office ------------------------------------------------------------------------


@transaction.atomic
def record_absence(user, *, starts_on, ends_on, deputy, actor, note: str = "") -> Absence:
    """Record that a person is away; from the first day their open items go to the deputy."""
    if ends_on < starts_on:
        raise WorkError(
            "absence_dates",
            "The absence ends on {end}, before it starts on {start}; swap the dates.",
            end=ends_on,
            start=starts_on,
        )
    if deputy.pk == user.pk:
        raise WorkError("deputy_is_self", "Name someone else as deputy.")
    shared = Team.objects.filter(memberships__user=user).filter(memberships__user=deputy)
    if not shared.exists():
        raise WorkError(
            "deputy_not_in_team",
            "{deputy} shares no team with {user}; choose a deputy from their team.",
            deputy=deputy.get_username(),
            user=user.get_username(),
        )
    if actor.pk != user.pk and not any(leads_team(actor, team) for team in user.teams.all()):
        raise WorkError(
            "lead_required", "Only the person or a lead of their team may record an absence."
        )
    absence = Absence.objects.create(
        user=user,
        starts_on=starts_on,
        ends_on=ends_on,
        deputy=deputy,
        note=note,
        created_by=actor,
    )
    apply_absences()
    absence.refresh_from_db()
    return absence


@transaction.atomic
def apply_absences(now: dt.datetime | None = None) -> int:
    """Move the open items of everyone whose absence has started to their deputy.

    Each absence is applied once, on its first day in the time zone of the person's
    entity. Items created for the person later go to others, because the assignment
    rules skip people who are away.
    """
    now = now or timezone.now()
    moved = 0
    pending = Absence.objects.filter(applied_at__isnull=True).select_related("user", "deputy")
    for absence in pending:
        team = Team.objects.filter(memberships__user=absence.user).select_related("entity").first()
        time_zone = team.entity.time_zone if team else "UTC"
        today = dates.local_date(time_zone, now)
        if not absence.starts_on <= today <= absence.ends_on:
            continue
        items = list(WorkItem.objects.filter(owner=absence.user, state__in=OPEN_WORK_STATES))
        for item in items:
            away_note = f"{absence.user.get_username()} is away until {absence.ends_on}"
            if not may_own(absence.deputy, item):
                # The deputy could not decide it, so it waits in the team queue for a lead.
                item.owner = None
                item.assigned_at = None
                item.save(update_fields=["owner", "assigned_at"])
                _event(
                    item,
                    WorkEventKind.UNASSIGNED,
                    absence.created_by,
                    note=f"{away_note}; {absence.deputy.get_username()} lacks the "
                    f"{required_role(item)} role it needs",
                )
                continue
            item.owner = absence.deputy
            item.assigned_at = now
            item.save(update_fields=["owner", "assigned_at"])
            _event(
                item,
                WorkEventKind.REASSIGNED,
                absence.created_by,
                from_owner=absence.user,
                to_owner=absence.deputy,
                note=away_note,
            )
            moved += 1
        absence.applied_at = now
        absence.save(update_fields=["applied_at"])
        if items:
            notify(
                [absence.deputy],
                "deputy",
                f"You deputise for {absence.user.get_username()} until {absence.ends_on}: "
                f"{len(items)} work item(s) moved to you",
            )
    return moved


# Targets -------------------------------------------------------------------------------


@transaction.atomic
def set_target(team: Team, *, metric, period_start, period_end, value, actor, user=None):
    """Set (or change) the figure expected of a team or one of its members over a period."""
    _require_lead(actor, team, "set its targets")
    if period_end < period_start:
        raise WorkError(
            "target_dates", "The period ends on {end}, before it starts.", end=period_end
        )
    if user is not None and not Membership.objects.filter(team=team, user=user).exists():
        raise WorkError(
            "not_a_member",
            "{user} is not a member of {team}.",
            user=user.get_username(),
            team=team.name,
        )
    target, _ = Target.objects.update_or_create(
        team=team,
        user=user,
        metric=metric,
        period_start=period_start,
        period_end=period_end,
        defaults={"value": Decimal(value), "set_by": actor},
    )
    return target
