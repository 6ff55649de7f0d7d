"""The scheduled escalation task through a real Redis broker and a real worker."""

import datetime as dt

import pytest

from o2c.teams.models import SlaPolicy, Team, WorkItem, WorkKind
from o2c.teams.services import create_work_item
from o2c.teams.tasks import escalate_breached_work_task


@pytest.mark.django_db(transaction=True)
def test_escalation_runs_on_redis_worker(redis_worker, entity, customer, make_user):
    # given an item whose one-hour SLA ended two hours ago
    make_user("lena", entity=entity, role="lead")
    team = Team.objects.get(entity=entity, function="collections")
    SlaPolicy.objects.create(team=team, kind=WorkKind.COLLECTION_CALL, resolution_hours=1)
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=team, customer=customer
    )
    WorkItem.objects.filter(pk=item.pk).update(due_at=item.due_at - dt.timedelta(hours=3))

    # when the task is sent to the broker and a worker picks it up
    def escalated():
        item.refresh_from_db()
        return bool(item.escalation_level)

    finished = redis_worker.run(escalate_breached_work_task, until=escalated)

    # then the worker escalated it
    assert finished
    assert item.escalation_level == 1
    assert item.priority == 1
