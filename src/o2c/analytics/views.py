"""The leaders' dashboard: KPIs, aging, DSO trend and the most overdue customers."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from o2c.analytics import charts
from o2c.analytics.kpis import Scope, kpi_report, overdue_by_customer
from o2c.analytics.selectors import report_scope
from o2c.analytics.serialize import BUCKET_LABELS
from o2c.analytics.trends import dso_trend
from o2c.core.entities import choose_entity
from o2c.core.panels import render_panels
from o2c.fx.errors import RateError
from o2c.fx.services import RateTable
from o2c.parties.models import Customer
from o2c.teams.selectors import visible_entities

TOP_OVERDUE = 10


@login_required
def dashboard(request):
    entities = list(visible_entities(request.user).order_by("code"))
    context = {"entities": entities, "bucket_labels": BUCKET_LABELS}
    if not entities:
        return render(request, "analytics/dashboard.html", context)
    entity = choose_entity(request, entities)
    as_of = _as_of(request.GET.get("as_of"), entity)
    customers = report_scope(request.user, entity)
    report = kpi_report(entity, as_of, customers=customers)
    scope = Scope(entity, customers)
    context.update(
        entity=entity,
        as_of=as_of,
        report=report,
        whole_entity=customers is None,
        figures=report.converted,
        top_overdue=_top_overdue(scope, as_of, entity.base_currency),
    )
    if report.converted is not None:
        context["aging_chart"] = charts.aging_bars(report.converted.aging, entity.base_currency)
    try:
        trend = dso_trend(scope, as_of, entity.base_currency)
        context["trend"] = trend
        context["dso_chart"] = charts.dso_line(trend)
    except RateError as error:
        context["trend_error"] = error.message
    context["panels"] = render_panels("dashboard_panels", request, entity, as_of, customers is None)
    template = "analytics/_dashboard_body.html" if request.htmx else "analytics/dashboard.html"
    return render(request, template, context)


def _as_of(text: str | None, entity) -> dt.date:
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    return entity.today()


def _top_overdue(scope: Scope, as_of: dt.date, base_currency: str) -> list[dict]:
    overdue = overdue_by_customer(scope, as_of)
    rates = RateTable({currency for _, currency in overdue} | {base_currency}, max_age_days=None)
    totals: dict[int, Decimal] = {}
    for (customer_id, currency), amount in overdue.items():
        try:
            converted = rates.convert(amount, currency, base_currency, as_of).amount
        except RateError:
            continue
        totals[customer_id] = totals.get(customer_id, Decimal("0")) + converted
    top = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:TOP_OVERDUE]
    customers = Customer.objects.in_bulk([customer_id for customer_id, _ in top])
    return [{"customer": customers[customer_id], "amount": amount} for customer_id, amount in top]
