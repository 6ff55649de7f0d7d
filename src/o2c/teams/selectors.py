"""Which entities and customers a person may see, applied by every view and API call."""

from django.db.models import Q, QuerySet

from o2c.parties.models import Customer, LegalEntity
from o2c.teams.models import Membership, Role, Team, TeamFunction

# Teams whose work arrives by bank line, case or invoice rather than from a book of
# customers: their members work on every customer of the team's entity.
ENTITY_WIDE_FUNCTIONS = (
    TeamFunction.CASH_APPLICATION,
    TeamFunction.DISPUTES,
    TeamFunction.CUSTOMER_SERVICE,
    TeamFunction.BILLING,
)


def is_admin(user) -> bool:
    """Return whether the person is a superuser or has an administrator membership.

    The result is cached on the user object, which Django loads afresh for each request,
    because every scope check of a page calls this again.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_o2c_is_admin", None)
    if cached is None:
        cached = Membership.objects.filter(user=user, role=Role.ADMIN).exists()
        user._o2c_is_admin = cached
    return cached


def visible_entities(user) -> QuerySet:
    """Return the entities in which the person sees at least some customers."""
    if not user.is_authenticated or not user.is_active:
        return LegalEntity.objects.none()
    if is_admin(user):
        return LegalEntity.objects.all()
    return LegalEntity.objects.filter(teams__memberships__user=user).distinct()


def led_entities(user) -> QuerySet:
    """Return the entities in which the person sees every customer (leader or admin)."""
    if is_admin(user):
        return LegalEntity.objects.all()
    return LegalEntity.objects.filter(
        teams__memberships__user=user, teams__memberships__role=Role.LEADER
    ).distinct()


def entity_wide_entity_ids(user) -> QuerySet:
    """Return the ids of the entities where the person is in a team of ENTITY_WIDE_FUNCTIONS."""
    return Team.objects.filter(memberships__user=user, function__in=ENTITY_WIDE_FUNCTIONS).values(
        "entity_id"
    )


def visible_customers(user) -> QuerySet:
    """Return the customers a person may see, by the function of their teams.

    Collections and credit (and sales and logistics) are organised by books: a member
    sees the customers of the portfolios they belong to and a lead those of every
    portfolio of their teams. Cash application, disputes, customer service and billing
    are not: any member of such a team sees every customer of the team's entity. A
    leader sees every customer of their teams' entities and an administrator everyone.
    Nobody sees a customer of an entity where they have no team, unless they are an
    administrator.
    """
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    if is_admin(user):
        return Customer.objects.all()
    scope = (
        Q(entity__in=led_entities(user))
        | Q(entity_id__in=entity_wide_entity_ids(user))
        | Q(portfolios__members=user)
        | Q(
            portfolios__team__memberships__user=user,
            portfolios__team__memberships__role=Role.LEAD,
        )
    )
    return Customer.objects.filter(pk__in=Customer.objects.filter(scope).values("pk"))


def has_entity(user) -> bool:
    """Return whether the person works in at least one entity."""
    return visible_entities(user).exists()


def sees_whole_entity(user, entity) -> bool:
    return led_entities(user).filter(pk=entity.pk).exists()


def lead_team_ids(user) -> list[int]:
    """Return the teams the person leads: as lead of the team, or leader of its entity."""
    from o2c.teams.models import Team

    if is_admin(user):
        return list(Team.objects.values_list("pk", flat=True))
    return list(
        Team.objects.filter(
            Q(memberships__user=user, memberships__role=Role.LEAD)
            | Q(entity__in=led_entities(user))
        )
        .distinct()
        .values_list("pk", flat=True)
    )


def visible_work_items(user) -> QuerySet:
    """Return the work items a person may see.

    Anyone sees the items they own and those about customers in their scope; a lead
    also sees every item of their teams, a leader every item of their entities. Items
    about no customer are seen by the members of their team.
    """
    from o2c.teams.models import WorkItem

    if not user.is_authenticated or not user.is_active:
        return WorkItem.objects.none()
    if is_admin(user):
        return WorkItem.objects.all()
    scope = (
        Q(owner=user)
        | Q(customer__in=visible_customers(user))
        | Q(team_id__in=lead_team_ids(user))
        | Q(customer__isnull=True, team__memberships__user=user)
    )
    return WorkItem.objects.filter(pk__in=WorkItem.objects.filter(scope).values("pk"))


def work_item_for(user, item_id: int):
    """Return the work item if the person may see it; otherwise raise 404."""
    from django.http import Http404

    item = (
        visible_work_items(user)
        .select_related("team", "owner", "customer", "entity")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404("No such work item.")
    return item


def leads_any_team(user) -> bool:
    """Return whether the person leads a team, so the team figures page opens for them."""
    return bool(lead_team_ids(user))


def led_teams(user) -> QuerySet:
    from o2c.teams.models import Team

    return Team.objects.filter(pk__in=lead_team_ids(user)).select_related("entity")


def team_for_lead(user, team_id: int):
    """Return the team if the person leads it; otherwise raise 404."""
    from django.http import Http404

    team = led_teams(user).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    return team
