"""The portal in a real browser: sign-in link, card payment, promise and dispute.

The card payment goes through the fake Stripe page, whose webhooks reach the running
server. A second customer tries to open the first one's invoice and its PDF.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from o2c.ledger.services import open_amount
from o2c.payments.models import Payment, PaymentStatus

D = Decimal
LINK = re.compile(r"https?://[^/\s]+(/portal/link/[^/\s]+/)")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, settings):
    settings.O2C_PUBLIC_URL = live_server.url
    return live_server.url


def sign_in_by_link(page, site, inbox, address):
    """Ask for a link on the sign-in page, open it from the e-mail and continue."""
    page.goto(f"{site}{reverse('portal:sign_in')}")
    page.fill("#link-form input[name=email]", address)
    page.click("#link-form button[type=submit]")
    page.wait_for_selector("text=If this address belongs")
    path = LINK.search(inbox.to(address)[-1]).group(1)
    page.goto(f"{site}{path}")
    page.click("#open-account")
    page.wait_for_url(f"{site}{reverse('portal:home')}")


def test_customer_pays_two_invoices_by_card(page, site, fake_stripe, smtp_server, buyer, bill):
    # given two open invoices and Stripe's webhooks pointed at the running server
    first, second = bill(buyer, "100.00"), bill(buyer, "50.00")
    fake_stripe.webhook_url = f"{site}/payments/webhooks/stripe/"

    # when the customer signs in by link, picks both invoices and pays by card
    sign_in_by_link(page, site, smtp_server, "compta@boulangerie-martin.example")
    page.check(f"input[name=invoice][value='{first.document.pk}']")
    page.check(f"input[name=invoice][value='{second.document.pk}']")
    page.click("#pay-selected")
    page.check("input[name=method][value=card]")
    page.click("#pay-submit")
    page.wait_for_url(f"{fake_stripe.url}/pay/*")
    page.fill("#card-number", "4000 0027 6000 3184")
    page.click("#submit-card")
    page.click("#authenticate")

    # then, back on the portal, the payment is confirmed
    page.wait_for_selector("#payment-status[data-status=succeeded]")
    assert "est bien reçu" in page.inner_text("#payment-status")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.amount == D("180.00")
    assert open_amount(first.document) == D("0")
    assert open_amount(second.document) == D("0")
    # and the history lists it
    page.goto(f"{site}{reverse('portal:payment_list')}")
    assert payment.reference in page.inner_text("main")


def test_customer_promises_to_pay(page, site, smtp_server, buyer, bill):
    invoice = bill(buyer, "100.00")
    sign_in_by_link(page, site, smtp_server, "compta@boulangerie-martin.example")

    page.check(f"input[name=invoice][value='{invoice.document.pk}']")
    page.click("#promise-selected")
    page.fill("input[name=promised_on]", page.get_attribute("input[name=promised_on]", "max"))
    page.click("#promise-submit")

    page.wait_for_url(f"{site}{reverse('portal:home')}")
    assert "nous avons noté votre promesse de payer 120,00" in page.inner_text("main")
    promise = buyer.promises.get()
    assert promise.channel == "portal"
    assert list(promise.documents.all()) == [invoice.document]


def test_customer_disputes_a_line_with_a_photo(
    page, site, smtp_server, buyer, bill, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    invoice = bill(buyer, "100.00")
    photo = tmp_path / "broken-lamp.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    sign_in_by_link(page, site, smtp_server, "compta@boulangerie-martin.example")

    page.goto(f"{site}{reverse('portal:invoice_detail', args=[invoice.document.pk])}")
    page.click("#dispute-invoice")
    page.select_option("select[name=reason]", "quality")
    page.select_option("select[name=line]", "1")
    page.fill("input[name=amount]", "40.00")
    page.fill("textarea[name=description]", "The lamp arrived broken.")
    page.set_input_files("input[name=attachment]", str(photo))
    page.click("#dispute-submit")

    dispute = buyer.disputes.get()
    page.wait_for_url(f"{site}{reverse('portal:dispute_detail', args=[dispute.case_number])}")
    text = page.inner_text("main")
    assert dispute.case_number in text
    assert "broken-lamp.png" in text
    assert "En cours d'examen" in text
    assert dispute.amount == D("40.00")
    assert dispute.line_reference == "line 1: Lampe d'atelier"


def test_second_customer_cannot_open_first_invoice_or_pdf(
    page, site, smtp_server, buyer, other_buyer, bill
):
    # given an invoice of the first customer
    invoice = bill(buyer, "100.00")

    # when the second customer, signed in, opens its page and its PDF by URL
    sign_in_by_link(page, site, smtp_server, "buchhaltung@mueller.example")
    detail = page.goto(f"{site}{reverse('portal:invoice_detail', args=[invoice.document.pk])}")
    pdf = page.request.get(
        f"{site}{reverse('portal:invoice_file', args=[invoice.document.pk, 'pdf'])}"
    )
    ubl = page.request.get(
        f"{site}{reverse('portal:invoice_file', args=[invoice.document.pk, 'ubl'])}"
    )

    # then both are not found, and the list shows none of the first customer's invoices
    assert detail.status == 404
    assert pdf.status == 404
    assert ubl.status == 404
    page.goto(f"{site}{reverse('portal:invoice_list')}?state=all")
    assert invoice.number not in page.inner_text("main")


def test_portal_fits_a_phone_screen(browser, site, smtp_server, buyer, bill):
    bill(buyer, "100.00")
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    try:
        sign_in_by_link(phone, site, smtp_server, "compta@boulangerie-martin.example")
        fits = phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()

    assert fits
