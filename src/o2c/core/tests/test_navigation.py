"""Navigation: each role sees only the links to pages it may open."""

import pytest

from o2c.teams.models import Role

ROLES = {
    "collector": {"role": Role.MEMBER, "function": "collections"},
    "credit": {"role": Role.MEMBER, "function": "credit"},
    "cash": {"role": Role.MEMBER, "function": "cash_application"},
    "disputes": {"role": Role.MEMBER, "function": "disputes"},
    "lead": {"role": Role.LEAD, "function": "collections"},
    "leader": {"role": Role.LEADER, "function": "collections"},
}
# Links each role must not see, because the page would answer 403 or 404.
HIDDEN = {
    "collector": {"/banking/", "/cashapp/", "/webhooks/", "/work/leaders/", "/collections/runs/"},
    "credit": {"/banking/", "/cashapp/", "/webhooks/", "/work/leaders/", "/collections/runs/"},
    "cash": {"/webhooks/", "/work/leaders/", "/collections/runs/"},
    "disputes": {"/banking/", "/cashapp/", "/webhooks/", "/work/leaders/", "/collections/runs/"},
    "lead": {"/banking/", "/cashapp/", "/webhooks/"},
    "leader": {"/webhooks/"},
}


def _links(client):
    response = client.get("/")
    assert response.status_code == 200
    return [url for _, url in response.context["nav_links"]]


@pytest.mark.parametrize("name", sorted(ROLES))
def test_every_shown_link_opens(name, entity, customer, make_user, client):
    user = make_user(name, entity=entity, customers=[customer], **ROLES[name])
    client.force_login(user)

    links = _links(client)

    assert not HIDDEN[name] & set(links)
    for url in links:
        assert client.get(url).status_code == 200, url


def test_leader_sees_cash_and_team_pages(entity, make_user, client):
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))

    links = set(_links(client))

    assert {"/cashapp/", "/banking/", "/work/leaders/", "/collections/runs/"} <= links


def test_superuser_sees_every_link(entity, django_user_model, client):
    admin = django_user_model.objects.create_superuser("root", password=None)
    client.force_login(admin)

    links = _links(client)

    assert "/webhooks/" in links
    assert "/admin/" in links
    for url in links:
        assert client.get(url).status_code == 200, url
