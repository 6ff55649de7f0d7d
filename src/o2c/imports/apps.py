from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "o2c.imports"
    label = "imports"
    verbose_name = "Imports"
