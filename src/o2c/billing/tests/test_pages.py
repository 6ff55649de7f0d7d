"""Invoice pages and API: the customer scope, the billing role for changes, downloads."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from o2c.billing.models import Invoice
from o2c.billing.tests.conftest import line
from o2c.core.models import ApiToken

D = Decimal

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(seller_fr, buyer_fr, buyer_de, make_user):
    return {
        "clerk": make_user(
            "clerk", entity=seller_fr, role="member", function="billing", customers=[buyer_fr]
        ),
        "collector": make_user(
            "collector",
            entity=seller_fr,
            role="member",
            function="collections",
            customers=[buyer_fr],
        ),
        "outsider": make_user(
            "outsider", entity=seller_fr, role="member", function="sales", customers=[buyer_de]
        ),
    }


@pytest.fixture
def posted(buyer_fr, invoice_for):
    return invoice_for(buyer_fr, [line("Lamp", "2", "50.00")], post=True)


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_list_shows_only_visible_customers_invoices(client, people, posted, buyer_de, invoice_for):
    other = invoice_for(buyer_de, [line()], post=True, on="2025-03-04")
    client.force_login(people["collector"])

    response = client.get(reverse("billing:invoice_list"))

    assert response.status_code == 200
    assert [invoice.pk for invoice in response.context["page"]] == [posted.pk]
    assert buyer_de.name not in response.content.decode()
    assert other.pk not in [invoice.pk for invoice in response.context["page"]]


def test_list_query_count_does_not_grow_with_rows(
    client, people, buyer_fr, invoice_for, django_assert_max_num_queries
):
    for day in range(1, 21):
        invoice_for(buyer_fr, [line()], on=f"2025-03-{day:02d}", post=True)
    client.force_login(people["collector"])

    with django_assert_max_num_queries(12):
        response = client.get(reverse("billing:invoice_list"))

    assert len(response.context["page"]) == 20


def test_detail_and_downloads_outside_scope_are_not_found(client, people, posted):
    client.force_login(people["outsider"])

    detail = client.get(reverse("billing:invoice_detail", args=[posted.pk]))
    pdf = client.get(reverse("billing:invoice_file", args=[posted.pk, "pdf"]))
    section = client.get(reverse("billing:customer_invoices", args=[posted.customer_id]))

    assert detail.status_code == 404
    assert pdf.status_code == 404
    assert section.status_code == 404


def test_visible_invoice_downloads_each_file(client, people, posted):
    client.force_login(people["collector"])

    files = {
        kind: client.get(reverse("billing:invoice_file", args=[posted.pk, kind]))
        for kind in ("pdf", "ubl", "facturx")
    }

    assert files["pdf"]["Content-Type"] == "application/pdf"
    assert files["pdf"].content.startswith(b"%PDF")
    assert files["pdf"]["Content-Disposition"] == 'attachment; filename="INV-2025-00001.pdf"'
    assert b"<cbc:ID>INV-2025-00001</cbc:ID>" in files["ubl"].content
    assert files["facturx"].content.startswith(b"%PDF")


def test_only_billing_team_may_post(client, people, buyer_fr, invoice_for):
    draft = invoice_for(buyer_fr, [line()])
    url = reverse("billing:invoice_post", args=[draft.pk])

    client.force_login(people["collector"])
    refused = client.post(url)
    client.force_login(people["clerk"])
    accepted = client.post(url)

    assert refused.status_code == 403
    assert accepted.status_code == 302
    assert Invoice.objects.get(pk=draft.pk).number == "INV-2025-00001"


def test_credit_form_issues_credit_note(client, people, posted):
    client.force_login(people["clerk"])

    response = client.post(
        reverse("billing:invoice_credit", args=[posted.pk]),
        {"reason": "Damaged", "amount": "12.00"},
        follow=True,
    )

    assert "Credit note CN-" in response.content.decode()
    assert posted.credit_notes.get().payable_amount == D("12.00")


def test_customer_page_links_to_invoices(client, people, posted):
    client.force_login(people["collector"])

    page = client.get(reverse("parties:customer_detail", args=[posted.customer_id]))
    section = client.get(reverse("billing:customer_invoices", args=[posted.customer_id]))

    assert reverse("billing:customer_invoices", args=[posted.customer_id]) in page.content.decode()
    assert posted.number in section.content.decode()
    assert reverse("billing:invoice_file", args=[posted.pk, "pdf"]) in section.content.decode()


def test_api_lists_and_gets_within_scope(client, people, posted, buyer_de, invoice_for):
    invoice_for(buyer_de, [line()], post=True, on="2025-03-04")
    headers = bearer(people["collector"])

    listed = client.get("/api/billing/invoices", **headers)
    detail = client.get(f"/api/billing/invoices/{posted.pk}", **headers)

    assert listed.status_code == 200
    assert [item["number"] for item in listed.json()["items"]] == ["INV-2025-00001"]
    body = detail.json()
    assert body["payable_amount"] == "120.00"
    assert body["creditor_reference"] == "RF81INV202500001"
    assert D(body["lines"][0]["net_amount"]) == D("100.00")


def test_api_hides_other_customers(client, people, posted):
    headers = bearer(people["outsider"])

    detail = client.get(f"/api/billing/invoices/{posted.pk}", **headers)
    file = client.get(f"/api/billing/invoices/{posted.pk}/files/ubl", **headers)
    anonymous = client.get(f"/api/billing/invoices/{posted.pk}")

    assert detail.status_code == 404
    assert file.status_code == 404
    assert anonymous.status_code == 401


def test_api_post_and_credit_need_billing_role(client, people, buyer_fr, invoice_for):
    draft = invoice_for(buyer_fr, [line()])

    refused = client.post(f"/api/billing/invoices/{draft.pk}/post", **bearer(people["collector"]))
    posted = client.post(f"/api/billing/invoices/{draft.pk}/post", **bearer(people["clerk"]))
    again = client.post(f"/api/billing/invoices/{draft.pk}/post", **bearer(people["clerk"]))
    credited = client.post(
        f"/api/billing/invoices/{draft.pk}/credit-notes",
        data={"reason": "Goodwill", "amount": "10.00", "credit_date": "2025-03-05"},
        content_type="application/json",
        **bearer(people["clerk"]),
    )

    assert refused.status_code == 403
    assert posted.status_code == 200
    assert posted.json()["number"] == "INV-2025-00001"
    assert again.status_code == 400
    assert again.json()["code"] == "already_posted"
    assert credited.status_code == 200
    assert D(credited.json()["payable_amount"]) == D("10.00")
    assert credited.json()["credit_date"] == dt.date(2025, 3, 5).isoformat()


def test_api_downloads_ubl(client, people, posted):
    response = client.get(
        f"/api/billing/invoices/{posted.pk}/files/ubl", **bearer(people["collector"])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert b"RF81INV202500001" in response.content
