"""Fixtures shared by every module's tests: entities, customers, people and a browser."""

import datetime as dt
import os
import queue
import shutil
import socket
import time
import uuid
from decimal import Decimal

import pytest

CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]


@pytest.fixture(scope="session", autouse=True)
def _end_stray_postgres_sessions(django_db_setup, django_db_blocker):
    """End leftover sessions on the PostgreSQL test database so it can be dropped.

    Test code that runs while Playwright's synchronous API is active gets its own Django
    connection (a different context), which the normal teardown never closes.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Restore rows that migrations seed, for tests that use the database.

    A transactional test (browser tests) empties every table when it ends, including
    seeded reference data such as tax rules. Each app that seeds data offers
    `restore_reference_data()` on its AppConfig, which reloads it when missing.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.apps import apps

    for config in apps.get_app_configs():
        restore = getattr(config, "restore_reference_data", None)
        if restore is not None:
            restore()


@pytest.fixture
def make_entity(db):
    from o2c.parties.models import LegalEntity

    def make(code="E1", base_currency="EUR", time_zone="Europe/Paris", **extra):
        return LegalEntity.objects.create(
            code=code,
            name=extra.pop("name", f"Entity {code}"),
            base_currency=base_currency,
            time_zone=time_zone,
            **extra,
        )

    return make


@pytest.fixture
def entity(make_entity):
    return make_entity()


@pytest.fixture
def net30(db):
    from o2c.parties.models import PaymentTerm

    term, _ = PaymentTerm.objects.get_or_create(
        code="NET30", defaults={"name": "Net 30", "days": 30}
    )
    return term


@pytest.fixture
def make_customer(db):
    from o2c.parties.models import Customer

    counter = {"next": 1}

    def make(entity, number=None, currency=None, **extra):
        if number is None:
            number = f"C{counter['next']:04d}"
            counter["next"] += 1
        return Customer.objects.create(
            entity=entity,
            number=number,
            name=extra.pop("name", f"Customer {number}"),
            currency=currency or entity.base_currency,
            **extra,
        )

    return make


@pytest.fixture
def customer(entity, make_customer):
    return make_customer(entity)


@pytest.fixture
def post(db):
    """Post a document with short arguments: post(customer, "invoice", "INV-1", date, "100.00")."""
    from o2c.ledger.services import post_document

    def make(customer, kind, number, on, amount, **extra):
        if isinstance(on, str):
            on = dt.date.fromisoformat(on)
        for key in ("due_date",):
            if isinstance(extra.get(key), str):
                extra[key] = dt.date.fromisoformat(extra[key])
        return post_document(
            customer=customer,
            kind=kind,
            number=number,
            document_date=on,
            amount=Decimal(amount),
            **extra,
        )

    return make


@pytest.fixture
def make_user(db, django_user_model):
    from o2c.teams.models import Membership, Portfolio, Team

    def make(username, *, entity=None, role=None, function="collections", customers=(), **extra):
        user = django_user_model.objects.create_user(username=username, password=None, **extra)
        if entity is not None and role is not None:
            team, _ = Team.objects.get_or_create(
                entity=entity, name=f"{function} team", defaults={"function": function}
            )
            Membership.objects.create(user=user, team=team, role=role)
            if customers:
                portfolio, _ = Portfolio.objects.get_or_create(team=team, name=f"{username} book")
                portfolio.members.add(user)
                portfolio.customers.add(*customers)
        return user

    return make


@pytest.fixture
def chromium_path():
    found = next((path for path in CHROMIUM_PATHS if shutil.which(path)), None)
    if found is None:
        if os.environ.get("O2C_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (O2C_REQUIRE_BROWSER=1) but was not found.")
        pytest.skip("Chromium is not installed; install Debian's chromium to run browser tests.")
    return found


@pytest.fixture
def browser(chromium_path):
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
    # from a thread with a running loop unless told that this test process is safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(live_server):
    """Sign a person in through the real login form."""

    def sign_in(page, username, password):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")

    return sign_in


REDIS_BROKER_URL = "redis://127.0.0.1:6379/14"


class RedisWorker:
    """A real Celery worker thread consuming a private queue on the local Redis broker.

    The test thread waits for the worker to finish each task run before it reads the
    database, because in-memory SQLite rejects a read while another connection writes.
    """

    def __init__(self, queue_name: str):
        self.queue_name = queue_name
        self.finished_runs = queue.Queue()

    def run(self, task, *, args=(), until, timeout: float = 30) -> bool:
        """Send the task and wait until `until()` is true after one of its runs."""
        task.apply_async(args=args, queue=self.queue_name)
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self.finished_runs.get(timeout=remaining)
            except queue.Empty:
                return False
            if until():
                return True
        return False


@pytest.fixture
def redis_worker():
    redis = pytest.importorskip("redis")
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from o2c.celery import app

    try:
        redis.Redis.from_url(REDIS_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    worker = RedisWorker(f"o2c-test-{uuid.uuid4().hex}")

    def task_finished(**kwargs):
        # The worker thread has its own database connection. Closing it lets the test
        # database be dropped at the end of the session.
        connections.close_all()
        worker.finished_runs.put(kwargs.get("task_id"))

    keys = ("broker_url", "task_always_eager", "task_default_queue", "result_backend")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url=REDIS_BROKER_URL,
        task_always_eager=False,
        task_default_queue=worker.queue_name,
        result_backend=None,
    )
    # Celery caches its connection and producer pools on first use; earlier tests may
    # have made them for the in-memory transport.
    app._pool = None
    app.amqp._producer_pool = None
    task_postrun.connect(task_finished, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[worker.queue_name]):
            yield worker
    finally:
        task_postrun.disconnect(task_finished)
        app.conf.update(saved)
        app._pool = None
        app.amqp._producer_pool = None


class SmtpInbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def texts(self) -> list[str]:
        import email
        from email import policy

        texts = []
        for envelope in self.messages:
            message = email.message_from_bytes(envelope.content, policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            subject = str(message["Subject"]).strip()
            texts.append(f"Subject: {subject}\n{body.get_content() if body else ''}")
        return texts

    def to(self, address: str) -> list[str]:
        return [
            text
            for envelope, text in zip(self.messages, self.texts(), strict=True)
            if address in envelope.rcpt_tos
        ]


@pytest.fixture
def local_smtp(settings):
    """Start a local SMTP server with an aiosmtpd handler and point Django's e-mail at it.

    Returns the handler, which keeps what the server receives.
    """
    from aiosmtpd.controller import Controller

    controllers = []

    def start(handler):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(local_smtp):
    return local_smtp(SmtpInbox())
