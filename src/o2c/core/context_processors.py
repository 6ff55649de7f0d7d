"""Template context every page needs: the navigation links.

Each app lists its pages in its AppConfig's `nav_items` as (label, URL name) pairs;
the pages themselves check what the person may see.
"""

from django.apps import apps
from django.urls import reverse


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = []
    for config in apps.get_app_configs():
        for label, url_name in getattr(config, "nav_items", ()):
            links.append((label, reverse(url_name)))
    if user.is_staff:
        links.append(("Administration", reverse("admin:index")))
    return {"nav_links": links}
