"""Hook for other modules to settle a bank credit before the engine proposes matches.

- bank_credit_received(sender=StatementLine, line=...): sent for each incoming line of a
  matching run. A receiver that recognises the line (a card gateway's payout, for one)
  records the decision, sets the line's state and returns True. The engine then leaves
  the line alone.
"""

from django.dispatch import Signal

bank_credit_received = Signal()
