"""The orders API: create with an idempotency key, errors by line and field, scope."""

import json

import pytest

from o2c.core.models import ApiToken
from o2c.orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(entity, make_customer, make_user, catalogue, rates_today):
    mine = make_customer(entity, number="MINE")
    theirs = make_customer(entity, number="THEIRS")
    sam = make_user("sam", entity=entity, role="member", function="sales", customers=[mine])
    _, token = ApiToken.issue(sam, "test")
    return {"mine": mine, "theirs": theirs, "sam": sam, "token": token}


def _post(client, path, body, token, **headers):
    return client.post(
        f"/api/orders{path}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def _get(client, path, token):
    return client.get(f"/api/orders{path}", HTTP_AUTHORIZATION=f"Bearer {token}")


def _body(customer, quantity="2"):
    return {
        "customer_id": customer.pk,
        "customer_reference": "PO-API-1",
        "lines": [{"product": "WIDGET", "quantity": quantity}, {"product": "BOOK", "quantity": 1}],
    }


def test_create_order_returns_201_with_lines(client, people):
    response = _post(client, "/", _body(people["mine"]), people["token"])

    assert response.status_code == 201
    body = response.json()
    assert body["number"] == "SO-000001"
    assert body["status"] == "released"
    assert body["channel"] == "api"
    assert body["net_amount"] == "64.90"  # 25.00 + 39.90
    assert [line["product"] for line in body["lines"]] == ["WIDGET", "BOOK"]


def test_same_idempotency_key_and_body_returns_first_result(client, people):
    first = _post(client, "/", _body(people["mine"]), people["token"], HTTP_IDEMPOTENCY_KEY="k-1")

    second = _post(client, "/", _body(people["mine"]), people["token"], HTTP_IDEMPOTENCY_KEY="k-1")

    assert second.status_code == 201
    assert second.json() == first.json()
    assert Order.objects.count() == 1


def test_same_idempotency_key_with_other_body_is_rejected(client, people):
    _post(client, "/", _body(people["mine"]), people["token"], HTTP_IDEMPOTENCY_KEY="k-1")

    response = _post(
        client,
        "/",
        _body(people["mine"], quantity="3"),
        people["token"],
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert "SO-000001" in response.json()["message"]
    assert Order.objects.count() == 1


def test_bad_payload_names_line_and_field(client, people):
    body = {
        "customer_id": people["mine"].pk,
        "lines": [
            {"product": "WIDGET", "quantity": "two"},
            {"product": "GHOST", "quantity": 1},
            {"product": "BOOK", "quantity": 1, "unit_price": "1.00"},
        ],
    }

    response = _post(client, "/", body, people["token"], HTTP_IDEMPOTENCY_KEY="k-bad")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "order_invalid"
    assert [(p["line"], p["field"], p["code"]) for p in error["problems"]] == [
        (1, "quantity", "not_a_number"),
        (2, "product", "unknown_product"),
        (3, "unit_price", "price_mismatch"),
    ]
    assert Order.objects.count() == 0
    # the key was not used up by the refused request
    response = _post(
        client, "/", _body(people["mine"]), people["token"], HTTP_IDEMPOTENCY_KEY="k-bad"
    )
    assert response.status_code == 201


def test_malformed_json_is_rejected_without_order(client, people):
    response = client.post(
        "/api/orders/",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {people['token']}",
    )
    assert response.status_code in (400, 422)
    assert Order.objects.count() == 0


def test_member_cannot_reach_other_customers_orders(client, people, place):
    hidden = place(people["theirs"], [("WIDGET", "1")])
    visible = place(people["mine"], [("WIDGET", "1")])

    listed = _get(client, "/", people["token"]).json()
    assert [row["number"] for row in listed["items"]] == [visible.number]
    assert _get(client, f"/{hidden.pk}", people["token"]).status_code == 404
    assert (
        _post(client, f"/{hidden.pk}/cancel", {"reason": "x"}, people["token"]).status_code == 404
    )
    created = _post(client, "/", _body(people["theirs"]), people["token"])
    assert created.status_code == 404
    assert Order.objects.count() == 2


def test_unauthenticated_request_is_refused(client, people):
    assert client.get("/api/orders/").status_code == 401


def test_shipment_and_cancel_through_api(client, people):
    order = _post(client, "/", _body(people["mine"]), people["token"]).json()

    shipped = _post(
        client,
        f"/{order['id']}/shipments",
        {"lines": [{"line": 1, "quantity": "1"}]},
        people["token"],
    )
    assert shipped.status_code == 200
    assert shipped.json()["status"] == "partly_fulfilled"
    refused = _post(client, f"/{order['id']}/cancel", {"reason": "late"}, people["token"])
    assert refused.status_code == 400
    assert refused.json()["code"] == "cannot_cancel"


def test_openapi_lists_order_endpoints(client, people):
    schema = client.get("/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {people['token']}").json()
    assert "/api/orders/" in schema["paths"]
    assert "/api/orders/edi/850" in schema["paths"]


def test_change_through_api_rechecks_credit(client, people):
    people["mine"].credit_limit_amount = 80
    people["mine"].credit_limit_currency = "EUR"
    people["mine"].save()
    order = _post(client, "/", _body(people["mine"]), people["token"]).json()
    assert order["status"] == "released"  # 64.90 EUR

    changed = _post(client, f"/{order['id']}/change", {"quantities": {"1": "4"}}, people["token"])

    assert changed.status_code == 200
    assert changed.json()["status"] == "on_credit_hold"  # 50.00 + 39.90 > 80.00
    assert changed.json()["net_amount"] == "89.90"
