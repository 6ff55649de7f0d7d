"""REST endpoints for work items: list, read, comment, reassign, hand off."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from o2c.teams import selectors, services
from o2c.teams.models import OPEN_WORK_STATES, Team

router = Router()


class WorkItemOut(Schema):
    id: int
    kind: str
    title: str
    team: str
    owner: str | None
    customer_id: int | None
    priority: int
    state: str
    due_at: dt.datetime | None
    escalation_level: int

    @staticmethod
    def resolve_team(item):
        return item.team.name

    @staticmethod
    def resolve_owner(item):
        return item.owner.get_username() if item.owner else None


class CommentIn(Schema):
    body: str


class ReassignIn(Schema):
    username: str
    note: str = ""


class HandOffIn(Schema):
    team_id: int
    note: str


@router.get("/items", response=list[WorkItemOut])
@paginate
def list_items(request, mine: bool = False, open_only: bool = True):
    items = selectors.visible_work_items(request.user).select_related("team", "owner")
    if mine:
        items = items.filter(owner=request.user)
    if open_only:
        items = items.filter(state__in=OPEN_WORK_STATES)
    return items.order_by("priority", "due_at", "id")


@router.get("/items/{item_id}", response=WorkItemOut)
def get_item(request, item_id: int):
    return selectors.work_item_for(request.user, item_id)


@router.post("/items/{item_id}/comments", response=dict)
def comment(request, item_id: int, payload: CommentIn):
    item = selectors.work_item_for(request.user, item_id)
    created = services.add_comment(item, author=request.user, body=payload.body)
    return {"id": created.pk, "mentions": [user.get_username() for user in created.mentions.all()]}


@router.post("/items/{item_id}/reassign", response=WorkItemOut)
def reassign(request, item_id: int, payload: ReassignIn):
    item = selectors.work_item_for(request.user, item_id)
    user = get_object_or_404(get_user_model(), username=payload.username, is_active=True)
    return services.reassign_work_item(item, user, actor=request.user, note=payload.note)


@router.post("/items/{item_id}/hand-off", response=WorkItemOut)
def hand_off(request, item_id: int, payload: HandOffIn):
    item = selectors.work_item_for(request.user, item_id)
    team = get_object_or_404(Team, pk=payload.team_id, entity_id=item.entity_id)
    return services.hand_off_work_item(item, team, actor=request.user, note=payload.note)
