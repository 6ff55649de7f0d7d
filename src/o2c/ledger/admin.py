from django.contrib import admin

from o2c.ledger.models import Allocation, Document


class ReadOnlyAdmin(admin.ModelAdmin):
    """Posted records are shown, never edited: corrections go through reversals."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "customer", "document_date", "due_date", "amount", "currency"]
    list_filter = ["kind", "entity", "currency"]
    search_fields = ["number", "customer__number", "reference"]
    list_select_related = ["customer"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = [
        "allocated_on",
        "debit_document",
        "credit_document",
        "amount",
        "fx_difference_base",
    ]
    list_select_related = ["debit_document", "credit_document"]
