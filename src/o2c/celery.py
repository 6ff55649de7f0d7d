"""Celery application shared by every module's background tasks.

A module schedules periodic work by naming it in its AppConfig as `beat_schedule`, a
dict in Celery's beat_schedule format. The schedules of all modules are merged.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2c.settings")

app = Celery("o2c")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _merge_module_schedules(sender, **kwargs):
    from django.apps import apps

    schedule = dict(sender.conf.beat_schedule or {})
    for config in apps.get_app_configs():
        schedule.update(getattr(config, "beat_schedule", {}) or {})
    sender.conf.beat_schedule = schedule
