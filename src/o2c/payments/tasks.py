"""Scheduled payments work."""

from celery import shared_task

from o2c.payments import services


@shared_task
def expire_abandoned_payments_task() -> int:
    return services.expire_abandoned_payments()


@shared_task
def book_collected_debits_task() -> int:
    from o2c.payments import sepa

    return sepa.book_collected_debits()
