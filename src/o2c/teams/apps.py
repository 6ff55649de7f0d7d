from celery.schedules import crontab
from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "o2c.teams"
    label = "teams"
    verbose_name = "Teams and work"
    url_prefix = "work/"
    api_prefix = "/work/"
    nav_items = [
        ("My work", "teams:my_work"),
        ("Teams", "teams:leaders", "o2c.teams.selectors.leads_any_team"),
    ]
    beat_schedule = {
        "teams-escalate-breached-work": {
            "task": "o2c.teams.tasks.escalate_breached_work_task",
            "schedule": crontab(minute="*/5"),
        },
        "teams-apply-absences": {
            "task": "o2c.teams.tasks.apply_absences_task",
            "schedule": crontab(minute=5),
        },
    }
