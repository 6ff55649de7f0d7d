from django.contrib import admin

from o2c.core.models import ApiToken, UserSettings


@admin.register(UserSettings)
class UserSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "must_change_password", "language"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        # A token's secret is shown once at creation, which `o2c token create` does.
        return False
