from django.apps import AppConfig


class CashAppConfig(AppConfig):
    name = "o2c.cashapp"
    label = "cashapp"
    verbose_name = "Cash application"
    nav_items = [("Cash queue", "cashapp:queue")]
    url_prefix = "cashapp/"
    api_prefix = "/cashapp/"
