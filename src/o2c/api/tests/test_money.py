"""Amounts in API responses: exact strings at the currency's minor unit."""

import datetime as dt
from decimal import Decimal

from o2c.disputes.services import open_dispute
from o2c.teams.models import Role


def test_amounts_at_minor_unit(client, entity, make_customer, make_user, post):
    customer = make_customer(
        entity, credit_limit_amount=Decimal("5000"), credit_limit_currency="EUR"
    )
    invoice = post(customer, "invoice", "I-1", dt.date(2026, 9, 1), "611.60")
    post(customer, "payment", "P-1", dt.date(2026, 9, 2), "214.56")
    leader = make_user("lee", entity=entity, role=Role.LEADER)
    open_dispute(customer, lines=[(invoice, "100.50", "")], reason="other", actor=leader)
    client.force_login(leader)

    listed = client.get("/api/customers/").json()["items"][0]
    items = client.get(f"/api/customers/{customer.pk}/open-items").json()["items"]
    dispute = client.get("/api/disputes/").json()["items"][0]
    exposure = client.get(f"/api/credit/customers/{customer.pk}/exposure").json()

    assert listed["credit_limit_amount"] == "5000.00"
    invoice_row = next(row for row in items if row["number"] == "I-1")
    assert invoice_row["amount"] == "611.60"
    assert invoice_row["open_amount"] == "611.60"
    assert dispute["amount"] == "100.50"
    assert exposure["limit"] == "5000.00"
    assert exposure["receivables"].count(".") == 1
    assert len(exposure["receivables"].split(".")[1]) == 2


def test_amounts_of_zero_decimal_currency(client, make_entity, make_customer, make_user, post):
    tokyo = make_entity("JP01", base_currency="JPY", time_zone="Asia/Tokyo")
    customer = make_customer(tokyo, currency="JPY")
    post(customer, "invoice", "J-1", dt.date(2026, 9, 1), "2580", currency="JPY")
    client.force_login(make_user("lee", entity=tokyo, role=Role.LEADER))

    items = client.get(f"/api/customers/{customer.pk}/open-items").json()["items"]

    assert items[0]["amount"] == "2580"
    assert items[0]["open_amount"] == "2580"
