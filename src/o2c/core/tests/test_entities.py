"""Pages that show one entity: a requested entity outside the person's scope."""

import pytest
from django.urls import reverse

from o2c.teams.models import Role

PAGES = ["analytics:dashboard", "collections:worklist", "collections:aging"]


@pytest.mark.parametrize("page", PAGES)
def test_unavailable_entity_gets_notice(page, make_entity, make_user, client):
    home = make_entity("DE01")
    make_entity("US01")
    client.force_login(make_user("lee", entity=home, role=Role.LEADER))

    response = client.get(reverse(page), {"entity": "US01"})

    assert response.status_code == 200
    assert response.context["entity"] == home
    notices = [str(message) for message in response.context["messages"]]
    assert notices == ["Entity US01 is not available to you, so DE01 is shown."]


@pytest.mark.parametrize("page", PAGES)
def test_own_entity_gets_no_notice(page, make_entity, make_user, client):
    home = make_entity("DE01")
    client.force_login(make_user("lee", entity=home, role=Role.LEADER))

    response = client.get(reverse(page), {"entity": "DE01"})

    assert response.context["entity"] == home
    assert list(response.context["messages"]) == []
