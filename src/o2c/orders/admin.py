"""Administration of the catalogue, price lists and EDI partners.

Orders themselves are changed only through the order services (pages and API), so
they are shown here read-only.
"""

from django.contrib import admin

from o2c.orders.models import (
    CustomerGroup,
    CustomerGroupMember,
    CustomerProductCode,
    EdiInterchange,
    Order,
    PriceList,
    PriceListItem,
    Product,
    TradingPartner,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "entity", "kind", "unit", "tax_category", "is_active"]
    list_filter = ["entity", "kind", "tax_category", "is_active"]
    search_fields = ["code", "name", "gtin"]


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0
    raw_id_fields = ["product"]


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "entity", "currency", "customer_group", "valid_from"]
    list_filter = ["entity", "currency", "is_active"]
    inlines = [PriceListItemInline]


class CustomerGroupMemberInline(admin.TabularInline):
    model = CustomerGroupMember
    extra = 0
    raw_id_fields = ["customer"]


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "entity"]
    list_filter = ["entity"]
    inlines = [CustomerGroupMemberInline]


@admin.register(CustomerProductCode)
class CustomerProductCodeAdmin(admin.ModelAdmin):
    list_display = ["customer", "code", "product"]
    raw_id_fields = ["customer", "product"]
    search_fields = ["code", "customer__number"]


@admin.register(TradingPartner)
class TradingPartnerAdmin(admin.ModelAdmin):
    list_display = ["customer", "interchange_qualifier", "interchange_id", "our_id"]
    raw_id_fields = ["customer"]


@admin.register(EdiInterchange)
class EdiInterchangeAdmin(admin.ModelAdmin):
    list_display = ["control_number", "file_name", "partner", "accepted", "received_at"]
    list_filter = ["accepted"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "channel", "order_date", "net_amount"]
    list_filter = ["entity", "status", "channel"]
    search_fields = ["number", "customer_reference", "customer__number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
