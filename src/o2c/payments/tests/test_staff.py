"""Staff pages, API and command of payments: scope, roles and the collection file."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from o2c.core.models import ApiToken
from o2c.ledger.services import open_amount
from o2c.payments import sepa, services
from o2c.payments.models import CollectionFile, Payment, RefundStatus
from o2c.payments.tests.fixtures import deliver

D = Decimal

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def paid(client, fake_stripe, buyer, bill):
    invoice = bill(buyer, "100.00")
    payment = services.start_card_payment(
        buyer,
        [(invoice.document.pk, "120.00")],
        idempotency_key="k",
        return_url=lambda payment: "http://127.0.0.1:9/back/",
        cancel_url="http://127.0.0.1:9/home/",
    )
    fake_stripe.submit_card(payment.checkout_url.removeprefix(fake_stripe.url), "4242424242424242")
    deliver(client, fake_stripe, "stripe")
    payment.refresh_from_db()
    return payment


@pytest.fixture
def people(seller, buyer, other_buyer, make_user):
    return {
        "cash": make_user(
            "cash", entity=seller, role="member", function="cash_application", customers=[buyer]
        ),
        "collector": make_user(
            "coll", entity=seller, role="member", function="collections", customers=[buyer]
        ),
        "outsider": make_user(
            "out", entity=seller, role="member", function="sales", customers=[other_buyer]
        ),
    }


def test_payment_list_shows_only_visible_customers(client, paid, people):
    client.force_login(people["outsider"])
    hidden = client.get(reverse("payments:payment_list"))
    detail = client.get(reverse("payments:payment_detail", args=[paid.pk]))
    client.force_login(people["collector"])
    shown = client.get(reverse("payments:payment_list"))

    assert paid.reference not in hidden.content.decode()
    assert detail.status_code == 404
    assert paid.reference in shown.content.decode()


def test_only_cash_application_may_refund(client, paid, people):
    client.force_login(people["collector"])
    denied = client.post(
        reverse("payments:refund", args=[paid.pk]), {"amount": "10.00", "reason": "x"}
    )
    client.force_login(people["cash"])
    done = client.post(
        reverse("payments:refund", args=[paid.pk]), {"amount": "10.00", "reason": "goodwill"}
    )

    assert denied.status_code == 403
    assert done.status_code == 302
    assert paid.refunds.get().status == RefundStatus.SUCCEEDED
    assert open_amount(paid.items.get().invoice) == D("10.00")


def test_api_lists_and_refunds_within_scope(client, paid, people):
    outsider = client.get("/api/payments/", **bearer(people["outsider"]))
    listed = client.get("/api/payments/", **bearer(people["collector"]))
    detail = client.get(f"/api/payments/{paid.pk}", **bearer(people["collector"]))
    forbidden = client.post(
        f"/api/payments/{paid.pk}/refunds",
        data=json.dumps({"amount": "5.00", "reason": "x"}),
        content_type="application/json",
        **bearer(people["collector"]),
    )
    refunded = client.post(
        f"/api/payments/{paid.pk}/refunds",
        data=json.dumps({"amount": "5.00", "reason": "goodwill"}),
        content_type="application/json",
        **bearer(people["cash"]),
    )
    too_much = client.post(
        f"/api/payments/{paid.pk}/refunds",
        data=json.dumps({"amount": "500.00", "reason": "x"}),
        content_type="application/json",
        **bearer(people["cash"]),
    )

    assert outsider.json()["items"] == []
    assert [item["reference"] for item in listed.json()["items"]] == [paid.reference]
    assert detail.json()["items"][0]["amount"] == "120.00"
    assert forbidden.status_code == 403
    assert refunded.json()["amount"] == "5.00"
    assert refunded.json()["status"] == "succeeded"
    assert too_much.status_code == 400
    assert too_much.json()["code"] == "refund_amount"


def test_collection_file_page_and_command(client, buyer, bill, people, tmp_path):
    with time_machine.travel("2025-03-10 09:00:00+01:00", tick=False):
        sepa.sign_mandate(buyer, debtor_name="Boulangerie", iban="DE89370400440532013000")
        sepa.schedule_debit(
            buyer, [(bill(buyer, "100.00").document.pk, "120.00")], idempotency_key="a"
        )
        client.force_login(people["collector"])
        denied = client.get(reverse("payments:direct_debits"))
        client.force_login(people["cash"])
        page = client.get(reverse("payments:direct_debits"))
        output = tmp_path / "pain008.xml"
        call_command(
            "payments", "collect", "--entity", "FR1", "--date", "2025-03-12", "--output", output
        )
        collection_file = CollectionFile.objects.get()
        download = client.get(reverse("payments:collection_file", args=[collection_file.pk]))

    assert denied.status_code == 403
    assert "2025-03-12" in page.content.decode()
    assert output.read_bytes() == bytes(collection_file.content)
    sepa.validate_pain008(output.read_bytes())
    assert download.content == output.read_bytes()
    assert Payment.objects.get().paid_on == dt.date(2025, 3, 10)


@pytest.mark.parametrize("value", ["abc", "", "²", "99999999999999999999999"])
def test_malformed_entity_is_refused_not_an_error(client, people, value):
    client.force_login(people["cash"])

    collection = client.post(
        reverse("payments:create_collection_file"),
        {"entity": value, "collection_date": "2025-03-12"},
    )
    payouts = client.post(reverse("payments:upload_payouts"), {"entity": value})

    assert collection.status_code == 403
    assert payouts.status_code == 302
    assert CollectionFile.objects.count() == 0
