"""Dispute cases: routing, evidence, credit notes, write-off approval, rejection, report."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from o2c.disputes.errors import DisputeError
from o2c.disputes.models import DisputeStatus, Resolution, WriteOffPolicy, WriteOffStatus
from o2c.disputes.selectors import disputes_for, root_cause_report
from o2c.disputes.services import (
    attach_evidence,
    decide_write_off,
    open_dispute,
    reject_dispute,
    request_write_off,
    resolve_by_credit_note,
)
from o2c.ledger.models import DocumentKind
from o2c.ledger.services import open_amount
from o2c.teams.models import Role, Team, WorkItem, WorkKind

D = Decimal


@pytest.fixture
def desk(entity, customer, make_user, post):
    """A disputes team with a lead and two analysts, a sales team, and two invoices."""
    analyst = make_user(
        "dora", entity=entity, role=Role.MEMBER, function="disputes", customers=[customer]
    )
    second = make_user("dan", entity=entity, role=Role.LEAD, function="disputes")
    other_lead = make_user("lou", entity=entity, role=Role.LEAD, function="disputes")
    seller = make_user(
        "sam", entity=entity, role=Role.MEMBER, function="sales", customers=[customer]
    )
    invoices = [
        post(customer, "invoice", "INV-1", "2025-01-01", "1000.00", due_date="2025-01-31"),
        post(customer, "invoice", "INV-2", "2025-01-05", "400.00", due_date="2025-02-04"),
    ]
    return {
        "analyst": analyst,
        "lead": second,
        "other_lead": other_lead,
        "seller": seller,
        "invoices": invoices,
        "team": Team.objects.get(entity=entity, function="disputes"),
    }


def test_case_on_two_invoices_routed_to_sales(desk, customer):
    disputes = open_dispute(
        customer,
        lines=[(desk["invoices"][0], "100.00", "line 2"), (desk["invoices"][1], "400.00", "")],
        reason="pricing",
        actor=desk["analyst"],
    )

    assert len(disputes) == 2
    assert {d.case_number for d in disputes} == {disputes[0].case_number}
    assert all(d.team.function == "sales" for d in disputes)
    item = WorkItem.objects.get(kind=WorkKind.DISPUTE)
    assert item.team.function == "sales"
    assert item.owner == desk["seller"]
    assert disputes[0].line_reference == "line 2"


def test_dispute_amount_checked(desk, customer):
    with pytest.raises(DisputeError) as raised:
        open_dispute(
            customer,
            lines=[(desk["invoices"][0], "1000.01", "")],
            reason="quality",
            actor=desk["analyst"],
        )
    assert raised.value.code == "dispute_amount"
    with pytest.raises(DisputeError) as raised:
        open_dispute(
            customer,
            lines=[(desk["invoices"][0], "10.00", "")],
            reason="unspecified",
            actor=desk["analyst"],
        )
    assert raised.value.code == "invalid_reason"


def test_credit_note_resolves_and_allocates(desk, customer):
    (dispute,) = open_dispute(
        customer, lines=[(desk["invoices"][0], "150.00", "")], reason="other", actor=desk["analyst"]
    )

    resolve_by_credit_note(dispute, actor=desk["analyst"], note="price agreed")

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.RESOLVED
    assert dispute.resolution == Resolution.CREDIT_NOTE
    assert dispute.resolution_document.kind == DocumentKind.CREDIT_NOTE
    assert open_amount(desk["invoices"][0]) == D("850.00")
    assert dispute.resolved_on == customer.entity.today()
    assert WorkItem.objects.get(kind=WorkKind.DISPUTE).state == "done"


def test_write_off_within_threshold_posts_at_once(desk, customer, entity):
    WriteOffPolicy.objects.create(entity=entity, approval_threshold_amount=D("200.00"))
    (dispute,) = open_dispute(
        customer, lines=[(desk["invoices"][0], "150.00", "")], reason="other", actor=desk["analyst"]
    )

    request = request_write_off(dispute, actor=desk["analyst"], reason="small difference")

    assert request.status == WriteOffStatus.APPROVED
    assert request.decided_by is None
    assert request.document.kind == DocumentKind.WRITE_OFF
    assert open_amount(desk["invoices"][0]) == D("850.00")


def test_write_off_above_threshold_needs_second_person(desk, customer, entity):
    WriteOffPolicy.objects.create(entity=entity, approval_threshold_amount=D("200.00"))
    (dispute,) = open_dispute(
        customer, lines=[(desk["invoices"][0], "300.00", "")], reason="other", actor=desk["analyst"]
    )
    dispute.team = desk["team"]
    dispute.save(update_fields=["team"])

    # when the lead asks for it, nothing is posted yet
    request = request_write_off(dispute, actor=desk["lead"], reason="goodwill")
    assert request.status == WriteOffStatus.PENDING
    assert open_amount(desk["invoices"][0]) == D("1000.00")
    assert WorkItem.objects.get(kind=WorkKind.WRITE_OFF_APPROVAL).team == desk["team"]

    # then the requester cannot approve, nor can a member; another lead can
    with pytest.raises(DisputeError) as raised:
        decide_write_off(request, approver=desk["lead"], approve=True)
    assert raised.value.code == "approver_is_requester"
    with pytest.raises(DisputeError) as raised:
        decide_write_off(request, approver=desk["analyst"], approve=True)
    assert raised.value.code == "approver_not_lead"
    decide_write_off(request, approver=desk["other_lead"], approve=True, note="agreed")

    request.refresh_from_db()
    dispute.refresh_from_db()
    assert request.status == WriteOffStatus.APPROVED
    assert request.decided_by == desk["other_lead"]
    assert dispute.resolution == Resolution.WRITE_OFF
    assert open_amount(desk["invoices"][0]) == D("700.00")


def test_reject_tells_customer_why(desk, customer, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    customer.contacts.create(
        name="AP desk", email=f"ap-{customer.number.lower()}@example.test", role="collections"
    )
    (dispute,) = open_dispute(
        customer, lines=[(desk["invoices"][1], "400.00", "")], reason="other", actor=desk["analyst"]
    )

    with django_capture_on_commit_callbacks(execute=True):
        reject_dispute(
            dispute, actor=desk["analyst"], reason="The goods were delivered and signed for."
        )

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED
    assert dispute.resolved_on is not None
    assert "delivered and signed for" in mail.outbox[0].body
    assert mail.outbox[0].to == [f"ap-{customer.number.lower()}@example.test"]


def test_evidence_limits(desk, customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.O2C_DISPUTE_MAX_ATTACHMENT_BYTES = 100
    (dispute,) = open_dispute(
        customer, lines=[(desk["invoices"][0], "10.00", "")], reason="other", actor=desk["analyst"]
    )

    stored = attach_evidence(
        dispute, SimpleUploadedFile("../../proof.pdf", b"%PDF-1.4 tiny"), actor=desk["analyst"]
    )
    assert stored.original_name == "proof.pdf"
    assert str(tmp_path) in stored.file.path
    assert stored.file.name.startswith(f"disputes/{dispute.entity_id}/{dispute.pk}/")
    for upload, code in [
        (SimpleUploadedFile("run.exe", b"MZ"), "attachment_type"),
        (SimpleUploadedFile("fake.pdf", b"<html>"), "attachment_content"),
        (SimpleUploadedFile("big.txt", b"x" * 101), "attachment_too_large"),
    ]:
        with pytest.raises(DisputeError) as raised:
            attach_evidence(dispute, upload, actor=desk["analyst"])
        assert raised.value.code == code


def test_root_cause_report(desk, customer):
    first = open_dispute(
        customer,
        lines=[(desk["invoices"][0], "100.00", "")],
        reason="pricing",
        actor=desk["analyst"],
        opened_on=dt.date(2025, 2, 1),
    )[0]
    open_dispute(
        customer,
        lines=[(desk["invoices"][1], "50.00", "")],
        reason="pricing",
        actor=desk["analyst"],
        opened_on=dt.date(2025, 2, 3),
    )
    first.team.memberships.create(user=desk["lead"], role=Role.LEAD)
    resolve_by_credit_note(first, actor=desk["lead"], note="ok")

    rows = root_cause_report(disputes_for(desk["lead"]), "reason", dt.date(2025, 1, 1), dt.date.max)

    assert len(rows) == 1
    assert rows[0]["key"] == "pricing"
    assert rows[0]["count"] == 2
    assert rows[0]["resolved"] == 1
    assert rows[0]["amounts"] == {"EUR": D("150.00")}
    assert rows[0]["days"] == (customer.entity.today() - dt.date(2025, 2, 1)).days


def test_member_cannot_reach_other_portfolio_disputes(
    desk, customer, entity, make_customer, make_user, post, client
):
    collector = make_user("cole", entity=entity, role=Role.MEMBER, customers=[customer])
    stranger = make_customer(entity)
    invoice = post(stranger, "invoice", "X-1", "2025-01-01", "90.00")
    (theirs,) = open_dispute(
        stranger, lines=[(invoice, "90.00", "")], reason="pricing", actor=desk["lead"]
    )
    assert theirs.owner == desk["seller"]
    client.force_login(collector)

    assert client.get(reverse("disputes:detail", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("disputes:resolve", args=[theirs.pk]), {"how": "reject", "note": "x"}
        ).status_code
        == 404
    )
    assert client.get(f"/api/disputes/{theirs.pk}").status_code == 404
    assert client.get(reverse("disputes:new", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("collections:customer", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("collections:run_list")).status_code == 404


def test_amounts_in_messages_at_minor_unit(desk, customer, post):
    invoice = post(customer, "invoice", "INV-9", "2025-01-01", "611.60")
    (dispute,) = open_dispute(
        customer, lines=[(invoice, "214.56", "")], reason="other", actor=desk["analyst"]
    )

    with pytest.raises(DisputeError) as raised:
        open_dispute(
            customer, lines=[(invoice, "500.00", "")], reason="other", actor=desk["analyst"]
        )

    assert raised.value.message == (
        "INV-9 has 611.60 EUR open, 214.56 already disputed; a dispute of 500.00 must be "
        "positive and at most 397.04."
    )
    event = customer.timeline.get(kind="dispute_opened")
    assert "INV-9 214.56 EUR" in event.summary
    assert "0000" not in event.summary
