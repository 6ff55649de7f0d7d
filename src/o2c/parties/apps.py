from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "o2c.parties"
    label = "parties"
    verbose_name = "Entities and customers"
    nav_items = [("Customers", "parties:customer_list")]
    url_prefix = "customers/"
    api_prefix = "/customers/"
    nav_order = 10
