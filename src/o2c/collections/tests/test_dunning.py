"""Dunning runs: steps, fees and interest as charges, time zones, holds, letters, inbound."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from o2c.collections.models import (
    CollectionsPolicy,
    CustomerHold,
    DunningNotice,
    DunningNoticeItem,
    InboundMessage,
    NoticeStatus,
    StepChannel,
)
from o2c.collections.services import (
    plan_dunning,
    record_inbound,
    record_promise,
    run_dunning,
    waive_charge,
)
from o2c.ledger.models import Document, DocumentKind
from o2c.ledger.services import allocate, open_amount
from o2c.teams.models import WorkItem, WorkKind

D = Decimal
LEVEL_2 = [
    ("First reminder", 7, "email", "", "first"),
    ("Second reminder", 30, "email", "", "second"),
]


def test_fees_and_interest_are_separate_charges(entity, customer, post, make_strategy, contact):
    # given a 1,000.00 invoice 30 days overdue at a step with 5 % interest and a 15.00 fee
    strategy = make_strategy(entity, steps=LEVEL_2)
    strategy.steps.filter(sequence=2).update(fee_amount=D("15.00"), charge_interest=True)
    CollectionsPolicy.objects.create(
        entity=entity, charge_fees=True, charge_interest=True, annual_interest_percent=D("5")
    )
    contact(customer)
    invoice = post(customer, "invoice", "INV-1", "2025-01-01", "1000.00", due_date="2025-01-31")

    # when the run of 2025-03-02 (30 days past due) is executed
    run = run_dunning(entity, dt.date(2025, 3, 2))

    # then interest is 1,000.00 × 5 % × 30 / 365 = 4.11, the fee 15.00, the total 1,019.11
    notice = run.notices.get()
    assert notice.interest_document.kind == DocumentKind.CHARGE
    assert notice.interest_document.amount == D("4.11")
    assert notice.fee_document.amount == D("15.00")
    assert notice.total_due == D("1019.11")
    assert "1.019,11" in notice.body or "1,019.11" in notice.body

    # when the customer pays exactly the principal
    payment = post(customer, "payment", "PAY-1", "2025-03-05", "1000.00")
    allocate(invoice, payment, on=dt.date(2025, 3, 5))

    # then the invoice is closed, the charges stay open, and a new run keeps them
    assert open_amount(invoice) == D("0")
    charges = Document.objects.filter(kind=DocumentKind.CHARGE)
    assert sum(open_amount(charge) for charge in charges) == D("19.11")
    later = run_dunning(entity, dt.date(2025, 3, 10))
    assert not DunningNoticeItem.objects.filter(notice__run=later, document=invoice).exists()
    assert Document.objects.filter(kind=DocumentKind.CHARGE).count() == 2


def test_waived_charge_is_logged_reversal(entity, customer, post, make_strategy, contact):
    strategy = make_strategy(entity, steps=LEVEL_2)
    strategy.steps.update(fee_amount=D("15.00"))
    CollectionsPolicy.objects.create(entity=entity, charge_fees=True)
    contact(customer)
    post(customer, "invoice", "INV-1", "2025-01-01", "100.00", due_date="2025-01-31")
    run = run_dunning(entity, dt.date(2025, 2, 10))
    fee = run.notices.get().fee_document

    waive_charge(fee, actor=None, reason="goodwill after a call")

    assert open_amount(fee) == D("0")
    assert customer.timeline.filter(kind="reversed", summary__contains="goodwill").exists()


def test_interest_not_charged_twice_for_same_days(entity, customer, post, make_strategy, contact):
    strategy = make_strategy(entity, steps=LEVEL_2)
    strategy.steps.update(charge_interest=True)
    CollectionsPolicy.objects.create(
        entity=entity, charge_interest=True, annual_interest_percent=D("10"), day_count_basis=360
    )
    contact(customer)
    post(customer, "invoice", "INV-1", "2025-01-01", "3600.00", due_date="2025-01-31")

    first = run_dunning(entity, dt.date(2025, 2, 10))
    second = run_dunning(entity, dt.date(2025, 3, 5))

    # 10 days at 10 % on actual/360 = 10.00; then only the 23 days since = 23.00
    assert first.notices.get().interest_document.amount == D("10.00")
    assert second.notices.get().interest_document.amount == D("23.00")


def test_fees_off_by_default(entity, customer, post, make_strategy, contact):
    strategy = make_strategy(entity, steps=LEVEL_2)
    strategy.steps.update(fee_amount=D("15.00"), charge_interest=True)
    contact(customer)
    post(customer, "invoice", "INV-1", "2025-01-01", "100.00", due_date="2025-01-31")

    run = run_dunning(entity, dt.date(2025, 3, 5))

    assert run.notices.get().fee_document is None
    assert not Document.objects.filter(kind=DocumentKind.CHARGE).exists()


@pytest.mark.parametrize(
    ("time_zone", "instant", "days_past_due"),
    [
        ("America/Chicago", dt.datetime(2027, 4, 1, 1, 0, tzinfo=dt.UTC), 0),
        ("Asia/Tokyo", dt.datetime(2027, 3, 31, 23, 0, tzinfo=dt.UTC), 1),
    ],
)
def test_overdue_on_entity_local_date(
    make_entity, make_customer, post, make_strategy, contact, time_zone, instant, days_past_due
):
    # given an invoice due 2027-03-31 and a reminder one day after the due date
    entity = make_entity(code="TZ", base_currency="USD", time_zone=time_zone)
    customer = make_customer(entity)
    contact(customer)
    make_strategy(entity, steps=[("Day after", 1, "email", "", "first")])
    post(customer, "invoice", "INV-1", "2027-03-01", "100.00", due_date="2027-03-31")

    # when the run takes today at that instant
    with time_machine.travel(instant, tick=False):
        today = entity.today()
        plan = plan_dunning(entity, today)

    # then Chicago is still on the due date (no reminder) and Tokyo one day past it
    assert (today - dt.date(2027, 3, 31)).days == days_past_due
    assert len(plan.notices) == days_past_due
    if plan.notices:
        assert "2027-03-31" in plan.notices[0].body


def test_step_never_repeats_even_when_forced(entity, customer, post, make_strategy, contact):
    make_strategy(entity, steps=LEVEL_2)
    contact(customer)
    post(customer, "invoice", "INV-1", "2025-01-01", "100.00", due_date="2025-01-31")
    run_dunning(entity, dt.date(2025, 2, 10))
    item = DunningNoticeItem.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        DunningNoticeItem.objects.create(
            notice=item.notice,
            document=item.document,
            step=item.step,
            open_amount=D("100.00"),
            days_past_due=10,
        )
    assert run_dunning(entity, dt.date(2025, 2, 12)).notices.count() == 0
    # the next step still comes when its day is reached
    assert run_dunning(entity, dt.date(2025, 3, 5)).notices.get().step.sequence == 2


def test_promised_invoice_is_left_out(entity, customer, post, make_strategy, contact, make_user):
    make_strategy(entity, steps=LEVEL_2)
    contact(customer)
    collector = make_user("ana", entity=entity, role="member", customers=[customer])
    invoice = post(customer, "invoice", "INV-1", "2025-01-01", "100.00", due_date="2025-01-31")
    with time_machine.travel(dt.datetime(2025, 2, 9, 12, tzinfo=dt.UTC)):
        record_promise(
            customer,
            documents=[invoice],
            amount="100.00",
            promised_on=dt.date(2025, 2, 15),
            actor=collector,
        )

    plan = plan_dunning(entity, dt.date(2025, 2, 10))

    assert plan.notices == []
    assert [skip["reason"] for skip in plan.skipped] == ["promised"]


def test_no_email_falls_back_to_pdf_letter(
    entity, customer, post, make_strategy, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    make_strategy(entity, steps=LEVEL_2)
    post(customer, "invoice", "INV-1", "2025-01-01", "100.00", due_date="2025-01-31")

    run = run_dunning(entity, dt.date(2025, 2, 10))

    notice = run.notices.get()
    assert notice.channel == StepChannel.LETTER
    assert notice.status == NoticeStatus.READY_TO_PRINT
    with notice.letter.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert str(notice.letter.path).startswith(str(tmp_path))


def test_call_step_and_hold_action(entity, customer, post, make_strategy, contact, make_user):
    # given a collections team and an invoice 50 days overdue, then one 20 days overdue
    make_user("ana", entity=entity, role="member", customers=[customer])
    make_strategy(entity)
    contact(customer)
    post(customer, "invoice", "INV-OLD", "2025-01-01", "500.00", due_date="2025-01-10")
    post(customer, "invoice", "INV-NEW", "2025-02-01", "80.00", due_date="2025-02-09")

    run = run_dunning(entity, dt.date(2025, 3, 1))

    # then the old one puts new orders on hold and the newer one opens a call task
    customer.refresh_from_db()
    assert customer.is_blocked
    assert CustomerHold.objects.get().notice.run == run
    call = WorkItem.objects.get(kind=WorkKind.COLLECTION_CALL)
    assert call.customer == customer
    assert call.owner.username == "ana"


def test_bounce_and_reply_recorded(entity, customer, post, make_strategy, contact, make_user):
    make_user("ana", entity=entity, role="member", customers=[customer])
    make_strategy(entity, steps=LEVEL_2)
    contact(customer)
    post(customer, "invoice", "INV-1", "2025-01-01", "100.00", due_date="2025-01-31")
    run = run_dunning(entity, dt.date(2025, 2, 10))
    notice = run.notices.get()
    DunningNotice.objects.filter(pk=notice.pk).update(
        message_id="<abc@o2c.local>", status=NoticeStatus.SENT
    )
    bounce = (
        b"From: MAILER-DAEMON@example.test\r\nTo: o2c@localhost\r\n"
        b"Message-ID: <b1@example.test>\r\nSubject: Undelivered Mail\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="X"\r\n\r\n'
        b"--X\r\nContent-Type: text/plain\r\n\r\nMailbox unknown\r\n"
        b"--X\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <abc@o2c.local>\r\nSubject: Payment reminder\r\n\r\n--X--\r\n"
    )
    reply = (
        b"From: ap@example.test\r\nTo: o2c@localhost\r\nMessage-ID: <r1@example.test>\r\n"
        b"In-Reply-To: <abc@o2c.local>\r\nSubject: Re: Payment reminder\r\n\r\n"
        b"We paid yesterday.\r\n"
    )

    first = record_inbound(bounce)
    second = record_inbound(reply)
    again = record_inbound(reply)

    notice.refresh_from_db()
    assert first.kind == "bounce"
    assert notice.status == NoticeStatus.BOUNCED
    assert second.kind == "reply"
    assert "We paid yesterday." in second.text
    assert again.pk == second.pk
    assert InboundMessage.objects.count() == 2
    assert WorkItem.objects.filter(customer=customer, kind=WorkKind.GENERAL).count() == 2
    assert customer.timeline.filter(kind="reminder_bounce").exists()


def test_execute_refuses_future_date(entity, customer, make_strategy):
    make_strategy(entity)
    from o2c.collections.errors import CollectionsError

    with pytest.raises(CollectionsError) as raised:
        run_dunning(entity, entity.today() + dt.timedelta(days=1))
    assert raised.value.code == "dunning_in_future"


def test_run_queries_do_not_grow_with_documents(
    entity, make_customer, post, make_strategy, contact, django_assert_max_num_queries
):
    make_strategy(entity, steps=LEVEL_2)
    for index in range(30):
        customer = make_customer(entity)
        contact(customer)
        post(customer, "invoice", f"INV-{index}", "2025-01-01", "10.00", due_date="2025-01-31")

    with django_assert_max_num_queries(12):
        plan = plan_dunning(entity, dt.date(2025, 2, 10))
    assert len(plan.notices) == 30
