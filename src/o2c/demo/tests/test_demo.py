"""The demo generator and the one-command demo set-up."""

import csv
import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from o2c.core.models import UserSettings
from o2c.demo.generator import generate, load_behaviours
from o2c.imports.services import import_receivables
from o2c.ledger.models import Document
from o2c.parties.models import LegalEntity
from o2c.teams.models import Membership, Portfolio

END = dt.date(2026, 11, 30)


def test_generator_is_reproducible(tmp_path):
    first = generate(tmp_path / "a", invoices=300, entities=4, end=END, seed=3)
    second = generate(tmp_path / "b", invoices=300, entities=4, end=END, seed=3)

    assert first.csv_path.read_bytes() == second.csv_path.read_bytes()
    assert first.entities == ["DE01", "US01", "JP01", "KW01"]


def test_generator_writes_whole_yen_and_three_decimal_dinars(tmp_path):
    ledger = generate(tmp_path, invoices=400, entities=4, end=END)

    with ledger.csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    yen = [row["amount"] for row in rows if row["currency"] == "JPY"]
    dinars = [row["amount"] for row in rows if row["currency"] == "KWD"]
    assert yen and all("." not in amount for amount in yen)
    assert dinars and all(len(amount.split(".")[1]) == 3 for amount in dinars)
    assert len(rows) == 400


def test_behaviours_come_from_both_real_histories():
    behaviours = load_behaviours()

    assert len(behaviours) > 100
    assert any(None in behaviour.delays for behaviour in behaviours)  # never-paid charges
    assert any(min(d for d in behaviour.delays if d is not None) < 0 for behaviour in behaviours)


@pytest.mark.slow
def test_generated_ledger_imports(tmp_path, db):
    from o2c.fx.services import import_ecb_csv
    from o2c.paths import SHIPPED_DATA_DIR

    import_ecb_csv(SHIPPED_DATA_DIR / "fx" / "eurofxref-hist.csv")
    ledger = generate(tmp_path, invoices=500, entities=4, end=END)

    result = import_receivables(ledger.csv_path, "generic", mapping=ledger.mapping_path)

    assert result.counts["invoices_created"] == 500
    assert LegalEntity.objects.get(code="KW01").base_currency == "KWD"
    assert Document.objects.filter(currency="USD", entity__code="DE01").exists()


# Models counted before and after a second set-up: it must add none of them.
COUNTED = [
    "ledger.Document",
    "ledger.Allocation",
    "parties.Customer",
    "parties.Contact",
    "parties.TimelineEvent",
    "teams.SlaPolicy",
    "teams.WorkItem",
    "collections.DunningStrategy",
    "collections.DunningStep",
    "collections.PromiseToPay",
    "orders.Product",
    "orders.PriceListItem",
    "orders.Order",
    "orders.Shipment",
    "credit.CreditCheck",
    "credit.CreditProfile",
    "billing.Invoice",
    "billing.CreditNote",
    "banking.BankAccount",
    "banking.Statement",
    "banking.StatementLine",
    "cashapp.LineMatch",
    "cashapp.Suggestion",
    "disputes.Dispute",
    "insights.ModelVersion",
    "insights.InvoicePrediction",
    "insights.ForecastSnapshot",
    "portal.PortalUser",
]


def model_counts() -> dict[str, int]:
    from django.apps import apps

    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def states(queryset, field: str) -> set[str]:
    return set(queryset.values_list(field, flat=True))


@pytest.mark.slow
def test_demo_setup_twice(tmp_path, monkeypatch, db, client):
    from django.contrib.auth import get_user_model

    from o2c.banking.models import LineState, StatementLine
    from o2c.billing.documents.validation import schema_errors
    from o2c.billing.models import CreditNote, Invoice
    from o2c.billing.services import render_pdf, render_ubl
    from o2c.cashapp.models import Suggestion
    from o2c.collections.models import DunningStrategy, PromiseToPay
    from o2c.collections.services import run_dunning
    from o2c.disputes.models import Dispute, DisputeReason
    from o2c.insights.models import ForecastSnapshot, InvoicePrediction, ModelVersion
    from o2c.orders.models import Order, PriceList
    from o2c.teams.models import SlaPolicy, Team, WorkItem

    monkeypatch.setenv("O2C_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("O2C_DEMO_INVOICES", "1000")
    # Train every entity of the small ledger too (250 invoices each).
    monkeypatch.setenv("O2C_DEMO_TRAIN_MIN_INVOICES", "200")
    first, second = StringIO(), StringIO()

    call_command("demo", "setup", stdout=first, stderr=StringIO())
    before = model_counts()
    call_command("demo", "setup", "--people-passwords", stdout=second, stderr=StringIO())
    after = model_counts()

    # a second run adds nothing
    assert after == before
    # the imported invoices: the IBM history and the generated ledger, each once
    assert Document.objects.filter(kind="invoice", source="import").count() == 2466 + 1000
    password_1 = first.getvalue().split("one-time password: ")[1].split()[0]
    password_2 = second.getvalue().split("one-time password: ")[1].split()[0]
    assert password_1 != password_2
    assert UserSettings.objects.get(user__username="admin").must_change_password is True
    assert Membership.objects.filter(user__username="leader.de01", role="leader").exists()
    assert Portfolio.objects.filter(
        team__entity__code="DE01", members__username="collector1.de01"
    ).exists()
    entities = list(LegalEntity.objects.filter(code__in=["DE01", "US01", "JP01", "KW01"]))
    assert len(entities) == 4

    # collections: an SLA for every team, strategies, a dunning preview with work
    assert not Team.objects.filter(sla_policies__isnull=True).exists()
    for entity in entities:
        assert DunningStrategy.objects.filter(entity=entity).count() == 2
        assert run_dunning(entity, entity.today(), preview=True).notices
    assert states(PromiseToPay.objects, "status") == {"open", "kept", "broken"}
    assert WorkItem.objects.filter(kind="promise_follow_up", state="open").exists()
    assert SlaPolicy.objects.filter(kind="dispute").exists()

    # orders and credit: price lists, orders in each state, approvals, reviews, limits
    for entity in entities:
        assert PriceList.objects.filter(entity=entity, currency=entity.base_currency).exists()
        assert not entity.customers.filter(credit_limit_amount__isnull=True).exists()
    assert {"draft", "released", "on_credit_hold", "fulfilled", "invoiced"} <= states(
        Order.objects, "status"
    )
    assert WorkItem.objects.filter(kind="credit_approval", state="open").exists()
    assert WorkItem.objects.filter(kind="credit_review", state="open").exists()

    # billing: posted invoices of every entity, a credit note, a PDF and a valid UBL file
    for entity in entities:
        assert entity.vat_number or entity.country in ("US", "KW")
        assert Invoice.objects.filter(entity=entity, status="posted").count() >= 3
        assert CreditNote.objects.filter(entity=entity, status="posted").exists()
    german = Invoice.objects.filter(entity__code="DE01", status="posted").first()
    assert render_pdf(german).startswith(b"%PDF")
    assert schema_errors(render_ubl(german)) == []

    # banking and cash application: a statement per entity, most lines matched
    for entity in entities:
        lines = StatementLine.objects.filter(entity=entity, amount__gt=0)
        matched = lines.filter(state=LineState.MATCHED).count()
        assert lines.exists()
        assert matched * 2 > lines.count()
    assert StatementLine.objects.filter(state=LineState.EXCEPTION).exists()
    assert entities[0].bank_accounts.get().iban.startswith("DE")
    # the queue contains lines with ranked suggestions for a person to decide, a partial
    # payment among them, beside lines nothing could be proposed for
    queued = StatementLine.objects.filter(state=LineState.EXCEPTION, amount__gt=0)
    suggested = Suggestion.objects.filter(line__in=queued)
    assert suggested.values("line").distinct().count() >= 3
    assert suggested.filter(outcome="partial").exists()
    assert queued.exclude(pk__in=suggested.values("line")).exists()

    # disputes: open, resolved by credit note, rejected
    demo_disputes = Dispute.objects.exclude(reason=DisputeReason.UNSPECIFIED)
    assert {"open", "resolved", "rejected"} <= states(demo_disputes, "status")
    assert demo_disputes.filter(resolution="credit_note").exists()

    # insights: models, predictions and a cash forecast of every generated entity
    for entity in entities:
        assert ModelVersion.objects.filter(entity=entity).exists()
        assert InvoicePrediction.objects.filter(entity=entity).exists()
        assert ForecastSnapshot.objects.filter(entity=entity).exists()

    # sign-ins: one-time passwords for the people, a working portal link
    output = second.getvalue()
    collector_password = output.split("collector1.de01")[1].split()[0]
    collector = get_user_model().objects.get(username="collector1.de01")
    assert collector.check_password(collector_password)
    link = output.split("/portal/link/")[1].split()[0]
    assert client.post(f"/portal/link/{link}").status_code == 302
