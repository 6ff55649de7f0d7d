"""The scheduled escalation task through a real Redis broker and a real worker."""

import datetime as dt
import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from o2c.celery import app
from o2c.teams.models import SlaPolicy, Team, WorkItem, WorkKind
from o2c.teams.services import create_work_item
from o2c.teams.tasks import escalate_breached_work_task

BROKER_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_broker():
    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    queue = f"o2c-test-{uuid.uuid4().hex}"
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_default_queue", "result_backend")
    }
    app.conf.update(
        broker_url=BROKER_URL,
        task_always_eager=False,
        task_default_queue=queue,
        result_backend=None,
    )
    _forget_connections()
    yield queue
    app.conf.update(saved)
    _forget_connections()


def _close_worker_connections(**kwargs) -> None:
    # The worker thread opens its own database connection; closing it lets the test
    # database be dropped at the end of the session.
    connections.close_all()


def _forget_connections() -> None:
    # Celery caches its connection and producer pools on first use; earlier tests may
    # have made them for the in-memory transport.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_escalation_runs_on_redis_worker(redis_broker, entity, customer, make_user):
    # given an item whose one-hour SLA ended two hours ago
    make_user("lena", entity=entity, role="lead")
    team = Team.objects.get(entity=entity, function="collections")
    SlaPolicy.objects.create(team=team, kind=WorkKind.COLLECTION_CALL, resolution_hours=1)
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=team, customer=customer
    )
    WorkItem.objects.filter(pk=item.pk).update(due_at=item.due_at - dt.timedelta(hours=3))

    # when the task is sent to the broker and a worker picks it up
    task_postrun.connect(_close_worker_connections)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[redis_broker]):
        escalate_breached_work_task.apply_async(queue=redis_broker)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            item.refresh_from_db()
            if item.escalation_level:
                break
            time.sleep(0.2)

    task_postrun.disconnect(_close_worker_connections)

    # then the worker escalated it
    assert item.escalation_level == 1
    assert item.priority == 1
