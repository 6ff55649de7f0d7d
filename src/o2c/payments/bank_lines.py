"""Card gateway payouts found on bank statements, settled for cash application.

The invoices behind a payout were paid when the card payments arrived, so the payout's
bank line must not pay them again. The line is matched to the payout instead, and the
match lists the invoices the payout's payments paid, with the gateway's fees that
explain why the bank received less than the customers paid.
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from o2c.core import money
from o2c.payments.models import PayoutLine
from o2c.payments.payouts import match_bank_credit, reconcile_payout

logger = logging.getLogger(__name__)

ZERO = Decimal("0")


def settle_payout_line(sender, line, **kwargs) -> bool:
    """Match a bank credit to the gateway payout it carries; return whether it did."""
    from o2c.banking.models import LineState, StatementLine
    from o2c.cashapp.models import Decision, LineMatch

    payout = match_bank_credit(
        line.entity,
        amount=line.amount,
        currency=line.currency,
        booked_on=line.booking_date,
        text=" ".join(
            part
            for part in (
                line.remittance_info,
                line.counterparty_name,
                line.structured_reference,
                line.end_to_end_id,
                line.bank_reference,
            )
            if part
        ),
    )
    if payout is None:
        return False
    lines = list(
        PayoutLine.objects.filter(payout=payout)
        .select_related("payment")
        .prefetch_related("payment__items__invoice")
    )
    applied, documents = [], []
    for entry in lines:
        if entry.payment is None:
            continue
        if entry.payment.document_id:
            documents.append(entry.payment.document_id)
        for item in entry.payment.items.all():
            applied.append(
                {
                    "invoice": item.invoice.number,
                    "amount": str(money.round_amount(item.amount, item.invoice.currency)),
                    "currency": item.invoice.currency,
                }
            )
    currency = payout.currency

    with transaction.atomic():
        match = LineMatch.objects.create(
            line=line,
            entity=line.entity,
            decision=Decision.AUTO,
            confidence=Decimal("1.000"),
            evidence=[
                f"{payout.get_gateway_display()} payout {payout.payout_id} of "
                f"{money.as_text(payout.net_amount, currency)} {currency} "
                f"arriving {payout.arrival_on}",
                f"{len(lines)} balance transactions: "
                f"gross {money.as_text(payout.gross_amount, currency)}, "
                f"fees {money.as_text(payout.fee_amount, currency)} {currency}",
            ],
            applied=applied,
            note="Card payments already applied to these invoices; the difference is the "
            "gateway's fee.",
            decided_at=timezone.now(),
        )
        match.other_documents.set(documents)
        StatementLine.objects.filter(pk=line.pk).update(state=LineState.MATCHED)
        reconcile_payout(payout, bank_reference=f"statement line {line.pk}")
    logger.info("Statement line %s: matched to payout %s", line.pk, payout.payout_id)
    return True
