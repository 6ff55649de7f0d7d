"""Sending invoices and credit notes by e-mail to the customer's billing contacts."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage

from o2c.billing.documents import common, pdf
from o2c.billing.documents.labels import labels
from o2c.billing.errors import BillingError
from o2c.parties.services import record_event

logger = logging.getLogger(__name__)

SUBJECT = {
    "en": "{title} {number} from {seller}",
    "fr": "{title} {number} de {seller}",
    "de": "{title} {number} von {seller}",
    "es": "{title} {number} de {seller}",
}
BODY = {
    "en": "Please find attached {title} {number} of {date}, amount {amount}.\n",
    "fr": "Veuillez trouver ci-joint {title} {number} du {date}, montant {amount}.\n",
    "de": "Anbei erhalten Sie {title} {number} vom {date} über {amount}.\n",
    "es": "Adjuntamos {title} {number} del {date}, importe {amount}.\n",
}


def send(document, *, actor=None) -> None:
    """E-mail the PDF and the UBL XML to every billing contact with an address.

    The UBL is left out when EN 16931 cannot express the document (see
    `common.einvoice_problems`).

    The message goes through Django's configured backend: SMTP by default, with host
    and port from O2C_EMAIL_HOST and O2C_EMAIL_PORT. A failure to deliver raises, so
    the customer's timeline records only messages that were sent.
    """
    from o2c.billing.services import document_file

    common.require_posted(document)
    customer = document.customer
    recipients = common.billing_emails(customer)
    if not recipients:
        raise BillingError(
            "no_billing_contact",
            "Customer {customer} has no billing contact with an e-mail address; add one "
            "to send {what}.",
            customer=customer.number,
            what=str(document),
        )
    language = pdf.language_of(document.language)
    words = labels(language)
    title = words["credit_note" if common.is_credit_note(document) else "invoice"]
    formatter = pdf.Formatter(language, document.currency)
    fields = {
        "title": title,
        "number": document.number,
        "seller": document.entity.name,
        "date": formatter.date(common.issue_date(document)),
        "amount": formatter.money(document.payable_amount),
    }
    message = EmailMessage(
        subject=SUBJECT[language].format(**fields),
        body=BODY[language].format(**fields),
        from_email=document.entity.email or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[document.entity.email] if document.entity.email else None,
    )
    message.attach(f"{document.number}.pdf", document_file(document, "pdf"), "application/pdf")
    problems = common.einvoice_problems(document)
    if problems:
        logger.info("Invoice %s: e-mailed without UBL (%s)", document.number, "; ".join(problems))
    else:
        message.attach(f"{document.number}.xml", document_file(document, "ubl"), "application/xml")
    message.send(fail_silently=False)

    record_event(
        customer,
        "document_sent",
        f"{title} {document.number} e-mailed to {len(recipients)} billing contact(s)",
        actor=actor,
        document=document.document,
    )
    logger.info("Document %s: e-mailed to %d recipients", document.number, len(recipients))
