from django.contrib import admin

from o2c.fx.models import ExchangeRate


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["rate_on", "currency", "units_per_euro", "source"]
    list_filter = ["source", "currency"]
    date_hierarchy = "rate_on"
