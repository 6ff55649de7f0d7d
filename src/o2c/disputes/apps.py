from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "o2c.disputes"
    label = "disputes"
    verbose_name = "Disputes and deductions"
    url_prefix = "disputes/"
    api_prefix = "/disputes/"
    nav_items = [("Disputes", "disputes:list")]
