from celery.schedules import crontab
from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "o2c.insights"
    label = "insights"
    verbose_name = "Insights"
    nav_items = [("Insights", "insights:overview")]
    url_prefix = "insights/"
    api_prefix = "/insights/"
    # Rescore every entity each night, after the day's postings and bank statements.
    beat_schedule = {
        "insights-rescore-nightly": {
            "task": "o2c.insights.tasks.rescore_all_task",
            "schedule": crontab(hour=2, minute=30),
        }
    }
