"""Customer pages: scope checks and query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from o2c.teams.models import Role


@pytest.fixture
def two_books(entity, make_customer, make_user, post):
    mine = make_customer(entity, name="Mine Ltd")
    other = make_customer(entity, name="Other Ltd")
    for customer, prefix in ((mine, "M"), (other, "O")):
        post(customer, "invoice", f"{prefix}-1", dt.date(2026, 10, 1), "100.00")
    member = make_user("ann", entity=entity, role=Role.MEMBER, customers=[mine])
    return mine, other, member


def test_pages_require_sign_in(client, two_books):
    mine, _, _ = two_books

    response = client.get(f"/customers/{mine.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_member_opens_own_customer(client, two_books):
    mine, _, member = two_books
    client.force_login(member)

    response = client.get(f"/customers/{mine.pk}/")

    assert response.status_code == 200
    assert b"M-1" in response.content


def test_member_cannot_open_other_customer(client, two_books):
    _, other, member = two_books
    client.force_login(member)

    response = client.get(f"/customers/{other.pk}/")

    assert response.status_code == 404
    assert b"Other Ltd" not in response.content


def test_customer_list_shows_only_scope(client, two_books):
    _, _, member = two_books
    client.force_login(member)

    response = client.get("/customers/")

    assert b"Mine Ltd" in response.content
    assert b"Other Ltd" not in response.content


def test_customer_list_search_partial(client, two_books):
    _, _, member = two_books
    client.force_login(member)

    response = client.get("/customers/?q=mine", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert b"Mine Ltd" in response.content
    assert b"<html" not in response.content


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_customer_page_queries_do_not_grow_with_documents(
    client, entity, make_customer, make_user, post
):
    customer = make_customer(entity)
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))
    post(customer, "invoice", "INV-0", dt.date(2026, 9, 1), "10.00")
    few = _queries(client, f"/customers/{customer.pk}/")

    for index in range(1, 60):
        post(customer, "invoice", f"INV-{index}", dt.date(2026, 9, 1), "10.00")
    many = _queries(client, f"/customers/{customer.pk}/")

    assert many == few
    # The navigation's permission checks take four of these queries.
    assert many <= 34


def test_customer_list_queries_do_not_grow_with_customers(
    client, entity, make_customer, make_user, post
):
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))
    first = make_customer(entity)
    post(first, "invoice", "INV-first", dt.date(2026, 9, 1), "10.00")
    few = _queries(client, "/customers/")

    for _ in range(40):
        customer = make_customer(entity)
        post(customer, "invoice", f"INV-{customer.number}", dt.date(2026, 9, 1), "10.00")
    many = _queries(client, "/customers/")

    assert many == few
    # The navigation's permission checks take four of these queries.
    assert many <= 14
