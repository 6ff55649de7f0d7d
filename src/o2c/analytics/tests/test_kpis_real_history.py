"""The KPIs of the real IBM history, against a plain recomputation from the CSV file.

The recomputation below reads the file with the csv module and applies the definitions
with Python dates and Decimals, sharing no code with o2c.analytics.
"""

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from o2c.analytics.kpis import kpi_report
from o2c.imports.services import import_receivables
from o2c.parties.models import LegalEntity
from o2c.paths import SHIPPED_DATA_DIR

IBM_FILE = SHIPPED_DATA_DIR / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
AS_OF = dt.date(2013, 12, 31)
PERIOD = 90
CENT = Decimal("0.01")


def _rows():
    def parse(text):
        return dt.datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007

    with IBM_FILE.open(newline="") as handle:
        for record in csv.DictReader(handle):
            yield {
                "date": parse(record["InvoiceDate"]),
                "due": parse(record["DueDate"]),
                "settled": parse(record["SettledDate"]),
                "amount": Decimal(record["InvoiceAmount"]),
                "disputed": record["Disputed"] == "Yes",
            }


def _round(value, places=CENT):
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _expected(as_of: dt.date) -> dict:
    rows = list(_rows())
    start = as_of - dt.timedelta(days=PERIOD - 1)
    opening = start - dt.timedelta(days=1)

    def open_at(row, day):
        return row["date"] <= day < row["settled"]

    buckets = dict.fromkeys(["not_due", "1_30", "31_60", "61_90", "91_120", "over_120"], Decimal(0))
    for row in rows:
        if not open_at(row, as_of):
            continue
        late = (as_of - row["due"]).days
        name = (
            "not_due"
            if late <= 0
            else "1_30"
            if late <= 30
            else "31_60"
            if late <= 60
            else "61_90"
            if late <= 90
            else "91_120"
            if late <= 120
            else "over_120"
        )
        buckets[name] += row["amount"]
    ar = sum(buckets.values())
    opening_ar = sum(row["amount"] for row in rows if open_at(row, opening))
    sales = sum(row["amount"] for row in rows if start <= row["date"] <= as_of)
    settled = [row for row in rows if start <= row["settled"] <= as_of]
    weight = sum(row["amount"] for row in settled)

    monthly = {}
    for row in rows:
        if row["date"] <= as_of:
            key = (row["date"].year, row["date"].month)
            monthly[key] = monthly.get(key, Decimal(0)) + row["amount"]
    remaining, days, year, month = ar, Decimal(0), as_of.year, as_of.month
    count_back = None
    for index in range(36):
        month_days = (
            as_of.day
            if index == 0
            else (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        )
        month_sales = monthly.get((year, month), Decimal(0))
        if month_sales > 0 and remaining <= month_sales:
            count_back = days + month_days * remaining / month_sales
            break
        remaining -= month_sales
        days += month_days
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)

    return {
        "aging": buckets,
        "ar": ar,
        "sales": sales,
        "dso_simple": _round(ar / sales * PERIOD),
        "best_dso": _round(buckets["not_due"] / sales * PERIOD),
        "cei": _round((opening_ar + sales - ar) / (opening_ar + sales - buckets["not_due"]) * 100),
        "dso_count_back": _round(count_back),
        "settled_items": len(settled),
        "average_days_to_pay": _round(
            Decimal(sum((row["settled"] - row["date"]).days for row in settled)) / len(settled)
        ),
        "share_paid_late": _round(
            Decimal(sum(1 for row in settled if row["settled"] > row["due"])) / len(settled),
            Decimal("0.0001"),
        ),
        "weighted_days_late": _round(
            sum(row["amount"] * (row["settled"] - row["due"]).days for row in settled) / weight
        ),
        "open_disputed": sum(
            row["amount"] for row in rows if row["disputed"] and open_at(row, as_of)
        ),
    }


@pytest.fixture
def ibm_entity(db):
    import_receivables(IBM_FILE, "ibm-late-payment")
    return LegalEntity.objects.get(code="LPH")


@pytest.mark.slow
@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2013, 6, 30)])
def test_kpis_match_plain_recomputation(ibm_entity, as_of):
    expected = _expected(as_of)

    figures = kpi_report(ibm_entity, as_of).currencies["USD"]

    assert {name: figures.aging[name] for name in expected["aging"]} == expected["aging"]
    assert figures.ar == expected["ar"]
    assert figures.credit_sales == expected["sales"]
    assert figures.dso_simple == expected["dso_simple"]
    assert figures.best_dso == expected["best_dso"]
    assert figures.add == expected["dso_simple"] - expected["best_dso"]
    assert figures.cei == expected["cei"]
    assert figures.dso_count_back == expected["dso_count_back"]
    assert figures.settled_items == expected["settled_items"]
    assert figures.average_days_to_pay == expected["average_days_to_pay"]
    assert figures.share_paid_late == expected["share_paid_late"]
    assert figures.weighted_days_late == expected["weighted_days_late"]
    assert figures.open_disputed == expected["open_disputed"]


@pytest.mark.slow
def test_kpis_command_prints_json_for_real_history(ibm_entity):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("kpis", "--as-of", "2013-12-31", "--format", "json", stdout=out)
    payload = json.loads(out.getvalue())

    expected = _expected(AS_OF)
    assert payload["entity"] == "LPH"
    assert payload["as_of"] == "2013-12-31"
    assert Decimal(payload["currencies"]["USD"]["ar"]) == expected["ar"]
    assert Decimal(payload["converted"]["dso_count_back"]) == expected["dso_count_back"]
    assert Decimal(payload["converted"]["cei"]) == expected["cei"]
