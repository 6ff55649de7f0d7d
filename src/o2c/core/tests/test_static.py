"""Pages load their stylesheet and htmx from the application itself, without DEBUG."""

import re

from o2c.teams.models import Role


def test_page_assets_are_served(client, entity, make_user, settings):
    settings.DEBUG = False
    client.force_login(make_user("lee", entity=entity, role=Role.LEADER))
    page = client.get("/").content.decode()

    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)

    assert any(asset.endswith(".css") for asset in assets)
    assert any(asset.endswith("favicon.svg") for asset in assets)
    assert any("htmx" in asset for asset in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert not any(host in page for host in ("cdn.", "unpkg.com", "jsdelivr"))
