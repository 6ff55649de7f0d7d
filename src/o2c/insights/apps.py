from celery.schedules import crontab
from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "o2c.insights"
    label = "insights"
    verbose_name = "Insights"
    nav_items = [("Insights", "insights:overview")]
    url_prefix = "insights/"
    api_prefix = "/insights/"
    customer_panels = ["o2c.insights.panels.customer_panel"]
    dashboard_panels = ["o2c.insights.panels.dashboard_panel"]
    # Rescore every entity each night, after the day's postings and bank statements.
    beat_schedule = {
        "insights-rescore-nightly": {
            "task": "o2c.insights.tasks.rescore_all_task",
            "schedule": crontab(hour=2, minute=30),
        }
    }
