"""The command line: bank import, matching run and the audit export."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from o2c.banking.tests.test_formats import MT940_REVERSAL
from o2c.ledger.services import open_amount

pytestmark = pytest.mark.django_db


def test_import_match_and_export(make_customer, entity, post, tmp_path):
    customer = make_customer(entity, name="Acme GmbH")
    invoice = post(customer, "invoice", "INV-2027-0042", "2027-02-01", "350.25")
    path = tmp_path / "t19.sta"
    path.write_text(MT940_REVERSAL.replace(":61:2703010301RC350,25", ":61:2703010301D0,00"))
    # the file without its reversal must still add up: 1000 + 350.25 - 0 - 100 = 1250.25
    path.write_text(path.read_text().replace(":62F:C270301EUR900,00", ":62F:C270301EUR1250,25"))
    out = io.StringIO()

    call_command(
        "bank", "import", str(path), "--entity", entity.code, "--create-accounts", stdout=out
    )
    call_command("bank", "import", str(path), "--entity", entity.code, stdout=out)
    call_command("cashapp", "match", "--entity", entity.code, stdout=out)

    text = out.getvalue()
    assert "3 line(s) imported" in text
    assert (
        "0 statement(s) and 0 line(s) imported; 1 statement(s) and 3 line(s) already there" in text
    )
    assert "1 applied automatically" in text
    assert open_amount(invoice) == 0

    exported = io.StringIO()
    call_command("cashapp", "export", "--format", "json", stdout=exported)
    records = json.loads(exported.getvalue())
    applied = next(record for record in records if record["decision"] == "auto")
    assert applied["allocations"] == [
        {"invoice": "INV-2027-0042", "amount": "350.25", "currency": "EUR"}
    ]
    assert float(applied["confidence"]) >= 0.9
    assert applied["evidence"]
    assert {record["state"] for record in records} == {"matched", "ignored"}

    exported = io.StringIO()
    call_command("cashapp", "export", "--format", "csv", stdout=exported)
    rows = list(csv.DictReader(io.StringIO(exported.getvalue())))
    assert len(rows) == 3
    assert "INV-2027-0042:350.25 EUR" in {row["allocations"] for row in rows}


def test_rejected_file_fails_the_command(entity, tmp_path):
    path = tmp_path / "bad.sta"
    path.write_text(MT940_REVERSAL.replace("EUR900,00", "EUR901,00"))
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command(
            "bank", "import", str(path), "--entity", entity.code, "--create-accounts", stderr=err
        )

    assert "(difference 1.00)" in err.getvalue()


def test_rules_command_shows_and_changes(entity):
    out = io.StringIO()

    call_command(
        "cashapp", "rules", "--entity", entity.code, "--set", "auto_post_threshold=0.95", stdout=out
    )

    assert "auto_post_threshold = 0.950" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("cashapp", "rules", "--entity", entity.code, "--set", "speed=3")


def test_matching_task_runs_the_engine(customer, post, bank_account, make_line):
    from o2c.cashapp.tasks import run_matching_task

    post(customer, "invoice", "INV-2027-0777", "2027-01-05", "10.00")
    make_line(bank_account, "10.00", text="INV-2027-0777")

    outcome = run_matching_task.delay().get()

    assert outcome["auto_applied"] == 1
    assert outcome["queued"] == 0
