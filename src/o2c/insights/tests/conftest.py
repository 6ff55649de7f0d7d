"""A small generated ledger with known payment habits, for fast insights tests."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from o2c.ledger.services import allocate, post_document
from o2c.orders.tests.conftest import catalogue, place  # noqa: F401 (shared fixtures)

START = dt.date(2024, 1, 8)


def pay(invoice, on: dt.date, number: str):
    """Post a payment of the whole invoice on `on` and allocate it."""
    payment = post_document(
        customer=invoice.customer,
        kind="payment",
        number=number,
        document_date=on,
        amount=invoice.amount,
    )
    allocate(invoice, payment, on=on)
    return payment


@pytest.fixture
def habits_ledger(entity, make_customer, net30):
    """Post 4 customers × 14 invoices over a year; two pay early, two pay late.

    Delays are fixed per customer plus a small seeded noise, and the last two invoices of
    each customer stay open.
    """
    generator = np.random.default_rng(3)
    habits = {"EARLY1": -8, "EARLY2": -4, "LATE1": 12, "LATE2": 25}
    customers = {}
    invoices = []
    for number, delay in habits.items():
        customer = make_customer(entity, number=number, payment_term=net30)
        customers[number] = customer
        for step in range(14):
            issued = START + dt.timedelta(days=26 * step + len(invoices) % 5)
            invoice = post_document(
                customer=customer,
                kind="invoice",
                number=f"{number}-{step:02d}",
                document_date=issued,
                amount=Decimal("100.00") + step,
                payment_term=net30,
            )
            invoices.append(invoice)
            if step < 12:
                paid_on = invoice.due_date + dt.timedelta(
                    days=delay + int(generator.integers(-3, 4))
                )
                pay(invoice, max(paid_on, issued), f"P-{invoice.number}")
    return {"entity": entity, "customers": customers, "invoices": invoices, "today": START}
