"""Promises to pay kept or broken, and the collector's worklist."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from o2c.collections.errors import CollectionsError
from o2c.collections.models import PromiseStatus
from o2c.collections.services import log_contact, record_promise, review_promises
from o2c.collections.worklist import build_worklist
from o2c.disputes.models import Dispute
from o2c.ledger.services import allocate
from o2c.teams.models import MemberSettings, Membership, WorkItem, WorkKind

D = Decimal
TODAY = dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_promise_kept_when_payment_applied(frozen, entity, customer, post, make_user):
    collector = make_user("ana", entity=entity, role="member", customers=[customer])
    invoice = post(customer, "invoice", "INV-1", "2025-01-01", "500.00", due_date="2025-02-01")
    promise = record_promise(
        customer,
        documents=[invoice],
        amount="500.00",
        promised_on=dt.date(2025, 3, 15),
        actor=collector,
    )
    payment = post(customer, "payment", "PAY-1", "2025-03-12", "500.00")

    allocate(invoice, payment, on=dt.date(2025, 3, 12))
    review_promises(customer_ids=[customer.pk])

    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    assert promise.paid_amount == D("500.00")
    assert promise.settled_on == dt.date(2025, 3, 12)


def test_promise_broken_opens_follow_up(entity, customer, post, make_user):
    collector = make_user("ana", entity=entity, role="member", customers=[customer])
    invoice = post(customer, "invoice", "INV-1", "2025-01-01", "500.00", due_date="2025-02-01")
    with time_machine.travel(TODAY, tick=False):
        promise = record_promise(
            customer,
            documents=[invoice],
            amount="300.00",
            promised_on=dt.date(2025, 3, 14),
            actor=collector,
        )
    payment = post(customer, "payment", "PAY-1", "2025-03-13", "100.00")
    allocate(invoice, payment, on=dt.date(2025, 3, 13))

    # within the two grace days nothing happens; after them the promise is broken
    assert review_promises(today=dt.date(2025, 3, 16)) == {"kept": 0, "broken": 0}
    assert review_promises(today=dt.date(2025, 3, 17)) == {"kept": 0, "broken": 1}

    promise.refresh_from_db()
    assert promise.status == PromiseStatus.BROKEN
    assert promise.paid_amount == D("100.00")
    follow_up = WorkItem.objects.get(kind=WorkKind.PROMISE_FOLLOW_UP)
    assert follow_up.owner == collector
    assert follow_up.customer == customer
    assert f"promised 300.00 {customer.currency} by 2025-03-14" in follow_up.title


def test_promise_rejects_more_than_open(frozen, entity, customer, post, make_user):
    collector = make_user("ana", entity=entity, role="member", customers=[customer])
    invoice = post(customer, "invoice", "INV-1", "2025-01-01", "500.00", due_date="2025-02-01")

    with pytest.raises(CollectionsError) as raised:
        record_promise(
            customer,
            documents=[invoice],
            amount="600.00",
            promised_on=dt.date(2025, 3, 15),
            actor=collector,
        )
    assert raised.value.code == "promise_exceeds_open"
    with pytest.raises(CollectionsError) as raised:
        record_promise(
            customer,
            documents=[invoice],
            amount="100.00",
            promised_on=dt.date(2025, 3, 1),
            actor=collector,
        )
    assert raised.value.code == "promise_in_past"


def _overdue_book(entity, make_customer, post):
    big = make_customer(entity, name="Big old")
    small = make_customer(entity, name="Small new")
    disputed = make_customer(entity, name="Disputed")
    post(big, "invoice", "B-1", "2024-10-01", "9000.00", due_date="2024-10-31")
    post(small, "invoice", "S-1", "2025-02-01", "1000.00", due_date="2025-03-01")
    invoice = post(disputed, "invoice", "D-1", "2024-10-01", "50000.00", due_date="2024-10-31")
    Dispute.objects.create(
        entity=entity,
        customer=disputed,
        invoice=invoice,
        amount=D("50000.00"),
        currency="EUR",
        reason="pricing",
        opened_on=dt.date(2024, 11, 5),
    )
    return big, small, disputed


def test_worklist_orders_by_expected_value(frozen, entity, make_customer, post, make_user):
    big, small, disputed = _overdue_book(entity, make_customer, post)
    collector = make_user("ana", entity=entity, role="member", customers=[big, small, disputed])

    worklist = build_worklist(collector, entity)

    # 9,000 × 0.35 (130 days) × 1.2 (no history) × 1.0 ranks above 1,000 × 0.05 × 1.2
    assert [entry.customer for entry in worklist.entries] == [big, small]
    top = worklist.entries[0]
    # insights is installed, but without a trained model it leaves every row to the heuristic
    assert worklist.model == "heuristic"
    assert top.probability == D("0.600")
    assert top.measure == "probability of loss"
    assert top.score == D("5400.00")
    assert "9000.00 EUR overdue and undisputed" in top.reasons[0]
    assert "oldest item 130 days past due" in top.reasons[1]
    assert top.reasons[1].startswith("probability of loss 0.600 (heuristic: ")
    assert "no contact recorded" in top.reasons[2]


def test_worklist_respects_capacity_and_contacts(frozen, entity, make_customer, post, make_user):
    big, small, disputed = _overdue_book(entity, make_customer, post)
    collector = make_user("ana", entity=entity, role="member", customers=[big, small, disputed])
    membership = Membership.objects.get(user=collector)
    MemberSettings.objects.create(membership=membership, worklist_size=1)

    assert [entry.customer for entry in build_worklist(collector, entity).entries] == [big]
    log_contact(big, actor=collector, kind="call", outcome="no_answer")
    after = build_worklist(collector, entity)

    assert after.entries == []
    assert [entry.customer for entry in after.worked_today] == [big]
    assert after.beyond_capacity == 1


def test_worklist_uses_configured_loss_model(
    frozen, entity, make_customer, post, make_user, settings
):
    big, small, disputed = _overdue_book(entity, make_customer, post)
    collector = make_user("ana", entity=entity, role="member", customers=[big, small, disputed])
    settings.O2C_LOSS_MODEL = "o2c.collections.tests.test_promises_worklist.FixedModel"

    worklist = build_worklist(collector, entity)

    assert worklist.model == "fixed"
    assert [entry.customer for entry in worklist.entries] == [small, big]
    assert "fixed: from a test" in worklist.entries[0].reasons[1]
    assert worklist.entries[0].measure == "probability of loss"


class FixedModel:
    name = "fixed"

    def estimate(self, facts, as_of):
        # An estimate with only the older fields, as a model written before `measure` returns.
        return {
            fact.customer_id: SimpleNamespace(
                probability=D("0.9") if fact.overdue_base < 5000 else D("0.01"),
                reasons=["from a test"],
                model=self.name,
            )
            for fact in facts
        }


def test_worklist_scope_and_queries(
    frozen, entity, make_customer, post, make_user, django_assert_max_num_queries
):
    big, small, disputed = _overdue_book(entity, make_customer, post)
    others = [make_customer(entity) for _ in range(20)]
    for index, other in enumerate(others):
        post(other, "invoice", f"O-{index}", "2025-01-01", "10.00", due_date="2025-02-01")
    collector = make_user("ana", entity=entity, role="member", customers=[small])
    make_user("ben", entity=entity, role="member", customers=[big, *others])

    with django_assert_max_num_queries(14):
        worklist = build_worklist(collector, entity)

    assert [entry.customer for entry in worklist.entries] == [small]
