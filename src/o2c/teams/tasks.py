"""Scheduled work management: SLA escalation and out-of-office hand-overs."""

from celery import shared_task

from o2c.teams import services


@shared_task
def escalate_breached_work_task() -> dict:
    return services.escalate_breached_work()


@shared_task
def apply_absences_task() -> int:
    return services.apply_absences()
