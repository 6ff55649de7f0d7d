from django.contrib import admin

from o2c.parties.models import Contact, Customer, LegalEntity, PaymentTerm, TimelineEvent


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "base_currency", "time_zone", "country"]


@admin.register(PaymentTerm)
class PaymentTermAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "days", "months", "end_of_month", "discount_percent"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "entity", "country", "currency", "payment_term"]
    list_filter = ["entity", "currency"]
    search_fields = ["number", "name"]
    list_select_related = ["entity", "payment_term"]
    inlines = [ContactInline]


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "kind", "summary", "actor"]
    list_select_related = ["customer", "actor"]
    search_fields = ["customer__number", "summary"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
