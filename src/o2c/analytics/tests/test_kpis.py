"""Every KPI against values worked out by hand on a small ledger."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.analytics.kpis import Scope, aging, count_back_dso, kpi_report
from o2c.disputes.models import Dispute, DisputeReason
from o2c.ledger.services import allocate

D = Decimal
AS_OF = dt.date(2027, 6, 30)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def small_ledger(customer, post):
    """Seven invoices, a credit note and payments; the expected KPIs are in the tests."""

    def pay(invoice, number, on, amount):
        payment = post(customer, "payment", number, on, amount)
        allocate(invoice, payment, on=day(on))
        return payment

    i1 = post(customer, "invoice", "I1", "2027-01-10", "1000.00", due_date="2027-02-09")
    pay(i1, "P1", "2027-04-20", "1000.00")
    i2 = post(customer, "invoice", "I2", "2027-03-15", "500.00", due_date="2027-04-14")
    pay(i2, "P2", "2027-05-01", "200.00")
    i3 = post(customer, "invoice", "I3", "2027-04-10", "800.00", due_date="2027-05-10")
    pay(i3, "P3", "2027-05-08", "800.00")
    i4 = post(customer, "invoice", "I4", "2027-05-20", "1200.00", due_date="2027-06-19")
    i5 = post(customer, "invoice", "I5", "2027-06-15", "600.00", due_date="2027-07-15")
    i6 = post(customer, "invoice", "I6", "2026-12-01", "300.00", due_date="2026-12-31")
    i7 = post(customer, "invoice", "I7", "2027-05-05", "400.00", due_date="2027-06-04")
    pay(i7, "P7", "2027-06-30", "400.00")
    post(customer, "credit_note", "CN1", "2027-06-01", "100.00", related_invoice=i4)
    post(customer, "payment", "P4", "2027-06-25", "50.00")
    pay(i5, "P5", "2027-07-05", "600.00")  # after the report date: must not count
    Dispute.objects.create(
        entity=customer.entity,
        customer=customer,
        invoice=i6,
        amount=D("300.00"),
        currency="EUR",
        reason=DisputeReason.PRICING,
        opened_on=day("2027-01-15"),
    )
    return customer


def test_aging_buckets_by_days_past_due(small_ledger):
    report = kpi_report(small_ledger.entity, AS_OF)
    figures = report.currencies["EUR"]

    assert figures.aging == {
        "not_due": D("600.00"),
        "1_30": D("1200.00"),
        "31_60": D("0"),
        "61_90": D("300.00"),
        "91_120": D("0"),
        "over_120": D("300.00"),
        "total": D("2400.00"),
    }
    assert figures.open_items_count == 4


def test_balance_and_dso_figures(small_ledger):
    figures = kpi_report(small_ledger.entity, AS_OF).currencies["EUR"]

    assert figures.unapplied_credits == D("150.00")
    assert figures.ar == D("2250.00")
    assert figures.current_ar == D("600.00")
    assert figures.credit_sales == D("2900.00")
    assert figures.dso_simple == D("69.83")  # 2250 / 2900 × 90
    assert figures.best_dso == D("18.62")  # 600 / 2900 × 90
    assert figures.add == D("51.21")
    assert figures.dso_count_back == D("66.63")  # 30 + 31 + 30 × 150 / 800
    assert figures.cei == D("59.76")  # (1800 + 2900 − 2250) / (1800 + 2900 − 600)


def test_payment_behaviour_figures(small_ledger):
    figures = kpi_report(small_ledger.entity, AS_OF).currencies["EUR"]

    assert figures.settled_items == 3  # I1, I3 and I7; I2 is partly paid
    assert figures.average_days_to_pay == D("61.33")  # (100 + 28 + 56) / 3
    assert figures.share_paid_late == D("0.6667")  # I1 and I7 late
    assert figures.weighted_days_late == D("35.82")  # (1000×70 − 800×2 + 400×26) / 2200
    assert figures.open_disputed == D("300.00")


def test_converted_figures_equal_single_currency(small_ledger):
    report = kpi_report(small_ledger.entity, AS_OF)

    assert report.converted.ar == D("2250.00")
    assert report.converted.dso_count_back == D("66.63")
    assert report.converted.weighted_days_late == D("35.82")
    assert report.conversion_error == ""


def test_report_for_later_date_counts_later_payment(small_ledger):
    figures = kpi_report(small_ledger.entity, dt.date(2027, 7, 5)).currencies["EUR"]

    assert figures.aging["not_due"] == D("0")


def test_aging_as_of_ignores_later_receipt(customer, post):
    # given two net-30 invoices and a receipt on 06-05 applied to the first
    first = post(customer, "invoice", "I-1", "2027-04-01", "1000.00", due_date="2027-05-01")
    post(customer, "invoice", "I-2", "2027-05-10", "400.00", due_date="2027-06-09")
    receipt = post(customer, "payment", "R-1", "2027-06-05", "1000.00")
    allocate(first, receipt, on=day("2027-06-05"))
    scope = Scope(customer.entity)

    # when aged on 05-15 and on 07-01
    before = aging(scope, day("2027-05-15"))["EUR"]
    after = aging(scope, day("2027-07-01"))["EUR"]

    # then the receipt counts only from its own date, and age runs from the due date
    assert before["1_30"] == D("1000.00")
    assert before["not_due"] == D("400.00")
    assert before["total"] == D("1400.00")
    assert after["1_30"] == D("400.00")
    assert after["not_due"] == D("0")
    assert after["total"] == D("400.00")


def test_aging_bucket_boundaries_add_up(customer, post):
    for number, due, amount in [
        ("A", "2028-01-15", "250.00"),
        ("B", "2027-12-31", "100.00"),
        ("C", "2027-07-01", "700.00"),
        ("D", "2027-10-02", "50.00"),
        ("E", "2027-10-01", "20.00"),
    ]:
        post(customer, "invoice", number, "2027-06-01", amount, due_date=due)

    buckets = aging(Scope(customer.entity), day("2027-12-31"))["EUR"]

    assert buckets["not_due"] == D("350.00")
    assert buckets["1_30"] == D("0")
    assert buckets["31_60"] == D("0")
    assert buckets["61_90"] == D("50.00")
    assert buckets["91_120"] == D("20.00")
    assert buckets["over_120"] == D("700.00")
    assert buckets["total"] == D("1120.00")


def test_count_back_walks_months():
    sales = {day("2027-06-01"): D("500"), day("2027-05-01"): D("1600"), day("2027-04-01"): D("800")}

    assert count_back_dso(D("2250"), sales, AS_OF) == D("66.625")
    assert count_back_dso(D("0"), sales, AS_OF) == D("0")
    assert count_back_dso(D("100"), {}, AS_OF) is None


def test_customer_scope_limits_report(small_ledger, make_customer, post):
    other = make_customer(small_ledger.entity)
    post(other, "invoice", "X1", "2027-06-01", "999.00", due_date="2027-07-01")

    report = kpi_report(small_ledger.entity, AS_OF, customers=[small_ledger.pk])

    assert report.currencies["EUR"].ar == D("2250.00")


@pytest.mark.parametrize(
    ("time_zone", "instant", "bucket"),
    [
        ("America/Chicago", dt.datetime(2027, 4, 1, 1, 0, tzinfo=dt.UTC), "not_due"),
        ("Asia/Tokyo", dt.datetime(2027, 3, 31, 23, 0, tzinfo=dt.UTC), "1_30"),
    ],
)
def test_overdue_counted_on_entity_local_date(
    make_entity, make_customer, post, monkeypatch, time_zone, instant, bucket
):
    # given an invoice due 2027-03-31 and "now" near midnight UTC
    entity = make_entity("TZ", "USD", time_zone)
    customer = make_customer(entity)
    post(customer, "invoice", "INV-1", "2027-03-01", "100.00", due_date="2027-03-31")
    monkeypatch.setattr("o2c.core.dates.timezone.now", lambda: instant)

    # when the report runs for the entity's today
    figures = kpi_report(entity, entity.today()).currencies["USD"]

    # then the item is overdue only where the local date is already past the due date
    assert figures.aging[bucket] == D("100.00")


def test_chart_svg_has_no_script():
    from o2c.analytics.charts import aging_bars

    svg = aging_bars({"not_due": Decimal("10"), "d1_30": Decimal("5")}, "EUR")

    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert "<rect" in svg
