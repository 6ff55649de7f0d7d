"""Seed the published tax rates shipped in o2c/billing/rates/tax_rules.csv."""

from django.db import migrations


def seed(apps, schema_editor):
    from o2c.billing.rules import load_rules

    load_rules(model=apps.get_model("billing", "TaxRule"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
