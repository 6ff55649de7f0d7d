"""Reads of disputes that apply the person's scope, and the root-cause report."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from o2c.core.db import DaysBetween
from o2c.disputes.models import Dispute, DisputeStatus, WriteOffRequest
from o2c.disputes.routing import fallback_entity_ids, staffed_teams
from o2c.parties.selectors import customers_for
from o2c.teams.selectors import lead_team_ids

REPORT_DIMENSIONS = {
    "reason": "reason",
    "customer": "customer__number",
    "team": "team__name",
    "resolution": "resolution",
}


def disputes_for(user) -> QuerySet:
    """Return the disputes the person may see.

    Those are the disputes of customers in their scope, of teams they are in or lead,
    and the ones they own. Members of an entity's fallback team also see the entity's
    disputes that have no team or whose team has no active member.
    """
    if not user.is_authenticated or not user.is_active:
        return Dispute.objects.none()
    unstaffed = Q(team__isnull=True) | ~Q(team_id__in=staffed_teams().values("pk"))
    scope = (
        Q(customer__in=customers_for(user))
        | Q(team_id__in=lead_team_ids(user))
        | Q(team__memberships__user=user)
        | Q(owner=user)
        | (Q(entity_id__in=fallback_entity_ids(user)) & unstaffed)
    )
    return Dispute.objects.filter(pk__in=Dispute.objects.filter(scope).values("pk")).select_related(
        "customer", "invoice", "team", "owner"
    )


def dispute_for(user, dispute_id: int) -> Dispute:
    dispute = disputes_for(user).filter(pk=dispute_id).first()
    if dispute is None:
        raise Http404("No such dispute.")
    return dispute


def write_off_for(user, request_id: int) -> WriteOffRequest:
    request = (
        WriteOffRequest.objects.filter(dispute__in=disputes_for(user), pk=request_id)
        .select_related("dispute", "requested_by")
        .first()
    )
    if request is None:
        raise Http404("No such write-off request.")
    return request


def root_cause_report(
    disputes: QuerySet, dimension: str, start: dt.date, end: dt.date
) -> list[dict]:
    """Return disputes opened in [start, end] grouped by a dimension, as SQL aggregates.

    Per group and currency: count, amount, resolved count, and the days to resolve of
    resolved disputes (total and mean; the mean is taken after summing, never in SQL).
    """
    field = REPORT_DIMENSIONS.get(dimension)
    if field is None:
        raise Http404("No such report dimension.")
    resolved = ~Q(status=DisputeStatus.OPEN) & Q(resolved_on__isnull=False)
    rows = (
        disputes.filter(opened_on__gte=start, opened_on__lte=end)
        .values(field, "currency")
        .annotate(
            count=Count("id"),
            amount=Sum("amount"),
            resolved=Count("id", filter=resolved),
            days=Sum(DaysBetween("resolved_on", "opened_on"), filter=resolved),
        )
        .order_by(field, "currency")
    )
    groups: dict[str, dict] = defaultdict(
        lambda: {"count": 0, "resolved": 0, "days": 0, "amounts": {}}
    )
    for row in rows:
        group = groups[row[field] or "(none)"]
        group["count"] += row["count"]
        group["resolved"] += row["resolved"]
        group["days"] += row["days"] or 0
        group["amounts"][row["currency"]] = row["amount"]
    result = []
    for key, group in sorted(groups.items(), key=lambda pair: -pair[1]["count"]):
        mean = (
            (Decimal(group["days"]) / group["resolved"]).quantize(Decimal("0.1"))
            if group["resolved"]
            else None
        )
        result.append({"key": key, **group, "mean_days_to_resolve": mean})
    return result


def decision_url(item) -> str | None:
    """Return the page of the dispute a work item is about (a case, deduction or write-off)."""
    from django.urls import reverse

    from o2c.disputes.models import Dispute, WriteOffRequest

    dispute = None
    if item.subject_type == "disputes.case":
        dispute = Dispute.objects.filter(work_item=item).order_by("pk").first()
    elif item.subject_type == "disputes.dispute" and item.subject_id.isdigit():
        dispute = Dispute.objects.filter(pk=int(item.subject_id)).first()
    elif item.subject_type == "disputes.writeoffrequest" and item.subject_id.isdigit():
        request = WriteOffRequest.objects.filter(pk=int(item.subject_id)).first()
        dispute = request.dispute if request else None
    return reverse("disputes:detail", args=[dispute.pk]) if dispute else None
