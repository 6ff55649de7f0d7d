from celery.schedules import crontab
from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "o2c.credit"
    label = "credit"
    verbose_name = "Credit management"
    nav_items = [("Credit", "credit:queue")]
    url_prefix = "credit/"
    api_prefix = "/credit/"
    beat_schedule = {
        "credit-reviews": {
            "task": "o2c.credit.tasks.schedule_credit_reviews_task",
            "schedule": crontab(hour=5, minute=30),
        },
    }
