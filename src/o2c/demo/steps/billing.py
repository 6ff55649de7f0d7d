"""A handful of invoices drafted and posted through billing, and one credit note."""

import datetime as dt
import logging
from decimal import Decimal

from o2c.billing.models import CreditNote, Invoice
from o2c.billing.services import (
    CreditLineInput,
    InvoiceLineInput,
    create_invoice,
    issue_credit_note,
    post_invoice,
)
from o2c.demo.steps.common import home_customers, person, randomness
from o2c.demo.steps.sales import local_price, tax_category
from o2c.demo.steps.sellers import complete_buyer
from o2c.parties.models import LegalEntity

logger = logging.getLogger(__name__)

# Days before today of each invoice; they are posted oldest first, because each
# entity's numbers must follow the invoice dates.
INVOICE_DAYS_AGO = [25, 20, 15]
CREDIT_NOTE_DAYS_AGO = 14


def set_up_invoices(entity: LegalEntity) -> dict[str, int]:
    """Post the entity's billing invoices and credit the service line of the first one."""
    if Invoice.objects.filter(entity=entity).exists():
        return {}
    today = entity.today()
    clerk = person(entity, "lead")
    pick = randomness(entity, "billing")
    customers = list(home_customers(entity)[:50])
    pick.shuffle(customers)
    customers = _one_per_country(customers)
    if not customers:
        return {}
    category = tax_category(entity)
    currency = entity.base_currency

    posted = []
    for index, days_ago in enumerate(INVOICE_DAYS_AGO):
        customer = complete_buyer(customers[index % len(customers)])
        hours = Decimal(pick.choice([4, 6, 8]))
        lines = [
            InvoiceLineInput(
                description="Annual pump inspection and maintenance",
                quantity=hours,
                unit_price=local_price("95.00", currency),
                tax_category=category,
                product_code="SRV-HOUR",
                unit="HUR",
            ),
            InvoiceLineInput(
                description="Mechanical seal kit, replaced during inspection",
                quantity=Decimal(pick.choice([1, 2])),
                unit_price=local_price("129.00", currency),
                tax_category=category,
                product_code="SEAL-KIT",
                unit="SET",
            ),
            InvoiceLineInput(
                description="Travel costs, flat rate",
                quantity=Decimal("1"),
                unit_price=local_price("60.00", currency),
                tax_category=category,
            ),
        ]

        draft = create_invoice(
            customer=customer,
            lines=lines,
            invoice_date=today - dt.timedelta(days=days_ago),
            buyer_reference=f"SR-{entity.code}-{index + 1:03d}",
            actor=clerk,
        )
        posted.append(post_invoice(draft, actor=clerk))

    issue_credit_note(
        posted[0],
        reason="Travel costs charged although the engineer was already on site",
        lines=[CreditLineInput(line=3)],
        credit_date=today - dt.timedelta(days=CREDIT_NOTE_DAYS_AGO),
        actor=clerk,
    )
    return {
        "invoices": len(posted),
        "credit_notes": CreditNote.objects.filter(entity=entity).count(),
    }


def _one_per_country(customers):
    """Order customers so that the first of each country (tax treatment) comes first."""
    seen, first, rest = set(), [], []
    for customer in customers:
        country = customer.country or customer.entity.country
        (rest if country in seen else first).append(customer)
        seen.add(country)
    return first + rest
