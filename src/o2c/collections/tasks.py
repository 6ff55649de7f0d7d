"""Scheduled collections work: promise reviews and automatic dunning runs."""

from celery import shared_task

from o2c.collections import services
from o2c.collections.models import CollectionsPolicy


@shared_task
def review_promises_task() -> dict:
    return services.review_promises()


@shared_task
def run_scheduled_dunning_task() -> dict:
    """Execute today's dunning run for each entity whose policy asks for it."""
    runs = {}
    for policy in CollectionsPolicy.objects.filter(runs_automatically=True).select_related(
        "entity"
    ):
        run = services.run_dunning(policy.entity, policy.entity.today(), source="schedule")
        runs[policy.entity.code] = run.counts
    return runs
