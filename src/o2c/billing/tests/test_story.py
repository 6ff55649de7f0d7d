"""A billing clerk's week: invoice an order, post and e-mail it, credit a line, get paid."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from o2c.billing.models import Invoice
from o2c.billing.services import InvoiceLineInput, create_invoice
from o2c.core.models import ApiToken
from o2c.ledger.services import allocate, open_amount, status_of
from o2c.parties.models import Contact

D = Decimal

pytestmark = pytest.mark.django_db


def test_invoice_post_send_credit_and_pay(
    client, seller_fr, buyer_de, make_user, post, smtp_server
):
    clerk = make_user(
        "clerk", entity=seller_fr, role="member", function="billing", customers=[buyer_de]
    )
    Contact.objects.create(
        customer=buyer_de, name="Buchhaltung", email="rechnung@mueller.example", role="billing"
    )

    # Monday: the shipped order lines become a draft (as the orders module does)
    draft = create_invoice(
        customer=buyer_de,
        invoice_date=dt.date(2025, 3, 3),
        order_reference="SO-12",
        buyer_reference="PO-4711",
        lines=[
            InvoiceLineInput(
                "Schreibtischlampe",
                D("4"),
                D("89.90"),
                "standard",
                product_code="L-1",
                source_reference="order SO-12 line 1",
            ),
            InvoiceLineInput(
                "Montage",
                D("2.5"),
                D("60.00"),
                "standard",
                unit="HUR",
                source_reference="order SO-12 line 2",
            ),
        ],
        actor=clerk,
    )
    # reverse charge: 359.60 + 150.00 = 509.60, no VAT
    assert draft.payable_amount == D("509.60")

    # the clerk posts it from the invoice page and e-mails it
    client.force_login(clerk)
    client.post(reverse("billing:invoice_post", args=[draft.pk]))
    client.post(reverse("billing:invoice_send", args=[draft.pk]))
    invoice = Invoice.objects.get(pk=draft.pk)
    assert invoice.number == "INV-2025-00001"
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].rcpt_tos == ["rechnung@mueller.example"]

    # Wednesday: one lamp arrived broken; the clerk credits it through the API
    _, token = ApiToken.issue(clerk, "script")
    response = client.post(
        f"/api/billing/invoices/{invoice.pk}/credit-notes",
        data={"reason": "Lampe defekt geliefert", "lines": {"1": "1"}, "credit_date": "2025-03-05"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    assert D(response.json()["payable_amount"]) == D("89.90")
    assert open_amount(invoice.document) == D("419.70")

    # Friday: the customer pays the rest quoting the RF reference, and the invoice closes
    payment = post(
        buyer_de, "payment", "BT-77", "2025-03-07", "419.70", reference=invoice.creditor_reference
    )
    allocate(invoice.document, payment, on=dt.date(2025, 3, 7))
    assert open_amount(invoice.document) == D("0")
    assert status_of(invoice.document.amount, open_amount(invoice.document)) == "paid"

    kinds = set(buyer_de.timeline.values_list("kind", flat=True))
    assert {
        "invoice_drafted",
        "posted",
        "document_sent",
        "credit_note_issued",
        "allocated",
    } <= kinds
