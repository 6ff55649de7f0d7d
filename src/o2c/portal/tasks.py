"""Background work of the portal: e-mails and the monthly statements."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def send_sign_in_links_task(email: str, next_path: str = "") -> int:
    from o2c.portal.services import send_sign_in_links

    return send_sign_in_links(email, next_path)


@shared_task
def send_contact_changed_task(customer_id: int, old_email: str, language: str) -> None:
    from o2c.parties.models import Customer
    from o2c.portal.mail import send_contact_changed

    send_contact_changed(Customer.objects.get(pk=customer_id), old_email, language)


@shared_task
def send_receipt_task(document_id: int) -> int:
    from o2c.portal.notify import send_receipt

    return send_receipt(document_id)


@shared_task
def send_dispute_note_task(dispute_ids: list[int], event: str) -> int:
    from o2c.portal.notify import send_dispute_note

    return send_dispute_note(dispute_ids, event)


@shared_task
def send_debit_notice_task(payment_id: int) -> int:
    from o2c.payments.models import Payment
    from o2c.portal.notify import send_debit_notice

    return send_debit_notice(Payment.objects.get(pk=payment_id))


@shared_task
def send_monthly_statements_task() -> int:
    from o2c.portal.notify import send_monthly_statements

    return send_monthly_statements()


@shared_task
def purge_expired_task() -> dict:
    from o2c.portal.services import purge_expired

    return purge_expired()


@shared_task
def send_missing_debit_notices_task() -> int:
    """Send the pre-notification of scheduled debits that could not be sent before."""
    from o2c.payments.models import DirectDebit, DirectDebitStatus
    from o2c.portal.notify import send_debit_notice

    sent = 0
    for debit in DirectDebit.objects.filter(
        status=DirectDebitStatus.SCHEDULED, pre_notified_at__isnull=True
    ).select_related("payment"):
        try:
            sent += send_debit_notice(debit.payment)
        except OSError as error:
            logger.warning("Direct debit %s: notice not sent: %s", debit.end_to_end_id, error)
    return sent
