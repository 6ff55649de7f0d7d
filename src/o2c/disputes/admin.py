from django.contrib import admin

from o2c.disputes.models import Dispute


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["id", "invoice", "customer", "reason", "status", "amount", "opened_on"]
    list_filter = ["status", "reason", "entity"]
    raw_id_fields = ["invoice", "customer"]
