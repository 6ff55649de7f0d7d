"""Train, save, load and use the models; fall back when they are weak."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
import skops.io as sio
from django.apps import apps
from django.core.management import CommandError, call_command

from o2c.insights import backtest, services
from o2c.insights.errors import InsightsError
from o2c.insights.forecast import OpenOrder
from o2c.insights.models import CustomerScore, InvoicePrediction, ModelStatus, ModelVersion
from o2c.insights.persistence import load_estimators
from o2c.insights.scoring import what_changed
from o2c.ledger.models import Allocation, Document
from o2c.parties.models import LegalEntity, TimelineEvent
from o2c.teams.models import Team, WorkItem, WorkKind

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 1, 15)
FOLDS = 2


def train(ledger, monkeypatch, passed=(True, True)):
    monkeypatch.setattr(
        services,
        "verdict",
        lambda metrics: {"days_late": passed[0], "late_risk": passed[1]},
    )
    return services.train_models(ledger["entity"], known_on=AS_OF, folds=FOLDS)


def test_train_saves_version_with_backtest(habits_ledger, monkeypatch):
    result = train(habits_ledger, monkeypatch)
    version = result.version

    assert version.status == ModelStatus.ACTIVE
    assert version.version == 1
    assert set(version.metrics["days_late"]) == set(backtest.DAYS_LATE_METHODS)
    assert set(version.metrics["late_risk"]) == set(backtest.LATE_RISK_METHODS)
    assert version.metrics["folds"] == FOLDS
    assert version.residuals["model"]
    assert "model" in result.table
    assert version.forecast_metrics["weeks_scored"] > 0
    assert version.forecast_metrics["wape"] is not None
    estimators = load_estimators(version.artifact, version.artifact_sha256)
    assert estimators["classifier"] is not None


def test_new_version_retires_the_active_one(habits_ledger, monkeypatch):
    first = train(habits_ledger, monkeypatch).version
    second = train(habits_ledger, monkeypatch).version
    first.refresh_from_db()

    assert first.status == ModelStatus.RETIRED
    assert second.version == 2
    assert second.status == ModelStatus.ACTIVE


def test_weak_model_rejected_and_transparent_rule_used(habits_ledger, monkeypatch):
    # given a training whose models did not beat their baselines
    version = train(habits_ledger, monkeypatch, passed=(False, False)).version

    # when the entity is rescored
    services.rescore_entity(habits_ledger["entity"], AS_OF)

    # then the version is rejected and every prediction uses the transparent rule
    assert version.status == ModelStatus.REJECTED
    predictions = list(InvoicePrediction.objects.all())
    assert predictions
    assert {prediction.method for prediction in predictions} == {"transparent"}
    assert all(prediction.reasons for prediction in predictions)
    assert {score.method for score in CustomerScore.objects.all()} == {"transparent"}


def test_rescore_predicts_every_open_invoice_with_reasons(habits_ledger, monkeypatch):
    train(habits_ledger, monkeypatch)
    entity = habits_ledger["entity"]

    result = services.rescore_entity(entity, AS_OF)

    open_invoices = [
        invoice
        for invoice in habits_ledger["invoices"]
        if invoice.document_date <= AS_OF and not invoice.debit_allocations.exists()
    ]
    predictions = {p.document_id: p for p in InvoicePrediction.objects.all()}
    assert result.method == "model"
    assert set(predictions) == {invoice.pk for invoice in open_invoices}
    for prediction in predictions.values():
        assert prediction.reasons
        assert prediction.pay_on > AS_OF
        assert prediction.pay_low_on <= prediction.pay_on
        if prediction.pay_high_on is not None:
            assert prediction.pay_on <= prediction.pay_high_on
        assert 0 <= prediction.late_probability <= 1
    assert any(prediction.pay_high_on for prediction in predictions.values())
    assert CustomerScore.objects.count() == 4


def test_late_payers_score_below_early_payers(habits_ledger, monkeypatch):
    train(habits_ledger, monkeypatch)
    services.rescore_entity(habits_ledger["entity"], AS_OF)

    scores = {score.customer.number: score.score for score in CustomerScore.objects.all()}

    assert min(scores["EARLY1"], scores["EARLY2"]) > max(scores["LATE1"], scores["LATE2"])


def test_falling_score_flagged_with_note_and_review(habits_ledger, monkeypatch):
    # given a credit team and yesterday's high score of a late payer
    entity = habits_ledger["entity"]
    late = habits_ledger["customers"]["LATE2"]
    Team.objects.create(entity=entity, name="Credit", function="credit")
    train(habits_ledger, monkeypatch)
    CustomerScore.objects.create(
        entity=entity,
        customer=late,
        scored_on=AS_OF - dt.timedelta(days=1),
        score=990,
        grade="A",
        late_probability=0.01,
        method="model",
        figures={"history_count": 5, "share_late": 0.0, "open_past_due_count": 0},
    )

    # when the entity is rescored
    services.rescore_entity(entity, AS_OF)

    # then the score fell, is flagged with a note, and the credit team has a review item
    score = CustomerScore.objects.get(customer=late, scored_on=AS_OF)
    assert score.flagged
    assert score.previous_score == 990
    assert score.change_note.startswith(f"Score 990 → {score.score} (grade A → {score.grade})")
    assert "share paid late 0 % →" in score.change_note
    assert TimelineEvent.objects.filter(customer=late, kind="score_changed").exists()
    review = WorkItem.objects.get(customer=late, kind=WorkKind.CREDIT_REVIEW)
    assert str(score.score) in review.title

    # and rescoring again opens no second review
    services.rescore_entity(entity, AS_OF)
    assert WorkItem.objects.filter(customer=late, kind=WorkKind.CREDIT_REVIEW).count() == 1


def test_late_payment_probability_of_documents_and_customers(habits_ledger, monkeypatch):
    train(habits_ledger, monkeypatch)
    customers = habits_ledger["customers"]
    open_docs = list(
        Document.objects.filter(
            kind="invoice", debit_allocations__isnull=True, document_date__lte=AS_OF
        )
    )

    by_document = services.late_payment_probability(open_docs, AS_OF)
    by_customer = services.late_payment_probability(list(customers.values()), AS_OF)

    assert set(by_document) == {document.pk for document in open_docs}
    assert all(0.0 <= value <= 1.0 for value in by_document.values())
    assert by_customer[customers["LATE2"].pk] > by_customer[customers["EARLY1"].pk]


def test_late_payment_probability_skips_settled_documents(habits_ledger):
    settled = Document.objects.filter(kind="invoice", debit_allocations__isnull=False)[:3]

    assert services.late_payment_probability(list(settled), AS_OF) == {}


def test_tampered_artifact_rejected(habits_ledger, monkeypatch):
    version = train(habits_ledger, monkeypatch).version
    data = bytearray(version.artifact)
    data[-10] ^= 0xFF

    with pytest.raises(InsightsError) as raised:
        load_estimators(bytes(data), version.artifact_sha256)

    assert raised.value.code == "model_artifact_changed"


def test_backtest_stops_at_last_recorded_payment(habits_ledger):
    # given a ledger whose last payment is long before the day asked for (a snapshot)
    last_payment = max(Allocation.objects.values_list("allocated_on", flat=True))
    history, examples, result, _ = services.backtest_entity(
        habits_ledger["entity"], known_on=dt.date(2026, 1, 1), folds=FOLDS
    )
    due_after = history.due[examples.invoices] >= last_payment.toordinal()
    table = backtest.format_table("LEDGER", result.metrics)

    assert result.metrics["outcomes_known_on"] == last_payment.isoformat()
    assert f"outcomes known on {last_payment.isoformat()}" in table
    assert due_after.any()
    assert np.isnan(examples.is_late[due_after]).all()


def test_version_without_compact_models_still_predicts(habits_ledger, monkeypatch):
    # given a version saved before the compact models existed
    import hashlib

    version = train(habits_ledger, monkeypatch).version
    estimators = load_estimators(version.artifact, version.artifact_sha256)
    assert estimators["median"] is not None
    assert estimators["compact_classifier"] is not None
    older = {key: estimators[key] for key in ("linear", "trees", "log_trees", "classifier")}
    version.artifact = sio.dumps(older)
    version.artifact_sha256 = hashlib.sha256(version.artifact).hexdigest()
    version.save()
    services._MODEL_CACHE.clear()

    _, model = services.loaded_model(habits_ledger["entity"])
    open_invoices = Document.objects.filter(kind="invoice", debit_allocations__isnull=True)

    assert model.fitted.median is None
    assert model.fitted.compact_classifier is None
    assert services.late_payment_probability(list(open_invoices), AS_OF)


class Untrusted:
    def __init__(self):
        self.value = 1


def test_artifact_with_untrusted_type_rejected():
    import hashlib

    data = sio.dumps({"linear": Untrusted()})

    with pytest.raises(InsightsError) as raised:
        load_estimators(data, hashlib.sha256(data).hexdigest())

    assert raised.value.code == "model_artifact_untrusted"
    assert "Untrusted" in raised.value.message


def test_forecast_spreads_open_invoices_and_orders(habits_ledger, monkeypatch):
    # given open orders published by an installed module
    entity = habits_ledger["entity"]
    customer = habits_ledger["customers"]["EARLY1"]
    config = apps.get_app_config("insights")
    monkeypatch.setattr(
        config, "insights_open_orders", "o2c.insights.tests.test_lifecycle.orders", raising=False
    )
    ORDERS[:] = [OpenOrder(customer.pk, "EUR", Decimal("500.00"), AS_OF + dt.timedelta(days=3))]
    monkeypatch.setattr(LegalEntity, "today", lambda self: AS_OF)

    result = services.entity_forecast(entity, AS_OF)["EUR"]

    open_total = sum(
        invoice.amount
        for invoice in habits_ledger["invoices"]
        if invoice.document_date <= AS_OF and not invoice.debit_allocations.exists()
    )
    weeks = result.weeks
    assert len(weeks) == 13
    assert result.includes_orders
    assert result.total_open == open_total + Decimal("500.00")
    expected = sum(Decimal(week["expected"]) for week in weeks) + result.later
    assert abs(expected - result.total_open) <= Decimal("0.10")
    assert sum(Decimal(week["orders"]) for week in weeks) > 0
    for week in weeks:
        assert Decimal(week["low"]) <= Decimal(week["expected"]) <= Decimal(week["high"])


ORDERS: list = []


def orders(entity, as_of):
    return list(ORDERS)


def test_forecast_reads_released_orders_of_orders_module(
    habits_ledger, catalogue, place, make_customer, monkeypatch
):
    # given a released order of 10 widgets (125.00 EUR net) of a new customer
    entity = habits_ledger["entity"]
    monkeypatch.setattr(LegalEntity, "today", lambda self: AS_OF)
    customer = make_customer(
        entity, credit_limit_amount=Decimal("100000.00"), credit_limit_currency="EUR"
    )
    order = place(customer, [("WIDGET", "10")], currency="EUR")
    assert order.status == "released"

    # when the forecast is made as of today
    result = services.entity_forecast(entity, AS_OF)["EUR"]

    # then the order's value is expected among the receipts
    assert result.includes_orders
    orders_total = sum(Decimal(week["orders"]) for week in result.weeks)
    assert Decimal("124.90") <= orders_total <= Decimal("125.10")


def test_forecast_of_past_day_leaves_orders_out(habits_ledger):
    result = services.entity_forecast(habits_ledger["entity"], AS_OF)["EUR"]

    assert not result.includes_orders
    assert result.notes[0].startswith("Open orders are not included")


def test_backtest_command_writes_table(habits_ledger, tmp_path):
    call_command(
        "insights",
        "backtest",
        "--entity",
        habits_ledger["entity"].code,
        "--folds",
        str(FOLDS),
        "--known-on",
        AS_OF.isoformat(),
        "--output-dir",
        str(tmp_path),
    )

    table = (tmp_path / "insights-backtest.txt").read_text()
    assert "customer mean delay" in table
    assert "customer share late" in table
    assert (tmp_path / f"insights-backtest-{habits_ledger['entity'].code}.json").exists()


def test_train_without_history_explains(entity):
    with pytest.raises(InsightsError) as raised:
        services.train_models(entity)

    assert raised.value.code == "no_history"


def test_version_numbers_per_entity(habits_ledger, monkeypatch):
    train(habits_ledger, monkeypatch)

    assert ModelVersion.objects.get().entity == habits_ledger["entity"]


def test_beat_schedule_declares_nightly_rescore():
    schedule = apps.get_app_config("insights").beat_schedule

    assert schedule["insights-rescore-nightly"]["task"] == "o2c.insights.tasks.rescore_all_task"


def test_derived_invoice_dates_predict_before_due(entity):
    from django.utils import timezone

    from o2c.imports.models import ImportRun

    ImportRun.objects.create(
        kind="receivables",
        profile="school-fees",
        file_name="fees.csv",
        file_sha256="0" * 64,
        entity=entity,
        status="succeeded",
        started_at=timezone.now(),
    )

    policy = services.policy_for(entity)

    assert policy.prediction_point == "before_due"
    assert not policy.use_issue_dates


def test_settings_reject_unknown_prediction_point(entity):
    with pytest.raises(InsightsError) as raised:
        services.change_settings(entity, prediction_point="whenever")

    assert raised.value.code == "invalid_prediction_point"


def test_rescore_refuses_future_and_older_days(habits_ledger):
    entity = habits_ledger["entity"]
    services.rescore_entity(entity, AS_OF)

    with pytest.raises(InsightsError) as future:
        services.rescore_entity(entity, entity.today() + dt.timedelta(days=1))
    with pytest.raises(InsightsError) as older:
        services.rescore_entity(entity, AS_OF - dt.timedelta(days=1))

    assert future.value.code == "rescore_in_future"
    assert older.value.code == "rescore_before_last"
    assert str(AS_OF) in older.value.message


@pytest.mark.parametrize("folds", ["0", "-3", "61"])
def test_command_rejects_folds_out_of_range(folds):
    with pytest.raises(CommandError) as raised:
        call_command("insights", "backtest", "--folds", folds)

    assert "use 1 to 60" in str(raised.value)


@pytest.mark.parametrize("share", ["nan", "inf", "0", "1", "1.5", "-1"])
def test_command_rejects_invalid_test_share(share):
    with pytest.raises(CommandError) as raised:
        call_command("insights", "train", "--test-share", share)

    assert "greater than 0 and less than 1" in str(raised.value)


def test_command_rejects_far_date():
    with pytest.raises(CommandError) as raised:
        call_command("insights", "rescore", "--as-of", "9999-12-31")

    assert "from 1900-01-01 to 2200-12-31" in str(raised.value)


@pytest.mark.parametrize("option", ["--as-of", "--known-on"])
def test_malformed_date_is_usage_error(option):
    action = "rescore" if option == "--as-of" else "backtest"
    with pytest.raises(CommandError) as raised:
        call_command("insights", action, option, "2026-02-31")

    assert f"argument {option}: Invalid date '2026-02-31'" in str(raised.value)


def test_backtest_rejects_zero_folds(entity):
    with pytest.raises(InsightsError) as raised:
        services.backtest_entity(entity, folds=0)

    assert raised.value.code == "invalid_folds"


SAME_HISTORY = {"history_count": 12, "share_late": 0.25, "days_since_payment": 10}


def test_change_note_names_new_model_version():
    before = CustomerScore(
        score=800, grade="A", figures=SAME_HISTORY, scored_on=dt.date(2025, 1, 1)
    )
    before.model_version_id = 3

    note = what_changed(before, 700, "B", dict(SAME_HISTORY), version_id=4)

    assert note == (
        "Score 800 → 700 (grade A → B) since 2025-01-01: scored by another model version."
    )


def test_change_note_names_calendar_figures():
    before = CustomerScore(
        score=800, grade="A", figures=SAME_HISTORY, scored_on=dt.date(2025, 1, 1)
    )

    note = what_changed(before, 740, "B", SAME_HISTORY | {"days_since_payment": 40})

    assert note.endswith(": days since the last payment 10 → 40.")


def test_change_note_without_any_changed_figure():
    before = CustomerScore(
        score=800, grade="A", figures=SAME_HISTORY, scored_on=dt.date(2025, 1, 1)
    )

    note = what_changed(before, 740, "B", dict(SAME_HISTORY))

    assert "no recorded figure changed; other inputs moved" in note
    assert "weighs the same history" not in note
