"""Scheduled work of the insights module."""

import logging

from celery import shared_task

from o2c.insights import services

logger = logging.getLogger(__name__)


@shared_task
def rescore_all_task() -> int:
    """Rescore every entity: open invoice predictions, customer scores, cash forecast."""
    results = services.rescore_all()
    return sum(result.scores for result in results)
