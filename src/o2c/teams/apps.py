from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "o2c.teams"
    label = "teams"
    verbose_name = "Teams and work"
