"""Scheduled credit work, run by Celery beat (see CreditConfig.beat_schedule)."""

from celery import shared_task

from o2c.credit.services import schedule_credit_reviews


@shared_task
def schedule_credit_reviews_task() -> int:
    """Open the credit reviews that fall due soon in every entity; return how many."""
    return len(schedule_credit_reviews())
