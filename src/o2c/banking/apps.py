from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "o2c.banking"
    label = "banking"
    verbose_name = "Bank accounts and statements"
    nav_items = [("Statements", "banking:statement_list")]
    url_prefix = "banking/"
    api_prefix = "/banking/"
