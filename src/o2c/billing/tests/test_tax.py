"""The tax engine per regime, with every amount worked out by hand in the test."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.billing.errors import TaxError
from o2c.billing.models import TaxRule
from o2c.billing.rules import SHIPPED_RULES, load_rules
from o2c.billing.tax import (
    Party,
    RuleSource,
    TaxComponent,
    TaxTreatment,
    compute_taxes,
    determine_treatment,
)
from o2c.billing.tests.conftest import line

D = Decimal
ON = dt.date(2025, 3, 3)

pytestmark = pytest.mark.django_db


def taxes_of(invoice):
    return [
        (tax.tax_name, tax.tax_code, tax.rate_percent, tax.taxable_amount, tax.tax_amount)
        for tax in invoice.taxes.all()
    ]


def test_eu_domestic_standard_and_reduced_rates(buyer_fr, invoice_for):
    # given 3 × 19.99 at the French standard rate and 2 × 4.55 at the reduced rate
    invoice = invoice_for(
        buyer_fr,
        [line("Lamp", "3", "19.99"), line("Book", "2", "4.55", category="reduced")],
    )

    # then standard: 59.97 × 20 % = 11.994 → 11.99; reduced: 9.10 × 10 % = 0.91
    assert taxes_of(invoice) == [
        ("VAT", "S", D("20"), D("59.97"), D("11.99")),
        ("VAT", "S", D("10"), D("9.10"), D("0.91")),
    ]
    assert invoice.net_amount == D("69.07")
    assert invoice.tax_amount == D("12.90")
    assert invoice.payable_amount == D("81.97")
    assert invoice.legal_mentions == []


def test_eu_reverse_charge_with_valid_vat_number(buyer_de, invoice_for):
    invoice = invoice_for(buyer_de, [line("Consulting", "7.5", "120.00", unit="HUR")])

    assert taxes_of(invoice) == [("VAT", "AE", D("0"), D("900.00"), D("0"))]
    assert invoice.taxes.get().exemption_reason_code == "VATEX-EU-AE"
    assert invoice.payable_amount == D("900.00")
    assert invoice.legal_mentions == ["reverse_charge"]


def test_eu_reverse_charge_rejects_invalid_vat_number(buyer_de, invoice_for):
    # given a German business whose VAT number fails its check digit
    buyer_de.tax_number = "DE136695977"
    buyer_de.save()

    with pytest.raises(TaxError) as raised:
        invoice_for(buyer_de, [line()])

    assert raised.value.code == "invalid_vat_number"
    assert raised.value.message.startswith("Line 1: The buyer is a business in DE")


def test_eu_reverse_charge_rejects_number_of_other_country(buyer_de, invoice_for):
    # a valid Dutch number does not make a German buyer reverse-chargeable
    buyer_de.tax_number = "NL004495445B01"
    buyer_de.save()

    with pytest.raises(TaxError) as raised:
        invoice_for(buyer_de, [line()])

    assert raised.value.code == "invalid_vat_number"


def test_eu_distance_sale_to_consumer_uses_buyer_country_rate(buyer_de, invoice_for):
    buyer_de.tax_status = "consumer"
    buyer_de.tax_number = ""
    buyer_de.save()

    invoice = invoice_for(buyer_de, [line("Lamp", "1", "49.99")])

    # German 19 %: 49.99 × 0.19 = 9.4981 → 9.50
    assert taxes_of(invoice) == [("VAT", "S", D("19"), D("49.99"), D("9.50"))]


def test_export_outside_eu_is_zero_rated(seller_fr, make_customer, invoice_for):
    buyer = make_customer(seller_fr, country="US", subdivision="NY", currency="EUR")

    invoice = invoice_for(buyer, [line("Lamp", "10", "49.99")])

    assert taxes_of(invoice) == [("VAT", "G", D("0"), D("499.90"), D("0"))]
    assert invoice.taxes.get().exemption_reason_code == "VATEX-EU-G"
    assert invoice.legal_mentions == ["export_eu"]


@pytest.mark.parametrize(
    ("province", "on", "expected"),
    [
        # Ontario HST 13 %: 99.98 × 0.13 = 12.9974 → 13.00
        ("ON", "2025-03-03", [("HST", D("13"), D("13.00"))]),
        # Alberta GST only: 99.98 × 0.05 = 4.999 → 5.00
        ("AB", "2025-03-03", [("GST", D("5"), D("5.00"))]),
        # British Columbia GST 5.00 + PST 7 %: 6.9986 → 7.00
        ("BC", "2025-03-03", [("GST", D("5"), D("5.00")), ("PST", D("7"), D("7.00"))]),
        # Quebec GST 5.00 + QST 9.975 %: 9.973005 → 9.97
        ("QC", "2025-03-03", [("GST", D("5"), D("5.00")), ("QST", D("9.975"), D("9.97"))]),
        # Nova Scotia HST 15 % until 31 March 2025 (14.997 → 15.00), 14 % from 1 April
        ("NS", "2025-03-31", [("HST", D("15"), D("15.00"))]),
        ("NS", "2025-04-01", [("HST", D("14"), D("14.00"))]),
    ],
)
def test_canada_gst_hst_by_province(
    make_entity, make_customer, invoice_for, province, on, expected
):
    seller = make_entity(
        code="CA1",
        base_currency="CAD",
        time_zone="America/Toronto",
        country="CA",
        subdivision="ON",
        vat_number="123456789RT0001",
    )
    buyer = make_customer(seller, country="CA", subdivision=province)

    invoice = invoice_for(buyer, [line("Gadget", "2", "49.99")], on=on)

    assert [(t[0], t[2], t[4]) for t in taxes_of(invoice)] == expected
    assert invoice.net_amount == D("99.98")
    assert invoice.payable_amount == D("99.98") + sum(t[2] for t in expected)


def test_india_same_state_splits_cgst_and_sgst(make_entity, make_customer, invoice_for):
    seller = make_entity(
        code="IN1",
        base_currency="INR",
        time_zone="Asia/Kolkata",
        country="IN",
        subdivision="KA",
        vat_number="29ABCDE1234F1Z5",
    )
    buyer = make_customer(seller, country="IN", subdivision="KA")

    invoice = invoice_for(buyer, [line("Service", "1", "1000.50")])

    # 18 % split in halves: 1,000.50 × 0.09 = 90.045 → 90.05 each, 180.10 in all
    assert taxes_of(invoice) == [
        ("CGST", "S", D("9"), D("1000.50"), D("90.05")),
        ("SGST", "S", D("9"), D("1000.50"), D("90.05")),
    ]
    assert invoice.payable_amount == D("1180.60")


def test_india_other_state_charges_igst(make_entity, make_customer, invoice_for):
    seller = make_entity(
        code="IN1",
        base_currency="INR",
        time_zone="Asia/Kolkata",
        country="IN",
        subdivision="KA",
        vat_number="29ABCDE1234F1Z5",
    )
    buyer = make_customer(seller, country="IN", subdivision="MH")

    invoice = invoice_for(buyer, [line("Service", "1", "1000.50")])

    # IGST 18 %: 1,000.50 × 0.18 = 180.09 (one cent less than CGST + SGST above)
    assert taxes_of(invoice) == [("IGST", "S", D("18"), D("1000.50"), D("180.09"))]
    assert invoice.payable_amount == D("1180.59")


@pytest.mark.parametrize(
    ("state", "rate", "tax"),
    [
        ("CA", D("7.25"), D("9.42")),  # 129.90 × 0.0725 = 9.41775 → 9.42
        ("TX", D("6.25"), D("8.12")),  # 129.90 × 0.0625 = 8.11875 → 8.12
        ("NY", D("4"), D("5.20")),  # 129.90 × 0.04 = 5.196 → 5.20
        ("OR", D("0"), D("0.00")),  # Oregon has no sales tax
    ],
)
def test_us_sales_tax_by_state(make_entity, make_customer, invoice_for, state, rate, tax):
    seller = make_entity(
        code="US1",
        base_currency="USD",
        time_zone="America/New_York",
        country="US",
        subdivision="NY",
    )
    buyer = make_customer(seller, country="US", subdivision=state)

    invoice = invoice_for(buyer, [line("Widget", "10", "12.99")])

    assert taxes_of(invoice) == [("Sales tax", "S", rate, D("129.90"), tax)]


def test_us_exempt_buyer_pays_no_sales_tax(make_entity, make_customer, invoice_for):
    seller = make_entity(
        code="US1",
        base_currency="USD",
        time_zone="America/New_York",
        country="US",
        subdivision="NY",
    )
    buyer = make_customer(seller, country="US", subdivision="CA", tax_status="exempt")

    invoice = invoice_for(buyer, [line("Widget", "10", "12.99")])

    assert taxes_of(invoice) == [("Sales tax", "E", D("0"), D("129.90"), D("0"))]
    assert invoice.legal_mentions == ["exempt_buyer"]


def test_us_buyer_without_state_is_rejected(make_entity, make_customer, invoice_for):
    seller = make_entity(
        code="US1",
        base_currency="USD",
        time_zone="America/New_York",
        country="US",
        subdivision="NY",
    )
    buyer = make_customer(seller, country="US")

    with pytest.raises(TaxError) as raised:
        invoice_for(buyer, [line()])

    assert raised.value.code == "buyer_subdivision_missing"


def test_rule_missing_for_category_names_country(seller_fr, make_customer, invoice_for):
    # Denmark has no reduced VAT rate
    buyer = make_customer(seller_fr, country="DK", tax_status="consumer")

    with pytest.raises(TaxError) as raised:
        invoice_for(buyer, [line(category="reduced")])

    assert raised.value.code == "no_tax_rule"
    assert "No reduced tax rate for DK on 2025-03-03" in raised.value.message


# Rounding mode and level, on numbers where they differ -------------------------------


def _three_dimes(rate="25"):
    treatment = TaxTreatment("domestic", "S", (TaxComponent("VAT", D(rate)),))
    return [(D("0.10"), treatment)] * 3


@pytest.mark.parametrize(
    ("mode", "level", "tax"),
    [
        # per line 0.10 × 25 % = 0.025 → 0.03 three times = 0.09; per document 0.075 → 0.08
        ("half_up", "line", D("0.09")),
        ("half_up", "document", D("0.08")),
        # half even: 0.025 → 0.02 (×3 = 0.06); 0.075 → 0.08
        ("half_even", "line", D("0.06")),
        ("half_even", "document", D("0.08")),
        # down: 0.02 (×3 = 0.06); 0.07
        ("down", "line", D("0.06")),
        ("down", "document", D("0.07")),
    ],
)
def test_rounding_mode_and_level_are_separate(mode, level, tax):
    result = compute_taxes(_three_dimes(), "EUR", mode=mode, level=level)

    assert result.tax_amount == tax
    assert result.lines[0].tax_amount == tax
    assert result.net_amount == D("0.30")
    assert result.total == D("0.30") + tax


def test_per_line_level_reports_each_line_tax():
    result = compute_taxes(_three_dimes(), "EUR", mode="half_up", level="line")

    assert result.line_taxes == [D("0.03"), D("0.03"), D("0.03")]


def test_compute_refuses_unrounded_line_net():
    treatment = TaxTreatment("domestic", "S", (TaxComponent("VAT", D("21")),))

    with pytest.raises(TaxError) as raised:
        compute_taxes([(D("1111.0725"), treatment)], "EUR")

    assert raised.value.code == "unrounded_line_net"


def test_rules_are_chosen_by_date():
    rules = RuleSource()
    seller = Party("SK")

    before = determine_treatment(seller, Party("SK"), "standard", dt.date(2024, 12, 31), rules)
    after = determine_treatment(seller, Party("SK"), "standard", dt.date(2025, 1, 1), rules)

    assert before.rate == D("20")
    assert after.rate == D("23")


def test_shipped_rules_load_again_without_change():
    count = TaxRule.objects.count()

    result = load_rules(SHIPPED_RULES)

    assert result.created == 0
    assert result.updated == 0
    assert result.unchanged == count


def test_bad_rules_file_names_line_and_field(tmp_path):
    path = tmp_path / "rules.csv"
    path.write_text(
        "country,subdivision,category,tax_name,rate_percent,valid_from,valid_to\n"
        "FR,,standard,VAT,20,2024-01-01,\n"
        "FR,,luxury,VAT,33,2024-01-01,\n"
    )
    count = TaxRule.objects.count()

    with pytest.raises(TaxError) as raised:
        load_rules(path)

    assert raised.value.code == "invalid_tax_rules"
    assert raised.value.message.startswith("rules.csv line 3, category: 'luxury'")
    assert TaxRule.objects.count() == count


def test_country_without_vat_bills_at_zero(make_entity, make_customer, invoice_for):
    # given a Kuwaiti seller and buyer: Kuwait levies no VAT, and KWD has three decimals
    seller = make_entity(code="KW1", base_currency="KWD", time_zone="Asia/Kuwait", country="KW")
    buyer = make_customer(seller, country="KW", currency="KWD")

    invoice = invoice_for(buyer, [line("Service", "3", "10.125")], post=True)

    assert taxes_of(invoice) == [("No VAT", "S", D("0"), D("30.375"), D("0.000"))]
    assert invoice.payable_amount == D("30.375")
