"""Pages: overview of models and backtests, an invoice's prediction, credit review."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from o2c.insights import selectors, services
from o2c.insights.backtest import render_section
from o2c.insights.models import InvoicePrediction
from o2c.insights.panels import forecast_context
from o2c.insights.reasons import sentence
from o2c.teams.selectors import led_entities


@login_required
def overview(request):
    """Show each led entity's model versions with their backtest, and flagged customers."""
    versions = list(selectors.versions_for(request.user).order_by("entity__code", "-version")[:50])
    for version in versions:
        version.table = render_section(version.entity, version.metrics, version.forecast_metrics)
    context = {
        "versions": versions,
        "flagged": list(selectors.flagged_scores(request.user, limit=20)),
        "leads_any": led_entities(request.user).exists(),
    }
    return render(request, "insights/overview.html", context)


@login_required
def invoice_detail(request, document_id: int):
    """Show an invoice's predicted settlement, its interval, risk and reasons."""
    document = selectors.document_for(request.user, document_id)
    prediction = InvoicePrediction.objects.filter(document=document).first()
    live = None
    if prediction is None:
        predicted = services.predict_entity(document.entity, customer_ids=[document.customer_id])
        live = next(
            (
                item
                for item in predicted.invoices
                if int(predicted.history.invoice_ids[item.index]) == document.pk
            ),
            None,
        )
    reasons = []
    sources = None
    if prediction is not None:
        reasons = prediction.reasons
        version = prediction.model_version
        verdict = version.verdict if version is not None else {}
        sources = _sources(version, verdict.get("days_late"), verdict.get("late_risk"))
    elif live is not None:
        reasons = live.reasons
        model = predicted.model
        usable = model.fitted is not None
        sources = _sources(
            predicted.version, usable and model.use_days_late, usable and model.use_late_risk
        )
    context = {
        "document": document,
        "prediction": prediction,
        "live": live,
        "live_pay_on": _date_of(live.pay_on) if live else None,
        "reasons": [sentence(reason) for reason in reasons],
        "sources": sources,
    }
    return render(request, "insights/invoice_detail.html", context)


RULE = "the customer-history rule"


def _sources(version, date_by_model, risk_by_model) -> dict:
    """Return the source of the date and of the risk. Each model is used only if it passed
    its backtest, otherwise the customer-history rule replaces it."""

    def source(by_model: bool, model_name: str) -> str:
        if version is None:
            return f"{RULE} (no model in use)"
        if by_model:
            return f"the payment model v{version.version}"
        return f"{RULE} (the {model_name} model of v{version.version} did not pass its backtest)"

    return {
        "date": source(bool(date_by_model), "days-late"),
        "risk": source(bool(risk_by_model), "late-risk"),
    }


def _date_of(ordinal: int):
    import datetime as dt

    return dt.date.fromordinal(ordinal)


@login_required
def credit_review(request):
    """List customers whose score fell, with what changed."""
    context = {"flagged": list(selectors.flagged_scores(request.user))}
    return render(request, "insights/credit_review.html", context)


@login_required
def forecast(request):
    """Show the cash forecast by week with its band, for an entity the person leads."""
    entity = selectors.led_entity(request.user, request.GET.get("entity"))
    as_of = _as_of(request.GET.get("as_of"), entity)
    context = forecast_context(entity, as_of, compute=True, currency=request.GET.get("currency"))
    context["entities"] = list(led_entities(request.user).order_by("code"))
    return render(request, "insights/forecast.html", context)


def _as_of(text, entity):
    import datetime as dt

    if not text:
        return entity.today()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise Http404("Invalid date.") from None
    return services.check_day(day)
