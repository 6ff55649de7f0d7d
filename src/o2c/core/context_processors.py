"""Template context every page needs: the navigation links.

Each app lists its pages in its AppConfig's `nav_items` as (label, URL name) pairs, or
(label, URL name, check) triples, and may set `nav_order` (default 50; lower comes
first). A check is a function, or the dotted path of one, that takes the user and
returns whether they may open the page. It should call the permission helper that the
view itself calls. An app may also set checks for URL names of other apps in
`nav_checks`, {URL name: check}, when the rule for those pages belongs to it. A link
whose check returns false is not shown, and links without a check are shown to
everyone signed in.
"""

from django.apps import apps
from django.urls import reverse
from django.utils.module_loading import import_string


def _as_function(check):
    return import_string(check) if isinstance(check, str) else check


def nav_entries() -> list[tuple[str, str, object]]:
    """Return (label, URL name, check or None) for every app's navigation item, in order."""
    configs = sorted(apps.get_app_configs(), key=lambda config: getattr(config, "nav_order", 50))
    shared_checks = {}
    for config in configs:
        shared_checks.update(getattr(config, "nav_checks", {}))
    entries = []
    for config in configs:
        for item in getattr(config, "nav_items", ()):
            label, url_name = item[0], item[1]
            check = item[2] if len(item) > 2 else shared_checks.get(url_name)
            entries.append((label, url_name, _as_function(check) if check else None))
    return entries


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    # A page that renders parts with the request (panels, htmx fragments) runs this again,
    # so the links are computed once per request.
    links = getattr(request, "_o2c_nav_links", None)
    if links is None:
        links = [
            (label, reverse(url_name))
            for label, url_name, check in nav_entries()
            if check is None or check(user)
        ]
        if user.is_staff:
            links.append(("Administration", reverse("admin:index")))
        request._o2c_nav_links = links
    return {"nav_links": links}
