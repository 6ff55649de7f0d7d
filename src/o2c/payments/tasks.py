"""Scheduled payments work."""

from celery import shared_task

from o2c.payments import services


@shared_task
def expire_abandoned_payments_task() -> int:
    return services.expire_abandoned_payments()
