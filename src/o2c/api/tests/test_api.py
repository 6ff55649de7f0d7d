"""The REST API: token authentication, scope, and errors as {code, message}."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.core.models import ApiToken
from o2c.teams.models import Role


@pytest.fixture
def books(entity, make_customer, make_user, post):
    mine = make_customer(entity, name="Mine Ltd")
    other = make_customer(entity, name="Other Ltd")
    post(mine, "invoice", "M-1", dt.date(2026, 9, 1), "100.00", due_date="2026-10-01")
    post(other, "invoice", "O-1", dt.date(2026, 9, 1), "900.00", due_date="2026-10-01")
    member = make_user("ann", entity=entity, role=Role.MEMBER, customers=[mine])
    _, token = ApiToken.issue(member, "test")
    return mine, other, member, token


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_api_refuses_anonymous(client, books):
    response = client.get("/api/customers/")

    assert response.status_code == 401


def test_api_refuses_unknown_and_revoked_token(client, books):
    _, _, member, token = books
    assert client.get("/api/customers/", **bearer("o2c_wrong")).status_code == 401

    ApiToken.objects.filter(user=member).update(revoked_at=dt.datetime.now(tz=dt.UTC))

    assert client.get("/api/customers/", **bearer(token)).status_code == 401


def test_token_lists_only_scope(client, books):
    _, _, _, token = books

    response = client.get("/api/customers/", **bearer(token))

    assert response.status_code == 200
    names = [item["name"] for item in response.json()["items"]]
    assert names == ["Mine Ltd"]


def test_token_cannot_read_other_customer_or_items(client, books):
    _, other, _, token = books

    assert client.get(f"/api/customers/{other.pk}", **bearer(token)).status_code == 404
    assert client.get(f"/api/customers/{other.pk}/open-items", **bearer(token)).status_code == 404
    assert client.get(f"/api/customers/{other.pk}/timeline", **bearer(token)).status_code == 404


def test_open_items_of_own_customer(client, books):
    mine, _, _, token = books

    response = client.get(f"/api/customers/{mine.pk}/open-items", **bearer(token))

    items = response.json()["items"]
    assert [(item["number"], Decimal(item["open_amount"])) for item in items] == [
        ("M-1", Decimal("100.00"))
    ]


def test_kpis_cover_member_portfolio(client, entity, books):
    _, _, _, token = books

    response = client.get(f"/api/kpis/?entity={entity.code}&as_of=2026-11-30", **bearer(token))

    assert response.status_code == 200
    assert Decimal(response.json()["converted"]["ar"]) == Decimal("100.00")


def test_kpis_refuse_other_customer_and_entity(client, make_entity, entity, books):
    _, other, _, token = books
    make_entity("XX")

    by_customer = client.get(
        f"/api/kpis/?entity={entity.code}&customer={other.number}", **bearer(token)
    )
    by_entity = client.get("/api/kpis/?entity=XX", **bearer(token))

    assert by_customer.status_code == 404
    assert by_entity.status_code == 404


def test_openapi_schema_is_published(client, books):
    _, _, member, _ = books
    client.force_login(member)

    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert "/api/customers/" in response.json()["paths"]


def test_openapi_bodies_match_their_endpoints(client, books):
    # Schemas of the same name in two modules would share one entry in the docs.
    _, _, member, _ = books
    client.force_login(member)
    spec = client.get("/api/openapi.json").json()

    body = spec["paths"]["/api/cashapp/lines/{line_id}/refund"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    assert "customer_id" in spec["components"]["schemas"][name]["properties"]
