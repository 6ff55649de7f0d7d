"""Routing of disputes to the team that works on them.

A dispute is routed to the team that can fix its reason. A team with no active member
cannot work on anything, so routing skips it. A dispute without a team, or whose team
has lost its members, falls back to the entity's disputes team (or to its collections
team when there is no disputes team).
"""

from django.db.models import QuerySet

from o2c.disputes.models import DisputeReason
from o2c.teams.models import Team, TeamFunction

# The team function that can fix each reason; the fallback teams take the rest.
ROUTING = {
    DisputeReason.PRICING: TeamFunction.SALES,
    DisputeReason.QUANTITY: TeamFunction.LOGISTICS,
    DisputeReason.DELIVERY: TeamFunction.LOGISTICS,
    DisputeReason.QUALITY: TeamFunction.CUSTOMER_SERVICE,
    DisputeReason.DUPLICATE_BILLING: TeamFunction.BILLING,
    DisputeReason.TAX: TeamFunction.BILLING,
}
FALLBACK_FUNCTIONS = [TeamFunction.DISPUTES, TeamFunction.COLLECTIONS]


def staffed_teams() -> QuerySet:
    """Return the teams with at least one active member."""
    return Team.objects.filter(memberships__user__is_active=True).distinct()


def fallback_team(entity) -> Team | None:
    """Return the entity's team for disputes no other team works on.

    The first staffed team of FALLBACK_FUNCTIONS wins. When none is staffed, the first
    existing one is returned, so the dispute still has a queue and the entity's leaders
    can act on it.
    """
    teams = Team.objects.filter(entity=entity, function__in=FALLBACK_FUNCTIONS)
    staffed = set(staffed_teams().filter(entity=entity).values_list("pk", flat=True))
    ordered = sorted(teams, key=lambda team: (FALLBACK_FUNCTIONS.index(team.function), team.name))
    for team in ordered:
        if team.pk in staffed:
            return team
    return ordered[0] if ordered else None


def route_team(entity, reason: str) -> Team | None:
    """Return the staffed team of the entity that can fix a dispute of this reason."""
    function = ROUTING.get(reason)
    if function is not None:
        team = staffed_teams().filter(entity=entity, function=function).order_by("name").first()
        if team is not None:
            return team
    return fallback_team(entity)


def responsible_team(dispute) -> Team | None:
    """Return the team that works on the dispute now.

    That is its routed team while the team has an active member, and otherwise the
    entity's fallback team.
    """
    team = dispute.team
    if team is not None and team.memberships.filter(user__is_active=True).exists():
        return team
    return fallback_team(dispute.entity)


def fallback_entity_ids(user) -> list[int]:
    """Return the entities whose fallback team has the person as a member."""
    teams = Team.objects.filter(memberships__user=user, function__in=FALLBACK_FUNCTIONS)
    return [
        team.entity_id
        for team in teams.select_related("entity")
        if (chosen := fallback_team(team.entity)) is not None and chosen.pk == team.pk
    ]


def route_unrouted_disputes(entity) -> int:
    """Give the entity's open disputes that have no team to its fallback team.

    Disputes imported before the entity had teams carry none. Returns how many were
    routed.
    """
    from o2c.disputes.models import Dispute, DisputeStatus

    team = fallback_team(entity)
    if team is None:
        return 0
    return Dispute.objects.filter(
        entity=entity, team__isnull=True, status=DisputeStatus.OPEN
    ).update(team=team)
