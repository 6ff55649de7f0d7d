"""Reads of bank accounts and statements, scoped to the entities a person works for."""

from django.db.models import F, QuerySet
from django.http import Http404

from o2c.banking.models import Statement


def statements_for(user, *, entity=None) -> QuerySet:
    from o2c.cashapp.selectors import cash_entities

    statements = Statement.objects.filter(
        bank_account__entity__in=cash_entities(user)
    ).select_related("bank_account", "bank_account__entity")
    if entity is not None:
        statements = statements.filter(bank_account__entity=entity)
    # Statements without a period (some files carry none) go last on every database.
    return statements.order_by(F("period_to").desc(nulls_last=True), "-id")


def statement_for(user, statement_id: int) -> Statement:
    """Return a statement the person may see; otherwise raise 404."""
    statement = statements_for(user).filter(pk=statement_id).first()
    if statement is None:
        raise Http404("No such statement.")
    return statement
