"""Pages and endpoints show predictions with reasons, and only within a person's scope."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from o2c.collections.worklist import build_worklist
from o2c.core.panels import render_panels
from o2c.core.templatetags.money import amount as money_amount
from o2c.insights import reasons as reason_words
from o2c.insights import services
from o2c.insights.models import CustomerScore, InvoicePrediction
from o2c.insights.reasons import INVOICE_FEATURES
from o2c.insights.scoring import loss_model
from o2c.ledger.models import Document

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 1, 15)


@pytest.fixture
def scored(habits_ledger, monkeypatch):
    monkeypatch.setattr(services, "verdict", lambda metrics: {"days_late": True, "late_risk": True})
    services.train_models(habits_ledger["entity"], known_on=AS_OF, folds=2)
    services.rescore_entity(habits_ledger["entity"], AS_OF)
    return habits_ledger


def people(ledger, make_user):
    entity = ledger["entity"]
    mine = ledger["customers"]["LATE1"]
    member = make_user("member", entity=entity, role="member", customers=[mine])
    leader = make_user("leader", entity=entity, role="leader")
    return member, leader, mine, ledger["customers"]["LATE2"]


def test_customer_page_shows_score_and_predictions_with_reasons(
    scored, make_user, client, django_assert_max_num_queries
):
    member, _, mine, _ = people(scored, make_user)
    client.force_login(member)

    with django_assert_max_num_queries(40):
        response = client.get(f"/customers/{mine.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="insights-customer"' in html
    assert "Credit score" in html
    assert "Predicted payment of open invoices" in html
    for prediction in InvoicePrediction.objects.filter(customer=mine):
        assert prediction.document.number in html
        assert prediction.reasons[0]["text"][1:] in html


def test_invoice_page_within_scope_only(scored, make_user, client):
    member, _, mine, theirs = people(scored, make_user)
    own = InvoicePrediction.objects.filter(customer=mine).first()
    other = InvoicePrediction.objects.filter(customer=theirs).first()
    client.force_login(member)

    shown = client.get(f"/insights/invoices/{own.document_id}/")
    hidden = client.get(f"/insights/invoices/{other.document_id}/")

    assert shown.status_code == 200
    assert own.pay_on.isoformat() in shown.content.decode()
    assert "Why" in shown.content.decode()
    assert hidden.status_code == 404


def test_api_prediction_and_score_within_scope(scored, make_user, client):
    member, _, mine, theirs = people(scored, make_user)
    own = InvoicePrediction.objects.filter(customer=mine, pay_high_on__isnull=False).first()
    other = InvoicePrediction.objects.filter(customer=theirs).first()
    client.force_login(member)

    prediction = client.get(f"/api/insights/invoices/{own.document_id}/prediction")
    score = client.get(f"/api/insights/customers/{mine.pk}/score")

    assert prediction.status_code == 200
    assert prediction.json()["reasons"]
    assert prediction.json()["pay_on"] == own.pay_on.isoformat()
    assert prediction.json()["overdue_beyond_history"] is False
    assert score.status_code == 200
    assert 0 <= score.json()["latest"]["score"] <= 1000
    assert client.get(f"/api/insights/invoices/{other.document_id}/prediction").status_code == 404
    assert client.get(f"/api/insights/customers/{theirs.pk}/score").status_code == 404


def test_api_late_risk_rejects_items_outside_scope(scored, make_user, client):
    member, _, mine, theirs = people(scored, make_user)
    own = Document.objects.filter(customer=mine, kind="invoice").last()
    other = Document.objects.filter(customer=theirs, kind="invoice").last()
    client.force_login(member)

    allowed = client.post(
        "/api/insights/late-risk",
        {"as_of": AS_OF.isoformat(), "document_ids": [own.pk]},
        content_type="application/json",
    )
    refused = client.post(
        "/api/insights/late-risk",
        {"as_of": AS_OF.isoformat(), "document_ids": [own.pk, other.pk]},
        content_type="application/json",
    )
    both = client.post(
        "/api/insights/late-risk",
        {"as_of": AS_OF.isoformat(), "document_ids": [own.pk], "customer_ids": [mine.pk]},
        content_type="application/json",
    )

    assert allowed.status_code == 200
    assert set(allowed.json()["probabilities"]) == {str(own.pk)}
    assert refused.status_code == 404
    assert both.status_code == 400
    assert both.json()["code"] == "late_risk_subject"


def test_api_late_risk_names_settled_documents(scored, make_user, client):
    member, _, mine, _ = people(scored, make_user)
    settled = Document.objects.filter(
        customer=mine, kind="invoice", document_date__lt=AS_OF, prediction__isnull=True
    ).first()
    open_one = InvoicePrediction.objects.filter(customer=mine).first().document
    client.force_login(member)

    response = client.post(
        "/api/insights/late-risk",
        {"as_of": AS_OF.isoformat(), "document_ids": [settled.pk, open_one.pk]},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert set(response.json()["probabilities"]) == {str(open_one.pk)}
    assert response.json()["not_open"] == [settled.pk]


def late_risk(client, **payload):
    payload.setdefault("as_of", AS_OF.isoformat())
    return client.post("/api/insights/late-risk", payload, content_type="application/json")


def test_api_late_risk_rejects_bad_requests(scored, make_user, client):
    member, _, mine, theirs = people(scored, make_user)
    payment = Document.objects.filter(customer=mine, kind="payment").first()
    invoice = Document.objects.filter(customer=mine, kind="invoice").last()
    hidden = Document.objects.filter(customer=theirs, kind="invoice").last()
    client.force_login(member)

    not_invoice = late_risk(client, document_ids=[payment.pk])
    future = late_risk(client, as_of="2199-12-31", document_ids=[invoice.pk])
    tomorrow = (scored["entity"].today() + dt.timedelta(days=1)).isoformat()
    next_day = late_risk(client, as_of=tomorrow, document_ids=[invoice.pk])
    boolean = late_risk(client, document_ids=[True])
    text = late_risk(client, document_ids=[str(invoice.pk)])
    outside = late_risk(client, document_ids=[invoice.pk, hidden.pk])

    assert not_invoice.status_code == 400
    assert not_invoice.json()["code"] == "late_risk_not_invoice"
    assert str(payment.pk) in not_invoice.json()["message"]
    assert future.status_code == 400
    assert future.json()["code"] == "late_risk_future"
    assert next_day.status_code == 400
    assert boolean.status_code == 422
    assert text.status_code == 422
    assert outside.status_code == 404
    assert outside.json()["detail"] == f"Not found or outside your scope: {hidden.pk}."


def test_forecast_and_models_for_leaders_only(scored, make_user, client):
    member, leader, _, _ = people(scored, make_user)

    client.force_login(member)
    assert client.get("/insights/forecast/").status_code == 404
    assert client.get("/api/insights/forecast").status_code == 404
    assert client.get("/api/insights/models").json() == []

    client.force_login(leader)
    page = client.get(f"/insights/forecast/?as_of={AS_OF.isoformat()}")
    api = client.get(f"/api/insights/forecast?as_of={AS_OF.isoformat()}")
    models = client.get("/api/insights/models")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert "80 % band" in page.content.decode()
    assert api.status_code == 200
    assert len(api.json()[0]["weeks"]) == 13
    assert models.json()[0]["verdict"] == {"days_late": True, "late_risk": True}
    assert client.get("/api/insights/models?entity=NOPE").status_code == 404


def test_dashboard_panel_shows_forecast_band_to_leaders(habits_ledger, monkeypatch, rf):
    # given the forecasts stored 13 weeks ago and today
    entity = habits_ledger["entity"]
    monkeypatch.setattr(services, "verdict", lambda metrics: {"days_late": True, "late_risk": True})
    services.train_models(entity, known_on=AS_OF, folds=2)
    services.rescore_entity(entity, AS_OF - dt.timedelta(days=91))
    services.rescore_entity(entity, AS_OF)
    request = rf.get("/")

    leader_panel = render_panels("dashboard_panels", request, entity, AS_OF, True)
    member_panel = render_panels("dashboard_panels", request, entity, AS_OF, False)

    html = "".join(leader_panel)
    assert 'id="cash-forecast"' in html
    assert "<svg" in html
    assert "weeks inside the band" in html
    assert "Backtest: the 80 % band covered" in html
    assert member_panel == []


def test_dashboard_panel_queries_do_not_grow(scored, rf, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        render_panels("dashboard_panels", rf.get("/"), scored["entity"], AS_OF, True)


def test_loss_model_ranks_overdue_money_by_risk(scored):
    customers = scored["customers"]
    facts = [SimpleNamespace(customer_id=customer.pk) for customer in customers.values()]

    estimates = loss_model().estimate(facts, AS_OF)

    assert estimates
    for pk, estimate in estimates.items():
        assert pk in {customer.pk for customer in customers.values()}
        assert 0 <= estimate.probability <= 1
        assert "expected to be still unpaid in 30 days" in estimate.reasons[0]
        assert estimate.model == "insights payment model"
        assert estimate.measure == "probability of still being unpaid in 30 days"


def test_worklist_names_what_risk_measures(scored, make_user):
    member, _, _, _ = people(scored, make_user)

    worklist = build_worklist(member, scored["entity"], AS_OF)
    entries = worklist.entries

    assert worklist.model == "insights payment model"
    assert entries
    assert entries[0].measure == "probability of still being unpaid in 30 days"
    assert entries[0].reasons[1].startswith("probability of still being unpaid in 30 days ")


def test_loss_model_without_usable_model_uses_heuristic(habits_ledger):
    customers = habits_ledger["customers"]
    facts = [
        SimpleNamespace(
            customer_id=customer.pk,
            oldest_days_past_due=40,
            overdue_base=Decimal("100.00"),
            behaviour={},
        )
        for customer in customers.values()
    ]

    estimates = loss_model().estimate(facts, AS_OF)

    assert {estimate.model for estimate in estimates.values()} == {"heuristic"}
    assert {estimate.measure for estimate in estimates.values()} == {"probability of loss"}


def test_credit_review_lists_flagged_in_scope(scored, make_user, client):
    member, _, mine, theirs = people(scored, make_user)
    from o2c.insights.models import CustomerScore

    CustomerScore.objects.filter(customer__in=[mine, theirs]).update(
        flagged=True, change_note="Score 900 → 400"
    )
    client.force_login(member)

    html = client.get("/insights/credit-review/").content.decode()

    assert mine.number in html
    assert theirs.number not in html


def test_credit_review_drops_flag_after_newer_score(scored, make_user, client):
    member, _, mine, _ = people(scored, make_user)
    from o2c.insights.models import CustomerScore

    flagged = CustomerScore.objects.get(customer=mine)
    flagged.flagged = True
    flagged.change_note = "Score 900 → 400"
    flagged.save()
    newer = CustomerScore.objects.get(pk=flagged.pk)
    newer.pk = None
    newer.scored_on = flagged.scored_on + dt.timedelta(days=1)
    newer.flagged = False
    newer.save()
    client.force_login(member)

    html = client.get("/insights/credit-review/").content.decode()

    assert mine.number not in html


def test_forecast_page_shows_each_currency(habits_ledger, make_user, client, monkeypatch):
    # given an open invoice in a second currency
    from o2c.fx.services import set_manual_rate
    from o2c.ledger.services import post_document

    entity = habits_ledger["entity"]
    issued = AS_OF - dt.timedelta(days=5)
    set_manual_rate("USD", issued, Decimal("1.25"))
    post_document(
        customer=habits_ledger["customers"]["LATE1"],
        kind="invoice",
        number="US-1",
        document_date=issued,
        amount=Decimal("500.00"),
        currency="USD",
    )
    monkeypatch.setattr(services, "verdict", lambda metrics: {"days_late": True, "late_risk": True})
    services.train_models(entity, known_on=AS_OF, folds=2)
    services.rescore_entity(entity, AS_OF)
    _, leader, _, _ = people(habits_ledger, make_user)
    client.force_login(leader)

    own = client.get(f"/insights/forecast/?as_of={AS_OF}").content.decode()
    dollars = client.get(f"/insights/forecast/?as_of={AS_OF}&currency=USD").content.decode()

    assert f"By week ({entity.base_currency})" in own
    assert "currency=USD" in own
    assert "By week (USD)" in dollars
    assert f"currency={entity.base_currency}" in dollars


def test_forecast_page_marks_recomputed_past_forecast(scored, make_user, client):
    # given no forecast stored 13 weeks before the day shown
    _, leader, _, _ = people(scored, make_user)
    client.force_login(leader)

    html = client.get(f"/insights/forecast/?as_of={AS_OF}").content.decode()

    assert "so the current model made it again" in html
    assert "coverage is optimistic" in html


def test_pages_need_sign_in(client):
    assert client.get("/insights/").status_code == 302
    assert client.get("/api/insights/models").status_code == 401


def test_forecast_rejects_far_date(habits_ledger, make_user, client):
    _, leader, _, _ = people(habits_ledger, make_user)
    client.force_login(leader)

    api = client.get("/api/insights/forecast?as_of=9999-12-31")
    page = client.get("/insights/forecast/?as_of=9999-12-31")

    assert api.status_code == 400
    assert api.json()["code"] == "invalid_day"
    assert page.status_code == 400
    assert "2200-12-31" in page.content.decode()


@pytest.mark.parametrize("field", ["document_ids", "customer_ids"])
def test_late_risk_rejects_oversized_id(habits_ledger, make_user, client, field):
    member, _, _, _ = people(habits_ledger, make_user)
    client.force_login(member)

    response = client.post(
        "/api/insights/late-risk",
        {"as_of": AS_OF.isoformat(), field: [2**63]},
        content_type="application/json",
    )

    assert response.status_code == 422


@pytest.fixture
def risk_model_only(habits_ledger, monkeypatch):
    monkeypatch.setattr(
        services, "verdict", lambda metrics: {"days_late": False, "late_risk": True}
    )
    services.train_models(habits_ledger["entity"], known_on=AS_OF, folds=2)
    services.rescore_entity(habits_ledger["entity"], AS_OF)
    return habits_ledger


def test_invoice_page_date_source_rule(risk_model_only, make_user, client):
    member, _, mine, _ = people(risk_model_only, make_user)
    own = InvoicePrediction.objects.filter(customer=mine, pay_high_on__isnull=False).first()
    client.force_login(member)

    html = client.get(f"/insights/invoices/{own.document_id}/").content.decode()
    api = client.get(f"/api/insights/invoices/{own.document_id}/prediction").json()

    version = own.model_version.version
    assert f"the date from the customer-history rule (the days-late model of v{version}" in html
    assert f"the risk from the payment model v{version}." in html
    assert (api["method"], api["date_method"], api["risk_method"]) == ("model", "rule", "model")


def test_invoice_page_shows_amount_at_currency_decimals(scored, make_user, client):
    member, _, mine, _ = people(scored, make_user)
    own = InvoicePrediction.objects.filter(customer=mine).first()
    client.force_login(member)

    html = client.get(f"/insights/invoices/{own.document_id}/").content.decode()

    document = own.document
    assert money_amount(document.amount, document.currency) in html
    assert f"{document.amount:,.4f}" not in html


def test_invoice_overdue_beyond_history_has_no_date(scored, make_user, client):
    # given a prediction for an invoice older than almost every paid one (no upper bound)
    member, _, mine, _ = people(scored, make_user)
    own = InvoicePrediction.objects.filter(customer=mine).first()
    own.pay_low_on = own.pay_on
    own.pay_high_on = None
    own.save()
    client.force_login(member)

    html = client.get(f"/insights/invoices/{own.document_id}/").content.decode()
    api = client.get(f"/api/insights/invoices/{own.document_id}/prediction").json()

    assert "overdue longer than almost every invoice paid so far" in html
    assert f"not before {own.pay_low_on:%Y-%m-%d}" in html
    assert api["overdue_beyond_history"] is True
    assert api["pay_on"] is None
    assert api["date_method"] == "none"
    assert api["pay_low_on"] == own.pay_low_on.isoformat()


def test_scores_state_no_fact_of_an_unissued_invoice(scored, monkeypatch):
    # given a record of which features each reason search leaves out
    left_out = []
    original = reason_words.top_reasons

    def recording(*args, **kwargs):
        left_out.append(kwargs.get("exclude", frozenset()))
        return original(*args, **kwargs)

    monkeypatch.setattr(reason_words, "top_reasons", recording)

    # when the customers and their open invoices are scored again
    services.rescore_entity(scored["entity"], AS_OF)

    # then scores (typical next invoices) leave out invoice facts, open invoices keep them
    reasons = [reason for score in CustomerScore.objects.all() for reason in score.reasons]
    assert reasons
    assert not {reason["feature"] for reason in reasons} & INVOICE_FEATURES
    assert INVOICE_FEATURES in left_out
    assert frozenset() in left_out


def test_risk_label_without_grace_days(scored, make_user, client):
    member, _, mine, _ = people(scored, make_user)
    own = InvoicePrediction.objects.filter(customer=mine).first()
    client.force_login(member)

    html = client.get(f"/insights/invoices/{own.document_id}/").content.decode()

    assert "Risk of paying after the due date" in html
    assert "more than 0 days" not in html
