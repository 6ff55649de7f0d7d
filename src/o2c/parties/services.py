"""Business verbs on entities, customers and their shared timeline."""

import logging

from django.utils import timezone

from o2c.parties.models import Customer, TimelineEvent

logger = logging.getLogger(__name__)


def record_event(
    customer: Customer,
    kind: str,
    summary: str,
    *,
    actor=None,
    document=None,
    occurred_at=None,
    **data,
) -> TimelineEvent:
    """Add one event to the customer's timeline."""
    return TimelineEvent.objects.create(
        customer=customer,
        kind=kind,
        summary=summary[:500],
        actor=actor,
        document=document,
        occurred_at=occurred_at or timezone.now(),
        data=data,
    )
