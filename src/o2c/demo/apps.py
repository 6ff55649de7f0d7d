from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "o2c.demo"
    label = "demo"
    verbose_name = "Demo data"
