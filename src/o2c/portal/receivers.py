"""Receivers that tell the customer what happened: receipts, dispute notes, reminder links.

Each sends its e-mail after the transaction commits; a failure to send is logged and
does not undo the business change that caused it.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from o2c.collections.models import DunningNotice
from o2c.collections.signals import reminder_sending
from o2c.disputes.models import Dispute
from o2c.disputes.signals import dispute_opened, dispute_resolved
from o2c.ledger.models import Document, DocumentKind
from o2c.payments.models import Payment
from o2c.payments.signals import debit_scheduled

logger = logging.getLogger(__name__)


@receiver(reminder_sending, sender=DunningNotice, dispatch_uid="portal_reminder_link")
def add_portal_link(sender, notice, **kwargs) -> str:
    from o2c.portal.notify import reminder_link_text

    return reminder_link_text(notice)


@receiver(post_save, sender=Document, dispatch_uid="portal_receipt")
def receipt_on_payment(sender, instance: Document, created: bool, **kwargs):
    if not created or instance.kind != DocumentKind.PAYMENT:
        return
    from o2c.portal.tasks import send_receipt_task

    document_id = instance.pk
    transaction.on_commit(lambda: send_receipt_task.delay(document_id), robust=True)


@receiver(dispute_opened, sender=Dispute, dispatch_uid="portal_dispute_opened")
def note_dispute_opened(sender, disputes, **kwargs):
    from o2c.portal.tasks import send_dispute_note_task

    send_dispute_note_task.delay([dispute.pk for dispute in disputes], "opened")


@receiver(dispute_resolved, sender=Dispute, dispatch_uid="portal_dispute_resolved")
def note_dispute_resolved(sender, dispute, **kwargs):
    from o2c.portal.tasks import send_dispute_note_task

    send_dispute_note_task.delay([dispute.pk], "resolved")


@receiver(debit_scheduled, sender=Payment, dispatch_uid="portal_debit_notice")
def notice_of_debit(sender, payment, **kwargs):
    from o2c.portal.tasks import send_debit_notice_task

    send_debit_notice_task.delay(payment.pk)
