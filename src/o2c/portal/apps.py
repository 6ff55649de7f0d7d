from celery.schedules import crontab
from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "o2c.portal"
    label = "portal"
    verbose_name = "Customer portal"
    url_prefix = "portal/"
    beat_schedule = {
        "portal-monthly-statements": {
            "task": "o2c.portal.tasks.send_monthly_statements_task",
            "schedule": crontab(day_of_month=1, hour=6, minute=30),
        },
        "portal-direct-debit-notices": {
            "task": "o2c.portal.tasks.send_missing_debit_notices_task",
            "schedule": crontab(hour=7, minute=0),
        },
        "portal-forget-old-attempts": {
            "task": "o2c.portal.tasks.purge_expired_task",
            "schedule": crontab(hour=3, minute=10),
        },
    }

    def ready(self):
        from o2c.portal import receivers  # noqa: F401 (connects the receivers)
