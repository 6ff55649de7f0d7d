"""Panels that modules add to another module's page, without editing it.

A module names, in its AppConfig, a list of dotted paths under the attribute the page
reads (`customer_panels` for the customer page, `dashboard_panels` for the dashboard).
Each function takes the page's request and objects and returns HTML (a SafeString
rendered from a template) or None to show nothing. Each panel checks the person's
scope itself.
"""

from django.apps import apps
from django.utils.module_loading import import_string


def render_panels(attribute: str, request, *args) -> list[str]:
    """Return the HTML of every panel registered under `attribute`, in app order."""
    panels = []
    for config in apps.get_app_configs():
        for path in getattr(config, attribute, ()):
            html = import_string(path)(request, *args)
            if html:
                panels.append(html)
    return panels
