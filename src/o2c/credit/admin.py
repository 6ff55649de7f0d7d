from django.contrib import admin

from o2c.credit.models import CreditPolicy, CreditProfile, GroupCreditLimit


@admin.register(CreditPolicy)
class CreditPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "entity",
        "past_due_tolerance_days",
        "lead_approval_from",
        "leader_approval_from",
        "review_interval_months",
    ]


@admin.register(GroupCreditLimit)
class GroupCreditLimitAdmin(admin.ModelAdmin):
    list_display = ["group", "amount", "currency"]


@admin.register(CreditProfile)
class CreditProfileAdmin(admin.ModelAdmin):
    list_display = ["customer", "last_reviewed_on", "next_review_on"]
    raw_id_fields = ["customer"]
