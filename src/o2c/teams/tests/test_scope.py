"""Customer visibility for each role and team function."""

import pytest
from django.urls import reverse

from o2c.teams.models import Role
from o2c.teams.selectors import sees_whole_entity, visible_customers, visible_entities


def test_member_sees_only_own_portfolio(entity, make_customer, make_user):
    mine = make_customer(entity)
    other = make_customer(entity)
    member = make_user("ann", entity=entity, role=Role.MEMBER, customers=[mine])
    make_user("bob", entity=entity, role=Role.MEMBER, customers=[other])

    assert list(visible_customers(member)) == [mine]
    assert sees_whole_entity(member, entity) is False
    assert list(visible_entities(member)) == [entity]


def test_lead_sees_every_portfolio_of_team(entity, make_customer, make_user):
    first = make_customer(entity)
    second = make_customer(entity)
    outside = make_customer(entity)
    make_user("ann", entity=entity, role=Role.MEMBER, customers=[first])
    make_user("bob", entity=entity, role=Role.MEMBER, customers=[second])
    make_user("cid", entity=entity, role=Role.MEMBER, function="credit", customers=[outside])
    lead = make_user("lea", entity=entity, role=Role.LEAD)

    assert set(visible_customers(lead)) == {first, second}


def test_leader_sees_whole_entity_only(make_entity, make_customer, make_user):
    home = make_entity("H1")
    away = make_entity("A1")
    local = make_customer(home)
    make_customer(away)
    leader = make_user("lee", entity=home, role=Role.LEADER)

    assert list(visible_customers(leader)) == [local]
    assert sees_whole_entity(leader, home) is True
    assert sees_whole_entity(leader, away) is False


def test_admin_and_nobody(entity, make_customer, make_user, django_user_model):
    customer = make_customer(entity)
    admin = django_user_model.objects.create_superuser("root", password=None)
    nobody = make_user("nobody")

    assert list(visible_customers(admin)) == [customer]
    assert list(visible_customers(nobody)) == []
    assert list(visible_entities(nobody)) == []


def test_inactive_member_sees_nothing(entity, make_customer, make_user):
    customer = make_customer(entity)
    member = make_user("ann", entity=entity, role=Role.MEMBER, customers=[customer])
    member.is_active = False
    member.save()

    assert list(visible_customers(member)) == []


ENTITY_WIDE = ["cash_application", "disputes", "customer_service", "billing"]


@pytest.mark.parametrize("function", ENTITY_WIDE)
def test_entity_wide_team_sees_own_entity_only(
    function, make_entity, make_customer, make_user, client
):
    home = make_entity("H1")
    away = make_entity("A1")
    first = make_customer(home)
    second = make_customer(home)
    foreign = make_customer(away)
    member = make_user("cas", entity=home, role=Role.MEMBER, function=function)

    assert set(visible_customers(member)) == {first, second}
    assert list(visible_entities(member)) == [home]

    client.force_login(member)
    listed = client.get("/api/customers/").json()
    assert listed["count"] == 2
    assert {row["id"] for row in listed["items"]} == {first.pk, second.pk}
    assert client.get(f"/api/customers/{foreign.pk}").status_code == 404
    assert client.get(reverse("parties:customer_detail", args=[first.pk])).status_code == 200
    assert client.get(reverse("parties:customer_detail", args=[foreign.pk])).status_code == 404
    page = client.get(reverse("parties:customer_list")).content.decode()
    assert first.number in page
    assert foreign.number not in page


@pytest.mark.parametrize("function", ["collections", "credit"])
def test_book_teams_keep_portfolio_scope(function, entity, make_customer, make_user):
    mine = make_customer(entity)
    make_customer(entity)
    member = make_user("ann", entity=entity, role=Role.MEMBER, function=function, customers=[mine])
    without_book = make_user("bea", entity=entity, role=Role.MEMBER, function=function)

    assert list(visible_customers(member)) == [mine]
    assert list(visible_customers(without_book)) == []
