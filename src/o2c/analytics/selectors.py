"""Which customers a person's reports cover."""

from django.db.models import QuerySet
from django.http import Http404

from o2c.parties.selectors import customers_for
from o2c.teams.selectors import sees_whole_entity


def report_scope(user, entity, customer_number: str | None = None) -> QuerySet | None:
    """Return the customers to report on, or None for the whole entity.

    A leader or administrator reports on the whole entity; anyone else only on the
    customers of their portfolios. Asking for a customer outside that scope is a 404.
    """
    if customer_number:
        customers = customers_for(user, entity=entity).filter(number=customer_number)
        if not customers.exists():
            raise Http404("No such customer.")
        return customers
    if sees_whole_entity(user, entity):
        return None
    return customers_for(user, entity=entity)
