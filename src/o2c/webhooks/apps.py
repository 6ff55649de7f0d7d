from celery.schedules import crontab
from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "o2c.webhooks"
    label = "webhooks"
    verbose_name = "Outbound webhooks"
    url_prefix = "webhooks/"
    nav_items = [("Webhooks", "webhooks:endpoint_list", "o2c.teams.selectors.is_admin")]
    beat_schedule = {
        "webhooks-send-due-deliveries": {
            "task": "o2c.webhooks.tasks.send_due_deliveries_task",
            "schedule": crontab(minute="*"),
        },
    }

    def ready(self):
        from o2c.webhooks import receivers  # noqa: F401 (connects the receivers)
