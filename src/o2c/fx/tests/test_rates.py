"""Exchange rates: loading the ECB file, cross rates, and rounding once."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.fx.errors import RateError
from o2c.fx.models import ExchangeRate
from o2c.fx.services import RateTable, convert, import_ecb_csv, set_manual_rate
from o2c.ledger.services import allocate
from o2c.paths import SHIPPED_DATA_DIR

D = Decimal
DAY = dt.date(2027, 3, 1)


@pytest.fixture
def ecb_file(tmp_path):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(
        "Date,USD,JPY,GBP,PLN,\n"
        "2027-03-01,1.0800,161.20,0.8500,4.1395,\n"
        "2027-02-26,1.0750,160.00,0.8490,N/A,\n"
    )
    return path


def test_import_ecb_file_is_idempotent(ecb_file, db):
    first = import_ecb_csv(ecb_file)
    second = import_ecb_csv(ecb_file)

    assert first.created == 7
    assert second.created == 0
    assert second.unchanged == 7
    assert ExchangeRate.objects.get(currency="JPY", rate_on=DAY).units_per_euro == D("161.20")


def test_import_ecb_file_refuses_changed_rate(ecb_file, tmp_path, db):
    import_ecb_csv(ecb_file)
    changed = tmp_path / "changed.csv"
    changed.write_text("Date,USD,\n2027-03-01,1.0900,\n")

    with pytest.raises(RateError) as raised:
        import_ecb_csv(changed)

    assert raised.value.code == "rate_conflict"
    assert "USD" in raised.value.message


def test_import_refuses_file_of_other_layout(tmp_path, db):
    path = tmp_path / "other.csv"
    path.write_text("when,rate\n2027-03-01,1.0\n")

    with pytest.raises(RateError) as raised:
        import_ecb_csv(path)

    assert raised.value.code == "not_ecb_file"


def test_import_names_line_of_bad_rate(tmp_path, db):
    path = tmp_path / "bad.csv"
    path.write_text("Date,USD,\n2027-03-01,1.08,\n2027-02-28,1.0x,\n")

    with pytest.raises(RateError) as raised:
        import_ecb_csv(path)

    assert "line 3" in raised.value.message
    assert ExchangeRate.objects.count() == 0


def test_shipped_ecb_file_loads(db):
    result = import_ecb_csv(SHIPPED_DATA_DIR / "fx" / "eurofxref-hist.csv")

    assert result.created > 200_000
    assert "JPY" in result.currencies
    rate = ExchangeRate.objects.get(currency="USD", rate_on=dt.date(2025, 5, 9))
    assert rate.units_per_euro == D("1.1252")


def test_weekend_uses_last_published_rate(ecb_file, db):
    import_ecb_csv(ecb_file)

    result = convert(D("100.00"), "EUR", "USD", dt.date(2027, 2, 28))

    assert result.amount == D("107.50")
    assert result.rate_on == dt.date(2027, 2, 26)


def test_rate_too_old_is_refused(ecb_file, db):
    import_ecb_csv(ecb_file)

    with pytest.raises(RateError) as raised:
        convert(D("100.00"), "EUR", "USD", dt.date(2027, 4, 1))

    assert raised.value.code == "no_rate"


def test_receipt_converted_at_full_precision_not_rounded_inverse(db):
    # 1 GBP = 4.87 PLN, quoted through the euro: GBP 1.0000 and PLN 4.8700 per euro
    set_manual_rate("GBP", DAY, D("1"))
    set_manual_rate("PLN", DAY, D("4.87"))

    later = DAY + dt.timedelta(days=1)
    set_manual_rate("GBP", later, D("1"))
    set_manual_rate("PLN", later, D("4.95"))

    first = convert(D("1234.56"), "PLN", "GBP", DAY)
    second = convert(D("197.44"), "PLN", "GBP", later)

    assert first.amount == D("253.50")
    assert second.amount == D("39.89")


def test_cross_rate_through_euro(ecb_file, db):
    import_ecb_csv(ecb_file)
    table = RateTable({"USD", "JPY"})

    rate, rate_on = table.rate("USD", "JPY", DAY)

    assert rate == D("161.20") / D("1.0800")
    assert rate_on == DAY
    assert table.convert(D("10.00"), "USD", "JPY", DAY).amount == D("1493")


def test_manual_rate_wins_over_ecb_same_day(ecb_file, db):
    import_ecb_csv(ecb_file)
    set_manual_rate("USD", DAY, D("1.1000"))

    assert convert(D("100.00"), "EUR", "USD", DAY).amount == D("110.00")


def test_same_rate_payment_books_no_exchange_difference(make_entity, make_customer, post, db):
    # given a EUR company, USD 1 = EUR 1.15 on the day, and a USD invoice of 60.09
    entity = make_entity("E2", "EUR")
    customer = make_customer(entity, currency="USD")
    set_manual_rate("USD", DAY, D("1") / D("1.15"))
    invoice = post(customer, "invoice", "INV-1", DAY, "60.09")
    payment = post(customer, "payment", "PAY-1", DAY, "60.09")

    # when the payment settles it on the same day
    result = allocate(invoice, payment, on=DAY)

    # then the total was converted once (69.10, not the sum of rounded lines) and no
    # exchange difference is booked
    assert invoice.amount_base == D("69.10")
    assert payment.amount_base == D("69.10")
    assert result.allocation.fx_difference_base == D("0")


def test_rate_change_books_exchange_difference(make_entity, make_customer, post, db):
    entity = make_entity("E3", "EUR")
    customer = make_customer(entity, currency="USD")
    set_manual_rate("USD", DAY, D("1.25"))
    later = DAY + dt.timedelta(days=20)
    set_manual_rate("USD", later, D("1.20"))
    invoice = post(customer, "invoice", "INV-1", DAY, "1000.00")
    payment = post(customer, "payment", "PAY-1", later, "1000.00")

    result = allocate(invoice, payment, on=later)

    assert invoice.amount_base == D("800.00")
    assert payment.amount_base == D("833.33")
    assert result.allocation.fx_difference_base == D("33.33")
