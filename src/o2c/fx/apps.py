from django.apps import AppConfig


class FxConfig(AppConfig):
    name = "o2c.fx"
    label = "fx"
    verbose_name = "Exchange rates"
