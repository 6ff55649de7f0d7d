"""Drafting, posting, numbering and immutability of invoices."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from o2c.billing.errors import BillingError
from o2c.billing.models import Invoice, InvoiceLine, NumberSeries
from o2c.billing.services import create_invoice, post_invoice
from o2c.billing.tests.conftest import line
from o2c.fx.errors import RateError
from o2c.fx.services import set_manual_rate
from o2c.ledger.models import Document
from o2c.ledger.references import parse_creditor_reference

D = Decimal

pytestmark = pytest.mark.django_db


def test_post_invoice_numbers_and_posts_ledger_document(buyer_fr, invoice_for):
    # given a draft of 2 × 50.00 at 20 %
    draft = invoice_for(buyer_fr, [line("Lamp", "2", "50.00")])
    assert draft.number == ""

    # when it is posted
    invoice = post_invoice(draft)

    # then it has the first number of the year, an RF reference, and a ledger document
    assert invoice.number == "INV-2025-00001"
    assert invoice.creditor_reference == "RF81INV202500001"
    assert parse_creditor_reference(invoice.creditor_reference) == "INV202500001"
    document = invoice.document
    assert document.kind == "invoice"
    assert document.number == "INV-2025-00001"
    assert document.amount == D("120.00")
    assert document.tax_amount == D("20.00")
    assert document.reference == invoice.creditor_reference
    assert document.due_date == dt.date(2025, 4, 2)
    assert invoice.due_date == dt.date(2025, 4, 2)
    assert invoice.fx_rate == D("1")
    assert invoice.payable_amount_base == D("120.00")


def test_numbers_follow_each_other_per_entity_and_year(
    buyer_fr, invoice_for, make_entity, make_customer
):
    other = make_customer(make_entity(code="FR2", country="FR"), country="FR")

    numbers = [
        invoice_for(buyer_fr, [line()], on="2025-03-03", post=True).number,
        invoice_for(other, [line()], on="2025-03-03", post=True).number,
        invoice_for(buyer_fr, [line()], on="2025-03-04", post=True).number,
        invoice_for(buyer_fr, [line()], on="2026-01-02", post=True).number,
    ]

    assert numbers == ["INV-2025-00001", "INV-2025-00001", "INV-2025-00002", "INV-2026-00001"]


def test_failed_posting_does_not_consume_a_number(buyer_fr, invoice_for):
    # given an invoice in USD while no USD rate is loaded
    in_dollars = invoice_for(buyer_fr, [line()], currency="USD")
    first = invoice_for(buyer_fr, [line()])

    # when posting the USD invoice fails on the missing rate
    with pytest.raises(RateError) as raised:
        post_invoice(in_dollars)

    # then nothing was posted, and the next invoice still gets number 1
    assert raised.value.code == "no_rate"
    assert Document.objects.count() == 0
    assert Invoice.objects.get(pk=in_dollars.pk).status == "draft"
    assert NumberSeries.objects.filter(last_number__gt=0).count() == 0
    assert post_invoice(first).number == "INV-2025-00001"

    # and once the rate is there, the USD invoice takes number 2
    set_manual_rate("USD", dt.date(2025, 3, 3), D("1.0812"))
    assert post_invoice(in_dollars).number == "INV-2025-00002"


def test_posting_earlier_date_than_last_number_is_rejected(buyer_fr, invoice_for):
    invoice_for(buyer_fr, [line()], on="2025-03-10", post=True)
    earlier = invoice_for(buyer_fr, [line()], on="2025-03-09")

    with pytest.raises(BillingError) as raised:
        post_invoice(earlier)

    assert raised.value.code == "date_before_last_posted"
    assert "INV-2025-00001 is dated 2025-03-10" in raised.value.message
    assert NumberSeries.objects.get().last_number == 1


def test_posting_twice_is_rejected(buyer_fr, invoice_for):
    invoice = invoice_for(buyer_fr, [line()], post=True)

    with pytest.raises(BillingError) as raised:
        post_invoice(invoice)

    assert raised.value.code == "already_posted"


def test_posted_invoice_and_lines_are_immutable(buyer_fr, invoice_for):
    invoice = invoice_for(buyer_fr, [line()], post=True)
    first_line = invoice.lines.get()

    invoice.buyer_reference = "changed"
    with pytest.raises(BillingError) as on_save:
        invoice.save()
    first_line.unit_price = D("1.00")
    with pytest.raises(BillingError) as on_line:
        first_line.save()
    with pytest.raises(BillingError) as on_update:
        Invoice.objects.filter(pk=invoice.pk).update(buyer_reference="changed")
    with pytest.raises(BillingError) as on_line_update:
        InvoiceLine.objects.filter(invoice=invoice).update(quantity=D("5"))
    with pytest.raises(BillingError) as on_delete:
        invoice.delete()

    for raised in (on_save, on_line, on_update, on_line_update, on_delete):
        assert raised.value.code == "posted_is_immutable"
    assert Invoice.objects.get(pk=invoice.pk).buyer_reference == ""


def test_draft_can_be_changed_and_deleted(buyer_fr, invoice_for):
    draft = invoice_for(buyer_fr, [line()])

    draft.buyer_reference = "PO-77"
    draft.save()
    draft.delete()

    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "code", "message"),
    [
        ("quantity", "0", "invalid_quantity", "Line 2, quantity: 0 is not positive"),
        ("quantity", "abc", "invalid_quantity", "Line 2, quantity: 'abc' is not a number."),
        ("unit_price", "0.00005", "invalid_unit_price", "Line 2, unit_price: 0.00005 has more"),
        ("unit_price", "-1", "invalid_unit_price", "Line 2, unit_price: -1 is negative"),
        ("discount_percent", "100", "invalid_discount_percent", "Line 2, discount_percent"),
        ("tax_category", "luxury", "invalid_tax_category", "Line 2, tax_category: 'luxury'"),
        ("unit", "EACH", "invalid_unit", "Line 2, unit: 'EACH'"),
        ("description", " ", "invalid_description", "Line 2, description: a description"),
    ],
)
def test_invalid_line_is_rejected_with_line_and_field(buyer_fr, field, value, code, message):
    bad = {
        "description": "Bad",
        "quantity": D("1"),
        "unit_price": D("1"),
        "tax_category": "standard",
        "unit": "EA",
        "discount_percent": D("0"),
    }
    bad[field] = value
    from o2c.billing.services import InvoiceLineInput

    with pytest.raises(BillingError) as raised:
        create_invoice(
            customer=buyer_fr,
            lines=[line(), InvoiceLineInput(**bad)],
            invoice_date=dt.date(2025, 3, 3),
        )

    assert raised.value.code == code
    assert raised.value.message.startswith(message)
    assert Invoice.objects.count() == 0


def test_timeline_records_draft_and_posting(buyer_fr, invoice_for):
    invoice_for(buyer_fr, [line()], post=True)

    kinds = list(buyer_fr.timeline.values_list("kind", flat=True))

    assert sorted(kinds) == ["invoice_drafted", "posted"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_get_distinct_gapless_numbers(buyer_fr, invoice_for):
    # given eight drafts posted from eight threads at once
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite fails concurrent writers at once; see the file test below")
    drafts = [invoice_for(buyer_fr, [line()]) for _ in range(8)]
    errors = []
    barrier = threading.Barrier(len(drafts))

    def post(draft):
        try:
            barrier.wait()
            post_invoice(draft)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every posting succeeded and the numbers are 1 to 8 without a gap
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2025-{n:05d}" for n in range(1, 9)]


SQLITE_PROBE = """
import datetime as dt, json, multiprocessing, os, sys
from decimal import Decimal
import django
django.setup()
from django.core.management import call_command
from django.db import connections
call_command("migrate", verbosity=0)
from o2c.billing.models import Invoice
from o2c.billing.services import InvoiceLineInput, create_invoice, post_invoice
from o2c.parties.models import Customer, LegalEntity

entity = LegalEntity.objects.create(code="E1", name="E1", base_currency="EUR",
                                    time_zone="Europe/Paris", country="FR")
customer = Customer.objects.create(entity=entity, number="C1", name="C1", currency="EUR",
                                   country="FR")
drafts = [
    create_invoice(customer=customer, invoice_date=dt.date(2025, 3, 3), lines=[
        InvoiceLineInput("Item", Decimal("1"), Decimal("10"), "standard")]).pk
    for _ in range(6)
]
connections.close_all()

def post(pk):
    post_invoice(Invoice.objects.get(pk=pk))
    connections.close_all()

processes = [multiprocessing.get_context("fork").Process(target=post, args=(pk,))
             for pk in drafts]
for process in processes:
    process.start()
for process in processes:
    process.join()
print(json.dumps({"exit_codes": [process.exitcode for process in processes],
                  "numbers": sorted(Invoice.objects.values_list("number", flat=True))}))
"""


def test_concurrent_postings_on_sqlite_file_are_gapless(tmp_path):
    # given six drafts in an SQLite file database, posted by six processes at once
    script = tmp_path / "probe.py"
    script.write_text(SQLITE_PROBE)
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "o2c.settings",
        "O2C_DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "O2C_DATA_DIR": str(tmp_path),
        "O2C_LOG_LEVEL": "WARNING",
    }

    completed = subprocess.run(
        [sys.executable, str(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then every process posted, and the numbers are 1 to 6 without a gap
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["exit_codes"] == [0] * 6
    assert outcome["numbers"] == [f"INV-2025-{n:05d}" for n in range(1, 7)]
