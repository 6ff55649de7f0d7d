from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "o2c.core"
    label = "core"
    verbose_name = "Core"
