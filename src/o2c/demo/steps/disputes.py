"""Disputes over several reasons: some open with their teams, one credited, one rejected."""

import logging
from decimal import Decimal

from o2c.collections.models import PromiseStatus, PromiseToPay
from o2c.core import money
from o2c.demo.steps.common import home_customers, person, randomness
from o2c.disputes.models import Dispute, DisputeReason, DisputeStatus
from o2c.disputes.services import open_dispute, reject_dispute, resolve_by_credit_note
from o2c.ledger.models import Document, DocumentKind, Side
from o2c.ledger.selectors import open_documents
from o2c.parties.models import LegalEntity

logger = logging.getLogger(__name__)

# (reason, share of the invoice disputed, what happens, the customer's words)
CASES = [
    (DisputeReason.PRICING, "0.10", "open", "Price agreed in the framework contract was 10% lower"),
    (DisputeReason.QUALITY, "1.00", "open", "Pump housing cracked on arrival, photos sent"),
    (DisputeReason.DELIVERY, "0.25", "credit", "One of four pallets never arrived"),
    (DisputeReason.QUANTITY, "0.50", "reject", "Says half the bearings were not ordered"),
    (DisputeReason.OTHER, "0.05", "open", "Asks for the agreed early-payment bonus"),
]


def set_up_disputes(entity: LegalEntity) -> dict[str, int]:
    """Open the entity's demo disputes and resolve two of them, once."""
    reasons = [reason for reason, _, _, _ in CASES]
    if Dispute.objects.filter(entity=entity, reason__in=reasons).exists():
        return {}
    invoices = _undisputed_open_invoices(entity)
    raiser = person(entity, "collector1")
    resolver = person(entity, "disputes")
    for (reason, share, outcome, description), invoice in zip(CASES, invoices, strict=False):
        amount = money.round_amount(invoice.open_amount * Decimal(share), invoice.currency)
        (dispute,) = open_dispute(
            invoice.customer,
            lines=[(invoice, amount, "")],
            reason=reason,
            actor=raiser,
            description=description,
        )
        if outcome == "credit":
            resolve_by_credit_note(
                dispute, actor=resolver, note="Carrier confirmed the pallet was lost"
            )
        elif outcome == "reject":
            # No reply mail: the demo has no mail server.
            reject_dispute(
                dispute,
                actor=resolver,
                reason="The signed delivery note shows the full quantity was received",
                notify_customer=False,
            )
    counts = Dispute.objects.filter(entity=entity, reason__in=reasons)
    return {status: counts.filter(status=status).count() for status in DisputeStatus.values}


def _undisputed_open_invoices(entity: LegalEntity) -> list[Document]:
    promised = PromiseToPay.objects.filter(entity=entity, status=PromiseStatus.OPEN).values(
        "documents"
    )
    disputed = Dispute.objects.filter(entity=entity).values("invoice_id")
    invoices = (
        Document.objects.filter(
            entity=entity,
            kind=DocumentKind.INVOICE,
            side=Side.DEBIT,
            customer__in=home_customers(entity),
            due_date__lt=entity.today(),
        )
        .exclude(pk__in=disputed)
        .exclude(pk__in=promised)
        .select_related("customer", "customer__entity")
    )
    found = list(open_documents(invoices).order_by("-due_date", "number")[:200])
    randomness(entity, "disputes").shuffle(found)
    chosen, customers = [], set()
    for invoice in found:
        if invoice.customer_id not in customers:
            chosen.append(invoice)
            customers.add(invoice.customer_id)
    return chosen
