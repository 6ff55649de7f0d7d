"""Outbound webhooks: events from billing, payments and disputes, signed, retried with
back-off against a local receiver, and logged for administrators."""

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.urls import reverse

from o2c.disputes.services import open_dispute, reject_dispute
from o2c.ledger.services import allocate
from o2c.webhooks import services
from o2c.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from o2c.webhooks.tasks import send_due_deliveries_task

D = Decimal

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on 127.0.0.1 that returns scripted status codes."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0)
                    if len(receiver.statuses) > 1
                    else (receiver.statuses[0])
                )
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"thanks" if status < 300 else b"busy")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/o2c"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(200,)):
        server = Receiver(statuses)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


def test_signature_is_hmac_of_timestamp_and_body():
    body = b'{"id":"evt_1"}'

    header = services.sign("whsec_test", 1700000000, body)

    assert header == (
        "t=1700000000,v1="
        + __import__("hmac").new(b"whsec_test", b"1700000000." + body, "sha256").hexdigest()
    )
    assert services.verify("whsec_test", header, body, now=1700000100)
    assert not services.verify("whsec_test", header, body + b" ", now=1700000100)
    assert not services.verify("whsec_other", header, body, now=1700000100)
    assert not services.verify("whsec_test", header, body, now=1700000400)


def test_posted_invoice_is_delivered_signed(
    receiver, buyer, bill, django_capture_on_commit_callbacks
):
    # given an endpoint for invoice events
    server = receiver()
    endpoint = services.create_endpoint(server.url, event_types=["invoice.posted"])

    # when billing posts an invoice
    with django_capture_on_commit_callbacks(execute=True):
        invoice = bill(buyer, "100.00")

    # then one signed request describes it
    headers, body = server.received[0]
    payload = json.loads(body)
    assert len(server.received) == 1
    assert headers["O2C-Event-Type"] == "invoice.posted"
    assert services.verify(endpoint.secret, headers["O2C-Signature"], body)
    assert payload["type"] == "invoice.posted"
    assert payload["data"]["invoice"]["number"] == invoice.number
    assert payload["data"]["invoice"]["amount"] == "120.00"
    assert payload["data"]["invoice"]["customer"]["number"] == "C0001"
    assert payload["data"]["invoice"]["reference"] == invoice.creditor_reference
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts.get().status_code == 200


def test_payment_and_dispute_events(
    receiver, buyer, bill, post, make_user, django_capture_on_commit_callbacks
):
    server = receiver()
    services.create_endpoint(server.url, event_types=[])
    lead = make_user("lea", entity=buyer.entity, role="lead", function="disputes")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = bill(buyer, "100.00")

    with django_capture_on_commit_callbacks(execute=True):
        payment = post(buyer, "payment", "BANK-1", "2025-03-20", "50.00")
        allocate(invoice.document, payment, on=payment.document_date)
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(
            buyer, lines=[(invoice.document, D("10.00"), "")], reason="pricing", actor=None
        )[0]
    with django_capture_on_commit_callbacks(execute=True):
        reject_dispute(dispute, actor=lead, reason="price as agreed", notify_customer=False)

    types = [json.loads(body)["type"] for _, body in server.received]
    assert types == [
        "invoice.posted",
        "payment.received",
        "dispute.opened",
        "dispute.resolved",
    ]
    received = json.loads(server.received[1][1])["data"]["payment"]
    assert received["allocations"] == [{"invoice": invoice.number, "amount": "50.00"}]
    resolved = json.loads(server.received[3][1])["data"]["dispute"]
    assert (resolved["status"], resolved["resolution"]) == ("rejected", "rejected")


def test_failed_delivery_is_retried_with_back_off(
    receiver, buyer, bill, django_capture_on_commit_callbacks
):
    # given a receiver that fails twice before returning 200
    server = receiver([500, 503, 200])
    services.create_endpoint(server.url)

    # when an invoice is posted at 10:00 (without a broker the sweep sends retries)
    with (
        time_machine.travel("2025-03-03 10:00:00+00:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        bill(buyer, "100.00")
    delivery = WebhookDelivery.objects.get()
    first_retry_at = delivery.next_attempt_at

    # then the sweep does not resend before the back-off ends, and does after it
    with time_machine.travel("2025-03-03 10:00:20+00:00", tick=False):
        assert send_due_deliveries_task.apply().result == 0
    with time_machine.travel("2025-03-03 10:00:31+00:00", tick=False):
        assert send_due_deliveries_task.apply().result == 1
    delivery.refresh_from_db()
    second_retry_at = delivery.next_attempt_at
    with time_machine.travel("2025-03-03 10:01:32+00:00", tick=False):
        assert send_due_deliveries_task.apply().result == 1

    # and the log shows 30 s then 60 s of back-off, and the success
    delivery.refresh_from_db()
    attempts = list(delivery.attempts.order_by("number"))
    assert [attempt.status_code for attempt in attempts] == [500, 503, 200]
    assert [attempt.retry_in_seconds for attempt in attempts] == [30, 60, None]
    assert first_retry_at == dt.datetime(2025, 3, 3, 10, 0, 30, tzinfo=dt.UTC)
    assert second_retry_at == dt.datetime(2025, 3, 3, 10, 1, 31, tzinfo=dt.UTC)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(server.received) == 3
    # each attempt carries the same event id, so the receiver can drop repeats
    event_ids = {headers["O2C-Event-Id"] for headers, _ in server.received}
    assert len(event_ids) == 1


def test_gives_up_after_the_last_attempt(receiver, buyer, bill, django_capture_on_commit_callbacks):
    server = receiver([500])
    services.create_endpoint(server.url)
    with django_capture_on_commit_callbacks(execute=True):
        bill(buyer, "100.00")
    delivery = WebhookDelivery.objects.get()

    for _ in range(services.MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        )
        services.send_due_deliveries()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempt_count == services.MAX_ATTEMPTS
    assert delivery.next_attempt_at is None
    assert [a.retry_in_seconds for a in delivery.attempts.order_by("number")] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        None,
    ]


def test_unreachable_endpoint_is_logged(buyer, bill, django_capture_on_commit_callbacks):
    services.create_endpoint("http://127.0.0.1:9/closed")

    with django_capture_on_commit_callbacks(execute=True):
        bill(buyer, "100.00")

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error != ""
    assert attempt.delivery.status == DeliveryStatus.RETRYING


def test_endpoint_of_another_entity_gets_nothing(
    receiver, buyer, bill, make_entity, django_capture_on_commit_callbacks
):
    server = receiver()
    services.create_endpoint(server.url, entity=make_entity(code="DE1"))

    with django_capture_on_commit_callbacks(execute=True):
        bill(buyer, "100.00")

    assert server.received == []
    assert WebhookEvent.objects.count() == 0


def test_same_fact_makes_one_event(buyer, bill):
    services.create_endpoint("http://127.0.0.1:9/x")
    invoice = bill(buyer, "100.00")

    from o2c.webhooks.events import emit_document

    first = emit_document(invoice.document.pk)
    second = emit_document(invoice.document.pk)

    assert first is not None
    assert second is None
    assert WebhookEvent.objects.count() == 1


def test_bad_endpoint_is_refused():
    with pytest.raises(services.WebhookError) as bad_url:
        services.create_endpoint("ftp://example.org/x")
    with pytest.raises(services.WebhookError) as bad_type:
        services.create_endpoint("https://example.org/x", event_types=["invoice.paid"])

    assert bad_url.value.code == "invalid_url"
    assert bad_type.value.code == "unknown_event_type"


def test_delivery_log_is_for_administrators(client, buyer, bill, make_user, receiver):
    server = receiver([500])
    endpoint = services.create_endpoint(server.url)
    admin = make_user("root", entity=buyer.entity, role="admin")
    collector = make_user("cole", entity=buyer.entity, role="member")
    invoice = bill(buyer, "100.00")
    from o2c.webhooks.events import emit_document

    emit_document(invoice.document.pk)
    delivery = WebhookDelivery.objects.get()
    services.attempt_delivery(delivery.pk)

    client.force_login(collector)
    denied = [
        client.get(reverse("webhooks:endpoint_list")).status_code,
        client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk])).status_code,
        client.get(reverse("webhooks:delivery_detail", args=[delivery.pk])).status_code,
        client.post(reverse("webhooks:redeliver", args=[delivery.pk])).status_code,
    ]
    client.force_login(admin)
    log = client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk]))
    detail = client.get(reverse("webhooks:delivery_detail", args=[delivery.pk]))

    assert denied == [403, 403, 403, 403]
    assert log.status_code == 200
    assert delivery.event.event_id in log.content.decode()
    assert "500" in detail.content.decode()


def test_admin_adds_endpoint_and_sees_secret_once(client, buyer, make_user):
    admin = make_user("root", entity=buyer.entity, role="admin")
    client.force_login(admin)

    response = client.post(
        reverse("webhooks:endpoint_list"),
        {"url": "https://erp.example.org/o2c", "event_types": ["payment.received"]},
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["payment.received"]
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()


def test_retries_through_a_redis_worker(
    settings, receiver, buyer, bill, transactional_db, redis_worker
):
    """The broker path: Celery's own retry with countdown on a real Redis worker."""
    from o2c.webhooks.events import emit_document
    from o2c.webhooks.tasks import deliver_webhook_task

    settings.O2C_WEBHOOK_BACKOFF_SECONDS = 1
    server = receiver([500, 200])
    services.create_endpoint(server.url)
    invoice = bill(buyer, "100.00")
    emit_document(invoice.document.pk)
    delivery = WebhookDelivery.objects.get()

    def succeeded():
        delivery.refresh_from_db()
        return delivery.status == DeliveryStatus.SUCCEEDED

    assert redis_worker.run(deliver_webhook_task, args=[delivery.pk], until=succeeded)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a.status_code for a in delivery.attempts.order_by("number")] == [500, 200]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/customers/",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "http://169.254.169.254/latest/",
        "http://[::1]:9000/hook",
    ],
)
def test_private_endpoint_addresses_are_refused(settings, db, url):
    settings.O2C_WEBHOOK_ALLOW_PRIVATE = False

    with pytest.raises(services.WebhookError) as raised:
        services.create_endpoint(url)

    assert raised.value.code == "private_address"
    assert "O2C_WEBHOOK_ALLOW_PRIVATE" in raised.value.message


def test_delivery_to_an_address_turned_private_is_not_sent(
    settings, receiver, buyer, bill, django_capture_on_commit_callbacks
):
    # given an endpoint registered while private receivers were allowed
    server = receiver([200])
    services.create_endpoint(server.url)
    settings.O2C_WEBHOOK_ALLOW_PRIVATE = False

    # when an invoice is posted
    with django_capture_on_commit_callbacks(execute=True):
        bill(buyer, "100.00")

    # then the attempt fails before any request is made
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert attempt.status_code is None
    assert "non-public address" in attempt.error
    assert server.received == []


def test_without_broker_delivery_waits_for_the_sweep(
    settings, receiver, buyer, bill, django_capture_on_commit_callbacks
):
    # given no broker, so tasks would run inside the request
    settings.O2C_WEBHOOKS_SEND_INLINE = False
    server = receiver([200])
    services.create_endpoint(server.url)

    # when an invoice is posted, and later the scheduler's sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        bill(buyer, "100.00")
    sent_in_request = list(server.received)
    send_due_deliveries_task()

    # then nothing was sent during the request, and the sweep sent it
    assert sent_in_request == []
    assert len(server.received) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
