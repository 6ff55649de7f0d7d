"""Business verbs on teams and their work items."""

import logging

from django.db import transaction
from django.utils import timezone

from o2c.core.errors import O2CError
from o2c.parties.services import record_event
from o2c.teams.models import OPEN_WORK_STATES, WorkItem, WorkState

logger = logging.getLogger(__name__)


class WorkError(O2CError):
    """A change to a work item that its state does not allow."""


@transaction.atomic
def create_work_item(
    *,
    kind,
    title,
    team,
    customer=None,
    owner=None,
    priority=3,
    due_at=None,
    subject_type="",
    subject_id="",
    actor=None,
    **data,
) -> WorkItem:
    """Open a work item in a team's queue and note it on the customer's timeline."""
    item = WorkItem.objects.create(
        kind=kind,
        title=title[:200],
        entity=team.entity,
        customer=customer,
        team=team,
        owner=owner,
        priority=priority,
        due_at=due_at,
        subject_type=subject_type,
        subject_id=str(subject_id),
        created_by=actor,
        data=data,
    )
    if customer is not None:
        record_event(
            customer,
            "work_opened",
            f"{item.get_kind_display()} opened for {team.name}: {item.title}",
            actor=actor,
            work_item_id=item.pk,
        )
    logger.info("Work item %s: opened (%s, team %s)", item.pk, kind, team.pk)
    return item


@transaction.atomic
def close_work_item(item: WorkItem, *, outcome: str, actor=None, cancelled=False) -> WorkItem:
    """Mark a work item done (or cancelled) with the outcome a person can read later."""
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    if item.state not in OPEN_WORK_STATES:
        raise WorkError(
            "work_closed", "Work item {id} is already {state}.", id=item.pk, state=item.state
        )
    item.state = WorkState.CANCELLED if cancelled else WorkState.DONE
    item.closed_at = timezone.now()
    item.outcome = outcome[:500]
    item.save(update_fields=["state", "closed_at", "outcome"])
    if item.customer_id:
        record_event(
            item.customer,
            "work_closed",
            f"{item.get_kind_display()} {item.get_state_display().lower()}: {outcome}",
            actor=actor,
            work_item_id=item.pk,
        )
    return item
