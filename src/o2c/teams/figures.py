"""The leaders' figures per team and per person, as SQL aggregates over a period.

Definitions (period = calendar dates [start, end] in the entity's time zone, instants
compared in UTC at the period's bounds):

- open items: work items open now, by owner (the team's queue has no owner).
- work done: work items closed as done in the period, by their owner at closing.
- SLA breaches: work items due in the period and already past due, which were still
  open at their due instant (closed after it, or not closed yet). Cancelled items are
  not counted.
- promises kept rate: promises to pay settled in the period (kept or broken) that were
  kept, ÷ those settled, by the person who recorded them.
- collected: payments applied in the period (allocations of payment documents, in base
  currency, undo allocations netted) to customers of the person's portfolios in the
  team; for the team, to customers of any of its portfolios, each counted once.
- disputes resolved and days to resolve: disputes the team resolved in the period, and
  Σ (resolution date − opening date) ÷ their number, by the dispute's owner.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from o2c.core.db import DaysBetween
from o2c.teams.models import OPEN_WORK_STATES, Membership, Target, Team, WorkItem, WorkState

ZERO = Decimal("0")
METRICS = [
    "open_items",
    "work_done",
    "sla_breaches",
    "promises_kept",
    "promises_broken",
    "promises_kept_rate",
    "collected",
    "disputes_resolved",
    "days_to_resolve",
]


@dataclass
class Figures:
    open_items: int = 0
    work_done: int = 0
    sla_breaches: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    collected: Decimal = ZERO
    disputes_resolved: int = 0
    resolve_days_total: int = 0
    targets: dict[str, Decimal] = field(default_factory=dict)

    @property
    def promises_kept_rate(self) -> Decimal | None:
        settled = self.promises_kept + self.promises_broken
        if not settled:
            return None
        return (Decimal(self.promises_kept) * 100 / settled).quantize(Decimal("0.1"))

    @property
    def days_to_resolve(self) -> Decimal | None:
        if not self.disputes_resolved:
            return None
        return (Decimal(self.resolve_days_total) / self.disputes_resolved).quantize(Decimal("0.1"))

    def against(self) -> list[dict]:
        """Return each metric with its target and whether the target is met."""
        rows = []
        for metric, value in (
            ("work_done", self.work_done),
            ("sla_breaches", self.sla_breaches),
            ("promises_kept_rate", self.promises_kept_rate),
            ("collected", self.collected),
            ("disputes_resolved", self.disputes_resolved),
            ("days_to_resolve", self.days_to_resolve),
        ):
            target = self.targets.get(metric)
            met = None
            if target is not None and value is not None:
                at_most = metric in ("sla_breaches", "days_to_resolve")
                met = value <= target if at_most else value >= target
            rows.append({"metric": metric, "value": value, "target": target, "met": met})
        return rows


@dataclass
class TeamFigures:
    team: Team
    start: dt.date
    end: dt.date
    total: Figures
    people: dict[int, Figures]
    names: dict[int, str]
    queue: int


def _bounds(team: Team, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(team.entity.time_zone)
    low = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return low, high


def _breach_filter(low, high, now) -> Q:
    return (
        Q(due_at__gte=low, due_at__lt=min(high, now))
        & ~Q(state=WorkState.CANCELLED)
        & (Q(closed_at__isnull=True) | Q(closed_at__gt=F("due_at")))
    )


def team_figures(team: Team, start: dt.date, end: dt.date) -> TeamFigures:
    """Compute the team's figures and each member's over [start, end] in a few queries."""
    from o2c.collections.models import PromiseStatus, PromiseToPay
    from o2c.disputes.models import Dispute
    from o2c.ledger.models import Allocation, DocumentKind

    now = timezone.now()
    low, high = _bounds(team, start, end)
    members = {
        membership.user_id: membership.user.get_username()
        for membership in Membership.objects.filter(team=team).select_related("user")
    }
    people: dict[int, Figures] = defaultdict(Figures)
    total = Figures()

    work = (
        WorkItem.objects.filter(team=team)
        .values("owner_id")
        .annotate(
            open_items=Count("id", filter=Q(state__in=OPEN_WORK_STATES)),
            work_done=Count(
                "id", filter=Q(state=WorkState.DONE, closed_at__gte=low, closed_at__lt=high)
            ),
            sla_breaches=Count("id", filter=_breach_filter(low, high, now)),
        )
        .order_by()
    )
    queue = 0
    for row in work:
        for name in ("open_items", "work_done", "sla_breaches"):
            setattr(total, name, getattr(total, name) + row[name])
        if row["owner_id"] is None:
            queue = row["open_items"]
        else:
            figures = people[row["owner_id"]]
            for name in ("open_items", "work_done", "sla_breaches"):
                setattr(figures, name, row[name])

    promises = (
        PromiseToPay.objects.filter(team=team, settled_on__gte=start, settled_on__lte=end)
        .values("recorded_by_id")
        .annotate(
            kept=Count("id", filter=Q(status=PromiseStatus.KEPT)),
            broken=Count("id", filter=Q(status=PromiseStatus.BROKEN)),
        )
        .order_by()
    )
    for row in promises:
        total.promises_kept += row["kept"]
        total.promises_broken += row["broken"]
        if row["recorded_by_id"] is not None:
            people[row["recorded_by_id"]].promises_kept = row["kept"]
            people[row["recorded_by_id"]].promises_broken = row["broken"]

    payments = Allocation.objects.filter(
        credit_document__kind=DocumentKind.PAYMENT,
        allocated_on__gte=start,
        allocated_on__lte=end,
        entity=team.entity,
    )
    total.collected = (
        payments.filter(customer__in=team.portfolios.values("customers")).aggregate(
            total=Sum("credit_amount_base")
        )["total"]
        or ZERO
    )
    by_member = (
        payments.filter(customer__portfolios__team=team)
        .values(member=F("customer__portfolios__members"))
        .annotate(total=Sum("credit_amount_base"))
        .order_by()
    )
    for row in by_member:
        if row["member"] is not None:
            people[row["member"]].collected = row["total"] or ZERO

    disputes = (
        Dispute.objects.filter(team=team, resolved_on__gte=start, resolved_on__lte=end)
        .values("owner_id")
        .annotate(
            resolved=Count("id"),
            days=Sum(DaysBetween("resolved_on", "opened_on"), filter=Q(opened_on__isnull=False)),
        )
        .order_by()
    )
    for row in disputes:
        total.disputes_resolved += row["resolved"]
        total.resolve_days_total += row["days"] or 0
        if row["owner_id"] is not None:
            people[row["owner_id"]].disputes_resolved = row["resolved"]
            people[row["owner_id"]].resolve_days_total = row["days"] or 0

    targets = Target.objects.filter(team=team, period_start__lte=end, period_end__gte=start)
    for target in targets:
        holder = total if target.user_id is None else people[target.user_id]
        holder.targets[target.metric] = target.value
    for user_id in members:
        people[user_id]
    return TeamFigures(team, start, end, total, dict(people), members, queue)


def weekly_trend(team: Team, end: dt.date, weeks: int = 12) -> list[dict]:
    """Return work done, SLA breaches and collected per week for the `weeks` weeks to `end`."""
    from o2c.ledger.models import Allocation, DocumentKind

    monday = end - dt.timedelta(days=end.weekday())
    first = monday - dt.timedelta(weeks=weeks - 1)
    low, high = _bounds(team, first, end)
    now = timezone.now()
    done = (
        WorkItem.objects.filter(
            team=team, state=WorkState.DONE, closed_at__gte=low, closed_at__lt=high
        )
        .annotate(week=TruncWeek("closed_at", tzinfo=ZoneInfo(team.entity.time_zone)))
        .values("week")
        .annotate(total=Count("id"))
        .order_by()
    )
    breaches = (
        WorkItem.objects.filter(team=team)
        .filter(_breach_filter(low, high, now))
        .annotate(week=TruncWeek("due_at", tzinfo=ZoneInfo(team.entity.time_zone)))
        .values("week")
        .annotate(total=Count("id"))
        .order_by()
    )
    collected = (
        Allocation.objects.filter(
            entity=team.entity,
            credit_document__kind=DocumentKind.PAYMENT,
            allocated_on__gte=first,
            allocated_on__lte=end,
            customer__in=team.portfolios.values("customers"),
        )
        .annotate(week=TruncWeek("allocated_on", output_field=DateField()))
        .values("week")
        .annotate(total=Sum("credit_amount_base"))
        .order_by()
    )

    def week_of(value) -> dt.date:
        return value.date() if isinstance(value, dt.datetime) else value

    series = {
        first + dt.timedelta(weeks=index): {"work_done": 0, "sla_breaches": 0, "collected": ZERO}
        for index in range(weeks)
    }
    for rows, key in ((done, "work_done"), (breaches, "sla_breaches"), (collected, "collected")):
        for row in rows:
            week = week_of(row["week"])
            if week in series:
                series[week][key] = row["total"] or (ZERO if key == "collected" else 0)
    return [{"week": week, **values} for week, values in sorted(series.items())]


def drill_down(team: Team, metric: str, start: dt.date, end: dt.date, user_id=None):
    """Return the rows behind one figure: work items, promises or disputes."""
    from o2c.collections.models import PromiseToPay
    from o2c.disputes.models import Dispute

    now = timezone.now()
    low, high = _bounds(team, start, end)
    items = WorkItem.objects.filter(team=team).select_related("customer", "owner")
    owner = {"owner_id": user_id} if user_id else {}
    if metric == "open_items":
        return "work", items.filter(state__in=OPEN_WORK_STATES, **owner)
    if metric == "work_done":
        return "work", items.filter(
            state=WorkState.DONE, closed_at__gte=low, closed_at__lt=high, **owner
        )
    if metric == "sla_breaches":
        return "work", items.filter(_breach_filter(low, high, now), **owner)
    if metric in ("promises_kept", "promises_broken", "promises_kept_rate"):
        promises = PromiseToPay.objects.filter(
            team=team, settled_on__gte=start, settled_on__lte=end
        ).select_related("customer", "recorded_by")
        if user_id:
            promises = promises.filter(recorded_by_id=user_id)
        return "promises", promises
    if metric in ("disputes_resolved", "days_to_resolve"):
        disputes = Dispute.objects.filter(
            team=team, resolved_on__gte=start, resolved_on__lte=end
        ).select_related("customer", "invoice", "owner")
        if user_id:
            disputes = disputes.filter(owner_id=user_id)
        return "disputes", disputes
    return "work", items.none()
