"""Reads of the ledger: documents with their open amount on a date."""

import datetime as dt
from decimal import Decimal

from django.db.models import (
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from o2c.core.fields import MoneyField
from o2c.ledger.models import Allocation, Document, Side

MONEY_FIELD = MoneyField()
ZERO_MONEY = Value(Decimal("0"), output_field=MONEY_FIELD)


def allocated_subquery(side: str, as_of: dt.date | None = None) -> Coalesce:
    """Return the sum of allocations on a document of `side`, dated on or before `as_of`."""
    if side == Side.DEBIT:
        link, field = "debit_document", "amount"
    else:
        link, field = "credit_document", "credit_amount"
    allocations = Allocation.objects.filter(**{link: OuterRef("pk")})
    if as_of is not None:
        allocations = allocations.filter(allocated_on__lte=as_of)
    total = allocations.order_by().values(link).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), ZERO_MONEY)


def with_open_amount(documents: QuerySet, as_of: dt.date | None = None) -> QuerySet:
    """Annotate `allocated`, `open_amount` and `is_reversed` on each document."""
    return documents.annotate(
        allocated=Case(
            When(side=Side.DEBIT, then=allocated_subquery(Side.DEBIT, as_of)),
            default=allocated_subquery(Side.CREDIT, as_of),
            output_field=MONEY_FIELD,
        ),
        open_amount=ExpressionWrapper(F("amount") - F("allocated"), output_field=MONEY_FIELD),
        is_reversed=Exists(Document.objects.filter(reverses=OuterRef("pk"))),
    )


def open_documents(documents: QuerySet, as_of: dt.date | None = None) -> QuerySet:
    """Return the documents posted by `as_of` with something still open on that day."""
    if as_of is not None:
        documents = documents.filter(document_date__lte=as_of)
    return with_open_amount(documents, as_of).filter(open_amount__gt=0)
