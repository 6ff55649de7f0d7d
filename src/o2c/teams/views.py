"""Work pages: my work, a team's queue, one item, notifications, absences, leaders' view."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from o2c.analytics.charts import BASE_CONFIG, svg_of
from o2c.core.errors import O2CError
from o2c.teams import figures, selectors, services
from o2c.teams.forms import (
    AbsenceForm,
    CommentForm,
    HandOffForm,
    ReassignForm,
    StateForm,
    TargetForm,
)
from o2c.teams.models import OPEN_WORK_STATES, Absence, Notification, TargetMetric, Team

PAGE_SIZE = 50


@login_required
def my_work(request):
    items = selectors.visible_work_items(request.user).select_related("team", "customer", "owner")
    mine = items.filter(owner=request.user, state__in=OPEN_WORK_STATES).order_by(
        "priority", "due_at", "id"
    )
    queue = items.filter(
        owner__isnull=True,
        state__in=OPEN_WORK_STATES,
        team__memberships__user=request.user,
    ).order_by("priority", "due_at", "id")
    context = {
        "mine": Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page")),
        "queue": list(queue[:PAGE_SIZE]),
        "led_teams": list(selectors.led_teams(request.user)),
        "unread": Notification.objects.filter(user=request.user, read_at__isnull=True).count(),
    }
    return render(request, "teams/my_work.html", context)


@login_required
def team_queue(request, team_id: int):
    team = selectors.team_for_lead(request.user, team_id)
    items = (
        selectors.visible_work_items(request.user)
        .filter(team=team, state__in=OPEN_WORK_STATES)
        .select_related("customer", "owner")
        .order_by("priority", "due_at", "id")
    )
    owner = request.GET.get("owner")
    if owner == "none":
        items = items.filter(owner__isnull=True)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    loads = services.open_counts(team.memberships.values_list("user_id", flat=True))
    members = [
        {
            "user": membership.user,
            "role": membership.get_role_display(),
            "open": loads.get(membership.user_id, 0),
            "capacity": services.settings_for(membership).capacity,
        }
        for membership in team.memberships.select_related("user").order_by("user__username")
    ]
    return render(
        request,
        "teams/team_queue.html",
        {"team": team, "page": page, "members": members, "reassign_form": ReassignForm(team=team)},
    )


def _hand_off_teams(item):
    return Team.objects.filter(entity_id=item.entity_id).exclude(pk=item.team_id)


@login_required
def item_detail(request, item_id: int):
    item = selectors.work_item_for(request.user, item_id)
    context = {
        "item": item,
        "events": item.events.select_related(
            "actor", "from_owner", "to_owner", "from_team", "to_team"
        ),
        "comments": item.comments.select_related("author"),
        "comment_form": CommentForm(),
        "can_lead": services.leads_team(request.user, item.team),
        "is_owner": item.owner_id == request.user.pk,
        "reassign_form": ReassignForm(team=item.team),
        "hand_off_form": HandOffForm(teams=_hand_off_teams(item)),
        "state_form": StateForm(initial={"state": item.state}),
        "is_open": item.state in OPEN_WORK_STATES,
        "decision_url": services.decision_url(item),
    }
    return render(request, "teams/item_detail.html", context)


def _after(request, item, fallback=None):
    target = request.POST.get("next")
    if target and target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(fallback or "teams:item_detail", item.pk)


@login_required
@require_POST
def comment(request, item_id: int):
    item = selectors.work_item_for(request.user, item_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(item, author=request.user, body=form.cleaned_data["body"])
        except O2CError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "Write something before posting a comment.")
    return _after(request, item)


@login_required
@require_POST
def reassign(request, item_id: int):
    item = selectors.work_item_for(request.user, item_id)
    form = ReassignForm(request.POST, team=item.team)
    if not form.is_valid():
        messages.error(request, "Choose a member of the team.")
        return _after(request, item)
    try:
        services.reassign_work_item(
            item, form.cleaned_data["user"], actor=request.user, note=form.cleaned_data["note"]
        )
        messages.success(
            request, f"Work item {item.pk} reassigned to {form.cleaned_data['user'].username}."
        )
    except O2CError as error:
        messages.error(request, error.message)
    return _after(request, item)


@login_required
@require_POST
def hand_off(request, item_id: int):
    item = selectors.work_item_for(request.user, item_id)
    form = HandOffForm(request.POST, teams=_hand_off_teams(item))
    if not form.is_valid():
        messages.error(request, "Choose the team to hand the item to.")
        return _after(request, item)
    try:
        services.hand_off_work_item(
            item, form.cleaned_data["team"], actor=request.user, note=form.cleaned_data["note"]
        )
        messages.success(
            request, f"Work item {item.pk} handed off to {form.cleaned_data['team'].name}."
        )
    except O2CError as error:
        messages.error(request, error.message)
        return _after(request, item)
    if not selectors.visible_work_items(request.user).filter(pk=item.pk).exists():
        return redirect("teams:my_work")
    return _after(request, item)


@login_required
@require_POST
def change_state(request, item_id: int):
    item = selectors.work_item_for(request.user, item_id)
    form = StateForm(request.POST)
    if form.is_valid():
        try:
            services.set_work_state(
                item,
                form.cleaned_data["state"],
                actor=request.user,
                outcome=form.cleaned_data["outcome"],
            )
        except O2CError as error:
            messages.error(request, error.message)
    return _after(request, item)


@login_required
def notifications(request):
    if request.method == "POST":
        services.mark_notifications_read(request.user)
        return redirect("teams:notifications")
    page = Paginator(
        Notification.objects.filter(user=request.user).select_related("item"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "teams/notifications.html", {"page": page})


@login_required
def absences(request):
    form = AbsenceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_absence(
                request.user,
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                deputy=form.cleaned_data["deputy"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
            messages.success(request, "Absence recorded.")
            return redirect("teams:absences")
        except O2CError as error:
            messages.error(request, error.message)
    mine = Absence.objects.filter(Q(user=request.user) | Q(deputy=request.user)).select_related(
        "user", "deputy"
    )
    return render(request, "teams/absences.html", {"form": form, "absences": mine[:50]})


def _period(request, entity) -> tuple[dt.date, dt.date]:
    today = entity.today()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(day=1)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    return start, max(start, end)


@login_required
def leaders(request):
    teams = list(selectors.led_teams(request.user).order_by("entity__code", "name"))
    if not teams:
        raise Http404("You lead no team.")
    team = next((t for t in teams if str(t.pk) == request.GET.get("team")), teams[0])
    start, end = _period(request, team.entity)
    result = figures.team_figures(team, start, end)
    trend = figures.weekly_trend(team, end)
    context = {
        "teams": teams,
        "team": team,
        "start": start,
        "end": end,
        "result": result,
        "people": [
            {
                "query": f"&user={user_id}",
                "name": result.names.get(user_id, f"user {user_id}"),
                "figures": person,
            }
            for user_id, person in sorted(
                result.people.items(), key=lambda pair: result.names.get(pair[0], "")
            )
        ],
        "trend": trend,
        "trend_chart": _trend_chart(trend),
        "target_form": TargetForm(team=team, initial={"period_start": start, "period_end": end}),
        "metric_labels": dict(TargetMetric.choices),
    }
    return render(request, "teams/leaders.html", context)


def _trend_chart(trend) -> str:
    import pygal

    chart = pygal.Bar(
        title="Work done and SLA breaches by week", **(BASE_CONFIG | {"show_legend": True})
    )
    chart.x_labels = [point["week"].strftime("%d %b") for point in trend]
    chart.add("Work done", [point["work_done"] for point in trend])
    chart.add("SLA breaches", [point["sla_breaches"] for point in trend])
    return svg_of(chart)


@login_required
@require_POST
def set_target_view(request, team_id: int):
    team = selectors.team_for_lead(request.user, team_id)
    form = TargetForm(request.POST, team=team)
    if form.is_valid():
        try:
            services.set_target(team, actor=request.user, **form.cleaned_data)
            messages.success(request, "Target saved.")
        except O2CError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, "Fill in every field of the target.")
    return redirect(f"/work/leaders/?team={team.pk}")


@login_required
def drill(request, team_id: int):
    team = selectors.team_for_lead(request.user, team_id)
    start, end = _period(request, team.entity)
    user_id = request.GET.get("user")
    user_id = int(user_id) if user_id and user_id.isdigit() else None
    metric = request.GET.get("metric", "open_items")
    kind, rows = figures.drill_down(team, metric, start, end, user_id)
    return render(
        request,
        "teams/drill.html",
        {
            "team": team,
            "kind": kind,
            "rows": rows[:500],
            "metric": metric,
            "start": start,
            "end": end,
        },
    )
