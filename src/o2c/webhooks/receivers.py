"""What becomes an outbound webhook event: posted invoices and payments, disputes.

Invoices and payments are seen as ledger documents are saved, whichever module posted
them (billing, the portal, cash application). Disputes come through the signals of the
disputes module. Events are recorded after the transaction commits, so a rolled-back
posting never reaches an integrator.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from o2c.disputes.models import Dispute
from o2c.disputes.signals import dispute_opened, dispute_resolved
from o2c.ledger.models import Document, DocumentKind


@receiver(post_save, sender=Document, dispatch_uid="webhooks_documents")
def document_posted(sender, instance: Document, created: bool, **kwargs):
    if not created or instance.kind not in (DocumentKind.INVOICE, DocumentKind.PAYMENT):
        return
    from o2c.webhooks.events import emit_document

    document_id = instance.pk
    transaction.on_commit(lambda: emit_document(document_id), robust=True)


@receiver(dispute_opened, sender=Dispute, dispatch_uid="webhooks_dispute_opened")
def on_dispute_opened(sender, disputes, **kwargs):
    from o2c.webhooks.events import emit_dispute

    for dispute in disputes:
        emit_dispute(dispute.pk, "opened")


@receiver(dispute_resolved, sender=Dispute, dispatch_uid="webhooks_dispute_resolved")
def on_dispute_resolved(sender, dispute, **kwargs):
    from o2c.webhooks.events import emit_dispute

    emit_dispute(dispute.pk, "resolved")
