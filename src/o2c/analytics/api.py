"""REST endpoint for the KPIs, scoped to what the person may see."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router

from o2c.analytics.kpis import DEFAULT_PERIOD_DAYS, kpi_report
from o2c.analytics.selectors import report_scope
from o2c.analytics.serialize import report_dict
from o2c.teams.selectors import visible_entities

router = Router()


@router.get("/", response=dict)
def get_kpis(
    request,
    entity: str,
    as_of: dt.date | None = None,
    customer: str | None = None,
    currency: str | None = None,
    period_days: int = DEFAULT_PERIOD_DAYS,
):
    """Return every KPI of an entity as of a date (default today in its time zone)."""
    chosen = get_object_or_404(visible_entities(request.user), code=entity)
    customers = report_scope(request.user, chosen, customer)
    report = kpi_report(
        chosen,
        as_of or chosen.today(),
        customers=customers,
        currency=currency,
        period_days=max(1, min(period_days, 366)),
    )
    return report_dict(report)
