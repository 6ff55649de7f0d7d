"""Reads for collections: dunning candidates, payment behaviour, scoped lists."""

import datetime as dt
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from o2c.collections.models import (
    DunningNotice,
    DunningNoticeItem,
    DunningRun,
    PaymentBehaviour,
    PromiseStatus,
    PromiseToPay,
)
from o2c.core.db import DaysBetween
from o2c.disputes.models import Dispute
from o2c.ledger.models import Allocation, Document, DocumentKind, Side
from o2c.ledger.selectors import MONEY_FIELD, ZERO_MONEY, allocated_subquery, with_open_amount
from o2c.parties.selectors import customers_for
from o2c.teams.models import Role, TeamFunction
from o2c.teams.selectors import led_entities, visible_entities

DUNNABLE_KINDS = [DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE, DocumentKind.CHARGE]
BEHAVIOUR_WINDOW_DAYS = 365
# Fewer settled items than this in the window say too little about a payer.
BEHAVIOUR_MIN_ITEMS = 3
GOOD_PAYER_MAX_LATE_SHARE = Decimal("0.10")
LATE_PAYER_MIN_LATE_SHARE = Decimal("0.50")


def disputed_subquery(as_of: dt.date):
    """Return Σ amount of the disputes open on `as_of` against the outer document.

    A dispute is open from its opening date (the invoice date when unknown) until its
    resolution date, the same rule as the `open_disputed` KPI.
    """
    open_at = (
        Q(invoice=OuterRef("pk"))
        & (Q(opened_on__isnull=True) | Q(opened_on__lte=as_of))
        & (Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of))
    )
    total = (
        Dispute.objects.filter(open_at)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), ZERO_MONEY)


def dunning_candidates(entity, as_of: dt.date, due_by: dt.date, grace_days: int) -> QuerySet:
    """Return open debit documents due by `due_by`, annotated for the dunning run.

    Annotations: open_amount, disputed, level (highest step sequence already reached),
    interest_until (last day interest was charged up to) and promised (an open promise
    to pay covers it and its date plus grace has not passed).
    """
    levels = (
        DunningNoticeItem.objects.filter(document=OuterRef("pk"))
        .order_by()
        .values("document")
        .annotate(level=Max("step__sequence"))
        .values("level")
    )
    interest_until = (
        DunningNoticeItem.objects.filter(document=OuterRef("pk"), interest_to__isnull=False)
        .order_by()
        .values("document")
        .annotate(last=Max("interest_to"))
        .values("last")
    )
    promised = PromiseToPay.objects.filter(
        documents=OuterRef("pk"),
        status=PromiseStatus.OPEN,
        promised_on__gte=as_of - dt.timedelta(days=grace_days),
    )
    documents = Document.objects.filter(
        entity=entity,
        side=Side.DEBIT,
        kind__in=DUNNABLE_KINDS,
        document_date__lte=as_of,
        due_date__lte=due_by,
    ).exclude(Exists(Document.objects.filter(reverses=OuterRef("pk"))))
    return (
        with_open_amount(documents, as_of)
        .filter(open_amount__gt=0)
        .annotate(
            disputed=disputed_subquery(as_of),
            level=Coalesce(Subquery(levels, output_field=IntegerField()), Value(0)),
            interest_until=Subquery(interest_until, output_field=DateField()),
            promised=Exists(promised),
        )
        .select_related("customer", "customer__entity")
        .order_by("customer_id", "currency", "due_date", "id")
    )


def behaviour_by_customer(entity, customer_ids, as_of: dt.date) -> dict[int, dict]:
    """Return {customer id: {class, settled, late, share_late, average_days_late}}.

    Over invoices and debit notes settled in the year to `as_of`: share_late is the
    share settled after the due date, average_days_late the mean days late of those.
    """
    start = as_of - dt.timedelta(days=BEHAVIOUR_WINDOW_DAYS)
    closing_date = (
        Allocation.objects.filter(debit_document=OuterRef("pk"), allocated_on__lte=as_of)
        .order_by()
        .values("debit_document")
        .annotate(last=Max("allocated_on"))
        .values("last")
    )
    settled = (
        Document.objects.filter(
            entity=entity,
            customer_id__in=list(customer_ids),
            kind__in=[DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE],
            document_date__lte=as_of,
        )
        .exclude(Exists(Document.objects.filter(reverses=OuterRef("pk"))))
        .annotate(
            allocated=allocated_subquery(Side.DEBIT, as_of),
            settled_on=Subquery(closing_date, output_field=DateField()),
        )
        .filter(allocated=F("amount"), settled_on__gte=start, settled_on__lte=as_of)
        .annotate(days_late=DaysBetween("settled_on", "due_date"))
    )
    rows = (
        settled.values("customer_id")
        .annotate(
            settled=Count("id"),
            late=Count("id", filter=Q(days_late__gt=0)),
            late_days=Sum(Case(When(days_late__gt=0, then=F("days_late")), default=Value(0))),
        )
        .order_by()
    )
    result = {}
    for row in rows:
        result[row["customer_id"]] = _classify(row["settled"], row["late"], row["late_days"] or 0)
    return result


def _classify(settled: int, late: int, late_days: int) -> dict:
    share = (Decimal(late) / settled).quantize(Decimal("0.01")) if settled else Decimal("0")
    average = (Decimal(late_days) / late).quantize(Decimal("0.1")) if late else Decimal("0")
    if settled < BEHAVIOUR_MIN_ITEMS:
        kind = PaymentBehaviour.NEW
    elif share <= GOOD_PAYER_MAX_LATE_SHARE:
        kind = PaymentBehaviour.GOOD
    elif share >= LATE_PAYER_MIN_LATE_SHARE:
        kind = PaymentBehaviour.LATE
    else:
        kind = PaymentBehaviour.REGULAR
    return {
        "class": kind,
        "settled": settled,
        "late": late,
        "share_late": share,
        "average_days_late": average,
    }


def no_history() -> dict:
    return _classify(0, 0, 0)


def runs_for(user) -> QuerySet:
    """Return the dunning runs of the entities whose dunning the person runs."""
    return DunningRun.objects.filter(entity__in=dunning_entities(user)).select_related(
        "entity", "created_by"
    )


def run_for(user, run_id: int) -> DunningRun:
    run = runs_for(user).filter(pk=run_id).first()
    if run is None:
        raise Http404("No such dunning run.")
    return run


def dunning_entities(user) -> QuerySet:
    """Return the entities whose dunning the person may preview and execute.

    Leaders of an entity and leads of one of its collections teams run its dunning.
    """
    from o2c.parties.models import LegalEntity

    leads = LegalEntity.objects.filter(
        teams__function=TeamFunction.COLLECTIONS,
        teams__memberships__user=user,
        teams__memberships__role=Role.LEAD,
    )
    return LegalEntity.objects.filter(
        Q(pk__in=led_entities(user).values("pk")) | Q(pk__in=leads.values("pk"))
    ).order_by("code")


def notices_for(user) -> QuerySet:
    return DunningNotice.objects.filter(customer__in=customers_for(user)).select_related(
        "customer", "step", "run"
    )


def promises_for(user) -> QuerySet:
    return PromiseToPay.objects.filter(customer__in=customers_for(user)).select_related(
        "customer", "recorded_by"
    )


def runs_dunning(user) -> bool:
    return dunning_entities(user).exists()


def entities_for(user) -> QuerySet:
    return visible_entities(user).order_by("code")
