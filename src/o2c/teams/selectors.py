"""Which entities and customers a person may see, applied by every view and API call."""

from django.db.models import Q, QuerySet

from o2c.parties.models import Customer, LegalEntity
from o2c.teams.models import Membership, Role


def is_admin(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or Membership.objects.filter(user=user, role=Role.ADMIN).exists()


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


def visible_customers(user) -> QuerySet:
    """Return the customers a person may see.

    A member sees the customers of the portfolios they belong to, a lead those of every
    portfolio of their teams, a leader every customer of their teams' entities, and an
    administrator everyone.
    """
    if not user.is_authenticated or not user.is_active:
        return Customer.objects.none()
    if is_admin(user):
        return Customer.objects.all()
    scope = (
        Q(entity__in=led_entities(user))
        | Q(portfolios__members=user)
        | Q(
            portfolios__team__memberships__user=user,
            portfolios__team__memberships__role=Role.LEAD,
        )
    )
    return Customer.objects.filter(pk__in=Customer.objects.filter(scope).values("pk"))


def sees_whole_entity(user, entity) -> bool:
    return led_entities(user).filter(pk=entity.pk).exists()
