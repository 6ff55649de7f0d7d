from django.contrib import admin

from o2c.teams.models import Membership, Portfolio, Team, WorkItem


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "entity", "function"]
    list_filter = ["entity", "function"]
    inlines = [MembershipInline]


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ["name", "team"]
    filter_horizontal = ["members"]
    raw_id_fields = ["customers"]


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "team", "owner", "state", "priority", "due_at"]
    list_filter = ["kind", "state", "team"]
    raw_id_fields = ["customer"]
