from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "o2c.analytics"
    label = "analytics"
    verbose_name = "Analytics"
    nav_items = [("Dashboard", "analytics:dashboard")]
    url_prefix = ""
    api_prefix = "/kpis/"
    nav_order = 0
