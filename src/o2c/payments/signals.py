"""Signals of the payments module, each sent once the transaction has committed.

- payment_settled(sender=Payment, payment=...): a portal or direct debit payment is on
  the ledger, allocated to the invoices it was meant for.
- debit_scheduled(sender=Payment, payment=...): a direct debit was scheduled. The
  customer must receive its amount and date before it is collected.
"""

from django.dispatch import Signal

payment_settled = Signal()
debit_scheduled = Signal()
