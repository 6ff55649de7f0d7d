"""Webhook delivery tasks.

With a broker, Celery retries a failed attempt after the back-off delay. Without one
the task runs in the calling process, where waiting out the back-off would hold up the
request that caused the event. The periodic sweep then sends it when due.
"""

import datetime as dt

from celery import shared_task
from django.conf import settings

from o2c.webhooks import services

# With a broker the sweep only catches deliveries a lost retry left behind.
BROKER_SWEEP_DELAY = dt.timedelta(minutes=10)
# A Celery retry may arrive a little before the due time recorded for it.
RETRY_TOLERANCE = dt.timedelta(seconds=5)


@shared_task(bind=True, max_retries=services.MAX_ATTEMPTS - 1)
def deliver_webhook_task(self, delivery_id: int) -> str:
    outcome = services.attempt_delivery(delivery_id, tolerance=RETRY_TOLERANCE)
    if outcome is None:
        return "not due"
    if outcome.retry_in is None:
        return outcome.status
    if self.request.is_eager:
        return "left for the sweep"
    raise self.retry(countdown=outcome.retry_in)


@shared_task
def send_due_deliveries_task() -> int:
    eager = getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    return services.send_due_deliveries(older_than=dt.timedelta(0) if eager else BROKER_SWEEP_DELAY)
