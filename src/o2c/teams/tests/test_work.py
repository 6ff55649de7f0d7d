"""Work items: SLA due dates, assignment within capacity, hand-off, mentions, escalation."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from o2c.teams.models import (
    Absence,
    AssignmentRule,
    MemberSettings,
    Membership,
    Notification,
    Portfolio,
    Role,
    SlaPolicy,
    Team,
    WorkEvent,
    WorkItem,
    WorkKind,
)
from o2c.teams.services import (
    WorkError,
    add_comment,
    apply_absences,
    create_work_item,
    hand_off_work_item,
    reassign_work_item,
)
from o2c.teams.tasks import escalate_breached_work_task

NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def crew(entity, customer, make_user):
    """A collections team with a lead and two members, and a sales team."""
    lead = make_user("lena", entity=entity, role=Role.LEAD, email="lena@example.test")
    ana = make_user(
        "ana", entity=entity, role=Role.MEMBER, customers=[customer], email="ana@example.test"
    )
    ben = make_user("ben", entity=entity, role=Role.MEMBER, email="ben@example.test")
    sales_rep = make_user(
        "sam", entity=entity, role=Role.MEMBER, function="sales", customers=[customer]
    )
    team = Team.objects.get(entity=entity, function="collections")
    sales = Team.objects.get(entity=entity, function="sales")
    return {"lead": lead, "ana": ana, "ben": ben, "sam": sales_rep, "team": team, "sales": sales}


def test_due_date_and_priority_from_sla(crew, customer):
    SlaPolicy.objects.create(
        team=crew["team"], kind=WorkKind.COLLECTION_CALL, resolution_hours=48, priority=2
    )

    with time_machine.travel(NOW, tick=False):
        item = create_work_item(
            kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
        )

    assert item.due_at == NOW + dt.timedelta(hours=48)
    assert item.priority == 2


def test_assignment_round_robin_within_capacity(crew, entity, make_customer):
    # given two members with capacity 2 each, and a rule that pools them
    for name in ("ana", "ben"):
        membership = Membership.objects.get(user=crew[name], team=crew["team"])
        MemberSettings.objects.create(membership=membership, capacity=2)
    Membership.objects.filter(user=crew["lead"]).delete()
    rule = AssignmentRule.objects.create(team=crew["team"], name="Everyone")
    rule.assignees.set([crew["ana"], crew["ben"]])
    customers = [make_customer(entity) for _ in range(5)]

    # when five items arrive
    items = [
        create_work_item(
            kind=WorkKind.COLLECTION_CALL, title=f"Call {c.number}", team=crew["team"], customer=c
        )
        for c in customers
    ]

    # then they alternate until both are full, and the fifth waits in the queue
    owners = [item.owner.username if item.owner else None for item in items]
    assert sorted(owners[:4]) == ["ana", "ana", "ben", "ben"]
    assert owners[0] != owners[1]
    assert owners[4] is None
    assert "nobody with free capacity" in WorkEvent.objects.filter(item=items[4]).last().note


def test_assignment_rule_by_amount_language_and_skill(crew, entity, make_customer):
    MemberSettings.objects.create(
        membership=Membership.objects.get(user=crew["ben"]), skills="legal", languages="fr"
    )
    AssignmentRule.objects.create(
        team=crew["team"],
        name="Big French",
        sequence=1,
        language="fr",
        min_amount=Decimal("10000"),
        skill="legal",
    )
    french = make_customer(entity, language="fr")
    english = make_customer(entity, language="en")

    big = create_work_item(
        kind=WorkKind.COLLECTION_CALL,
        title="Big",
        team=crew["team"],
        customer=french,
        amount=Decimal("20000"),
    )
    small = create_work_item(
        kind=WorkKind.COLLECTION_CALL,
        title="Small",
        team=crew["team"],
        customer=french,
        amount=Decimal("50"),
    )
    other = create_work_item(
        kind=WorkKind.COLLECTION_CALL,
        title="Other",
        team=crew["team"],
        customer=english,
        amount=Decimal("20000"),
    )

    assert big.owner == crew["ben"]
    assert "rule 'Big French'" in WorkEvent.objects.filter(item=big, kind="assigned").get().note
    assert small.owner is not None
    assert other.owner is not None
    assert "no rule matched" in WorkEvent.objects.filter(item=other, kind="assigned").get().note


def test_portfolio_decides_owner(crew, customer):
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
    )

    assert item.owner == crew["ana"]


def test_absent_member_skipped_and_items_moved_to_deputy(crew, customer):
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
    )
    assert item.owner == crew["ana"]
    Absence.objects.create(
        user=crew["ana"],
        starts_on=dt.date(2025, 3, 10),
        ends_on=dt.date(2025, 3, 20),
        deputy=crew["ben"],
    )

    moved = apply_absences(now=NOW)

    item.refresh_from_db()
    assert moved == 1
    assert item.owner == crew["ben"]
    assert Notification.objects.filter(user=crew["ben"], kind="deputy").exists()


def test_hand_off_needs_note_and_lands_in_other_team(
    crew, customer, django_capture_on_commit_callbacks
):
    SlaPolicy.objects.create(team=crew["sales"], kind=WorkKind.DISPUTE, resolution_hours=24)
    item = create_work_item(
        kind=WorkKind.DISPUTE, title="Price", team=crew["team"], customer=customer
    )

    with pytest.raises(WorkError) as raised:
        hand_off_work_item(item, crew["sales"], actor=crew["ana"], note="  ")
    assert raised.value.code == "note_required"

    with django_capture_on_commit_callbacks(execute=True):
        moved = hand_off_work_item(
            item, crew["sales"], actor=crew["ana"], note="Customer says the list price is wrong"
        )

    assert moved.team == crew["sales"]
    assert moved.owner == crew["sam"]
    event = WorkEvent.objects.get(item=item, kind="handed_off")
    assert event.from_team == crew["team"] and event.to_team == crew["sales"]
    assert event.note == "Customer says the list price is wrong"
    assert Notification.objects.filter(user=crew["sam"], kind="handed_off").exists()
    assert customer.timeline.filter(kind="work_handed_off").exists()


def test_only_lead_reassigns(crew, customer):
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
    )

    with pytest.raises(WorkError) as raised:
        reassign_work_item(item, crew["ben"], actor=crew["ana"])
    assert raised.value.code == "lead_required"

    reassign_work_item(item, crew["ben"], actor=crew["lead"], note="Ana is on training")
    item.refresh_from_db()
    assert item.owner == crew["ben"]


def test_mention_notifies_in_app_and_by_email(
    crew, customer, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
    )

    with django_capture_on_commit_callbacks(execute=True):
        comment = add_comment(
            item, author=crew["ana"], body="@lena can you approve a plan? cc @nobody"
        )

    assert list(comment.mentions.all()) == [crew["lead"]]
    notification = Notification.objects.get(user=crew["lead"], kind="mention")
    assert notification.item == item
    assert notification.emailed_at is not None
    assert [message.to for message in mail.outbox] == [["lena@example.test"]]
    assert "mentioned you" in mail.outbox[0].subject


def test_mention_outside_scope_rejected(crew, customer, make_user, entity):
    item = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
    )

    with pytest.raises(WorkError) as raised:
        add_comment(item, author=crew["ana"], body="@ben please look")
    assert raised.value.code == "mention_out_of_scope"


def test_escalation_task_runs_eagerly(crew, customer, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SlaPolicy.objects.create(team=crew["team"], kind=WorkKind.COLLECTION_CALL, resolution_hours=4)
    with time_machine.travel(NOW, tick=False):
        item = create_work_item(
            kind=WorkKind.COLLECTION_CALL, title="Call", team=crew["team"], customer=customer
        )

    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        assert escalate_breached_work_task.delay().get() == {"level_1": 0, "level_2": 0}
    with (
        time_machine.travel(NOW + dt.timedelta(hours=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert escalate_breached_work_task.delay().get() == {"level_1": 1, "level_2": 0}
    with time_machine.travel(NOW + dt.timedelta(hours=6), tick=False):
        assert escalate_breached_work_task.delay().get() == {"level_1": 0, "level_2": 0}
    with time_machine.travel(NOW + dt.timedelta(hours=29), tick=False):
        assert escalate_breached_work_task.delay().get() == {"level_1": 0, "level_2": 1}

    item.refresh_from_db()
    assert item.escalation_level == 2
    assert item.priority == 1
    assert Notification.objects.filter(user=crew["lead"], kind="escalated").exists()
    assert "lena@example.test" in [address for message in mail.outbox for address in message.to]


def test_scheduler_runs_every_task_once(db, capsys):
    call_command("scheduler", "--once")

    output = capsys.readouterr().out
    assert "teams-escalate-breached-work: {'level_1': 0, 'level_2': 0}" in output
    assert "collections-review-promises: {'kept': 0, 'broken': 0}" in output


def test_member_cannot_see_other_portfolio_items(crew, entity, customer, make_customer, client):
    other = make_customer(entity)
    portfolio = Portfolio.objects.create(team=crew["team"], name="ben book")
    portfolio.members.add(crew["ben"])
    portfolio.customers.add(other)
    theirs = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Ben's", team=crew["team"], customer=other
    )
    mine = create_work_item(
        kind=WorkKind.COLLECTION_CALL, title="Ana's", team=crew["team"], customer=customer
    )

    client.force_login(crew["ana"])
    assert client.get(reverse("teams:item_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("teams:item_detail", args=[theirs.pk])).status_code == 404
    assert (
        client.post(reverse("teams:comment", args=[theirs.pk]), {"body": "hi"}).status_code == 404
    )
    assert client.get(f"/api/work/items/{theirs.pk}").status_code == 404
    listed = client.get("/api/work/items").json()["items"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert client.get(reverse("teams:team_queue", args=[crew["team"].pk])).status_code == 404
    assert client.get(reverse("teams:leaders")).status_code == 404

    client.force_login(crew["lead"])
    assert client.get(reverse("teams:item_detail", args=[theirs.pk])).status_code == 200


def test_my_work_page_queries(crew, customer, client, django_assert_max_num_queries):
    for index in range(15):
        create_work_item(
            kind=WorkKind.COLLECTION_CALL,
            title=f"Call {index}",
            team=crew["team"],
            customer=customer,
        )
    client.force_login(crew["ana"])

    with django_assert_max_num_queries(20):
        response = client.get(reverse("teams:my_work"))

    assert response.status_code == 200
    assert WorkItem.objects.filter(owner=crew["ana"]).count() == 15


def test_lead_work_never_assigned_to_member(crew, customer):
    item = create_work_item(
        kind=WorkKind.CREDIT_APPROVAL,
        title="Approve",
        team=crew["team"],
        customer=customer,
        required_role="lead",
    )

    assert item.owner == crew["lead"]


def test_lead_work_stays_queued_without_lead(crew, customer):
    Membership.objects.filter(user=crew["lead"]).delete()

    item = create_work_item(
        kind=WorkKind.CREDIT_APPROVAL,
        title="Approve",
        team=crew["team"],
        customer=customer,
        required_role="lead",
    )

    assert item.owner is None
    assert WorkEvent.objects.filter(item=item, kind="unassigned").exists()


def test_lead_work_not_reassigned_to_member(crew, customer):
    item = create_work_item(
        kind=WorkKind.CREDIT_APPROVAL,
        title="Approve",
        team=crew["team"],
        customer=customer,
        required_role="lead",
    )

    with pytest.raises(WorkError) as raised:
        reassign_work_item(item, crew["ben"], actor=crew["lead"])
    assert raised.value.code == "role_required"
    item.refresh_from_db()
    assert item.owner == crew["lead"]


def test_lead_work_of_absent_lead_skips_member_deputy(crew, customer):
    item = create_work_item(
        kind=WorkKind.CREDIT_APPROVAL,
        title="Approve",
        team=crew["team"],
        customer=customer,
        required_role="lead",
    )
    Absence.objects.create(
        user=crew["lead"],
        starts_on=dt.date(2025, 3, 10),
        ends_on=dt.date(2025, 3, 20),
        deputy=crew["ben"],
    )

    apply_absences(now=NOW)

    item.refresh_from_db()
    assert item.owner is None
    assert WorkEvent.objects.filter(item=item, kind="unassigned").exists()
