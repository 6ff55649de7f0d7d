"""Messages the customer gets without asking: receipts, dispute notes, statements.

Recipients are the customer's billing contacts and the portal users who opted in; a
portal user who turned receipts off gets none. Each message links to the page it is
about through a single-use sign-in link valid for 14 days.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.urls import reverse

from o2c.core.dates import add_months, end_of_month
from o2c.disputes.models import Dispute, DisputeStatus, Resolution
from o2c.ledger.models import Allocation, Document, DocumentKind
from o2c.parties.models import ContactRole, Customer
from o2c.parties.services import record_event
from o2c.portal import services
from o2c.portal.formatting import date_text, money_text
from o2c.portal.mail import send_message, sign_in_url, user_language
from o2c.portal.models import LinkSource, PortalUser
from o2c.portal.statement import build_statement, currencies_of, statement_pdf
from o2c.portal.texts import words

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
# Payments older than this when posted (history loads, back-dated entries) get no receipt.
RECEIPT_MAX_AGE_DAYS = 30
NO_RECEIPT_SOURCES = frozenset({"import", "demo"})


def billing_recipients(customer: Customer, *, preference: str | None = None) -> list[PortalUser]:
    """Return the portal users to write to: billing contacts plus those who opted in.

    `preference` names a PortalUser flag ("wants_receipts", "wants_monthly_statement");
    a billing contact's portal user with the flag off is left out.
    """
    recipients: dict[str, PortalUser] = {}
    for contact in customer.contacts.filter(role=ContactRole.BILLING).exclude(email=""):
        user = services.portal_user_for_contact(customer, contact.email)
        if user is not None:
            recipients[user.email] = user
    if preference is not None:
        recipients = {
            email: user for email, user in recipients.items() if getattr(user, preference)
        }
        for user in PortalUser.objects.current().filter(customer=customer, **{preference: True}):
            recipients.setdefault(user.email, user)
    return list(recipients.values())


def send_receipt(document_id: int) -> int:
    """E-mail a receipt for a posted payment, listing the invoices it paid."""
    payment = Document.objects.select_related("customer__entity").get(pk=document_id)
    customer = payment.customer
    if payment.kind != DocumentKind.PAYMENT or payment.source in NO_RECEIPT_SOURCES:
        return 0
    if payment.import_run_id or payment.document_date < customer.entity.today() - dt.timedelta(
        days=RECEIPT_MAX_AGE_DAYS
    ):
        return 0
    allocations = list(
        Allocation.objects.filter(credit_document=payment, amount__gt=0, reversed_by__isnull=True)
        .select_related("debit_document")
        .order_by("id")
    )
    applied = sum((allocation.credit_amount for allocation in allocations), ZERO)
    sent = 0
    for user in billing_recipients(customer, preference="wants_receipts"):
        language = user_language(user)
        w = words(language)
        lines = [
            f"  {allocation.debit_document.number}: "
            f"{money_text(allocation.amount, allocation.debit_document.currency, language)}"
            for allocation in allocations
        ]
        if payment.amount - applied > ZERO:
            lines.append(
                "  "
                + w["mail_on_account"].format(
                    amount=money_text(payment.amount - applied, payment.currency, language)
                )
            )
        url = sign_in_url(
            user,
            source=LinkSource.RECEIPT,
            next_path=reverse("portal:payment_detail", args=[payment.pk]),
            long=True,
        )
        amount = money_text(payment.amount, payment.currency, language)
        sent += send_message(
            user,
            w["mail_receipt_subject"].format(amount=amount, reference=payment.number),
            w["mail_receipt_body"].format(
                reference=payment.number,
                amount=amount,
                date=date_text(payment.document_date, language),
                lines="\n".join(lines),
                url=url,
                entity=customer.entity.name,
            ),
        )
    if sent:
        record_event(
            customer,
            "receipt_sent",
            f"Receipt for payment {payment.number} e-mailed to {sent} recipient(s)",
            document=payment,
        )
    return sent


def send_dispute_note(dispute_ids: list[int], event: str) -> int:
    """Tell the customer a case was opened ("opened") or a dispute resolved ("resolved").

    A rejection is left out: the disputes service writes to the customer itself then,
    with the reason for it.
    """
    disputes = list(
        Dispute.objects.filter(pk__in=dispute_ids)
        .select_related("customer__entity", "invoice", "resolution_document")
        .order_by("id")
    )
    if not disputes:
        return 0
    first = disputes[0]
    if event == "resolved" and first.status == DisputeStatus.REJECTED:
        return 0
    customer = first.customer
    sent = 0
    for user in billing_recipients(customer):
        language = user_language(user)
        w = words(language)
        url = sign_in_url(
            user,
            source=LinkSource.DISPUTE,
            next_path=reverse("portal:dispute_detail", args=[first.case_number])
            if first.case_number
            else "",
            long=True,
        )
        invoices = ", ".join(dispute.invoice.number for dispute in disputes)
        amounts = ", ".join(
            money_text(dispute.amount, dispute.currency, language) for dispute in disputes
        )
        if event == "opened":
            subject = w["mail_dispute_opened_subject"].format(case=first.case_number)
            body = w["mail_dispute_opened_body"].format(
                case=first.case_number,
                invoice=invoices,
                amount=amounts,
                url=url,
                entity=customer.entity.name,
            )
        else:
            subject = w["mail_dispute_resolved_subject"].format(case=first.case_number)
            body = w["mail_dispute_resolved_body"].format(
                case=first.case_number,
                invoice=invoices,
                outcome=resolution_text(first, language),
                url=url,
                entity=customer.entity.name,
            )
        sent += send_message(user, subject, body)
    return sent


def resolution_text(dispute: Dispute, language: str) -> str:
    w = words(language)
    if dispute.resolution == Resolution.CREDIT_NOTE and dispute.resolution_document:
        return w["resolution_credit_note"].format(number=dispute.resolution_document.number)
    if dispute.resolution == Resolution.WRITE_OFF:
        return w["resolution_write_off"]
    if dispute.resolution == Resolution.REJECTED:
        return w["resolution_rejected"].format(note=dispute.resolution_note)
    return w[f"dispute_status_{dispute.status}"]


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    start = add_months(today.replace(day=1), -1)
    return start, end_of_month(start)


def send_monthly_statements(today: dt.date | None = None) -> int:
    """E-mail last month's statement (PDF) to every portal user who asked for one."""
    sent = 0
    users = (
        PortalUser.objects.current()
        .filter(wants_monthly_statement=True)
        .select_related("customer__entity", "contact")
        .order_by("customer_id", "pk")
    )
    for user in users:
        customer = user.customer
        start, end = previous_month(today or customer.entity.today())
        language = user_language(user)
        w = words(language)
        period = f"{date_text(start, language)} – {date_text(end, language)}"
        attachments, balances = [], []
        for currency in currencies_of(customer):
            statement = build_statement(customer, currency, start, end)
            if not statement.lines and statement.closing == ZERO:
                continue
            attachments.append(
                (
                    f"statement-{customer.number}-{end:%Y-%m}-{currency}.pdf",
                    statement_pdf(statement, language),
                    "application/pdf",
                )
            )
            balances.append(money_text(statement.closing, currency, language))
        if not attachments:
            continue
        url = sign_in_url(
            user,
            source=LinkSource.STATEMENT,
            next_path=reverse("portal:statement"),
            long=True,
        )
        sent += send_message(
            user,
            w["mail_statement_subject"].format(customer=customer.name, period=period),
            w["mail_statement_body"].format(
                customer=customer.name,
                period=period,
                date=date_text(end, language),
                balance=", ".join(balances),
                url=url,
                entity=customer.entity.name,
            ),
            attachments,
        )
    logger.info("Monthly statements: %d sent", sent)
    return sent


def send_debit_notice(payment) -> int:
    """Tell the customer the amount and date of a scheduled direct debit (pre-notification)."""
    from django.utils import timezone

    from o2c.payments.models import DirectDebit
    from o2c.payments.sepa import creditor_id

    debit = DirectDebit.objects.select_related("mandate", "payment__customer__entity").get(
        payment=payment
    )
    customer = debit.payment.customer
    sent = 0
    recipients = billing_recipients(customer)
    if debit.payment.portal_user and debit.payment.portal_user.is_current:
        recipients = [
            debit.payment.portal_user,
            *[user for user in recipients if user.pk != debit.payment.portal_user_id],
        ]
    invoices = ", ".join(item.invoice.number for item in payment.items.select_related("invoice"))
    for user in recipients:
        language = user_language(user)
        w = words(language)
        amount = money_text(debit.payment.amount, "EUR", language)
        on = date_text(debit.collection_date, language)
        sent += send_message(
            user,
            w["mail_debit_subject"].format(amount=amount, date=on),
            w["mail_debit_body"].format(
                amount=amount,
                account=debit.mandate.iban[-4:],
                date=on,
                mandate=debit.mandate.reference,
                creditor_id=creditor_id(customer.entity),
                invoices=invoices,
                entity=customer.entity.name,
            ),
        )
    DirectDebit.objects.filter(pk=debit.pk).update(pre_notified_at=timezone.now())
    return sent


def reminder_link_text(notice) -> str:
    """Return the paragraph with a sign-in link that an e-mail reminder ends with."""
    user = services.portal_user_for_contact(notice.customer, notice.recipient)
    if user is None:
        return ""
    url = sign_in_url(
        user,
        source=LinkSource.REMINDER,
        next_path=reverse("portal:home"),
        long=True,
    )
    return words(notice.language or user_language(user))["mail_reminder_link"].format(url=url)
