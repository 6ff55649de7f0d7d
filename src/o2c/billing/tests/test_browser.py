"""A person opens a posted invoice from the customer page and downloads its PDF."""

import secrets
from pathlib import Path

import pytest

from o2c.billing.tests.conftest import line


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_open_invoice_from_customer_page_and_download_pdf(
    page, live_server, login, buyer_fr, invoice_for, make_user
):
    # given a posted invoice and a collector who looks after its customer
    invoice = invoice_for(buyer_fr, [line("Lampe", "2", "50.00")], post=True)
    password = secrets.token_urlsafe(16)
    person = make_user(
        "camille",
        entity=buyer_fr.entity,
        role="member",
        function="collections",
        customers=[buyer_fr],
    )
    person.set_password(password)
    person.save()

    # when she opens the customer page and follows the invoice
    login(page, "camille", password)
    page.goto(f"{live_server.url}/customers/{buyer_fr.pk}/")
    page.locator("#invoices").get_by_role("link", name=invoice.number).click()
    page.wait_for_url(f"**/billing/{invoice.pk}/")

    # then the invoice page shows its total and its PDF downloads
    assert page.locator("[data-total]").inner_text() == "120.00 EUR"
    with page.expect_download() as started:
        page.get_by_role("link", name="Download PDF").click()
    download = started.value
    assert download.suggested_filename == "INV-2025-00001.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
