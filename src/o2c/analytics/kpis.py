"""The cycle's KPIs, one definition each, computed by SQL aggregates.

All figures are "as of D": documents posted on or before D, less allocations dated on
or before D, so a report for a past date ignores later receipts. Dates are calendar
dates in the entity's time zone. Each function groups by currency. The report also
converts to the entity's base currency: balances at the rate of their date, and sales
at the rate of each document's date, which was stored on the document at posting.

Definitions (N = period in days, 90 unless stated):

- open amount of a document at D = amount − Σ allocations dated ≤ D.
- days past due at D = D − due date; an item is "not due" when that is ≤ 0.
- aging buckets: not due, 1–30, 31–60, 61–90, 91–120, over 120 days past due, over
  open debit items (invoices, debit notes, charges, refunds). Σ buckets = open items.
- unapplied credits at D = open amount of credit documents (payments, credit notes,
  write-offs, discounts): money the customer has on account.
- AR at D = open items − unapplied credits (the receivable balance).
- current AR at D = the "not due" bucket.
- credit sales of (D − N, D] = invoices and debit notes dated in the period, less credit
  notes and reversals of invoices dated in the period.
- DSO, simple = AR ÷ credit sales of the N days ending at D × N.
- DSO, count-back = walk back month by month from D's month (its days up to D first),
  subtracting each month's credit sales from AR while AR remains; each month fully
  consumed adds its days, the last adds its days × remaining AR ÷ that month's sales.
- best possible DSO = current AR ÷ credit sales of the period × N.
- ADD (average days delinquent) = DSO simple − best possible DSO.
- CEI for the period (S, D] with S = D − N = (AR at S + credit sales − AR at D)
  ÷ (AR at S + credit sales − current AR at D) × 100.
- settled items: invoices and debit notes fully settled by D whose settlement date (the
  date of the allocation that closed them) falls in the period; reversed ones are left
  out. Days to pay = settlement − invoice date; days late = settlement − due date.
- average days to pay = mean days to pay over settled items.
- share paid late = settled items with days late > 0 ÷ settled items.
- weighted days late = Σ(amount × days late) ÷ Σ amount over settled items.
- open disputed amount = Σ over items open at D with a dispute open at D of
  min(open amount, disputed amount). A dispute with no known opening date counts from
  its invoice's date; it is open until its resolution date.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from o2c.core import money
from o2c.core.dates import add_months, end_of_month, month_start
from o2c.core.db import DaysBetween, MonthStart
from o2c.disputes.models import Dispute
from o2c.fx.errors import RateError
from o2c.fx.services import MAX_RATE_AGE_DAYS, RateTable
from o2c.ledger.models import Allocation, Document, DocumentKind, Side
from o2c.ledger.selectors import MONEY_FIELD, ZERO_MONEY, allocated_subquery, with_open_amount
from o2c.parties.models import LegalEntity

ZERO = Decimal("0")
DEFAULT_PERIOD_DAYS = 90
COUNT_BACK_MAX_MONTHS = 36
BUCKETS = ["not_due", "1_30", "31_60", "61_90", "91_120", "over_120"]
BUCKET_BOUNDS = [(1, 30), (31, 60), (61, 90), (91, 120)]
SALES_KINDS = [DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE]
SETTLED_KINDS = [DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE]


@dataclass(frozen=True)
class Scope:
    """The documents a report covers: one entity, optionally some customers or a currency."""

    entity: LegalEntity
    customers: QuerySet | None = None
    currency: str | None = None

    def documents(self) -> QuerySet:
        documents = Document.objects.filter(entity=self.entity)
        if self.customers is not None:
            documents = documents.filter(customer__in=self.customers)
        if self.currency:
            documents = documents.filter(currency=self.currency)
        return documents

    def allocations(self) -> QuerySet:
        allocations = Allocation.objects.filter(entity=self.entity)
        if self.customers is not None:
            allocations = allocations.filter(customer__in=self.customers)
        return allocations


def bucket_expression(as_of: dt.date, due_field: str = "due_date") -> Case:
    """Return a SQL CASE naming the aging bucket of a due date at `as_of`."""
    whens = [When(**{f"{due_field}__gte": as_of}, then=Value("not_due"))]
    for low, high in BUCKET_BOUNDS:
        whens.append(
            When(
                **{
                    f"{due_field}__lte": as_of - dt.timedelta(days=low),
                    f"{due_field}__gte": as_of - dt.timedelta(days=high),
                },
                then=Value(f"{low}_{high}"),
            )
        )
    return Case(*whens, default=Value("over_120"))


def _by_currency(rows, key: str = "total") -> dict[str, Decimal]:
    return {row["currency"]: row[key] or ZERO for row in rows}


# Balances ------------------------------------------------------------------------


def aging(scope: Scope, as_of: dt.date) -> dict[str, dict[str, Decimal]]:
    """Return {currency: {bucket: open amount}} for open debit items at `as_of`."""
    rows = (
        with_open_amount(scope.documents().filter(side=Side.DEBIT, document_date__lte=as_of), as_of)
        .annotate(bucket=bucket_expression(as_of))
        .values("currency", "bucket")
        .annotate(total=Sum("open_amount"), items=Count("id", filter=Q(open_amount__gt=0)))
        .order_by()
    )
    result: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(BUCKETS, ZERO))
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        result[row["currency"]][row["bucket"]] = row["total"] or ZERO
        counts[row["currency"]] += row["items"]
    for currency, buckets in result.items():
        buckets["total"] = sum((buckets[name] for name in BUCKETS), ZERO)
        buckets["open_items"] = counts[currency]
    return dict(result)


def _open_total(scope: Scope, side: str, as_of: dt.date) -> dict[str, Decimal]:
    """Return Σ open amount by currency of the documents of one side at `as_of`.

    Σ(amount) − Σ(allocations ≤ D): two plain aggregates, no per-document subquery.
    """
    documents = scope.documents().filter(side=side, document_date__lte=as_of)
    posted = _by_currency(documents.values("currency").annotate(total=Sum("amount")).order_by())
    if side == Side.DEBIT:
        link, amount_field = "debit_document", "amount"
    else:
        link, amount_field = "credit_document", "credit_amount"
    allocations = scope.allocations().filter(
        allocated_on__lte=as_of, **{f"{link}__side": side, f"{link}__document_date__lte": as_of}
    )
    if scope.currency:
        allocations = allocations.filter(**{f"{link}__currency": scope.currency})
    allocated = _by_currency(
        allocations.values(currency=F(f"{link}__currency"))
        .annotate(total=Sum(amount_field))
        .order_by()
    )
    return {
        currency: posted.get(currency, ZERO) - allocated.get(currency, ZERO)
        for currency in posted.keys() | allocated.keys()
    }


def receivable_balance(scope: Scope, as_of: dt.date) -> dict[str, dict[str, Decimal]]:
    """Return {currency: {open_items, unapplied_credits, ar}} at `as_of`."""
    debit = _open_total(scope, Side.DEBIT, as_of)
    credit = _open_total(scope, Side.CREDIT, as_of)
    return {
        currency: {
            "open_items": debit.get(currency, ZERO),
            "unapplied_credits": credit.get(currency, ZERO),
            "ar": debit.get(currency, ZERO) - credit.get(currency, ZERO),
        }
        for currency in debit.keys() | credit.keys()
    }


def open_disputed(scope: Scope, as_of: dt.date) -> dict[str, Decimal]:
    """Return Σ min(open amount, disputed amount) of items with a dispute open at `as_of`."""
    open_at = (
        Q(invoice=OuterRef("pk"))
        & (Q(opened_on__isnull=True) | Q(opened_on__lte=as_of))
        & (Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of))
    )
    disputed_amount = (
        Dispute.objects.filter(open_at)
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    rows = (
        with_open_amount(scope.documents().filter(side=Side.DEBIT, document_date__lte=as_of), as_of)
        .annotate(
            disputed=Coalesce(Subquery(disputed_amount, output_field=MONEY_FIELD), ZERO_MONEY)
        )
        .filter(disputed__gt=0, open_amount__gt=0)
        .values("currency")
        .annotate(total=Sum(Least("open_amount", "disputed")))
        .order_by()
    )
    return _by_currency(rows)


# Flows ---------------------------------------------------------------------------


def _sales_documents(scope: Scope, start: dt.date, end: dt.date) -> tuple[QuerySet, QuerySet]:
    """Return (sales debits, sales credits) dated in [start, end]."""
    documents = scope.documents().filter(document_date__gte=start, document_date__lte=end)
    debits = documents.filter(kind__in=SALES_KINDS)
    credits = documents.filter(
        Q(kind=DocumentKind.CREDIT_NOTE)
        | Q(kind=DocumentKind.REVERSAL, reverses__kind__in=SALES_KINDS)
    )
    return debits, credits


def credit_sales(scope: Scope, start: dt.date, end: dt.date) -> dict[str, dict[str, Decimal]]:
    """Return {currency: {amount, amount_base}} of credit sales dated in [start, end]."""
    debits, credits = _sales_documents(scope, start, end)
    result: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"amount": ZERO, "amount_base": ZERO}
    )
    for sign, queryset in ((1, debits), (-1, credits)):
        rows = (
            queryset.values("currency")
            .annotate(amount=Sum("amount"), amount_base=Sum("amount_base"))
            .order_by()
        )
        for row in rows:
            result[row["currency"]]["amount"] += sign * row["amount"]
            result[row["currency"]]["amount_base"] += sign * row["amount_base"]
    return dict(result)


def monthly_credit_sales(
    scope: Scope, first_month: dt.date, end: dt.date
) -> dict[str, dict[dt.date, dict[str, Decimal]]]:
    """Return {currency: {month start: {amount, amount_base}}} for [first_month, end]."""
    debits, credits = _sales_documents(scope, first_month, end)
    result: dict[str, dict[dt.date, dict[str, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: {"amount": ZERO, "amount_base": ZERO})
    )
    for sign, queryset in ((1, debits), (-1, credits)):
        rows = (
            queryset.annotate(month=MonthStart("document_date"))
            .values("currency", "month")
            .annotate(amount=Sum("amount"), amount_base=Sum("amount_base"))
            .order_by()
        )
        for row in rows:
            month = row["month"]
            if isinstance(month, dt.datetime):
                month = month.date()
            cell = result[row["currency"]][month]
            cell["amount"] += sign * row["amount"]
            cell["amount_base"] += sign * row["amount_base"]
    return result


def count_back_dso(
    ar: Decimal, monthly_sales: dict[dt.date, Decimal], as_of: dt.date
) -> Decimal | None:
    """Return DSO by the count-back method; None when there were no sales to count.

    The month of `as_of` counts only its days up to `as_of`. If AR is still left after
    COUNT_BACK_MAX_MONTHS months, the result is those months' days: AR that old is
    better read from the aging than from DSO.
    """
    if ar <= ZERO:
        return ZERO
    if not any(value > ZERO for value in monthly_sales.values()):
        return None
    remaining = ar
    days = Decimal(0)
    month = month_start(as_of)
    for index in range(COUNT_BACK_MAX_MONTHS):
        month_days = as_of.day if index == 0 else end_of_month(month).day
        sales = monthly_sales.get(month, ZERO)
        if sales > ZERO and remaining <= sales:
            return days + Decimal(month_days) * remaining / sales
        if sales > ZERO:
            remaining -= sales
        days += month_days
        month = add_months(month, -1)
    return days


def payment_behaviour(scope: Scope, start: dt.date, end: dt.date) -> dict[str, dict]:
    """Return settled-item statistics by currency for settlements dated in [start, end].

    Keys: settled_items, average_days_to_pay, share_paid_late, weighted_days_late,
    weighted_days_late_base (weights in base currency, for combining currencies).
    """
    closing_date = (
        Allocation.objects.filter(debit_document=OuterRef("pk"), allocated_on__lte=end)
        .order_by()
        .values("debit_document")
        .annotate(last=Max("allocated_on"))
        .values("last")
    )
    settled = (
        scope.documents()
        .filter(kind__in=SETTLED_KINDS, document_date__lte=end)
        .exclude(Exists(Document.objects.filter(reverses=OuterRef("pk"))))
        .annotate(
            allocated=allocated_subquery(Side.DEBIT, end),
            settled_on=Subquery(closing_date, output_field=DateField()),
        )
        .filter(allocated=F("amount"), settled_on__gte=start, settled_on__lte=end)
        .annotate(
            days_to_pay=DaysBetween("settled_on", "document_date"),
            days_late=DaysBetween("settled_on", "due_date"),
        )
    )
    rows = (
        settled.values("currency")
        .annotate(
            items=Count("id"),
            late_items=Count("id", filter=Q(days_late__gt=0)),
            days_to_pay_total=Sum("days_to_pay"),
            amount_total=Sum("amount"),
            amount_base_total=Sum("amount_base"),
            weighted_late_total=Sum(F("amount") * F("days_late"), output_field=MONEY_FIELD),
            weighted_late_base_total=Sum(
                F("amount_base") * F("days_late"), output_field=MONEY_FIELD
            ),
        )
        .order_by()
    )
    return {row["currency"]: _behaviour_figures(row) for row in rows}


def _behaviour_figures(row: dict) -> dict:
    items = row["items"]
    return {
        "settled_items": items,
        "late_items": row["late_items"],
        "days_to_pay_total": Decimal(row["days_to_pay_total"]),
        "amount_total": row["amount_total"],
        "amount_base_total": row["amount_base_total"],
        "weighted_late_total": Decimal(row["weighted_late_total"]),
        "weighted_late_base_total": Decimal(row["weighted_late_base_total"]),
    }


# The report ----------------------------------------------------------------------


@dataclass
class KpiFigures:
    """The KPIs of one currency, or of all currencies converted to the base currency."""

    currency: str
    aging: dict[str, Decimal]
    open_items_count: int
    open_items: Decimal
    unapplied_credits: Decimal
    ar: Decimal
    current_ar: Decimal
    credit_sales: Decimal
    dso_simple: Decimal | None
    dso_count_back: Decimal | None
    best_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    settled_items: int
    average_days_to_pay: Decimal | None
    share_paid_late: Decimal | None
    weighted_days_late: Decimal | None
    open_disputed: Decimal


@dataclass
class KpiReport:
    entity: LegalEntity
    as_of: dt.date
    period_days: int
    currencies: dict[str, KpiFigures]
    converted: KpiFigures | None
    rates_used: dict[str, dict] = field(default_factory=dict)
    stale_rates: set[str] = field(default_factory=set)
    conversion_error: str = ""


CENTS = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")


def _ratio(
    numerator: Decimal, denominator: Decimal, scale: Decimal = Decimal(1), places: Decimal = CENTS
) -> Decimal | None:
    """Return numerator ÷ denominator × scale rounded half-up, or None for a zero divisor."""
    if not denominator:
        return None
    return (numerator / denominator * scale).quantize(places, rounding=ROUND_HALF_UP)


class _Raw:
    """The aggregates one report needs, fetched once and shared by every currency."""

    def __init__(self, scope: Scope, as_of: dt.date, period_days: int):
        self.as_of = as_of
        self.period_start = as_of - dt.timedelta(days=period_days - 1)
        self.opening_date = self.period_start - dt.timedelta(days=1)
        self.aging = aging(scope, as_of)
        self.balance = receivable_balance(scope, as_of)
        self.opening_balance = receivable_balance(scope, self.opening_date)
        self.sales = credit_sales(scope, self.period_start, as_of)
        first_month = add_months(month_start(as_of), -(COUNT_BACK_MAX_MONTHS - 1))
        self.monthly_sales = monthly_credit_sales(scope, first_month, as_of)
        self.behaviour = payment_behaviour(scope, self.period_start, as_of)
        self.disputed = open_disputed(scope, as_of)
        self.currencies = sorted(
            set(self.aging)
            | set(self.balance)
            | set(self.opening_balance)
            | set(self.sales)
            | set(self.behaviour)
        )


def kpi_report(
    entity: LegalEntity,
    as_of: dt.date,
    *,
    customers: QuerySet | None = None,
    currency: str | None = None,
    period_days: int = DEFAULT_PERIOD_DAYS,
) -> KpiReport:
    """Compute every KPI for an entity (or some of its customers) as of a date."""
    scope = Scope(entity, customers, currency)
    raw = _Raw(scope, as_of, period_days)
    per_currency = {code: _figures_for_currency(raw, code, period_days) for code in raw.currencies}
    report = KpiReport(entity, as_of, period_days, per_currency, None)
    try:
        report.converted = _converted_figures(raw, entity.base_currency, period_days, report)
    except RateError as error:
        report.conversion_error = error.message
    return report


def _figures_for_currency(raw: _Raw, code: str, period_days: int) -> KpiFigures:
    buckets = raw.aging.get(code) or dict.fromkeys(BUCKETS, ZERO) | {"total": ZERO, "open_items": 0}
    balance = raw.balance.get(code, {"open_items": ZERO, "unapplied_credits": ZERO, "ar": ZERO})
    opening = raw.opening_balance.get(code, {"ar": ZERO})["ar"]
    sales = raw.sales.get(code, {"amount": ZERO})["amount"]
    monthly = {month: cell["amount"] for month, cell in raw.monthly_sales.get(code, {}).items()}
    behaviour = raw.behaviour.get(code)
    return _assemble(
        code,
        {name: buckets[name] for name in BUCKETS},
        buckets["open_items"],
        balance,
        opening,
        sales,
        monthly,
        behaviour,
        weight_key="",
        disputed=raw.disputed.get(code, ZERO),
        as_of=raw.as_of,
        period_days=period_days,
    )


def _assemble(
    code,
    buckets,
    open_count,
    balance,
    opening_ar,
    sales,
    monthly,
    behaviour,
    weight_key,
    disputed,
    as_of,
    period_days,
) -> KpiFigures:
    ar = balance["ar"]
    current = buckets["not_due"]
    days = Decimal(period_days)
    dso = _ratio(ar, sales, days) if sales > ZERO else None
    best = _ratio(current, sales, days) if sales > ZERO else None
    collected = opening_ar + sales - ar
    count_back = count_back_dso(ar, monthly, as_of)

    def exact(amount: Decimal) -> Decimal:
        # Sums of amounts are exact already; this only drops the storage's extra zeros.
        return money.round_amount(amount, code)

    figures = KpiFigures(
        currency=code,
        aging={name: exact(value) for name, value in buckets.items()}
        | {"total": exact(sum(buckets.values(), ZERO))},
        open_items_count=open_count,
        open_items=exact(balance["open_items"]),
        unapplied_credits=exact(balance["unapplied_credits"]),
        ar=exact(ar),
        current_ar=exact(current),
        credit_sales=exact(sales),
        dso_simple=dso,
        dso_count_back=(
            count_back.quantize(CENTS, rounding=ROUND_HALF_UP) if count_back is not None else None
        ),
        best_dso=best,
        add=(dso - best) if dso is not None and best is not None else None,
        cei=_ratio(collected, opening_ar + sales - current, Decimal(100)),
        settled_items=0,
        average_days_to_pay=None,
        share_paid_late=None,
        weighted_days_late=None,
        open_disputed=exact(disputed),
    )
    if behaviour and behaviour["settled_items"]:
        items = Decimal(behaviour["settled_items"])
        weight = behaviour[f"amount{weight_key}_total"]
        figures.settled_items = behaviour["settled_items"]
        figures.average_days_to_pay = _ratio(behaviour["days_to_pay_total"], items)
        figures.share_paid_late = _ratio(
            Decimal(behaviour["late_items"]), items, places=SHARE_PLACES
        )
        figures.weighted_days_late = _ratio(behaviour[f"weighted_late{weight_key}_total"], weight)
    return figures


def _converted_figures(raw: _Raw, base: str, period_days: int, report: KpiReport) -> KpiFigures:
    """Combine every currency into base: balances at their date's rate, flows as booked."""
    rates = RateTable(set(raw.currencies) | {base}, max_age_days=None)

    def convert(amount: Decimal, code: str, on: dt.date) -> Decimal:
        conversion = rates.convert(amount, code, base, on)
        if code != base:
            age = (on - conversion.rate_on).days
            report.rates_used.setdefault(code, {})[on.isoformat()] = {
                "rate": str(conversion.rate),
                "rate_on": conversion.rate_on.isoformat(),
                "source": conversion.source,
                "age_days": age,
            }
            if age > MAX_RATE_AGE_DAYS:
                report.stale_rates.add(f"{code} at the rate of {conversion.rate_on}")
        return conversion.amount

    buckets = dict.fromkeys(BUCKETS, ZERO)
    balance = {"open_items": ZERO, "unapplied_credits": ZERO, "ar": ZERO}
    opening_ar = sales = disputed = ZERO
    monthly: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    behaviour = {
        "settled_items": 0,
        "late_items": 0,
        "days_to_pay_total": ZERO,
        "amount_base_total": ZERO,
        "weighted_late_base_total": ZERO,
    }
    open_count = 0
    for code in raw.currencies:
        for name in BUCKETS:
            amount = raw.aging.get(code, {}).get(name, ZERO)
            buckets[name] += convert(amount, code, raw.as_of) if amount else ZERO
        open_count += raw.aging.get(code, {}).get("open_items", 0)
        for key in balance:
            amount = raw.balance.get(code, {}).get(key, ZERO)
            balance[key] += convert(amount, code, raw.as_of) if amount else ZERO
        amount = raw.opening_balance.get(code, {}).get("ar", ZERO)
        opening_ar += convert(amount, code, raw.opening_date) if amount else ZERO
        amount = raw.disputed.get(code, ZERO)
        disputed += convert(amount, code, raw.as_of) if amount else ZERO
        sales += raw.sales.get(code, {}).get("amount_base", ZERO)
        for month, cell in raw.monthly_sales.get(code, {}).items():
            monthly[month] += cell["amount_base"]
        for key in behaviour:
            behaviour[key] += raw.behaviour.get(code, {}).get(key, 0)
    # Converting each part separately may leave the buckets a cent off the converted
    # total of open items; the buckets are authoritative for the aging view.
    balance["open_items"] = money.round_amount(sum(buckets.values(), ZERO), base)
    balance["ar"] = balance["open_items"] - balance["unapplied_credits"]
    return _assemble(
        base,
        buckets,
        open_count,
        balance,
        opening_ar,
        sales,
        dict(monthly),
        behaviour,
        weight_key="_base",
        disputed=disputed,
        as_of=raw.as_of,
        period_days=period_days,
    )


def overdue_by_customer(scope: Scope, as_of: dt.date) -> dict[tuple[int, str], Decimal]:
    """Return {(customer id, currency): amount past due at `as_of`}, from two aggregates."""
    overdue_documents = scope.documents().filter(
        side=Side.DEBIT, document_date__lte=as_of, due_date__lt=as_of
    )
    posted = (
        overdue_documents.values("customer", "currency").annotate(total=Sum("amount")).order_by()
    )
    applied = (
        scope.allocations()
        .filter(
            allocated_on__lte=as_of,
            debit_document__in=overdue_documents,
        )
        .values("customer", currency=F("debit_document__currency"))
        .annotate(total=Sum("amount"))
        .order_by()
    )
    result: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for row in posted:
        result[(row["customer"], row["currency"])] += row["total"]
    for row in applied:
        result[(row["customer"], row["currency"])] -= row["total"]
    return {key: value for key, value in result.items() if value > ZERO}
