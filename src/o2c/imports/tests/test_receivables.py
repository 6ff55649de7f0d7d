"""Importing receivables histories: real files, idempotency, bad records, mappings."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.disputes.models import Dispute
from o2c.imports.errors import ImportRejected, ProfileError
from o2c.imports.models import ImportRun, ImportStatus
from o2c.imports.services import import_receivables
from o2c.ledger.models import Allocation, Document, DocumentKind
from o2c.ledger.services import open_amount
from o2c.parties.models import Customer, LegalEntity, TimelineEvent
from o2c.paths import SHIPPED_DATA_DIR

IBM_FILE = SHIPPED_DATA_DIR / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
SCHOOL_FILE = SHIPPED_DATA_DIR / "ar" / "school_fee_receivables.csv"
D = Decimal

MAPPING = """
[columns]
customer_number = "Customer"
invoice_number = "Invoice"
invoice_date = "Date"
due_date = "Due"
amount = "Amount"
paid_on = "Paid"
paid_amount = "Paid amount"
disputed = "Disputed"

[defaults]
currency = "EUR"
entity = "GEN"

[true_values]
disputed = ["Y"]

[entities.GEN]
name = "Generic Ltd"
base_currency = "EUR"
time_zone = "Europe/Dublin"
country = "IE"
"""
HEADER = "Customer,Invoice,Date,Due,Amount,Paid,Paid amount,Disputed\n"


@pytest.fixture
def mapping(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING)
    return path


def write_csv(tmp_path, body: str, name="history.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


@pytest.mark.slow
def test_ibm_history_imports_and_reimports_nothing(db):
    first = import_receivables(IBM_FILE, "ibm-late-payment")
    second = import_receivables(IBM_FILE, "ibm-late-payment")

    assert first.counts["invoices_created"] == 2466
    assert first.counts["payments_created"] == 2466
    assert first.counts["allocations_created"] == 2466
    assert first.counts["customers_created"] == 100
    assert first.counts["disputes_created"] == 561
    assert second.created_anything is False
    assert second.counts["records_unchanged"] == 2466
    assert Document.objects.count() == 2 * 2466
    invoice = Document.objects.get(kind=DocumentKind.INVOICE, number="0000611365")
    assert invoice.amount == D("55.94")
    assert invoice.due_date == dt.date(2013, 2, 1)
    assert invoice.delivery_channel == "paper"
    assert open_amount(invoice, dt.date(2013, 1, 14)) == D("55.94")
    assert open_amount(invoice, dt.date(2013, 1, 15)) == D("0")


@pytest.mark.slow
def test_school_fee_history_keeps_open_charges_open(db):
    result = import_receivables(SCHOOL_FILE, "school-fees")

    assert result.counts["invoices_created"] == 10279
    assert result.counts["payments_created"] == 10279 - 991
    assert result.counts["customers_created"] == 951
    entity = LegalEntity.objects.get(code="SCH")
    assert entity.base_currency == "PHP"
    open_invoices = Document.objects.filter(kind=DocumentKind.INVOICE).exclude(
        debit_allocations__isnull=False
    )
    assert open_invoices.count() == 991
    assert import_receivables(SCHOOL_FILE, "school-fees").created_anything is False


def test_bad_record_rejects_whole_file_naming_line_and_field(tmp_path, mapping, db):
    path = write_csv(
        tmp_path,
        "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n"
        "C1,INV-2,2026-01-11,2026-02-10,12x.00,,,\n"
        "C2,INV-3,2026-13-01,2026-02-10,50.00,,,\n",
    )

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    message = raised.value.message
    assert "history.csv line 3, field Amount" in message
    assert "history.csv line 4, field Date" in message
    assert Document.objects.count() == 0
    assert Customer.objects.count() == 0
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.REJECTED
    assert {problem["line"] for problem in run.problems} == {3, 4}


def test_quarantine_imports_good_records_and_lists_bad(tmp_path, mapping, db):
    path = write_csv(
        tmp_path,
        "C1,INV-1,2026-01-10,2026-02-09,100.00,2026-02-01,,\n"
        "C1,INV-2,2026-01-11,2026-01-01,80.00,,,\n",
    )

    result = import_receivables(path, "generic", mapping=mapping, quarantine=True)

    assert result.counts["invoices_created"] == 1
    assert [(problem.line, problem.field) for problem in result.quarantined] == [(3, "Due")]
    assert result.run.status == ImportStatus.QUARANTINED


def test_partial_settlement_and_dispute(tmp_path, mapping, db):
    path = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,2026-02-20,60.00,Y\n")

    import_receivables(path, "generic", mapping=mapping)

    invoice = Document.objects.get(kind=DocumentKind.INVOICE)
    assert open_amount(invoice) == D("40.00")
    dispute = Dispute.objects.get()
    assert dispute.invoice == invoice
    assert dispute.resolved_on is None


def test_reimport_with_new_settlement_posts_only_payment(tmp_path, mapping, db):
    open_file = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n", "a.csv")
    paid_file = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,2026-02-15,,\n", "b.csv")
    import_receivables(open_file, "generic", mapping=mapping)

    result = import_receivables(paid_file, "generic", mapping=mapping)

    assert result.counts["invoices_created"] == 0
    assert result.counts["payments_created"] == 1
    invoice = Document.objects.get(kind=DocumentKind.INVOICE)
    assert open_amount(invoice) == D("0")
    assert Allocation.objects.get().allocated_on == dt.date(2026, 2, 15)


def test_changed_amount_of_posted_invoice_is_refused(tmp_path, mapping, db):
    import_receivables(
        write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n", "a.csv"),
        "generic",
        mapping=mapping,
    )
    changed = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,110.00,,,\n", "b.csv")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(changed, "generic", mapping=mapping)

    assert "b.csv line 2, field Amount" in raised.value.message
    assert "post a credit note" in raised.value.message
    assert Document.objects.get().amount == D("100.00")


def test_duplicate_invoice_number_in_file_is_refused(tmp_path, mapping, db):
    path = write_csv(
        tmp_path,
        "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\nC2,INV-1,2026-01-10,2026-02-09,100.00,,,\n",
    )

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert "line 3, field Invoice: INV-1 already appears on line 2" in raised.value.message


def test_payment_in_future_is_refused(tmp_path, mapping, db):
    tomorrow = dt.date.today() + dt.timedelta(days=2)  # noqa: DTZ011
    path = write_csv(tmp_path, f"C1,INV-1,2026-01-10,2026-02-09,100.00,{tomorrow},,\n")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert "is in the future" in raised.value.message


def test_excess_decimals_rejected_under_entity_policy(tmp_path, mapping, db):
    path = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.005,,,\n")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert "line 2, field Amount" in raised.value.message
    assert "more decimals than EUR allows" in raised.value.message


def test_missing_column_rejects_file_even_in_quarantine(tmp_path, mapping, db):
    path = tmp_path / "short.csv"
    path.write_text("Customer,Invoice\nC1,INV-1\n")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping, quarantine=True)

    assert "column missing from the header" in raised.value.message
    assert "--quarantine cannot import the rest either" in raised.value.message


def test_mapping_without_required_column_is_refused(tmp_path, db):
    path = tmp_path / "bad.toml"
    path.write_text('[columns]\ncustomer_number = "C"\n')

    with pytest.raises(ProfileError) as raised:
        import_receivables(write_csv(tmp_path, ""), "generic", mapping=path)

    assert raised.value.code == "mapping_incomplete"


def test_import_notes_timeline_once_per_customer(tmp_path, mapping, db):
    path = write_csv(
        tmp_path,
        "C1,INV-1,2026-01-10,2026-02-09,100.00,2026-02-01,,\nC1,INV-2,2026-01-11,2026-02-10,5.00,,,\n",
    )

    import_receivables(path, "generic", mapping=mapping)

    event = TimelineEvent.objects.get()
    assert event.kind == "imported"
    assert "2 invoice(s), 1 payment(s)" in event.summary


def test_command_reports_nothing_new_on_second_run(tmp_path, mapping, db):
    from io import StringIO

    from django.core.management import call_command

    path = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n")
    call_command(
        "import",
        "receivables",
        str(path),
        "--profile",
        "generic",
        "--mapping",
        str(mapping),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    out = StringIO()

    call_command(
        "import",
        "receivables",
        str(path),
        "--profile",
        "generic",
        "--mapping",
        str(mapping),
        stdout=out,
        stderr=StringIO(),
    )

    assert "Nothing new" in out.getvalue()


@pytest.mark.parametrize("text", ["1e3", "1E+3", "NaN", "Infinity", "-inf", "1_000"])
def test_non_plain_amount_is_refused(tmp_path, mapping, db, text):
    path = write_csv(tmp_path, f"C1,INV-1,2026-01-10,2026-02-09,{text},,,\n")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert f"history.csv line 2, field Amount: {text!r} is not a plain number" in (
        raised.value.message
    )
    assert Document.objects.count() == 0


def test_non_plain_paid_amount_names_its_column(tmp_path, mapping, db):
    path = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,2026-02-01,5e1,\n")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert "line 2, field Paid amount: '5e1' is not a plain number" in raised.value.message


@pytest.mark.parametrize("column", ["Amount", "Paid amount"])
def test_amount_beyond_storage_is_refused(tmp_path, mapping, db, column):
    huge = "99999999999999999999.99"
    amount, paid = (huge, "10.00") if column == "Amount" else ("10.00", huge)
    path = write_csv(
        tmp_path,
        "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n"
        f"C2,INV-2,2026-01-10,2026-02-09,{amount},2026-02-01,{paid},\n",
    )

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert f"history.csv line 3, field {column}: " in raised.value.message
    assert "larger than the maximum 999,999,999,999,999.9999" in raised.value.message
    assert Document.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "count"),
    [
        ("C3,INV-9,2026-02-03,2026-03-06,10.00,", 6),
        ("C3,INV-9,2026-02-03,2026-03-06,10.00,,,,extra", 9),
        ("C1,INV-9,2026-01-06,2026-02", 4),
    ],
)
def test_row_with_wrong_field_count_is_refused(tmp_path, mapping, db, row, count):
    path = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n" + row + "\n")

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert f"history.csv line 3, field row: {count} fields, the header has 8" in (
        raised.value.message
    )
    assert Document.objects.count() == 0


def test_record_over_two_lines_is_named_by_its_first(tmp_path, mapping, db):
    path = write_csv(tmp_path, 'C1,INV-1,2026-01-10,x,1,,,\nC1,"INV-2\nX",2026-01-10,x,1,,,\n')

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping)

    assert "history.csv line 2, field Due" in raised.value.message
    assert "history.csv line 3, field Due" in raised.value.message


def test_undecodable_byte_names_its_line_and_rejects_in_quarantine(tmp_path, mapping, db):
    path = tmp_path / "latin1.csv"
    body = HEADER + "C1,INV-1,2026-01-10,2026-02-09,100.00,,,\n" * 3
    body += "C\u00e9,INV-18,2026-02-03,2026-03-06,10.00,,,\n"
    path.write_bytes(body.encode("latin-1"))

    with pytest.raises(ImportRejected) as raised:
        import_receivables(path, "generic", mapping=mapping, quarantine=True)

    assert "latin1.csv line 5, field encoding: byte(s) e9 are not valid utf-8-sig" in (
        raised.value.message
    )
    assert "--quarantine cannot import the rest either" in raised.value.message
    assert Document.objects.count() == 0


def test_quarantine_counts_records_read_imported_and_quarantined(tmp_path, mapping, db):
    path = write_csv(
        tmp_path,
        "C1,INV-1,2026-01-05,2026-02-04,100.00,,,\n"
        "C1,INV-2,2026-01-06,2026-02-05,250.50,2026-02-01,250.50,\n"
        "C2,INV-3,2026-01-07,2026-02-06,99.99,,,\n"
        "C4,INV-30,2026-13-01,2026-03-06,abc,,,\n"
        "C4,INV-31,2026-02-01,2026-01-06,10.00,,,\n"
        "C4,INV-32,2026-02-01,2026-03-06,5.00,,,\n",
    )
    messages = []

    result = import_receivables(
        path, "generic", mapping=mapping, quarantine=True, progress=messages.append
    )

    assert result.counts["records_read"] == 6
    assert result.counts["records_imported"] == 4
    assert result.counts["records_quarantined"] == 2
    assert len(result.quarantined) == 3
    assert "read 6 records: imported 4, quarantined 2" in messages


def test_open_imported_dispute_goes_to_the_disputes_team(tmp_path, mapping, make_entity, make_user):
    # given the entity exists with a staffed disputes team
    entity = make_entity(code="GEN", country="IE", time_zone="Europe/Dublin")
    make_user("dana", entity=entity, role="member", function="disputes")
    path = write_csv(tmp_path, "C1,INV-1,2026-01-10,2026-02-09,100.00,,,Y\n")

    import_receivables(path, "generic", mapping=mapping)

    dispute = Dispute.objects.get()
    assert dispute.team.function == "disputes"
    assert dispute.team.entity == entity
