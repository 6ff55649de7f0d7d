from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "o2c.billing"
    label = "billing"
    verbose_name = "Billing"
    nav_items = [("Invoices", "billing:invoice_list")]
    url_prefix = "billing/"
    api_prefix = "/billing/"

    def restore_reference_data(self):
        """Load the shipped tax rules when none exist (a test flush removes seeded rows)."""
        from o2c.billing.models import TaxRule
        from o2c.billing.rules import load_rules

        if not TaxRule.objects.exists():
            load_rules()
