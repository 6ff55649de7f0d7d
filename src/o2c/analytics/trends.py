"""Month-by-month figures for the dashboard, from a handful of grouped queries.

AR at each month end is Σ documents posted up to it − Σ allocations dated up to it,
accumulated over monthly totals; DSO at each month end uses the count-back method of
`o2c.analytics.kpis` on the same monthly credit sales.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Sum

from o2c.analytics.kpis import (
    COUNT_BACK_MAX_MONTHS,
    ZERO,
    Scope,
    count_back_dso,
    monthly_credit_sales,
)
from o2c.core.dates import add_months, end_of_month, month_start
from o2c.core.db import MonthStart
from o2c.fx.services import RateTable
from o2c.ledger.models import Side


@dataclass
class TrendPoint:
    on: dt.date
    ar: Decimal
    dso_count_back: Decimal | None


def _month(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def trend_points(as_of: dt.date, months: int) -> list[dt.date]:
    """Return the month ends of the `months - 1` months before `as_of`, then `as_of`."""
    first = month_start(add_months(month_start(as_of), -(months - 1)))
    points = [end_of_month(add_months(first, index)) for index in range(months - 1)]
    return [*points, as_of]


def _monthly_sums(queryset, date_field: str, amount_field: str, currency_path: str):
    rows = (
        queryset.annotate(month=MonthStart(date_field))
        .values("month", code=F(currency_path))
        .annotate(total=Sum(amount_field))
        .order_by()
    )
    result: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
    for row in rows:
        result[row["code"]][_month(row["month"])] = row["total"] or ZERO
    return result


def ar_trend(
    scope: Scope, as_of: dt.date, months: int = 12
) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """Return {currency: [(point, AR at point)]} for the trend points ending at `as_of`."""
    points = trend_points(as_of, months)
    documents = scope.documents().filter(document_date__lte=as_of)
    allocations = scope.allocations().filter(allocated_on__lte=as_of)
    signed = []
    for side, sign in ((Side.DEBIT, 1), (Side.CREDIT, -1)):
        posted = _monthly_sums(documents.filter(side=side), "document_date", "amount", "currency")
        link = "debit_document" if side == Side.DEBIT else "credit_document"
        amount_field = "amount" if side == Side.DEBIT else "credit_amount"
        applied = _monthly_sums(
            allocations.filter(**{f"{link}__side": side}),
            "allocated_on",
            amount_field,
            f"{link}__currency",
        )
        signed.append((sign, posted, applied))
    currencies = {code for _, posted, applied in signed for code in (*posted, *applied)}
    result = {}
    for code in sorted(currencies):
        series = []
        for point in points:
            total = ZERO
            for sign, posted, applied in signed:
                total += sign * sum(
                    (value for month, value in posted.get(code, {}).items() if month <= point), ZERO
                )
                total -= sign * sum(
                    (value for month, value in applied.get(code, {}).items() if month <= point),
                    ZERO,
                )
            series.append((point, total))
        result[code] = series
    return result


def dso_trend(
    scope: Scope, as_of: dt.date, base_currency: str, months: int = 12
) -> list[TrendPoint]:
    """Return AR and count-back DSO in base currency at each trend point.

    AR is converted at each point's rate (the latest loaded one when the point is past
    the last rate); sales are in base at their documents' rates. Raises `RateError`
    when no rate at all is loaded for a currency.
    """
    points = trend_points(as_of, months)
    by_currency = ar_trend(scope, as_of, months)
    first_month = add_months(month_start(points[0]), -(COUNT_BACK_MAX_MONTHS - 1))
    sales = monthly_credit_sales(scope, first_month, as_of)
    monthly_base: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    for months_of_currency in sales.values():
        for month, cell in months_of_currency.items():
            monthly_base[month] += cell["amount_base"]
    rates = RateTable(set(by_currency) | {base_currency}, max_age_days=None)
    trend = []
    for index, point in enumerate(points):
        ar = ZERO
        for code, series in by_currency.items():
            amount = series[index][1]
            if amount:
                ar += rates.convert(amount, code, base_currency, point).amount
        dso = count_back_dso(ar, monthly_base, point)
        rounded = dso.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if dso is not None else None
        trend.append(TrendPoint(point, ar, rounded))
    return trend
