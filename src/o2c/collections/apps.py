from celery.schedules import crontab
from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "o2c.collections"
    label = "collections"
    verbose_name = "Collections"
    url_prefix = "collections/"
    api_prefix = "/collections/"
    nav_items = [
        ("Worklist", "collections:worklist", "o2c.teams.selectors.has_entity"),
        ("Dunning", "collections:run_list", "o2c.collections.selectors.runs_dunning"),
    ]
    beat_schedule = {
        "collections-review-promises": {
            "task": "o2c.collections.tasks.review_promises_task",
            "schedule": crontab(minute=15),
        },
        "collections-scheduled-dunning": {
            "task": "o2c.collections.tasks.run_scheduled_dunning_task",
            "schedule": crontab(hour=6, minute=0),
        },
    }

    def ready(self):
        from o2c.collections import signals  # noqa: F401 (connects the receivers)
