"""Staff pages, API and command of payments: scope, roles and the collection file."""

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from o2c.core.models import ApiToken
from o2c.imports.models import ImportRun
from o2c.ledger.services import open_amount
from o2c.payments import sepa, services
from o2c.payments.models import CollectionFile, Payment, PaymentStatus, RefundStatus
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
    assert Payment.objects.get().paid_on is None
    with time_machine.travel("2025-03-12 09:00:00+01:00", tick=False):
        call_command("payments", "book")
    assert Payment.objects.get().paid_on == dt.date(2025, 3, 12)


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


@pytest.fixture
def elsewhere(make_entity):
    return make_entity(code="US1", name="Lamp Works Inc", base_currency="USD")


def test_cash_member_without_portfolio_sees_and_refunds(client, paid, make_user, elsewhere):
    # given a cash application member of the seller with no portfolio, and one of another entity
    cash = make_user("cash.fr1", entity=paid.entity, role="member", function="cash_application")
    foreign = make_user("cash.us1", entity=elsewhere, role="member", function="cash_application")

    # when each lists the payments and asks for a refund
    listed = client.get("/api/payments/", **bearer(cash))
    refunded = client.post(
        f"/api/payments/{paid.pk}/refunds",
        data=json.dumps({"amount": "5.00", "reason": "goodwill"}),
        content_type="application/json",
        **bearer(cash),
    )
    foreign_list = client.get("/api/payments/", **bearer(foreign))
    foreign_refund = client.post(
        f"/api/payments/{paid.pk}/refunds",
        data=json.dumps({"amount": "5.00", "reason": "goodwill"}),
        content_type="application/json",
        **bearer(foreign),
    )
    client.force_login(foreign)
    foreign_page = client.get(reverse("payments:payment_detail", args=[paid.pk]))

    # then the seller's member lists and refunds the payment, the other entity's gets nothing
    assert [item["reference"] for item in listed.json()["items"]] == [paid.reference]
    assert refunded.status_code == 200
    assert refunded.json()["status"] == "succeeded"
    assert foreign_list.json()["items"] == []
    assert foreign_refund.status_code == 404
    assert foreign_page.status_code == 404
    assert paid.refunds.count() == 1


def returns_file(message_id: str, end_to_end_id: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
<GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2025-03-14T08:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId>
<OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>X</OrgnlPmtInfId><TxInfAndSts>
<OrgnlEndToEndId>{end_to_end_id}</OrgnlEndToEndId><TxSts>RJCT</TxSts>
<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf></TxInfAndSts></OrgnlPmtInfAndSts>
</CstmrPmtStsRpt></Document>""".encode()


@pytest.fixture
def collected(buyer, bill):
    with time_machine.travel("2025-03-10 09:00:00+01:00", tick=False):
        sepa.sign_mandate(buyer, debtor_name="Boulangerie", iban="DE89370400440532013000")
        payment = sepa.schedule_debit(
            buyer, [(bill(buyer, "100.00").document.pk, "120.00")], idempotency_key="a"
        )
        collection_file = sepa.create_collection_file(
            buyer.entity, collection_date=dt.date(2025, 3, 12)
        )
    return payment, collection_file


def upload(client, content: bytes):
    return client.post(
        reverse("payments:upload_returns"),
        {"file": SimpleUploadedFile("status.xml", content, content_type="application/xml")},
    )


@pytest.mark.parametrize("level", ["transaction", "batch", "group"])
def test_returns_of_another_entity_are_refused(client, collected, make_user, elsewhere, level):
    # given a debit of the seller sent to the bank, and a cash user of another entity
    payment, collection_file = collected
    content = returns_file(collection_file.message_id, payment.reference)
    if level == "batch":
        content = content.replace(
            b"<OrgnlPmtInfId>X</OrgnlPmtInfId>",
            f"<OrgnlPmtInfId>{payment.debit.payment_information_id}</OrgnlPmtInfId>"
            "<PmtInfSts>RJCT</PmtInfSts>".encode(),
        )
    elif level == "group":
        content = content.replace(b"<GrpSts>PART</GrpSts>", b"<GrpSts>RJCT</GrpSts>")
    foreign = make_user("cash.us1", entity=elsewhere, role="member", function="cash_application")

    # when that user loads a file rejecting the debit
    client.force_login(foreign)
    response = upload(client, content)

    # then the file is rejected and the payment stays submitted
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUBMITTED
    assert ImportRun.objects.get().status == "rejected"
    assert "you manage" in ImportRun.objects.get().problems[0]["message"]


def test_returns_of_own_entity_are_applied(client, collected, people):
    payment, collection_file = collected
    client.force_login(people["cash"])

    upload(client, returns_file(collection_file.message_id, payment.reference))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.RETURNED
    assert ImportRun.objects.get().counts == {"returned": 1, "already_returned": 0}
