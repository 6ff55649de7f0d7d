"""PDF in the customer's language, Factur-X, and e-mail through a real SMTP server."""

import datetime as dt
import email
import email.policy
import io
from decimal import Decimal

import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree
from pypdf import PdfReader

from o2c.billing.documents.facturx import render_xml
from o2c.billing.documents.validation import facturx_rule_failures
from o2c.billing.errors import BillingError
from o2c.billing.services import (
    issue_credit_note,
    render_facturx,
    render_pdf,
    send_invoice,
)
from o2c.billing.tests.conftest import line
from o2c.parties.models import Contact

D = Decimal

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def posted_fr(buyer_fr, invoice_for):
    return invoice_for(
        buyer_fr,
        [line("Lampe de bureau", "3", "1999.99"), line("Livre", "2", "4.55", category="reduced")],
        post=True,
    )


def test_pdf_in_french_with_french_numbers_and_dates(posted_fr):
    text = pdf_text(render_pdf(posted_fr))

    assert "Facture INV-2025-00001" in text
    assert "3 mars 2025" in text
    # 5,999.97 at 20 % = 1,199.994 → 1,199.99; total 5,999.97 + 9.10 + 1,199.99 + 0.91
    assert "7 209,97 €" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Montant dû" in text
    assert "RF81INV202500001" in text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Invoice", "March 3, 2025", "Amount due", "Reverse charge"]),
        ("de", ["Rechnung", "3. März 2025", "Zahlbetrag", "Steuerschuldnerschaft"]),
        ("es", ["Factura", "3 de marzo de 2025", "Importe a pagar", "Inversión del sujeto"]),
    ],
)
def test_pdf_language_follows_customer(buyer_de, invoice_for, language, words):
    buyer_de.language = language
    buyer_de.save()
    invoice = invoice_for(buyer_de, [line("Consulting", "7.5", "120", unit="HUR")], post=True)

    text = pdf_text(render_pdf(invoice))

    for word in words:
        assert word in text


def test_pdf_in_yen_shows_no_decimals(make_entity, make_customer, invoice_for):
    entity = make_entity(
        code="JP1",
        base_currency="JPY",
        time_zone="Asia/Tokyo",
        country="JP",
        tax_rounding_mode="down",
    )
    customer = make_customer(entity, country="JP", language="en")
    invoice = invoice_for(customer, [line("Item A", "1", "2345")], post=True)

    text = pdf_text(render_pdf(invoice))

    assert "¥2,579" in text
    assert "¥234" in text
    assert "2,579.00" not in text
    assert "234.50" not in text


def test_facturx_embeds_valid_en16931_xml(posted_fr):
    data = render_facturx(posted_fr)

    filename, xml = get_xml_from_pdf(data, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert [f for f in facturx_rule_failures(xml) if f.is_error] == []
    root = etree.fromstring(xml)
    assert root.xpath("string(//*[local-name()='DuePayableAmount'])") == "7209.97"
    assert b"/GTS_PDFA1" in data or b"pdfaid:part" in data


def test_facturx_rules_catch_wrong_total(posted_fr):
    xml = render_xml(posted_fr).replace(b">7209.97<", b">7209.98<")

    rules = {f.rule for f in facturx_rule_failures(xml) if f.is_error}

    assert rules & {"BR-CO-16", "BR-CO-15"}


def test_facturx_of_credit_note_and_reverse_charge(buyer_de, invoice_for):
    invoice = invoice_for(buyer_de, [line("Consulting", "7.5", "120", unit="HUR")], post=True)
    credit = issue_credit_note(
        invoice, reason="Two hours not worked", lines={1: D("2")}, credit_date=dt.date(2025, 3, 10)
    )

    for document in (invoice, credit):
        _, xml = get_xml_from_pdf(render_facturx(document), check_xsd=False)
        assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
        assert [f for f in facturx_rule_failures(xml) if f.is_error] == []


def test_send_invoice_delivers_pdf_and_ubl_over_smtp(posted_fr, smtp_server):
    customer = posted_fr.customer
    Contact.objects.create(
        customer=customer, name="Compta", email="compta@martin.example", role="billing"
    )
    Contact.objects.create(
        customer=customer, name="Relances", email="relances@martin.example", role="collections"
    )

    send_invoice(posted_fr)

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["compta@martin.example"]
    assert envelope.mail_from == "factures@atelier-lumiere.example"
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Facture INV-2025-00001 de Atelier Lumière SAS"
    attachments = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert sorted(attachments) == ["INV-2025-00001.pdf", "INV-2025-00001.xml"]
    assert attachments["INV-2025-00001.pdf"].get_payload(decode=True).startswith(b"%PDF")
    assert b"<cbc:ID>INV-2025-00001</cbc:ID>" in attachments["INV-2025-00001.xml"].get_payload(
        decode=True
    )
    assert customer.timeline.filter(kind="document_sent").count() == 1


def test_send_without_billing_contact_is_rejected(posted_fr, smtp_server):
    with pytest.raises(BillingError) as raised:
        send_invoice(posted_fr)

    assert raised.value.code == "no_billing_contact"
    assert smtp_server.messages == []


def test_document_file_is_kept_as_first_rendered(posted_fr, monkeypatch):
    from o2c.billing import services
    from o2c.billing.models import DocumentFile

    first = services.document_file(posted_fr, "pdf")
    monkeypatch.setattr(services, "render_pdf", lambda document: b"%PDF-changed template")

    again = services.document_file(posted_fr, "pdf")

    assert again == first
    assert DocumentFile.objects.filter(invoice=posted_fr, kind="pdf").count() == 1


def test_document_file_of_draft_is_rejected(buyer_fr, invoice_for):
    from o2c.billing.services import document_file

    with pytest.raises(BillingError) as raised:
        document_file(invoice_for(buyer_fr, [line()]), "pdf")

    assert raised.value.code == "not_posted"


def test_pdf_bank_account_without_iban(make_entity, make_customer, invoice_for):
    # given a Japanese seller, whose bank account has a number and no IBAN
    from o2c.banking.services import add_bank_account

    entity = make_entity(code="JP1", base_currency="JPY", time_zone="Asia/Tokyo", country="JP")
    add_bank_account(
        entity=entity,
        identifier="1234567",
        currency="JPY",
        bank_name="Mizuho",
        bank_code="0001-123",
    )
    customer = make_customer(entity, country="JP", language="en")

    invoice = invoice_for(customer, [line("Item A", "1", "2345")], post=True)
    text = pdf_text(render_pdf(invoice)).replace("\n", " ")

    assert "Mizuho, bank and branch code 0001-123, account 1234567" in text
    assert invoice.creditor_reference in text


def test_pdf_us_account_names_routing_number(make_entity, make_customer, invoice_for):
    from o2c.banking.services import add_bank_account

    entity = make_entity(
        code="US1", base_currency="USD", time_zone="America/New_York", country="US"
    )
    entity.subdivision = "NY"
    entity.save()
    add_bank_account(entity=entity, identifier="0026009593", currency="USD", bank_code="500000102")
    customer = make_customer(entity, country="US", subdivision="NY", language="en")

    invoice = invoice_for(customer, [line("Widget", "1", "10.00")], post=True)
    text = pdf_text(render_pdf(invoice)).replace("\n", " ")

    assert "routing number 500000102, account 0026009593" in text
