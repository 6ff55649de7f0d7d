from django.contrib import admin

from o2c.payments.models import Mandate, Payment, PaymentSettings, Payout


@admin.register(PaymentSettings)
class PaymentSettingsAdmin(admin.ModelAdmin):
    list_display = ["entity", "card_gateway", "sepa_creditor_id", "sepa_local_instrument"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Read-only: payments change only through their services and gateway events."""

    list_display = ["reference", "customer", "method", "gateway", "amount", "currency", "status"]
    list_filter = ["status", "method", "gateway"]
    search_fields = ["reference", "gateway_payment_id", "customer__number", "customer__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Mandate)
class MandateAdmin(admin.ModelAdmin):
    list_display = ["reference", "customer", "status", "next_sequence_type", "signed_on"]
    list_filter = ["status"]
    search_fields = ["reference", "customer__number", "customer__name"]
    readonly_fields = ["reference", "signed_on", "signed_ip", "portal_user"]


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = ["payout_id", "gateway", "entity", "arrival_on", "net_amount", "currency"]
    readonly_fields = [field.name for field in Payout._meta.fields]
