"""Portal pages: what a customer can read and do, and that no other customer can."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from o2c.collections.models import PromiseToPay
from o2c.disputes.models import Dispute, DisputeAttachment
from o2c.ledger.services import allocate, open_amount
from o2c.parties.models import TimelineEvent
from o2c.payments import sepa
from o2c.payments.models import Payment
from o2c.portal import auth
from o2c.portal.models import PortalUser
from o2c.portal.services import raise_dispute
from o2c.portal.texts import EN, TRANSLATIONS

D = Decimal

pytestmark = pytest.mark.django_db


def sign_in(client, customer):
    email = customer.contacts.get().email
    user, _ = PortalUser.objects.get_or_create(customer=customer, email=email)
    token = auth.issue_link(user, source="staff")
    assert client.post(f"/portal/link/{token}/").status_code == 302
    return user


@pytest.fixture
def portal_client(client, buyer):
    sign_in(client, buyer)
    return client


@pytest.fixture
def world(buyer, other_buyer, bill, post):
    """Documents of two customers: billed and imported invoices, a payment, a credit note."""
    from o2c.billing.services import issue_credit_note

    billed = bill(buyer, "100.00")
    credited = bill(buyer, "50.00", on="2025-03-05")
    note = issue_credit_note(
        credited, reason="damaged", amount=D("10.00"), credit_date=dt.date(2025, 3, 15)
    )
    imported = post(buyer, "invoice", "OLD-2024-17", "2024-11-02", "80.00")
    payment = post(buyer, "payment", "BANK-9", "2025-03-20", "30.00")
    allocate(imported, payment, on=payment.document_date)
    other = bill(other_buyer, "70.00", on="2025-03-05")
    return {
        "billed": billed,
        "credited": credited,
        "note": note,
        "imported": imported,
        "payment": payment,
        "other": other,
    }


def test_home_shows_balance_and_open_invoices(portal_client, world):
    response = portal_client.get(reverse("portal:home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="fr"' in page
    assert "Factures ouvertes" in page
    # 120.00 + (60.00 - 10.00 credited) + (80.00 - 30.00 paid) = 220.00 due
    assert [(b["due"], b["currency"]) for b in response.context["balances"]] == [
        (D("220.00"), "EUR")
    ]
    numbers = [document.number for document in response.context["invoices"]]
    assert sorted(numbers) == sorted(
        [world["billed"].number, world["credited"].number, "OLD-2024-17"]
    )
    assert world["other"].number not in page


def test_invoice_page_offers_documents_or_says_why_not(portal_client, world):
    billed = portal_client.get(reverse("portal:invoice_detail", args=[world["billed"].document.pk]))
    imported = portal_client.get(reverse("portal:invoice_detail", args=[world["imported"].pk]))

    assert reverse("portal:invoice_file", args=[world["billed"].document.pk, "pdf"]) in (
        billed.content.decode()
    )
    assert "historique comptable" in imported.content.decode()
    assert reverse("portal:invoice_file", args=[world["imported"].pk, "pdf"]) not in (
        imported.content.decode()
    )


def test_downloads_of_own_documents(portal_client, world):
    document = world["billed"].document
    pdf = portal_client.get(reverse("portal:invoice_file", args=[document.pk, "pdf"]))
    ubl = portal_client.get(reverse("portal:invoice_file", args=[document.pk, "ubl"]))
    note = portal_client.get(
        reverse("portal:credit_note_file", args=[world["note"].document.pk, "pdf"])
    )
    missing = portal_client.get(reverse("portal:invoice_file", args=[world["imported"].pk, "pdf"]))

    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert ubl.content.startswith(b"<?xml")
    assert note.content.startswith(b"%PDF-")
    assert missing.status_code == 404


def own_and_foreign_urls(world, other_customer_payment=None):
    """Every portal page and download that takes an id, for the other customer's document."""
    other = world["other"].document
    return [
        reverse("portal:invoice_detail", args=[other.pk]),
        reverse("portal:invoice_file", args=[other.pk, "pdf"]),
        reverse("portal:invoice_file", args=[other.pk, "ubl"]),
        reverse("portal:dispute_new", args=[other.pk]),
        f"{reverse('portal:pay')}?invoice={other.pk}",
        f"{reverse('portal:promise')}?invoice={other.pk}",
    ]


def test_second_customer_cannot_open_the_first_customers_documents(
    client, world, other_buyer, buyer, post, settings, tmp_path
):
    # given documents of the first customer, one of each kind the portal shows
    from o2c.disputes.services import open_dispute

    first_invoice = world["billed"].document
    dispute = open_dispute(
        buyer, lines=[(first_invoice, D("10.00"), "")], reason="pricing", actor=None
    )[0]
    settings.MEDIA_ROOT = tmp_path
    buyer_user, _ = PortalUser.objects.get_or_create(
        customer=buyer, email=buyer.contacts.get().email
    )
    evidence = raise_dispute(
        buyer_user,
        document=first_invoice,
        amount="5.00",
        reason="quality",
        description="Scratched.",
        upload=SimpleUploadedFile("scratch.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64),
    )[0].attachments.get()
    portal_payment = Payment.objects.create(
        entity=buyer.entity,
        customer=buyer,
        reference="PAY-FIRSTCUST1",
        method="card",
        gateway="stripe",
        amount=D("10.00"),
        currency="EUR",
        idempotency_key="x",
    )
    mandate = sepa.sign_mandate(buyer, debtor_name="B", iban="DE89370400440532013000")
    urls = [
        reverse("portal:invoice_detail", args=[first_invoice.pk]),
        reverse("portal:invoice_file", args=[first_invoice.pk, "pdf"]),
        reverse("portal:invoice_file", args=[first_invoice.pk, "ubl"]),
        reverse("portal:invoice_detail", args=[world["imported"].pk]),
        reverse("portal:dispute_new", args=[first_invoice.pk]),
        reverse("portal:credit_note_file", args=[world["note"].document.pk, "pdf"]),
        reverse("portal:credit_note_file", args=[world["note"].document.pk, "ubl"]),
        reverse("portal:payment_detail", args=[world["payment"].pk]),
        reverse("portal:payment_status", args=[portal_payment.reference]),
        reverse("portal:payment_return", args=[portal_payment.reference]),
        reverse("portal:dispute_detail", args=[dispute.case_number]),
        reverse("portal:dispute_file", args=[dispute.case_number, evidence.pk]),
    ]

    # when the second customer's portal user asks for each of them
    sign_in(client, other_buyer)
    responses = {url: client.get(url) for url in urls}
    pay = client.get(f"{reverse('portal:pay')}?invoice={first_invoice.pk}")
    promise = client.get(f"{reverse('portal:promise')}?invoice={first_invoice.pk}")
    revoke = client.post(
        reverse("portal:account"), {"action": "revoke_mandate", "mandate": mandate.pk}
    )
    lists = [
        client.get(reverse(name)).content.decode()
        for name in (
            "portal:home",
            "portal:invoice_list",
            "portal:payment_list",
            "portal:credit_note_list",
            "portal:statement",
            "portal:dispute_list",
            "portal:account",
        )
    ]

    # then each returns 404 (or redirects home), and no list shows them
    for url, response in responses.items():
        assert response.status_code == 404, url
    assert pay.status_code == 302
    assert promise.status_code == 302
    assert revoke.status_code == 404
    mandate.refresh_from_db()
    assert mandate.status == "active"
    for page in lists:
        assert first_invoice.number not in page
        assert world["note"].number not in page
        assert "BANK-9" not in page
        assert dispute.case_number not in page
        assert mandate.reference not in page


def test_every_portal_page_needs_a_portal_session(client, world):
    document = world["billed"].document
    urls = [
        reverse("portal:home"),
        reverse("portal:invoice_list"),
        reverse("portal:invoice_detail", args=[document.pk]),
        reverse("portal:invoice_file", args=[document.pk, "pdf"]),
        reverse("portal:credit_note_list"),
        reverse("portal:payment_list"),
        reverse("portal:statement"),
        reverse("portal:dispute_list"),
        reverse("portal:account"),
        reverse("portal:mandate_new"),
        reverse("portal:pay"),
        reverse("portal:promise"),
    ]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("portal:sign_in")), url


def test_statement_of_a_period(portal_client, world):
    response = portal_client.get(
        reverse("portal:statement"), {"from": "2025-03-01", "to": "2025-03-31"}
    )
    pdf = portal_client.get(
        reverse("portal:statement"), {"from": "2025-03-01", "to": "2025-03-31", "format": "pdf"}
    )

    statement = response.context["statement"]
    # opening: the imported invoice of 80.00; then 120.00 + 60.00 - 10.00 - 30.00
    assert statement.opening == D("80.00")
    assert [(line.number, line.debit, line.credit, line.balance) for line in statement.lines] == [
        (world["billed"].number, D("120.00"), D("0"), D("200.00")),
        (world["credited"].number, D("60.00"), D("0"), D("260.00")),
        (world["note"].number, D("0"), D("10.00"), D("250.00")),
        ("BANK-9", D("0"), D("30.00"), D("220.00")),
    ]
    assert statement.closing == D("220.00")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_pay_page_proposes_open_amounts_and_methods(portal_client, world, fake_stripe):
    document = world["imported"]

    response = portal_client.get(reverse("portal:pay"), {"invoice": document.pk})

    assert response.context["rows"][0]["proposed"] == D("50.00")
    assert list(response.context["methods"]) == ["card", "transfer"]


def test_pay_by_transfer_shows_reference_and_qr(portal_client, world):
    document = world["billed"].document

    response = portal_client.post(
        reverse("portal:pay"),
        {"invoice": [document.pk], f"amount_{document.pk}": "120.00", "method": "transfer"},
    )

    page = response.content.decode()
    assert world["billed"].creditor_reference in page
    assert "FR76 3000 6000 0112 3456 7890 189" in page
    assert "<svg" in page


def test_pay_by_card_redirects_to_gateway(portal_client, world, fake_stripe, settings):
    settings.O2C_PUBLIC_URL = "http://testserver"
    document = world["billed"].document

    response = portal_client.post(
        reverse("portal:pay"),
        {
            "invoice": [document.pk],
            f"amount_{document.pk}": "120.00",
            "method": "card",
            "idempotency_key": "abc",
        },
    )

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response.url == payment.checkout_url
    assert payment.portal_user.email == "compta@boulangerie-martin.example"
    session = fake_stripe.sessions[payment.gateway_session_id]
    assert session["success_url"] == (
        f"http://testserver/portal/pay/{payment.reference}/return/?session_id={{CHECKOUT_SESSION_ID}}"
    )


def test_pay_rejects_an_amount_above_open(portal_client, world, fake_stripe):
    document = world["billed"].document

    response = portal_client.post(
        reverse("portal:pay"),
        {"invoice": [document.pk], f"amount_{document.pk}": "500", "method": "card"},
        follow=True,
    )

    assert "au plus 120.00 EUR, pas 500.00" in response.content.decode()
    assert Payment.objects.count() == 0


def test_promise_to_pay(portal_client, world):
    document = world["billed"].document

    with time_machine.travel("2025-03-25 10:00:00+01:00", tick=False):
        response = portal_client.post(
            reverse("portal:promise"),
            {"invoice": [document.pk], "amount": "120.00", "promised_on": "2025-04-10"},
        )

    promise = PromiseToPay.objects.get()
    assert response.status_code == 302
    assert (promise.amount, promise.promised_on, promise.channel) == (
        D("120.00"),
        dt.date(2025, 4, 10),
        "portal",
    )
    assert list(promise.documents.all()) == [document]
    assert promise.note == "Promised in the customer portal by compta@boulangerie-martin.example"


def test_promise_too_far_ahead_is_refused(portal_client, world):
    document = world["billed"].document

    with time_machine.travel("2025-03-25 10:00:00+01:00", tick=False):
        response = portal_client.post(
            reverse("portal:promise"),
            {"invoice": [document.pk], "amount": "120.00", "promised_on": "2025-08-01"},
        )

    assert response.status_code == 200
    assert PromiseToPay.objects.count() == 0
    assert "2025-06-23" in response.content.decode()


def test_dispute_on_a_line_with_attachment(portal_client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = world["billed"].document

    response = portal_client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {
            "reason": "quality",
            "line": "1",
            "amount": "60.00",
            "description": "Two lamps arrived broken.",
            "attachment": SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64),
        },
    )

    dispute = Dispute.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("portal:dispute_detail", args=[dispute.case_number])
    assert dispute.amount == D("60.00")
    assert dispute.line_reference == "line 1: Lampe d'atelier"
    assert dispute.raised_by is None
    assert dispute.description.startswith("Two lamps arrived broken.")
    attachment = dispute.attachments.get()
    assert attachment.original_name == "photo.png"
    assert attachment.portal_upload.portal_user.email == "compta@boulangerie-martin.example"
    assert dispute.source == "portal"
    detail = portal_client.get(response.url).content.decode()
    assert "photo.png" in detail
    assert "En cours d&#x27;examen" in detail
    assert "Two lamps arrived broken." in detail
    assert "raised in the customer portal" not in detail
    download = portal_client.get(
        reverse("portal:dispute_file", args=[dispute.case_number, attachment.pk])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert 'filename="photo.png"' in download["Content-Disposition"]


def test_staff_notes_and_evidence_stay_internal(portal_client, world, buyer, settings, tmp_path):
    # given a case opened by staff with an internal description and an internal file
    from o2c.disputes.services import attach_evidence, open_dispute

    settings.MEDIA_ROOT = tmp_path
    document = world["billed"].document
    dispute = open_dispute(
        buyer,
        lines=[(document, D("10.00"), "")],
        reason="pricing",
        actor=None,
        description="Internal: the sales rep promised a discount.",
    )[0]
    staff_file = attach_evidence(
        dispute, SimpleUploadedFile("memo.txt", b"internal memo"), actor=None
    )

    # when the customer opens the case and requests the staff file
    detail = portal_client.get(reverse("portal:dispute_detail", args=[dispute.case_number]))
    download = portal_client.get(
        reverse("portal:dispute_file", args=[dispute.case_number, staff_file.pk])
    )

    # then neither the note nor the file is shown or sent
    assert "Internal: the sales rep" not in detail.content.decode()
    assert "memo.txt" not in detail.content.decode()
    assert download.status_code == 404


def test_dispute_with_forged_attachment_opens_nothing(portal_client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = world["billed"].document

    response = portal_client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {
            "reason": "quality",
            "amount": "60.00",
            "description": "Broken.",
            "attachment": SimpleUploadedFile("photo.pdf", b"MZ not a pdf"),
        },
    )

    assert response.status_code == 200
    assert "photo.pdf does not contain what its extension says" in response.content.decode()
    assert Dispute.objects.count() == 0
    assert DisputeAttachment.objects.count() == 0


def test_dispute_above_open_amount_is_refused(portal_client, world):
    document = world["billed"].document

    response = portal_client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {"reason": "pricing", "amount": "500.00", "description": "Too expensive."},
    )

    assert response.status_code == 200
    assert Dispute.objects.count() == 0


def test_billing_contact_update_is_recorded(portal_client, buyer, world):
    response = portal_client.post(
        reverse("portal:account"),
        {
            "action": "contact",
            "name": "Claire Martin",
            "email": "Claire@Boulangerie-Martin.example",
            "phone": "+33 4 78 00 00 00",
        },
    )

    contact = buyer.contacts.get(role="billing")
    assert response.status_code == 302
    assert (contact.name, contact.email) == ("Claire Martin", "claire@boulangerie-martin.example")
    assert TimelineEvent.objects.filter(customer=buyer, kind="contact_changed").exists()


def test_preferences_and_password(portal_client, buyer, world):
    portal_client.post(
        reverse("portal:account"),
        {"action": "preferences", "language": "es", "monthly_statement": "on"},
    )
    weak = portal_client.post(
        reverse("portal:account"), {"action": "set_password", "password": "1234"}
    )
    strong = portal_client.post(
        reverse("portal:account"),
        {"action": "set_password", "password": "lampes et croissants 2025"},
    )

    user = PortalUser.objects.get(customer=buyer)
    assert (user.language, user.wants_monthly_statement, user.wants_receipts) == (
        "es",
        True,
        False,
    )
    assert weak.status_code == 200
    assert strong.status_code == 302
    assert user.check_password("lampes et croissants 2025")
    assert "Su cuenta" in portal_client.get(reverse("portal:account")).content.decode()


def test_mandate_signed_in_the_portal(portal_client, buyer, world):
    response = portal_client.post(
        reverse("portal:mandate_new"),
        {
            "debtor_name": "Boulangerie Martin",
            "iban": "DE89 3704 0044 0532 0130 00",
            "kind": "recurrent",
            "accept": "on",
        },
    )

    mandate = buyer.mandates.get()
    assert response.status_code == 302
    assert mandate.portal_user.email == "compta@boulangerie-martin.example"
    assert mandate.signed_ip == "127.0.0.1"
    methods = portal_client.get(
        reverse("portal:pay"), {"invoice": world["billed"].document.pk}
    ).context["methods"]
    assert methods["sepa_dd"] == "…3000"


def test_pay_by_direct_debit(portal_client, buyer, world):
    sepa.sign_mandate(buyer, debtor_name="Boulangerie", iban="DE89370400440532013000")
    document = world["billed"].document

    with time_machine.travel("2025-03-24 10:00:00+01:00", tick=False):
        response = portal_client.post(
            reverse("portal:pay"),
            {"invoice": [document.pk], f"amount_{document.pk}": "120.00", "method": "sepa_dd"},
        )

    payment = Payment.objects.get()
    assert response.url == reverse("portal:payment_status", args=[payment.reference])
    assert payment.debit.collection_date == dt.date(2025, 3, 26)
    status = portal_client.get(response.url).content.decode()
    assert payment.reference in status


def test_list_pages_query_counts_do_not_grow(
    portal_client, buyer, bill, post, django_assert_max_num_queries
):
    for index in range(12):
        post(buyer, "invoice", f"H-{index}", "2025-01-10", "10.00")
        post(buyer, "payment", f"P-{index}", "2025-01-20", "5.00")

    for name in (
        "portal:home",
        "portal:invoice_list",
        "portal:payment_list",
        "portal:credit_note_list",
        "portal:statement",
        "portal:dispute_list",
    ):
        with django_assert_max_num_queries(14):
            assert portal_client.get(reverse(name)).status_code == 200


def test_every_language_has_every_word():
    for language, translated in TRANSLATIONS.items():
        assert set(translated) == set(EN), language
        for key, text in translated.items():
            placeholders = {part.split("}")[0] for part in EN[key].split("{")[1:]}
            assert placeholders == {part.split("}")[0] for part in text.split("{")[1:]}, key


def test_payment_made_elsewhere_shows_in_history(portal_client, world):
    response = portal_client.get(reverse("portal:payment_list"))
    detail = portal_client.get(reverse("portal:payment_detail", args=[world["payment"].pk]))

    assert "BANK-9" in response.content.decode()
    assert "OLD-2024-17" in detail.content.decode()
    assert open_amount(world["imported"]) == D("50.00")


def test_second_card_payment_is_refused_and_explained(portal_client, world, fake_stripe):
    # given a card checkout already started for the whole of an invoice, as in another tab
    document = world["billed"].document
    form = {"invoice": [document.pk], f"amount_{document.pk}": "120.00", "method": "card"}
    portal_client.post(reverse("portal:pay"), {**form, "idempotency_key": "tab-1"})

    # when the customer opens the pay page again and submits the same amount
    page = portal_client.get(reverse("portal:pay"), {"invoice": document.pk})
    again = portal_client.post(
        reverse("portal:pay"), {**form, "idempotency_key": "tab-2"}, follow=True
    )

    # then nothing is proposed, the page says why, and no second payment starts
    assert page.context["rows"][0]["proposed"] == D("0")
    assert page.context["rows"][0]["pending"] == D("120.00")
    # the customer reads French
    assert "déjà en cours de paiement par carte ou prélèvement" in page.content.decode()
    assert "already being paid by a card payment or direct debit" in again.content.decode()
    assert Payment.objects.count() == 1


def test_scheduled_debit_lowers_what_card_may_pay(portal_client, buyer, world, fake_stripe):
    # given a direct debit of 100.00 scheduled on an invoice of 120.00
    sepa.sign_mandate(buyer, debtor_name="Boulangerie", iban="DE89370400440532013000")
    document = world["billed"].document
    sepa.schedule_debit(buyer, [(document.pk, "100.00")], idempotency_key="debit")

    # when the customer opens the pay page and tries to pay 120.00 by card
    page = portal_client.get(reverse("portal:pay"), {"invoice": document.pk})
    refused = portal_client.post(
        reverse("portal:pay"),
        {"invoice": [document.pk], f"amount_{document.pk}": "120.00", "method": "card"},
        follow=True,
    )

    # then only the other 20.00 is proposed and accepted
    assert page.context["rows"][0]["proposed"] == D("20.00")
    # the customer reads French
    assert "au plus 20.00 EUR, pas 120.00" in refused.content.decode()
    assert Payment.objects.count() == 1


def test_malformed_ids_are_bad_requests(portal_client, buyer, world):
    mandate = sepa.sign_mandate(buyer, debtor_name="Boulangerie", iban="DE89370400440532013000")

    for value in ("abc", "", "²", "9" * 30, "-1"):
        response = portal_client.post(
            reverse("portal:account"), {"action": "revoke_mandate", "mandate": value}
        )
        assert response.status_code == 400, value
        assert "Choisissez un mandat à révoquer" in response.content.decode(), value
    missing = portal_client.post(reverse("portal:account"), {"action": "revoke_mandate"})
    pay = portal_client.get(reverse("portal:pay"), {"invoice": ["²", "9" * 30]})
    promise = portal_client.post(reverse("portal:promise"), {"invoice": "²"})

    mandate.refresh_from_db()
    assert mandate.status == "active"
    assert missing.status_code == 400
    assert pay.status_code == 302
    assert promise.status_code == 302


def test_head_is_answered_like_get(client, buyer, world):
    user = PortalUser.objects.get_or_create(customer=buyer, email=buyer.contacts.get().email)[0]
    token = auth.issue_link(user, source="staff")

    assert client.head(reverse("portal:sign_in")).status_code == 200
    assert client.head(f"/portal/link/{token}/").status_code == 200
    assert client.post(f"/portal/link/{token}/").status_code == 302  # HEAD left it unused
    for name in ("portal:home", "portal:account", "portal:mandate_new", "portal:statement"):
        assert client.head(reverse(name)).status_code == 200, name


def test_disputes_newest_first_undated_last(portal_client, buyer, world):
    from o2c.disputes.services import open_dispute

    billed = world["billed"].document
    imported = open_dispute(
        buyer, lines=[(billed, "10.00", "")], reason="pricing", actor=None, description="Old."
    )[0]
    Dispute.objects.filter(pk=imported.pk).update(opened_on=None, case_number="")
    older = open_dispute(
        buyer,
        lines=[(billed, "10.00", "")],
        reason="pricing",
        actor=None,
        opened_on=dt.date(2025, 3, 10),
    )[0]
    newer = open_dispute(
        buyer,
        lines=[(billed, "10.00", "")],
        reason="pricing",
        actor=None,
        opened_on=dt.date(2025, 3, 20),
    )[0]

    listed = list(portal_client.get(reverse("portal:dispute_list")).context["disputes"])

    assert listed == [newer, older, Dispute.objects.get(pk=imported.pk)]


def test_unit_prices_keep_their_decimals(portal_client, buyer, bill):
    from o2c.billing.services import InvoiceLineInput

    lines = [
        InvoiceLineInput(
            description=description,
            quantity=D(quantity),
            unit_price=D(price),
            tax_category="standard",
        )
        for description, quantity, price in (("Vis", "3", "0.333"), ("Lampe", "1.5", "99.995"))
    ]
    invoice = bill(buyer, lines=lines)

    page = portal_client.get(reverse("portal:invoice_detail", args=[invoice.document.pk]))

    text = page.content.decode().replace("\xa0", " ").replace("\u202f", " ")
    assert "0,333 €" in text
    assert "99,995 €" in text
    assert "149,99 €" in text  # the line's net amount is at the currency's decimals


def test_form_defaults_at_minor_unit(portal_client, world):
    document = world["billed"].document

    pages = {
        "dispute": portal_client.get(reverse("portal:dispute_new", args=[document.pk])),
        "promise": portal_client.get(reverse("portal:promise"), {"invoice": document.pk}),
        "pay": portal_client.get(reverse("portal:pay"), {"invoice": document.pk}),
    }

    for name, page in pages.items():
        text = page.content.decode()
        assert 'value="120,00"' in text, name  # French decimal comma, two decimals
        assert "120.0000" not in text, name


def test_amounts_with_decimal_comma(portal_client, world):
    document = world["billed"].document

    with time_machine.travel("2025-03-25 10:00:00+01:00", tick=False):
        portal_client.post(
            reverse("portal:promise"),
            {"invoice": [document.pk], "amount": "99,5", "promised_on": "2025-04-10"},
        )
    portal_client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {"reason": "pricing", "amount": "1,5", "description": "Wrong price."},
    )
    wrong = portal_client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {"reason": "pricing", "amount": "1e3", "description": "Wrong price."},
    )

    assert PromiseToPay.objects.get().amount == D("99.50")
    assert Dispute.objects.get().amount == D("1.50")
    assert "« 1e3 » n&#x27;est pas un nombre" in wrong.content.decode()


def test_messages_show_amounts_at_minor_unit(portal_client, world):
    document = world["billed"].document

    dispute = portal_client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {"reason": "pricing", "amount": "500", "description": "Too expensive."},
    )
    with time_machine.travel("2025-03-25 10:00:00+01:00", tick=False):
        promise = portal_client.post(
            reverse("portal:promise"),
            {"invoice": [document.pk], "amount": "500", "promised_on": "2025-04-10"},
        )

    assert "a 120.00 EUR à payer, dont 0.00 déjà contesté" in dispute.content.decode()
    assert "ont 120.00 EUR à payer" in promise.content.decode()


def test_pay_page_says_why_nothing_is_offered(portal_client, buyer, post):
    from o2c.fx.services import set_manual_rate

    set_manual_rate("JPY", dt.date(2025, 3, 1), D("160"))
    buyer.entity.iban = ""  # no bank transfer, and no card gateway is configured
    buyer.entity.save()
    euro = post(buyer, "invoice", "EUR-1", "2025-03-01", "10.00")
    yen = post(buyer, "invoice", "JPY-1", "2025-03-01", "1000", currency="JPY")

    mixed = portal_client.get(reverse("portal:pay"), {"invoice": [euro.pk, yen.pk]})
    no_method = portal_client.get(reverse("portal:pay"), {"invoice": yen.pk})

    assert "devises différentes (EUR, JPY)" in mixed.content.decode()
    page = no_method.content.decode()
    assert "Aucun moyen de paiement n&#x27;est proposé ici pour la devise JPY" in page
    assert "factures@atelier-lumiere.example" in page
    assert "Nothing to show." not in page


def test_german_pages_speak_german(client, other_buyer, world):
    sign_in(client, other_buyer)
    sepa.sign_mandate(other_buyer, debtor_name="Müller", iban="DE89370400440532013000")
    document = world["other"].document

    account = client.get(reverse("portal:account")).content.decode()
    dispute = client.post(
        reverse("portal:dispute_new", args=[document.pk]),
        {"reason": "pricing", "amount": "500", "description": "Zu teuer."},
    )
    with time_machine.travel("2025-03-25 10:00:00+01:00", tick=False):
        promise = client.post(
            reverse("portal:promise"),
            {"invoice": [document.pk], "amount": "10", "promised_on": "2025-03-01"},
        )

    assert ">Aktiv<" in account
    assert ">Deutsch<" in account
    assert ">Sprache des Kontos<" in account
    assert "bereits beanstandet" in dispute.content.decode()
    promise_page = promise.content.decode()
    assert "geben Sie das Datum ein, an dem Sie zahlen werden" in promise_page
    assert "the customer" not in promise_page


def test_payment_heading_statement_and_brand(portal_client, buyer, world):
    from o2c.ledger.services import reverse_document

    reverse_document(world["payment"], on=dt.date(2025, 3, 21), reason="bank return")
    payment = Payment.objects.create(
        entity=buyer.entity,
        customer=buyer,
        amount=D("10.00"),
        currency="EUR",
        method="card",
        gateway="stripe",
        reference="PAY-1",
        idempotency_key="k1",
    )

    status = portal_client.get(reverse("portal:payment_status", args=[payment.reference]))
    statement = portal_client.get(
        reverse("portal:statement"), {"from": "2025-03-01", "to": "2025-03-31"}
    )

    assert "<h1>Paiement PAY-1</h1>" in status.content.decode()
    assert "Annulation: Paiement BANK-9" in statement.content.decode()
    assert "R-payment" not in statement.content.decode()
    assert 'class="brand" href="/portal/home/"' in status.content.decode()


def test_no_ubl_link_without_einvoice(portal_client, buyer, world):
    document = world["billed"].document
    buyer.entity.vat_number = ""  # EN 16931 needs the seller's VAT number
    buyer.entity.save()

    page = portal_client.get(reverse("portal:invoice_detail", args=[document.pk]))

    text = page.content.decode()
    assert reverse("portal:invoice_file", args=[document.pk, "pdf"]) in text
    assert reverse("portal:invoice_file", args=[document.pk, "ubl"]) not in text
