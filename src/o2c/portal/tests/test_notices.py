"""Messages the customer gets unasked: receipts, dispute notes, monthly statements,
direct debit notices, and a sign-in link in every e-mail reminder."""

import datetime as dt
import email
import re
from decimal import Decimal
from email import policy

import pytest
import time_machine
from django.urls import reverse

from o2c.collections.models import DunningStep, DunningStrategy
from o2c.collections.services import run_dunning, send_notices
from o2c.disputes.services import open_dispute, resolve_by_credit_note
from o2c.ledger.services import allocate
from o2c.payments import sepa
from o2c.portal.models import PortalLink, PortalUser
from o2c.portal.notify import send_monthly_statements

D = Decimal

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/portal/link/[^/\s]+/)")


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.O2C_PUBLIC_URL = "http://testserver"


def test_receipt_lists_the_invoices_paid(
    client, buyer, bill, post, smtp_server, django_capture_on_commit_callbacks
):
    # given an open invoice
    invoice = bill(buyer, "100.00")

    # when a payment of 150.00 arrives and pays it
    with (
        time_machine.travel("2025-03-20 10:00:00+01:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        payment = post(buyer, "payment", "BANK-1", "2025-03-20", "150.00")
        allocate(invoice.document, payment, on=payment.document_date)

    # then the billing contact gets a French receipt with the invoice and what is left
    messages = smtp_server.to("compta@boulangerie-martin.example")
    assert len(messages) == 1
    receipt = messages[0]
    assert "Subject: Paiement reçu : 150,00\xa0€ (BANK-1)" in receipt
    assert f"{invoice.number}: 120,00\xa0€" in receipt
    assert "Reste en crédit sur votre compte : 30,00\xa0€" in receipt
    # and its link opens the receipt page
    path = LINK.search(receipt).group(1)
    with time_machine.travel("2025-03-21 10:00:00+01:00", tick=False):
        opened = client.post(path)
    assert opened.url == reverse("portal:payment_detail", args=[payment.pk])


def test_no_receipt_when_turned_off(
    buyer, bill, post, smtp_server, django_capture_on_commit_callbacks
):
    PortalUser.objects.create(
        customer=buyer, email="compta@boulangerie-martin.example", wants_receipts=False
    )

    with (
        time_machine.travel("2025-03-20 10:00:00+01:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        post(buyer, "payment", "BANK-1", "2025-03-20", "10.00")

    assert smtp_server.messages == []


def test_no_receipt_for_old_payments(buyer, post, smtp_server, django_capture_on_commit_callbacks):
    with (
        time_machine.travel("2025-06-20 10:00:00+02:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        post(buyer, "payment", "BANK-OLD", "2025-03-20", "10.00")

    assert smtp_server.messages == []


def test_dispute_notes_when_opened_and_resolved(
    buyer, bill, make_user, smtp_server, django_capture_on_commit_callbacks
):
    # given a disputes team and an invoice
    analyst = make_user("ana", entity=buyer.entity, role="lead", function="disputes")
    invoice = bill(buyer, "100.00")

    # when a case is opened and resolved by a credit note
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(
            buyer, lines=[(invoice.document, D("20.00"), "")], reason="pricing", actor=None
        )[0]
    with django_capture_on_commit_callbacks(execute=True):
        resolve_by_credit_note(dispute, actor=analyst, note="price corrected")

    # then the customer hears of both, in French
    subjects = [
        text.splitlines()[0] for text in smtp_server.to("compta@boulangerie-martin.example")
    ]
    assert subjects == [
        f"Subject: Litige {dispute.case_number} reçu",
        f"Subject: Litige {dispute.case_number} résolu",
    ]
    resolved = smtp_server.to("compta@boulangerie-martin.example")[1]
    assert f"Avoir CN-{dispute.case_number}-{dispute.pk} émis" in resolved


def test_monthly_statement_for_those_who_asked(buyer, other_buyer, bill, smtp_server):
    # given one portal user who wants statements and one who does not
    bill(buyer, "100.00")
    bill(other_buyer, "50.00")
    PortalUser.objects.create(
        customer=buyer, email="compta@boulangerie-martin.example", wants_monthly_statement=True
    )
    PortalUser.objects.create(customer=other_buyer, email="buchhaltung@mueller.example")

    # when the task runs on 1 April
    with time_machine.travel("2025-04-01 06:30:00+02:00", tick=False):
        sent = send_monthly_statements()

    # then only the first gets March's statement, as a PDF attachment
    assert sent == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["compta@boulangerie-martin.example"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert "1 mars 2025 – 31 mars 2025" in message["Subject"]
    attachments = list(message.iter_attachments())
    assert [part.get_filename() for part in attachments] == ["statement-C0001-2025-03-EUR.pdf"]
    assert attachments[0].get_content().startswith(b"%PDF-")


def test_direct_debit_notice_before_collection(
    buyer, bill, smtp_server, django_capture_on_commit_callbacks
):
    sepa.sign_mandate(buyer, debtor_name="Boulangerie", iban="DE89370400440532013000")
    invoice = bill(buyer, "100.00")

    with (
        time_machine.travel("2025-03-24 10:00:00+01:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        payment = sepa.schedule_debit(buyer, [(invoice.document.pk, "120.00")], idempotency_key="x")

    notice = smtp_server.to("compta@boulangerie-martin.example")[0]
    assert "Subject: Prélèvement de 120,00\xa0€ le 26 mars 2025" in notice
    assert "FR72ZZZ123456" in notice
    assert invoice.number in notice
    payment.debit.refresh_from_db()
    assert payment.debit.pre_notified_at is not None


def test_reminder_email_carries_a_sign_in_link(client, buyer, post, smtp_server):
    # given an overdue invoice and a one-step e-mail strategy
    strategy = DunningStrategy.objects.create(entity=buyer.entity, name="Standard")
    DunningStep.objects.create(
        strategy=strategy,
        sequence=1,
        name="First reminder",
        days_after_due=7,
        channel="email",
        tone="first",
    )
    post(buyer, "invoice", "INV-OLD-1", "2025-01-10", "100.00")

    # when the dunning run sends its reminder
    with time_machine.travel("2025-03-05 09:00:00+01:00", tick=False):
        run = run_dunning(buyer.entity, dt.date(2025, 3, 5))
        send_notices(run.pk)

    # then the e-mail ends with a link for the reminded contact, and the stored text has none
    reminder = smtp_server.to("compta@boulangerie-martin.example")[0]
    path = LINK.search(reminder).group(1)
    notice = run.notices.get()
    assert "/portal/link/" not in notice.body
    link = PortalLink.objects.get()
    assert link.source == "reminder"
    assert link.portal_user.customer == buyer
    with time_machine.travel("2025-03-18 09:00:00+01:00", tick=False):
        assert client.post(path).url == reverse("portal:home")
