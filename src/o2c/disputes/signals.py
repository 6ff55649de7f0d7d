"""Signals other modules listen to; each is sent once the transaction has committed.

- dispute_opened(sender=Dispute, disputes=[...]): a case was opened on these invoices.
- dispute_resolved(sender=Dispute, dispute=...): a dispute was resolved or rejected.
"""

from django.dispatch import Signal

dispute_opened = Signal()
dispute_resolved = Signal()
