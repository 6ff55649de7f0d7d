"""Load the tax rules added to o2c/billing/rates/tax_rules.csv since the first seed.

Kuwait levies no VAT, so its standard rate is 0 %. Loading is idempotent: rules
already present are left as they are.
"""

from django.db import migrations


def reload(apps, schema_editor):
    from o2c.billing.rules import load_rules

    load_rules(model=apps.get_model("billing", "TaxRule"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_document_file")]

    operations = [migrations.RunPython(reload, migrations.RunPython.noop)]
