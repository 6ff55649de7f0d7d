from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "o2c.orders"
    label = "orders"
    verbose_name = "Orders and catalogue"
    nav_items = [("Orders", "orders:order_list")]
    url_prefix = "orders/"
    api_prefix = "/orders/"
