"""Predictions shown on a customer's page cover the invoices still open."""

import datetime as dt
from decimal import Decimal

from o2c.insights import selectors
from o2c.insights.models import InvoicePrediction, Method
from o2c.ledger.services import allocate


def _predict(document):
    return InvoicePrediction.objects.create(
        entity=document.entity,
        customer=document.customer,
        document=document,
        as_of=dt.date(2025, 3, 1),
        method=Method.TRANSPARENT,
        days_late=3.0,
        pay_on=dt.date(2025, 4, 3),
        late_probability=0.4,
    )


def test_paid_invoice_leaves_the_predictions(customer, post):
    # given two predicted invoices, one of which is paid after the prediction
    paid = post(customer, "invoice", "INV-1", "2025-03-01", "100.00")
    still_open = post(customer, "invoice", "INV-2", "2025-03-01", "50.00")
    _predict(paid)
    _predict(still_open)
    payment = post(customer, "payment", "PAY-1", "2025-03-05", "100.00")
    allocate(paid, payment, on=dt.date(2025, 3, 5), amount=Decimal("100.00"))

    shown = selectors.customer_predictions(customer)

    # then only the open invoice is listed
    assert [prediction.document for prediction in shown] == [still_open]
