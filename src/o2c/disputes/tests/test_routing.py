"""Who works on a dispute that has no team, or whose team has no active member."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from o2c.disputes.errors import DisputeError
from o2c.disputes.models import (
    Dispute,
    DisputeReason,
    DisputeStatus,
    WriteOffPolicy,
    WriteOffStatus,
)
from o2c.disputes.services import (
    can_work_on,
    decide_write_off,
    open_dispute,
    reject_dispute,
    request_write_off,
)
from o2c.ledger.services import open_amount
from o2c.teams.models import Role, Team

D = Decimal


@pytest.fixture
def unrouted(entity, customer, make_user, post):
    """An imported open dispute with no team, a disputes desk and a collector."""
    invoice = post(customer, "invoice", "IMP-1", "2025-01-01", "1000.00", due_date="2025-01-31")
    dispute = Dispute.objects.create(
        entity=entity,
        customer=customer,
        invoice=invoice,
        amount=D("1000.00"),
        currency=invoice.currency,
        reason=DisputeReason.UNSPECIFIED,
        status=DisputeStatus.OPEN,
        source="import",
    )
    return {
        "dispute": dispute,
        "invoice": invoice,
        "analyst": make_user("dora", entity=entity, role=Role.MEMBER, function="disputes"),
        "lead": make_user("dan", entity=entity, role=Role.LEAD, function="disputes"),
        "collector": make_user("cole", entity=entity, role=Role.MEMBER, customers=[customer]),
        "leader": make_user("lee", entity=entity, role=Role.LEADER, function="credit"),
    }


def test_disputes_member_sees_unrouted_dispute(unrouted, client):
    dispute = unrouted["dispute"]
    client.force_login(unrouted["analyst"])

    page = client.get(reverse("disputes:detail", args=[dispute.pk]))
    assert page.status_code == 200
    assert "worked on by disputes team" in page.content.decode()
    listed = client.get("/api/disputes/").json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == dispute.pk


def test_who_may_resolve_unrouted_dispute(unrouted, django_user_model):
    dispute = unrouted["dispute"]
    admin = django_user_model.objects.create_superuser("root", password=None)

    assert can_work_on(unrouted["analyst"], dispute) is True
    assert can_work_on(unrouted["lead"], dispute) is True
    assert can_work_on(unrouted["leader"], dispute) is True
    assert can_work_on(admin, dispute) is True
    assert can_work_on(unrouted["collector"], dispute) is False


def test_disputes_member_rejects_unrouted_dispute(unrouted, client):
    dispute = unrouted["dispute"]
    client.force_login(unrouted["analyst"])

    client.post(
        reverse("disputes:resolve", args=[dispute.pk]),
        {"how": "reject", "note": "Goods were delivered as ordered."},
    )

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED
    assert dispute.resolved_by == unrouted["analyst"]


def test_collector_cannot_resolve_unrouted_dispute(unrouted):
    with pytest.raises(DisputeError) as raised:
        reject_dispute(unrouted["dispute"], actor=unrouted["collector"], reason="no")
    assert raised.value.code == "not_your_dispute"
    assert "disputes team" in raised.value.message


def test_leader_resolves_dispute_without_any_team(
    make_entity, make_customer, make_user, post, django_user_model
):
    bare = make_entity("B1")
    customer = make_customer(bare)
    invoice = post(customer, "invoice", "B-1", "2025-01-01", "50.00")
    dispute = Dispute.objects.create(
        entity=bare,
        customer=customer,
        invoice=invoice,
        amount=D("50.00"),
        currency=invoice.currency,
        reason=DisputeReason.UNSPECIFIED,
        status=DisputeStatus.OPEN,
        source="import",
    )
    leader = make_user("lee", entity=bare, role=Role.LEADER, function="credit")

    reject_dispute(dispute, actor=leader, reason="Paid in full.", notify_customer=False)

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED


def test_other_entity_cannot_reach_dispute(unrouted, make_entity, make_user, client):
    away = make_entity("A1")
    outsider = make_user("out", entity=away, role=Role.LEADER, function="disputes")
    dispute = unrouted["dispute"]
    client.force_login(outsider)

    assert can_work_on(outsider, dispute) is False
    assert client.get(reverse("disputes:detail", args=[dispute.pk])).status_code == 404
    assert client.get("/api/disputes/").json()["count"] == 0


def test_write_off_of_unrouted_dispute_needs_second_person(unrouted, entity):
    WriteOffPolicy.objects.create(entity=entity, approval_threshold_amount=D("200.00"))
    dispute = unrouted["dispute"]

    request = request_write_off(dispute, actor=unrouted["leader"], reason="goodwill")
    assert request.status == WriteOffStatus.PENDING
    assert request.work_item.team.function == "disputes"

    with pytest.raises(DisputeError) as raised:
        decide_write_off(request, approver=unrouted["leader"], approve=True)
    assert raised.value.code == "approver_is_requester"
    with pytest.raises(DisputeError) as raised:
        decide_write_off(request, approver=unrouted["analyst"], approve=True)
    assert raised.value.code == "approver_not_lead"
    decide_write_off(request, approver=unrouted["lead"], approve=True, note="agreed")

    request.refresh_from_db()
    assert request.status == WriteOffStatus.APPROVED
    assert open_amount(unrouted["invoice"]) == D("0.00")


def test_dispute_skips_team_without_members(entity, customer, make_user, post):
    Team.objects.create(entity=entity, name="Sales", function="sales")
    analyst = make_user("dora", entity=entity, role=Role.MEMBER, function="disputes")
    invoice = post(customer, "invoice", "P-1", "2025-01-01", "100.00")

    (dispute,) = open_dispute(
        customer, lines=[(invoice, "40.00", "")], reason="pricing", actor=analyst
    )

    assert dispute.team.function == "disputes"
    assert dispute.owner == analyst


def test_dispute_of_team_that_lost_members_falls_back(entity, customer, make_user, post, client):
    seller = make_user("sam", entity=entity, role=Role.MEMBER, function="sales")
    analyst = make_user("dora", entity=entity, role=Role.MEMBER, function="disputes")
    invoice = post(customer, "invoice", "P-2", "2025-01-01", "100.00")
    (dispute,) = open_dispute(
        customer, lines=[(invoice, "40.00", "")], reason="pricing", actor=seller
    )
    assert dispute.team.function == "sales"
    seller.is_active = False
    seller.save()

    client.force_login(analyst)
    assert client.get(reverse("disputes:detail", args=[dispute.pk])).status_code == 200
    assert can_work_on(analyst, dispute) is True


def test_migration_routes_open_unrouted_disputes(unrouted, entity, customer):
    closed = Dispute.objects.create(
        entity=entity,
        customer=customer,
        invoice=unrouted["invoice"],
        amount=D("10.00"),
        currency=unrouted["invoice"].currency,
        reason=DisputeReason.UNSPECIFIED,
        status=DisputeStatus.RESOLVED,
        source="import",
    )
    migration = importlib.import_module("o2c.disputes.migrations.0004_route_unrouted_disputes")

    migration.route_unrouted(apps, None)

    unrouted["dispute"].refresh_from_db()
    closed.refresh_from_db()
    assert unrouted["dispute"].team == Team.objects.get(entity=entity, function="disputes")
    assert closed.team is None
