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


@pytest.mark.slow
def test_demo_setup_twice(tmp_path, monkeypatch, db):
    monkeypatch.setenv("O2C_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("O2C_DEMO_INVOICES", "400")
    first, second = StringIO(), StringIO()

    call_command("demo", "setup", stdout=first, stderr=StringIO())
    invoices = Document.objects.filter(kind="invoice").count()
    call_command("demo", "setup", stdout=second, stderr=StringIO())

    assert invoices == 2466 + 400
    assert Document.objects.filter(kind="invoice").count() == invoices
    assert "one-time password" in first.getvalue()
    password_1 = first.getvalue().split("one-time password: ")[1].split()[0]
    password_2 = second.getvalue().split("one-time password: ")[1].split()[0]
    assert password_1 != password_2
    assert UserSettings.objects.get(user__username="admin").must_change_password is True
    assert Membership.objects.filter(user__username="leader.de01", role="leader").exists()
    assert Portfolio.objects.filter(
        team__entity__code="DE01", members__username="collector1.de01"
    ).exists()
