from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "o2c.billing"
    label = "billing"
    verbose_name = "Billing"
    nav_items = [("Invoices", "billing:invoice_list")]
    url_prefix = "billing/"
    api_prefix = "/billing/"
