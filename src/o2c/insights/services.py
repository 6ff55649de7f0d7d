"""Business verbs of the insights module: train, rescore, forecast, and the risk API.

Other modules use `late_payment_probability(documents_or_customers, as_of)`; the
pages and the nightly task use `rescore_entity`, which stores each open invoice's
prediction, each customer's score with a note of what changed, and the cash forecast.
"""

import datetime as dt
import logging
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import sklearn
import skops
from django.db import transaction
from django.db.models import Max

from o2c.core import money
from o2c.imports.models import ImportRun
from o2c.imports.profiles import BUILT_IN
from o2c.insights import forecast as cash
from o2c.insights.backtest import (
    DEFAULT_FOLDS,
    DEFAULT_TEST_SHARE,
    format_table,
    run_backtest,
    verdict,
)
from o2c.insights.errors import InsightsError
from o2c.insights.forecast_backtest import ForecastBacktest
from o2c.insights.history import NEVER, LedgerHistory, load_history
from o2c.insights.learning import (
    FittedModels,
    Policy,
    build_examples,
    fit_models,
)
from o2c.insights.models import (
    CustomerScore,
    ForecastSnapshot,
    InsightsSettings,
    InvoicePrediction,
    Method,
    ModelStatus,
    ModelVersion,
    PredictionPoint,
)
from o2c.insights.persistence import dump_estimators, load_estimators
from o2c.insights.predict import LoadedModel, Prediction, predict_invoices, predict_planned
from o2c.insights.scoring import score_customers
from o2c.ledger.models import Document
from o2c.ledger.selectors import with_open_amount
from o2c.parties.models import Customer, LegalEntity

logger = logging.getLogger(__name__)

RESIDUALS_KEPT = 2000
DEFAULT_TERM_DAYS = 30
MAX_FOLDS = 60
# A plausibility bound, not a business rule: a date outside it is a typing error.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2200, 12, 31)


def check_folds(folds: int) -> int:
    """Return `folds` if a backtest can cut that many folds; raise InsightsError otherwise."""
    if not 1 <= folds <= MAX_FOLDS:
        raise InsightsError(
            "invalid_folds",
            "Invalid number of folds {folds}: use 1 to {maximum}.",
            maximum=MAX_FOLDS,
            folds=folds,
        )
    return folds


def check_test_share(share: float) -> float:
    """Return `share` if it is a finite number strictly between 0 and 1; raise otherwise."""
    if not (math.isfinite(share) and 0 < share < 1):
        raise InsightsError(
            "invalid_test_share",
            "Invalid test share {share}: use a number greater than 0 and less than 1.",
            share=share,
        )
    return share


def check_day(day: dt.date) -> dt.date:
    """Return `day` if predictions and forecasts can be made on it; raise otherwise."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InsightsError(
            "invalid_day",
            "Invalid date {day}: use a date from {earliest} to {latest}.",
            earliest=EARLIEST_DAY.isoformat(),
            latest=LATEST_DAY.isoformat(),
            day=day.isoformat(),
        )
    return day


# Settings ---------------------------------------------------------------------------


def settings_for(entity: LegalEntity) -> InsightsSettings:
    """Return the entity's insights settings, creating them with suitable defaults.

    An entity whose invoices were loaded by an import profile that derives invoice dates
    from payments predicts before the due date, so those dates are never read.
    """
    found = InsightsSettings.objects.filter(entity=entity).first()
    if found is not None:
        return found
    profiles = set(
        ImportRun.objects.filter(entity=entity).values_list("profile", flat=True).distinct()
    )
    derived = any(getattr(BUILT_IN.get(name), "invoice_dates_derived", False) for name in profiles)
    point = PredictionPoint.BEFORE_DUE if derived else PredictionPoint.ISSUE
    settings, _ = InsightsSettings.objects.get_or_create(
        entity=entity, defaults={"prediction_point": point}
    )
    return settings


def policy_for(entity: LegalEntity) -> Policy:
    settings = settings_for(entity)
    return Policy(settings.prediction_point, settings.days_before_due, settings.late_after_days)


def change_settings(
    entity: LegalEntity,
    *,
    prediction_point: str | None = None,
    days_before_due: int | None = None,
    late_after_days: int | None = None,
) -> InsightsSettings:
    """Change how the entity's predictions are made; the next training applies them."""
    settings = settings_for(entity)
    if prediction_point is not None:
        if prediction_point not in PredictionPoint.values:
            raise InsightsError(
                "invalid_prediction_point",
                "{value!r} is not a prediction point; use one of: {choices}.",
                value=prediction_point,
                choices=", ".join(PredictionPoint.values),
            )
        settings.prediction_point = prediction_point
    for name, value in (("days_before_due", days_before_due), ("late_after_days", late_after_days)):
        if value is None:
            continue
        if value < 0 or value > 365:
            raise InsightsError(
                "invalid_days",
                "{name} must be between 0 and 365 days, not {value}.",
                name=name.replace("_", " "),
                value=value,
            )
        setattr(settings, name, value)
    settings.save()
    return settings


# Training ---------------------------------------------------------------------------


@dataclass
class TrainingResult:
    version: ModelVersion
    table: str


def outcomes_known_until(history: LedgerHistory, requested: int) -> int:
    """Return the last day whose payment outcomes the ledger can tell.

    That is the requested day, or the last day any settlement was recorded if that is
    earlier. A history imported as a snapshot records no payment after the day it was
    taken, so its invoices still open then must not count as unpaid on later days.
    """
    if not len(history.spell_start):
        return requested
    return min(requested, int(history.spell_start.max()))


def backtest_entity(
    entity: LegalEntity,
    *,
    known_on: dt.date | None = None,
    folds: int = DEFAULT_FOLDS,
    test_share: float = DEFAULT_TEST_SHARE,
    progress=None,
):
    """Run the rolling-origin backtest of the entity; return (history, examples, result,
    forecast backtest)."""
    check_folds(folds)
    check_test_share(test_share)
    if known_on is not None:
        check_day(known_on)
    policy = policy_for(entity)
    history = load_history(entity)
    if history.size == 0:
        raise InsightsError(
            "no_history",
            "Entity {entity} has no invoices; import a receivables history first.",
            entity=entity.code,
        )
    known = outcomes_known_until(history, examples_known_on(known_on, entity))
    examples = build_examples(history, policy, known)
    cash_backtest = ForecastBacktest(history, policy, known)
    result = run_backtest(
        history, examples, policy, folds, test_share, progress, on_fold=cash_backtest.add
    )
    result.metrics["outcomes_known_on"] = dt.date.fromordinal(known).isoformat()
    return history, examples, result, cash_backtest


def train_models(
    entity: LegalEntity,
    *,
    actor=None,
    known_on: dt.date | None = None,
    folds: int = DEFAULT_FOLDS,
    test_share: float = DEFAULT_TEST_SHARE,
    progress=None,
) -> TrainingResult:
    """Backtest, then fit the entity's models on all its history and save a version.

    A model that does not beat every baseline of its backtest is saved as rejected (or
    kept but not used, when only one of the two models fails), so predictions fall back
    to the transparent rule for it.
    """
    history, examples, result, cash_backtest = backtest_entity(
        entity, known_on=known_on, folds=folds, test_share=test_share, progress=progress
    )
    passed = verdict(result.metrics)
    fitted = fit_models(examples)
    data, sha256 = dump_estimators(fitted.estimators())
    forecast_metrics = cash_backtest.metrics()
    baseline_residuals = _baseline_residuals(result)
    residuals = _subsample(result.residuals)

    with transaction.atomic():
        LegalEntity.objects.select_for_update().filter(pk=entity.pk).first()
        last = ModelVersion.objects.filter(entity=entity).aggregate(last=Max("version"))["last"]
        usable = passed["days_late"] or passed["late_risk"]
        if usable:
            ModelVersion.objects.filter(entity=entity, status=ModelStatus.ACTIVE).update(
                status=ModelStatus.RETIRED
            )
        version = ModelVersion.objects.create(
            entity=entity,
            version=(last or 0) + 1,
            status=ModelStatus.ACTIVE if usable else ModelStatus.REJECTED,
            created_by=actor,
            trained_until=dt.date.fromisoformat(result.metrics["outcomes_known_on"]),
            training_count=int((~np.isnan(examples.is_late)).sum()),
            policy=result.policy.as_dict() | {"blend": fitted.blend},
            feature_names=fitted.feature_names,
            reference=[float(value) for value in fitted.reference],
            residuals={"model": residuals, "baseline": baseline_residuals},
            metrics=result.metrics,
            verdict=passed,
            forecast_metrics=forecast_metrics,
            library_versions={"scikit-learn": sklearn.__version__, "skops": skops.__version__},
            artifact=data,
            artifact_sha256=sha256,
        )
    _MODEL_CACHE.clear()
    table = format_table(f"{entity.code} backtest", result.metrics)
    logger.info(
        "Entity %s: model v%s trained, status %s", entity.code, version.version, version.status
    )
    return TrainingResult(version, table)


def examples_known_on(known_on: dt.date | None, entity: LegalEntity) -> int:
    return (known_on or entity.today()).toordinal()


def _subsample(values: np.ndarray) -> list[float]:
    if len(values) > RESIDUALS_KEPT:
        generator = np.random.default_rng(0)
        values = generator.choice(values, RESIDUALS_KEPT, replace=False)
    return [round(float(value), 2) for value in values]


def _baseline_residuals(result) -> list[float]:
    paid = ~np.isnan(result.days_late)
    points = result.points["customer mean delay"][paid]
    return _subsample(result.days_late[paid] - points)


# Loading ----------------------------------------------------------------------------

_MODEL_CACHE: dict[tuple[int, str], FittedModels] = {}


def active_version(entity: LegalEntity) -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(entity=entity, status=ModelStatus.ACTIVE)
        .order_by("-version")
        .first()
    )


def loaded_model(entity: LegalEntity) -> tuple[ModelVersion | None, LoadedModel]:
    """Return the active version and its models, or the transparent rule when none."""
    version = active_version(entity)
    if version is None:
        last = ModelVersion.objects.filter(entity=entity).order_by("-version").first()
        baseline = np.array(last.residuals.get("baseline", [])) if last else np.zeros(0)
        return None, LoadedModel(None, None, False, False, np.zeros(0), baseline)
    key = (version.pk, version.artifact_sha256)
    fitted = _MODEL_CACHE.get(key)
    if fitted is None:
        estimators = load_estimators(version.artifact, version.artifact_sha256)
        fitted = FittedModels(
            linear=estimators["linear"],
            trees=estimators["trees"],
            log_trees=estimators["log_trees"],
            blend=version.policy.get("blend", "plain"),
            classifier=estimators["classifier"],
            feature_names=list(version.feature_names),
            reference=np.array(version.reference, dtype=float),
            median=estimators.get("median"),
            compact_classifier=estimators.get("compact_classifier"),
        )
        _MODEL_CACHE[key] = fitted
    return version, LoadedModel(
        version.pk,
        fitted,
        bool(version.verdict.get("days_late")),
        bool(version.verdict.get("late_risk")),
        np.array(version.residuals.get("model", []), dtype=float),
        np.array(version.residuals.get("baseline", []), dtype=float),
    )


def _policy_of(version: ModelVersion | None, entity: LegalEntity) -> Policy:
    """Return the policy a version was trained with (its features depend on it)."""
    if version is None:
        return policy_for(entity)
    stored = version.policy
    return Policy(stored["prediction_point"], stored["days_before_due"], stored["late_after_days"])


# Predictions ------------------------------------------------------------------------


def open_invoice_indexes(history: LedgerHistory, on: int) -> list[int]:
    """Return the history indexes of invoices posted by `on` and open at its end."""
    settled_on, _ = history.outcomes(on)
    mask = (history.posted <= on) & (settled_on == NEVER)
    return np.flatnonzero(mask).tolist()


@dataclass
class EntityPredictions:
    history: LedgerHistory
    policy: Policy
    version: ModelVersion | None
    model: LoadedModel
    as_of: dt.date
    invoices: list[Prediction]


def predict_entity(
    entity: LegalEntity, as_of: dt.date | None = None, customer_ids=None
) -> EntityPredictions:
    """Predict every invoice of the entity open on `as_of` (optionally some customers')."""
    as_of = check_day(as_of or entity.today())
    version, model = loaded_model(entity)
    policy = _policy_of(version, entity)
    history = load_history(entity)
    on = as_of.toordinal()
    indexes = open_invoice_indexes(history, on)
    if customer_ids is not None:
        wanted = set(customer_ids)
        indexes = [index for index in indexes if int(history.customer_ids[index]) in wanted]
    predictions = predict_invoices(history, policy, model, indexes, on)
    return EntityPredictions(history, policy, version, model, as_of, predictions)


def late_payment_probability(documents_or_customers, as_of: dt.date) -> dict[int, float]:
    """Return the probability of paying more than N days late, keyed by primary key.

    `documents_or_customers` is an iterable (or queryset) of ledger `Document`s, or of
    `Customer`s, not mixed. For a document: the probability that it is settled more
    than N days after its due date (N is the entity's `late_after_days`, 0 by default),
    given what the ledger showed on `as_of`; a document already settled or not yet
    posted on `as_of` is left out. For a customer: the probability for a typical next
    invoice of theirs (their usual amount, their payment term).

    The entity's active model gives the probability when it beat its baselines in the
    backtest; otherwise the customer's share of invoices paid late (shrunk towards the
    entity's share when their history is short). The collections worklist may call this
    to order its work; it reads each entity's history once per call.
    """
    return {pk: risk[0] for pk, risk in late_payment_risk(documents_or_customers, as_of).items()}


def late_payment_risk(documents_or_customers, as_of: dt.date) -> dict[int, tuple[float, list]]:
    """Return (probability, reasons) per primary key; see `late_payment_probability`."""
    items = list(documents_or_customers)
    if not items:
        return {}
    by_entity: dict[int, list] = {}
    for item in items:
        by_entity.setdefault(item.entity_id, []).append(item)
    entities = LegalEntity.objects.in_bulk(list(by_entity))
    result: dict[int, tuple[float, list]] = {}
    for entity_id, members in by_entity.items():
        entity = entities[entity_id]
        version, model = loaded_model(entity)
        policy = _policy_of(version, entity)
        history = load_history(entity)
        on = as_of.toordinal()
        if isinstance(members[0], Customer):
            terms = _customer_terms(members)
            for customer in members:
                (prediction,) = predict_planned(
                    history, policy, model, [customer.pk], on, terms[customer.pk]
                )
                result[customer.pk] = (float(prediction.probability), prediction.reasons)
            continue
        open_now = set(open_invoice_indexes(history, on))
        indexes = [
            history.index_of[document.pk]
            for document in members
            if document.pk in history.index_of and history.index_of[document.pk] in open_now
        ]
        for prediction in predict_invoices(history, policy, model, indexes, on):
            result[int(history.invoice_ids[prediction.index])] = (
                float(prediction.probability),
                prediction.reasons,
            )
    return result


def _customer_terms(customers) -> dict[int, int]:
    terms = {}
    for customer in customers:
        term = customer.payment_term
        terms[customer.pk] = (
            (term.due_date(dt.date(2001, 1, 1)) - dt.date(2001, 1, 1)).days
            if term is not None
            else DEFAULT_TERM_DAYS
        )
    return terms


# Rescoring --------------------------------------------------------------------------


@dataclass
class RescoreResult:
    entity: LegalEntity
    as_of: dt.date
    predictions: int
    scores: int
    flagged: int
    method: str


def rescore_entity(entity: LegalEntity, as_of: dt.date | None = None) -> RescoreResult:
    """Predict every open invoice, score every customer and store the cash forecast.

    Predictions of invoices no longer open are removed; customer scores are kept per
    day, with a note when the score moved and a credit-review flag when it fell.
    """
    _check_rescore_day(entity, as_of)
    predicted = predict_entity(entity, as_of)
    history, as_of = predicted.history, predicted.as_of
    customers = Customer.objects.filter(entity=entity).select_related("payment_term")
    terms = _customer_terms(customers)
    customer_ids = [customer.pk for customer in customers if history.book(customer.pk)]
    planned = []
    for term in sorted(set(terms[pk] for pk in customer_ids)):
        group = [pk for pk in customer_ids if terms[pk] == term]
        planned += predict_planned(
            history, predicted.policy, predicted.model, group, as_of.toordinal(), term
        )
    forecasts = entity_forecast(entity, as_of, predicted)

    with transaction.atomic():
        _store_predictions(entity, predicted)
        stored_scores, flagged = score_customers(
            entity, as_of, planned, predicted.version, predicted.model
        )
        _store_forecasts(entity, as_of, predicted, forecasts)
    method = Method.MODEL if predicted.model.uses_model else Method.TRANSPARENT
    logger.info(
        "Entity %s: rescored as of %s, %d predictions, %d scores, %d flagged",
        entity.code,
        as_of,
        len(predicted.invoices),
        stored_scores,
        flagged,
    )
    return RescoreResult(entity, as_of, len(predicted.invoices), stored_scores, flagged, method)


def _check_rescore_day(entity: LegalEntity, as_of: dt.date | None) -> None:
    """Raise unless `as_of` lies between the entity's last scoring and its today.

    A rescore replaces the stored predictions and can open credit reviews, so a day in
    the future, or before the scores already stored, would overwrite real work.
    """
    if as_of is None:
        return
    today = entity.today()
    if as_of > today:
        raise InsightsError(
            "rescore_in_future",
            "Cannot rescore entity {entity} as of {as_of}: that is after its today, {today}. "
            "Give today or an earlier day.",
            entity=entity.code,
            as_of=as_of,
            today=today,
        )
    last = CustomerScore.objects.filter(entity=entity).aggregate(last=Max("scored_on"))["last"]
    if last is not None and as_of < last:
        raise InsightsError(
            "rescore_before_last",
            "Cannot rescore entity {entity} as of {as_of}: it was last scored as of {last}, "
            "and an earlier rescore would replace newer predictions. Give {last} or later.",
            entity=entity.code,
            as_of=as_of,
            last=last,
        )


def rescore_all(as_of: dt.date | None = None) -> list[RescoreResult]:
    results = []
    for entity in LegalEntity.objects.filter(documents__isnull=False).distinct():
        results.append(rescore_entity(entity, as_of))
    return results


def _store_predictions(entity: LegalEntity, predicted: EntityPredictions) -> None:
    history = predicted.history
    late_after = predicted.policy.late_after_days
    rows = []
    for prediction in predicted.invoices:
        document_id = int(history.invoice_ids[prediction.index])
        rows.append(
            InvoicePrediction(
                entity=entity,
                customer_id=prediction.customer_id,
                document_id=document_id,
                as_of=predicted.as_of,
                method=prediction.method,
                model_version=predicted.version if prediction.method == Method.MODEL else None,
                days_late=round(prediction.days_late, 2),
                days_late_low=_rounded(prediction.low),
                days_late_high=_rounded(prediction.high),
                pay_on=_day(prediction.due, prediction.days_late),
                pay_low_on=_day(prediction.due, prediction.low),
                pay_high_on=_day(prediction.due, prediction.high),
                late_probability=round(prediction.probability, 4),
                late_after_days=late_after,
                reasons=prediction.reasons,
            )
        )
    InvoicePrediction.objects.filter(entity=entity).delete()
    InvoicePrediction.objects.bulk_create(rows, batch_size=1000)


def _rounded(value):
    return None if value is None else round(value, 2)


def _day(due: int, days_late) -> dt.date | None:
    if days_late is None:
        return None
    return dt.date.fromordinal(due + round(days_late))


# Cash forecast ----------------------------------------------------------------------


def entity_forecast(
    entity: LegalEntity, as_of: dt.date, predicted: EntityPredictions | None = None
) -> dict[str, cash.CurrencyForecast]:
    """Return the entity's cash forecast per currency as of `as_of`."""
    predicted = predicted or predict_entity(entity, as_of)
    history = predicted.history
    ids = [int(history.invoice_ids[p.index]) for p in predicted.invoices]
    open_amounts = {
        pk: (amount, currency)
        for pk, amount, currency in with_open_amount(Document.objects.filter(pk__in=ids), as_of)
        .values_list("pk", "open_amount", "currency")
        .order_by()
    }
    items = []
    for prediction in predicted.invoices:
        amount, currency = open_amounts[int(history.invoice_ids[prediction.index])]
        items.append(cash.Item("invoice", currency, cash._minor(amount, currency), prediction))
    orders, includes_orders = cash.open_orders(entity, as_of)
    if orders:
        terms = _customer_terms(
            Customer.objects.filter(pk__in={order.customer_id for order in orders}).select_related(
                "payment_term"
            )
        )
        items += cash.order_items(history, predicted.policy, predicted.model, orders, as_of, terms)
    scale = 1.0
    if predicted.version is not None:
        scale = float(predicted.version.forecast_metrics.get("band_scale", 1.0))
    return cash.build_forecast(items, as_of, includes_orders, scale)


def _store_forecasts(entity, as_of, predicted, forecasts) -> None:
    for currency, result in forecasts.items():
        ForecastSnapshot.objects.update_or_create(
            entity=entity,
            currency=currency,
            made_on=as_of,
            defaults={
                "method": Method.MODEL if predicted.model.uses_model else Method.TRANSPARENT,
                "model_version": predicted.version,
                "weeks": result.weeks,
                "days": result.days,
                "includes_orders": result.includes_orders,
            },
        )


def actual_receipts(
    entity: LegalEntity, start: dt.date, end: dt.date, posted_by: dt.date | None = None
) -> dict[str, dict]:
    """Return {currency: {day: amount}} of payments applied to invoices in [start, end].

    With `posted_by`, only invoices posted by that day count: the receipts a forecast
    made that day was about. One grouped query; amounts are in each invoice's currency.
    """
    from django.db.models import Sum

    from o2c.core.fields import MoneyField
    from o2c.ledger.models import Allocation, DocumentKind

    rows = (
        Allocation.objects.filter(
            entity=entity,
            allocated_on__range=(start, end),
            credit_document__kind=DocumentKind.PAYMENT,
            **({"debit_document__document_date__lte": posted_by} if posted_by else {}),
        )
        .values("allocated_on", "debit_document__currency")
        .annotate(total=Sum("amount", output_field=MoneyField()))
        .order_by()
    )
    found: dict[str, dict] = {}
    for row in rows:
        days = found.setdefault(row["debit_document__currency"], {})
        days[row["allocated_on"]] = days.get(row["allocated_on"], Decimal("0")) + row["total"]
    return found


def weekly_actuals(
    receipts: dict[dt.date, Decimal], start: dt.date, weeks: int, currency: str
) -> list[Decimal]:
    totals = [Decimal("0")] * weeks
    for day, amount in receipts.items():
        week = (day - start).days // 7
        if 0 <= week < weeks:
            totals[week] += amount
    return [money.round_amount(total, currency) for total in totals]
