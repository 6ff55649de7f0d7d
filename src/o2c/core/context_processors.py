"""Template context every page needs: the navigation links.

Each app lists its pages in its AppConfig's `nav_items` as (label, URL name) pairs, and
may set `nav_order` (default 50; lower comes first). The pages themselves check what the
person may see.
"""

from django.apps import apps
from django.urls import reverse


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    configs = sorted(apps.get_app_configs(), key=lambda config: getattr(config, "nav_order", 50))
    links = []
    for config in configs:
        for label, url_name in getattr(config, "nav_items", ()):
            links.append((label, reverse(url_name)))
    if user.is_staff:
        links.append(("Administration", reverse("admin:index")))
    return {"nav_links": links}
