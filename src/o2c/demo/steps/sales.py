"""Catalogue, price lists, credit limits and reviews, and orders in every state.

Orders go through the order and credit services: submitting runs the credit check,
which releases an order or holds it with an approval in the credit team's queue.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from o2c.core import money
from o2c.core.dates import add_months
from o2c.credit.exposure import past_due_beyond
from o2c.credit.models import CreditPolicy
from o2c.credit.services import (
    complete_credit_review,
    decide_credit_hold,
    policy_for,
    schedule_credit_reviews,
)
from o2c.demo.steps.common import home_customers, person, randomness
from o2c.demo.steps.sellers import complete_buyer
from o2c.ledger.models import Document, DocumentKind, Side
from o2c.ledger.selectors import with_open_amount
from o2c.orders.intake import LineRequest, OrderRequest
from o2c.orders.models import (
    Order,
    OrderChannel,
    OrderStatus,
    PriceList,
    PriceListItem,
    Product,
    ProductKind,
    TaxCategory,
)
from o2c.orders.services import invoice_order, place_order, record_shipment
from o2c.parties.models import Customer, LegalEntity

logger = logging.getLogger(__name__)

# (code, name, unit, kind, list price in EUR, price from 10 units in EUR or None)
CATALOGUE = [
    ("PMP-100", "Centrifugal pump CP-100", "EA", ProductKind.GOODS, "1850.00", "1750.00"),
    ("VLV-050", "Ball valve DN50, stainless", "EA", ProductKind.GOODS, "245.00", "225.00"),
    ("BRG-6205", "Deep groove ball bearing 6205", "EA", ProductKind.GOODS, "18.40", "16.90"),
    ("SEAL-KIT", "Mechanical seal kit", "SET", ProductKind.GOODS, "129.00", None),
    ("GRS-EP2", "Lithium grease EP2", "KGM", ProductKind.GOODS, "14.50", None),
    ("SRV-HOUR", "Field service engineer", "HUR", ProductKind.SERVICE, "95.00", None),
]
# Units of each base currency per euro of list price (rough, to keep prices plausible).
PRICE_SCALE = {
    "EUR": Decimal("1"),
    "USD": Decimal("1.1"),
    "JPY": Decimal("160"),
    "KWD": Decimal("0.33"),
}
# Credit approval thresholds of the default policy are 10,000 and 100,000 in base
# currency; scaled so that they mean the same in yen and dinars.
APPROVAL_THRESHOLDS = {
    "EUR": (Decimal("10000"), Decimal("100000")),
    "USD": (Decimal("10000"), Decimal("100000")),
    "JPY": (Decimal("1500000"), Decimal("15000000")),
    "KWD": (Decimal("3000"), Decimal("30000")),
}
REVIEWS_OVERDUE = 2
# Credit left that a customer needs for its demo order to pass: the largest order the
# demo places (3 pumps, 24 bearings, 3 seal kits, 8 service hours) is about 7,100 EUR.
ORDER_HEADROOM_EUR = Decimal("8000")


def tax_category(entity: LegalEntity) -> str:
    # Kuwait levies no VAT, and the shipped tax rules have no rate for it.
    return TaxCategory.ZERO if entity.country == "KW" else TaxCategory.STANDARD


def local_price(euros: str, currency: str) -> Decimal:
    return money.round_amount(Decimal(euros) * PRICE_SCALE.get(currency, Decimal(1)), currency)


def set_up_catalogue(entity: LegalEntity) -> int:
    """Create the entity's products and its price list in its base currency if missing."""
    currency = entity.base_currency
    price_list, _ = PriceList.objects.get_or_create(
        entity=entity,
        code=f"STD-{currency}",
        defaults={"name": f"Standard prices ({currency})", "currency": currency},
    )
    created = 0
    for code, name, unit, kind, price, volume_price in CATALOGUE:
        product, is_new = Product.objects.get_or_create(
            entity=entity,
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "kind": kind,
                "tax_category": tax_category(entity),
            },
        )
        created += is_new
        breaks = [(Decimal("0"), price)] + ([(Decimal("10"), volume_price)] if volume_price else [])
        for min_quantity, euros in breaks:
            PriceListItem.objects.get_or_create(
                price_list=price_list,
                product=product,
                min_quantity=min_quantity,
                defaults={"unit_price": local_price(euros, currency)},
            )
    return created


def set_up_credit(entity: LegalEntity) -> dict[str, int]:
    """Set the approval thresholds, a credit limit on every customer, and due reviews.

    Each limit is recorded as the outcome of the customer's last annual review, dated
    within the past year, so the reviews fall due over the coming year and those due
    within the notice period open review work items now.
    """
    lead_from, leader_from = APPROVAL_THRESHOLDS.get(
        entity.base_currency, APPROVAL_THRESHOLDS["EUR"]
    )
    CreditPolicy.objects.get_or_create(
        entity=entity,
        defaults={"lead_approval_from": lead_from, "leader_approval_from": leader_from},
    )
    analyst = person(entity, "credit")
    today = entity.today()
    year_ago = add_months(today, -12)
    pick = randomness(entity, "credit")
    billed = _billing_per_customer(entity, year_ago)
    customers = list(
        Customer.objects.filter(entity=entity, credit_limit_amount__isnull=True)
        .exclude(credit_profile__isnull=False)
        .order_by("number")
    )
    for index, customer in enumerate(customers):
        if index < REVIEWS_OVERDUE:
            reviewed_on = year_ago - dt.timedelta(days=5 + index * 3)
        else:
            reviewed_on = year_ago + dt.timedelta(days=pick.randrange(1, 330))
        complete_credit_review(
            customer,
            outcome="Annual review: limit set from a year of sales and payments",
            actor=analyst,
            new_limit=_limit(billed.get(customer.pk), entity.base_currency),
            currency=entity.base_currency,
            on=reviewed_on,
        )
    reviews = schedule_credit_reviews(entity=entity, actor=analyst)
    return {"limits": len(customers), "reviews_opened": len(reviews)}


def _billing_per_customer(entity: LegalEntity, since: dt.date) -> dict[int, Decimal]:
    """Return each customer's invoiced amount in base currency over the period."""
    rows = (
        Document.objects.filter(entity=entity, kind=DocumentKind.INVOICE, document_date__gte=since)
        .values("customer_id")
        .annotate(total=Sum("amount_base"))
        .order_by()
    )
    return {row["customer_id"]: row["total"] for row in rows}


def _limit(yearly: Decimal | None, currency: str) -> Decimal:
    """Return about three months of sales, at least 10,000 EUR's worth, to 2 digits."""
    quarter = (yearly or Decimal("0")) / 4
    floor = 10000 * PRICE_SCALE.get(currency, Decimal(1))
    amount = max(quarter, floor)
    exponent = amount.adjusted() - 1
    return (amount / Decimal(10) ** exponent).quantize(Decimal(1)) * Decimal(10) ** exponent


@dataclass
class OrderPlan:
    """How many orders of each kind one entity gets."""

    draft: int = 2
    released: int = 3
    held_past_due: int = 1
    held_over_limit: int = 1
    approved: int = 1
    rejected: int = 1
    fulfilled: int = 2
    invoiced: int = 2


def set_up_orders(entity: LegalEntity) -> dict[str, int]:
    """Place the entity's demo orders and move each to its state, once."""
    if Order.objects.filter(entity=entity).exists():
        return {}
    plan = OrderPlan()
    today = entity.today()
    clean, late = _customers_by_standing(entity, plan)
    if not clean and not late:
        return {}
    # A small ledger may have fewer customers than orders: then customers order twice.
    next_clean = _cycle(clean or late)
    next_late = _cycle(late or clean)
    analyst = person(entity, "credit")
    pick = randomness(entity, "orders")
    counts: dict[str, int] = {}
    sequence = iter(range(1, 1000))

    def order(customer, *, days_ago=0, submit=True, big=False):
        complete_buyer(customer)
        lines = [
            LineRequest(quantity=str(pick.choice([1, 2, 3])), product_code="PMP-100"),
            LineRequest(quantity=str(pick.choice([6, 12, 24])), product_code="BRG-6205"),
            LineRequest(quantity=str(pick.choice([2, 3])), product_code="SEAL-KIT"),
        ]
        if big:
            limit = customer.credit_limit_amount or Decimal("0")
            pumps = int(limit / local_price("1750.00", entity.base_currency)) + 2
            lines[0] = LineRequest(quantity=str(pumps), product_code="PMP-100")
        if pick.random() < 0.5:
            lines.append(LineRequest(quantity=str(pick.choice([4, 8])), product_code="SRV-HOUR"))
        placed, _ = place_order(
            OrderRequest(
                customer=customer,
                channel=pick.choice([OrderChannel.WEB, OrderChannel.EDI, OrderChannel.API]),
                lines=lines,
                order_date=today - dt.timedelta(days=days_ago),
                customer_reference=f"PO-{entity.code}-{next(sequence):04d}",
            ),
            submit=submit,
        )
        counts[placed.status] = counts.get(placed.status, 0) + 1
        return placed

    for _ in range(plan.invoiced):
        placed = order(next(next_clean), days_ago=12)
        if placed.status == OrderStatus.RELEASED:
            _ship_all(placed, today - dt.timedelta(days=10))
            invoice_order(placed, invoice_date=today - dt.timedelta(days=10))
    for _ in range(plan.fulfilled):
        placed = order(next(next_clean), days_ago=5)
        if placed.status == OrderStatus.RELEASED:
            _ship_all(placed, today - dt.timedelta(days=2))
    for _ in range(plan.released):
        order(next(next_clean), days_ago=pick.randrange(0, 4))
    for _ in range(plan.draft):
        order(next(next_clean), submit=False)
    for _ in range(plan.held_over_limit):
        order(next(next_clean), big=True)
    for _ in range(plan.held_past_due):
        order(next(next_late), days_ago=1)
    for _ in range(plan.approved):
        held = order(next(next_late), days_ago=3)
        if held.status == OrderStatus.ON_CREDIT_HOLD:
            decide_credit_hold(
                held,
                approve=True,
                reason="Customer sent proof of payment of the overdue invoices",
                actor=analyst,
            )
            record_shipment(held, {1: "1"}, shipped_on=today - dt.timedelta(days=1))
    for _ in range(plan.rejected):
        held = order(next(next_late), days_ago=2)
        if held.status == OrderStatus.ON_CREDIT_HOLD:
            decide_credit_hold(
                held,
                approve=False,
                reason="Long overdue balance and no reply to our reminders",
                actor=analyst,
            )
    return dict(Order.objects.filter(entity=entity).values_list("status").annotate(Count("id")))


def _cycle(customers: list[Customer]):
    while True:
        yield from customers


def _ship_all(order: Order, shipped_on: dt.date) -> None:
    quantities = {line.line_number: str(line.quantity) for line in order.lines.all()}
    record_shipment(order, quantities, shipped_on=shipped_on, reference=f"DN-{order.number}")


def _customers_by_standing(entity: LegalEntity, plan: OrderPlan):
    """Return (customers with nothing overdue, customers overdue beyond tolerance).

    Both lists are in a seeded random order. The credit check still decides each
    order; the lists only pick customers for whom it reaches the intended outcome.
    """
    policy = policy_for(entity)
    today = entity.today()
    clean_needed = plan.invoiced + plan.fulfilled + plan.released + plan.draft
    clean_needed += plan.held_over_limit
    late_needed = plan.held_past_due + plan.approved + plan.rejected
    candidates = list(
        home_customers(entity)
        .filter(credit_limit_amount__isnull=False)
        .exclude(
            pk__in=Document.objects.filter(entity=entity)
            .exclude(currency=entity.base_currency)
            .values("customer_id")
        )
    )
    randomness(entity, "standing").shuffle(candidates)
    clean, late = [], []
    exposure = _open_receivables(entity)
    headroom = ORDER_HEADROOM_EUR * PRICE_SCALE.get(entity.base_currency, Decimal(1))
    for customer in candidates:
        if len(clean) >= clean_needed and len(late) >= late_needed:
            break
        past_due = past_due_beyond(customer, today, policy.past_due_tolerance_days)
        if past_due.items:
            late.append(customer)
        elif customer.credit_limit_amount - exposure.get(customer.pk, Decimal("0")) >= headroom:
            clean.append(customer)
    return clean[:clean_needed], late[:late_needed]


def _open_receivables(entity: LegalEntity) -> dict[int, Decimal]:
    documents = Document.objects.filter(entity=entity, side=Side.DEBIT)
    rows = (
        with_open_amount(documents)
        .filter(~Q(open_amount=0))
        .values("customer_id")
        .annotate(total=Sum("open_amount"))
        .order_by()
    )
    return {row["customer_id"]: row["total"] for row in rows}
