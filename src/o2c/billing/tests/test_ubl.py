"""Peppol BIS 3.0 UBL of invoices and credit notes, checked against the official rules."""

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from o2c.billing.documents.validation import (
    EINVOICE_DIR,
    business_rule_failures,
    schema_errors,
)
from o2c.billing.errors import BillingError
from o2c.billing.services import issue_credit_note, render_ubl
from o2c.billing.tests.conftest import line
from o2c.fx.services import set_manual_rate
from o2c.parties.models import Contact

D = Decimal
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

pytestmark = pytest.mark.django_db


def fatal(xml: bytes) -> list:
    return [failure for failure in business_rule_failures(xml) if failure.is_error]


def text(xml: bytes, path: str) -> list[str]:
    return [node.text for node in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.mark.parametrize(
    "name", ["peppol_base-example.xml", "peppol_base-creditnote-correction.xml"]
)
def test_validator_accepts_official_examples(name):
    xml = (EINVOICE_DIR / name).read_bytes()

    assert schema_errors(xml) == []
    assert fatal(xml) == []


def test_validator_reports_broken_totals():
    # given the official example with its payable amount changed
    xml = (EINVOICE_DIR / "peppol_base-example.xml").read_bytes()
    broken = xml.replace(
        b'<cbc:PayableAmount currencyID="EUR">1656.25',
        b'<cbc:PayableAmount currencyID="EUR">1656.26',
    )
    assert broken != xml

    rules = {failure.rule for failure in fatal(broken)}

    assert "BR-CO-16" in rules


def test_validator_reports_schema_error():
    xml = (EINVOICE_DIR / "peppol_base-example.xml").read_bytes()
    broken = xml.replace(b"<cbc:IssueDate>", b"<cbc:IssueDay>", 1).replace(
        b"</cbc:IssueDate>", b"</cbc:IssueDay>", 1
    )

    assert schema_errors(broken) != []


def test_domestic_invoice_ubl_is_valid(buyer_fr, invoice_for):
    Contact.objects.create(customer=buyer_fr, name="Compta", email="compta@martin.example")
    invoice = invoice_for(
        buyer_fr,
        [
            line("Lamp", "3", "19.99", product_code="L-1"),
            line("Book", "2", "4.55", category="reduced"),
            line("Chair", "9", "129.95", discount_percent="5"),
        ],
        post=True,
        buyer_reference="PO-4711",
        order_reference="SO-12",
    )

    xml = render_ubl(invoice)

    assert schema_errors(xml) == []
    assert fatal(xml) == []
    assert text(xml, "/*/cbc:ID") == ["INV-2025-00001"]
    assert text(xml, "//cac:PaymentMeans/cbc:PaymentID") == ["RF81INV202500001"]
    assert text(xml, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["1415.26"]
    # 59.97 + 1,111.07 = 1,171.04 at 20 % = 234.208 → 234.21; 9.10 at 10 % = 0.91
    assert text(xml, "/*/cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount") == ["234.21", "0.91"]
    assert text(xml, "//cac:AccountingCustomerParty//cbc:ElectronicMail") == [
        "compta@martin.example"
    ]


def test_reverse_charge_ubl_is_valid_with_exemption_reason(buyer_de, invoice_for):
    invoice = invoice_for(buyer_de, [line("Consulting", "7.5", "120", unit="HUR")], post=True)

    xml = render_ubl(invoice)

    assert schema_errors(xml) == []
    assert fatal(xml) == []
    assert text(xml, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["AE"]
    assert text(xml, "//cac:TaxSubtotal//cbc:TaxExemptionReasonCode") == ["VATEX-EU-AE"]
    assert "Artikel 196" in text(xml, "/*/cbc:Note")[0]


def test_export_ubl_is_valid(seller_fr, make_customer, invoice_for):
    buyer = make_customer(seller_fr, country="US", subdivision="NY", currency="EUR", tax_number="")

    xml = render_ubl(invoice_for(buyer, [line("Lamp", "10", "49.99")], post=True))

    assert schema_errors(xml) == []
    assert fatal(xml) == []
    assert text(xml, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["G"]


def test_foreign_currency_ubl_states_tax_in_accounting_currency(buyer_fr, invoice_for):
    set_manual_rate("USD", dt.date(2025, 3, 3), D("1.08"))
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "108.00")], currency="USD", post=True)

    xml = render_ubl(invoice)

    # tax 21.60 USD at 1 / 1.08 EUR per USD = 20.00 EUR
    assert schema_errors(xml) == []
    assert fatal(xml) == []
    assert text(xml, "/*/cbc:TaxCurrencyCode") == ["EUR"]
    assert text(xml, "/*/cac:TaxTotal/cbc:TaxAmount") == ["21.60", "20.00"]


def test_credit_note_ubl_is_valid(buyer_fr, invoice_for):
    invoice = invoice_for(
        buyer_fr,
        [line("Lamp", "3", "19.99"), line("Chair", "9", "129.95", discount_percent="5")],
        post=True,
    )
    by_line = issue_credit_note(
        invoice, reason="One lamp broken", lines={1: D("1")}, credit_date=dt.date(2025, 3, 10)
    )
    by_amount = issue_credit_note(
        invoice, reason="Goodwill", amount=D("50.00"), credit_date=dt.date(2025, 3, 11)
    )

    for credit in (by_line, by_amount):
        xml = render_ubl(credit)
        assert schema_errors(xml) == []
        assert fatal(xml) == []
        assert etree.QName(etree.fromstring(xml)).localname == "CreditNote"
        assert text(xml, "//cac:BillingReference//cbc:ID") == ["INV-2025-00001"]
    assert text(render_ubl(by_amount), "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["50.00"]


def test_cash_rounding_shows_as_payable_rounding(make_entity, make_customer, invoice_for):
    entity = make_entity(
        code="CH1",
        base_currency="CHF",
        time_zone="Europe/Zurich",
        country="CH",
        vat_number="CHE-116.281.710 MWST",
        cash_rounding_increment=D("0.05"),
    )
    customer = make_customer(entity, country="CH")

    xml = render_ubl(invoice_for(customer, [line("Service", "1", "925.15")], post=True))

    assert schema_errors(xml) == []
    assert text(xml, "//cbc:PayableRoundingAmount") == ["0.01"]
    assert text(xml, "//cbc:PayableAmount") == ["1000.10"]


def test_draft_has_no_ubl(buyer_fr, invoice_for):
    with pytest.raises(BillingError) as raised:
        render_ubl(invoice_for(buyer_fr, [line()]))

    assert raised.value.code == "not_posted"


def test_three_decimal_currency_has_no_einvoice(buyer_fr, invoice_for, client, admin_user):
    # EN 16931 amounts have at most two decimals; a KWD invoice would break BR-DEC rules
    set_manual_rate("KWD", dt.date(2025, 3, 3), D("0.333"))
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "10.125")], currency="KWD", post=True)

    with pytest.raises(BillingError) as raised:
        render_ubl(invoice)
    client.force_login(admin_user)
    response = client.get(f"/billing/{invoice.pk}/ubl/")
    page = client.get(f"/billing/{invoice.pk}/").content.decode()

    assert raised.value.code == "einvoice_unavailable"
    assert "KWD has 3" in raised.value.message
    assert response.status_code == 400
    assert "KWD has 3" in response.content.decode()
    assert "No EN 16931 e-invoice" in page
    assert f"/billing/{invoice.pk}/ubl/" not in page


def test_pages_link_no_einvoice_that_cannot_be_made(buyer_fr, invoice_for, client, admin_user):
    # given a KWD invoice (three decimals: no EN 16931 e-invoice) with a credit note
    set_manual_rate("KWD", dt.date(2025, 3, 3), D("0.333"))
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "10.125")], currency="KWD", post=True)
    note = issue_credit_note(
        invoice, reason="damaged", amount=D("1.000"), credit_date=dt.date(2025, 3, 5)
    )
    client.force_login(admin_user)

    listed = client.get("/billing/").content.decode()
    section = client.get(f"/billing/customers/{buyer_fr.pk}/").content.decode()
    detail = client.get(f"/billing/{invoice.pk}/").content.decode()

    for page in (listed, section):
        assert f"/billing/{invoice.pk}/pdf/" in page
        assert f"/billing/{invoice.pk}/ubl/" not in page
    assert "ubl" not in detail.split(note.number, 1)[1].split("</tr>", 1)[0]


def test_seller_without_vat_number_has_no_einvoice(seller_fr, buyer_fr, invoice_for):
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "10.00")], post=True)
    type(seller_fr).objects.filter(pk=seller_fr.pk).update(vat_number="")
    invoice.refresh_from_db()

    with pytest.raises(BillingError) as raised:
        render_ubl(invoice)

    assert "vat_number" in raised.value.message


def test_seller_without_iban_still_gives_valid_ubl(seller_fr, buyer_fr, invoice_for):
    type(seller_fr).objects.filter(pk=seller_fr.pk).update(iban="")
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "10.00")], post=True)

    xml = render_ubl(invoice)

    assert schema_errors(xml) == []
    assert fatal(xml) == []
    assert text(xml, "//cac:PaymentMeans/cbc:PaymentMeansCode") == ["1"]
    assert text(xml, "//cac:PaymentMeans/cbc:PaymentID") == ["RF81INV202500001"]


def test_seller_with_account_number_gives_credit_transfer(seller_fr, buyer_fr, invoice_for):
    # given a seller without IBAN whose bank account has a number and a clearing code
    from o2c.banking.services import add_bank_account

    type(seller_fr).objects.filter(pk=seller_fr.pk).update(iban="")
    add_bank_account(entity=seller_fr, identifier="0026009593", currency="EUR", bank_code="30006")
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "10.00")], post=True)

    xml = render_ubl(invoice)

    assert schema_errors(xml) == []
    assert fatal(xml) == []
    assert text(xml, "//cac:PaymentMeans/cbc:PaymentMeansCode") == ["30"]
    assert text(xml, "//cac:PayeeFinancialAccount/cbc:ID") == ["0026009593"]
    assert text(xml, "//cac:FinancialInstitutionBranch/cbc:ID") == ["30006"]


def test_vat_number_without_country_code_has_no_einvoice(seller_fr, buyer_fr, invoice_for):
    # a Japanese qualified-invoice number such as T1234567890123 has no country prefix
    invoice = invoice_for(buyer_fr, [line("Lamp", "1", "10.00")], post=True)
    type(seller_fr).objects.filter(pk=seller_fr.pk).update(vat_number="T1234567890123")
    invoice.refresh_from_db()

    with pytest.raises(BillingError) as raised:
        render_ubl(invoice)

    assert "BR-CO-09" in raised.value.message
