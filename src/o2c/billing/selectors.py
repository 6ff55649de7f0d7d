"""Reads of invoices and credit notes that apply the person's scope and role."""

from django.db.models import Q, QuerySet
from django.http import Http404

from o2c.billing.models import CreditNote, Invoice
from o2c.teams.models import Membership, Role, TeamFunction
from o2c.teams.selectors import is_admin, visible_customers


def invoices_for(user, *, customer=None, status: str = "", search: str = "") -> QuerySet:
    """Return the invoices of the customers the person may see, newest first."""
    invoices = Invoice.objects.filter(customer__in=visible_customers(user)).select_related(
        "customer", "entity"
    )
    if customer is not None:
        invoices = invoices.filter(customer=customer)
    if status:
        invoices = invoices.filter(status=status)
    if search:
        invoices = invoices.filter(
            Q(number__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(customer__number__icontains=search)
            | Q(order_reference__icontains=search)
        )
    return invoices.order_by("-invoice_date", "-id")


def invoice_for(user, invoice_id: int) -> Invoice:
    """Return the invoice if the person may see its customer; otherwise raise 404."""
    invoice = (
        invoices_for(user).select_related("payment_term", "document").filter(pk=invoice_id).first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def credit_note_for(user, credit_note_id: int) -> CreditNote:
    credit_note = (
        CreditNote.objects.filter(customer__in=visible_customers(user), pk=credit_note_id)
        .select_related("customer", "entity", "invoice")
        .first()
    )
    if credit_note is None:
        raise Http404("No such credit note.")
    return credit_note


def can_bill(user, entity) -> bool:
    """Return whether the person may post, send and credit invoices of the entity.

    Members of the entity's billing team may, and so may its leaders and administrators.
    Other teams can read the invoices of their customers but cannot change them.
    """
    if is_admin(user):
        return True
    return Membership.objects.filter(
        Q(team__function=TeamFunction.BILLING) | Q(role=Role.LEADER),
        user=user,
        team__entity=entity,
    ).exists()
