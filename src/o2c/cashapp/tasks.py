"""Background work of cash application: the matching run after statements arrive."""

import logging

from celery import shared_task

from o2c.cashapp.services import run_matching

logger = logging.getLogger(__name__)


@shared_task
def run_matching_task() -> dict:
    """Match every bank line not decided yet; the queue gets what stays uncertain."""
    result = run_matching()
    return {
        "lines_seen": result.lines_seen,
        "auto_applied": result.auto_applied,
        "queued": result.queued,
        "reversals": result.reversals,
        "ignored": result.ignored,
        "errors": len(result.errors),
    }
