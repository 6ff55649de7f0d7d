from django.contrib import admin

from o2c.portal.models import PortalUser


@admin.register(PortalUser)
class PortalUserAdmin(admin.ModelAdmin):
    """Portal users of each customer. Deactivating one ends that person's access at once."""

    list_display = ["email", "customer", "is_active", "last_sign_in_at"]
    list_filter = ["is_active"]
    search_fields = ["email", "customer__number", "customer__name"]
    fields = [
        "customer",
        "email",
        "name",
        "language",
        "is_active",
        "wants_monthly_statement",
        "wants_receipts",
        "last_sign_in_at",
    ]
    readonly_fields = ["last_sign_in_at"]
