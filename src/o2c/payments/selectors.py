"""Staff reads of payments, limited to the customers and entities the person may see."""

from django.db.models import Q, QuerySet
from django.http import Http404

from o2c.parties.models import LegalEntity
from o2c.payments.models import CollectionFile, DirectDebit, Payment, Payout
from o2c.teams.models import Membership, Role, TeamFunction
from o2c.teams.selectors import is_admin, led_entities, visible_customers

MANAGING_FUNCTIONS = [TeamFunction.CASH_APPLICATION, TeamFunction.BILLING]


def payments_for(user, *, status: str = "", search: str = "") -> QuerySet:
    """Return the payments a person may see.

    These are the payments of the customers they see, and every payment of the entities
    whose payments they manage (see `can_manage_payments`), since refunding and
    collecting need them whether or not the person has a portfolio.
    """
    scope = Q(customer__in=visible_customers(user)) | Q(entity__in=managed_entities(user))
    payments = Payment.objects.filter(scope).select_related("customer", "entity")
    if status:
        payments = payments.filter(status=status)
    if search:
        payments = payments.filter(
            Q(reference__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(customer__number__icontains=search)
            | Q(gateway_payment_id__icontains=search)
        )
    return payments.order_by("-created_at", "-id")


def payment_for(user, payment_id: int) -> Payment:
    payment = (
        payments_for(user)
        .select_related("document", "debit__mandate")
        .prefetch_related("items__invoice", "refunds", "events")
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise Http404("No such payment.")
    return payment


def can_manage_payments(user, entity) -> bool:
    """Return whether the person may refund and collect for the entity.

    Cash application and billing teams may, and so may leaders and administrators.
    """
    if is_admin(user):
        return True
    return Membership.objects.filter(
        Q(team__function__in=MANAGING_FUNCTIONS) | Q(role=Role.LEADER),
        user=user,
        team__entity=entity,
    ).exists()


def managed_entities(user) -> QuerySet:
    """Return the entities for which the person may refund and collect."""
    if is_admin(user):
        return LegalEntity.objects.all()
    if not user.is_authenticated or not user.is_active:
        return LegalEntity.objects.none()
    return LegalEntity.objects.filter(
        Q(teams__function__in=MANAGING_FUNCTIONS) | Q(teams__memberships__role=Role.LEADER),
        teams__memberships__user=user,
    ).distinct()


def collection_files_for(user) -> QuerySet:
    return CollectionFile.objects.filter(entity__in=managed_entities(user)).select_related("entity")


def collection_file_for(user, file_id: int) -> CollectionFile:
    found = collection_files_for(user).filter(pk=file_id).first()
    if found is None:
        raise Http404("No such collection file.")
    return found


def scheduled_debits_for(user) -> QuerySet:
    return (
        DirectDebit.objects.filter(payment__entity__in=managed_entities(user), status="scheduled")
        .select_related("payment__customer", "mandate")
        .order_by("collection_date", "id")
    )


def payouts_for(user) -> QuerySet:
    return Payout.objects.filter(entity__in=led_entities(user) | managed_entities(user))
