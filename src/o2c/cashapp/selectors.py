"""Who may work the cash application queue, and the reads the queue pages make.

Bank lines belong to an entity before they belong to a customer, so the queue is
scoped by entity: members of the entity's cash application teams work it, and the
entity's leaders and administrators see it. Customers and open items shown beside a
line are limited to the customers the person may see.
"""

import contextlib
from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet
from django.http import Http404

from o2c.banking.models import OPEN_LINE_STATES, LineState, StatementLine
from o2c.cashapp.models import CustomerHint, Suggestion
from o2c.ledger.models import Document, Side
from o2c.ledger.selectors import open_documents
from o2c.parties.models import LegalEntity
from o2c.teams.models import Membership, Role, TeamFunction
from o2c.teams.selectors import is_admin, led_entities, visible_customers

QUEUE_STATES = (LineState.EXCEPTION, LineState.NEW)


def cash_entities(user) -> QuerySet:
    """Return the entities whose bank lines the person may see and work."""
    if not user.is_authenticated or not user.is_active:
        return LegalEntity.objects.none()
    if is_admin(user):
        return LegalEntity.objects.all()
    member_of = Membership.objects.filter(
        user=user, team__function=TeamFunction.CASH_APPLICATION
    ).values("team__entity")
    return LegalEntity.objects.filter(Q(pk__in=member_of) | Q(pk__in=led_entities(user)))


def works_cash(user) -> bool:
    """Return whether the person works bank lines in any entity (queue and statements)."""
    return cash_entities(user).exists()


def can_edit_rules(user, entity: LegalEntity) -> bool:
    """Leads of the entity's cash application teams, its leaders and administrators."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user) or led_entities(user).filter(pk=entity.pk).exists():
        return True
    return Membership.objects.filter(
        user=user,
        team__entity=entity,
        team__function=TeamFunction.CASH_APPLICATION,
        role__in=[Role.LEAD, Role.LEADER, Role.ADMIN],
    ).exists()


def rule_entities(user) -> list[LegalEntity]:
    return [entity for entity in cash_entities(user) if can_edit_rules(user, entity)]


def queue_lines(user, *, entity=None, search: str = "") -> QuerySet:
    lines = StatementLine.objects.filter(
        entity__in=cash_entities(user), state__in=QUEUE_STATES, amount__gt=0
    ).select_related("bank_account", "entity")
    if entity is not None:
        lines = lines.filter(entity=entity)
    if search:
        lines = lines.filter(
            Q(counterparty_name__icontains=search)
            | Q(remittance_info__icontains=search)
            | Q(structured_reference__icontains=search)
            | Q(end_to_end_id__icontains=search)
        )
    return lines.order_by("booking_date", "id")


def line_for(user, line_id: int) -> StatementLine:
    """Return a bank line the person may work on; otherwise raise 404."""
    line = (
        StatementLine.objects.filter(pk=line_id, entity__in=cash_entities(user))
        .select_related("bank_account", "entity", "statement")
        .first()
    )
    if line is None:
        raise Http404("No such bank line.")
    return line


def suggestions_for(user, line: StatementLine) -> list[Suggestion]:
    """Return the line's suggestions about customers the person may see."""
    return list(
        Suggestion.objects.filter(line=line, customer__in=visible_customers(user))
        .select_related("customer")
        .order_by("rank")
    )


def best_suggestions(user, lines) -> dict[int, Suggestion]:
    """Return {line id: best visible suggestion} for a page of lines, in one query."""
    found: dict[int, Suggestion] = {}
    suggestions = (
        Suggestion.objects.filter(line__in=lines, customer__in=visible_customers(user))
        .select_related("customer")
        .order_by("line_id", "rank")
    )
    for suggestion in suggestions:
        found.setdefault(suggestion.line_id, suggestion)
    return found


def search_open_items(user, entity: LegalEntity, text: str, limit: int = 30) -> list[Document]:
    """Return open debit items of visible customers matching a number, name or amount."""
    documents = Document.objects.filter(
        entity=entity, side=Side.DEBIT, customer__in=visible_customers(user)
    ).select_related("customer")
    text = text.strip()
    if text:
        condition = (
            Q(number__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(customer__number__iexact=text)
        )
        with contextlib.suppress(InvalidOperation, ValueError):
            amount = Decimal(text.replace(",", ""))
            if amount.is_finite() and amount == amount.quantize(Decimal("0.0001")):
                condition |= Q(amount=amount)
        documents = documents.filter(condition)
    return list(open_documents(documents).order_by("due_date", "id")[:limit])


def hints_for(user, entity: LegalEntity, limit: int = 200) -> list[CustomerHint]:
    return list(
        CustomerHint.objects.filter(entity=entity, customer__in=visible_customers(user))
        .select_related("customer")
        .order_by("customer__number", "kind", "value")[:limit]
    )


def open_line_count(user) -> int:
    return StatementLine.objects.filter(
        entity__in=cash_entities(user), state__in=OPEN_LINE_STATES, amount__gt=0
    ).count()
