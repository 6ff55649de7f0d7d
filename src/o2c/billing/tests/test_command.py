"""The `o2c billing` command: tax rules, posting, rendering and validation."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from o2c.billing.documents.validation import EINVOICE_DIR
from o2c.billing.tests.conftest import line

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("billing", *args, stdout=out)
    return out.getvalue()


def test_tax_rules_list_one_country():
    output = run("tax-rules", "list", "--country", "SK")

    assert "SK standard VAT 20.0000% from 2024-01-01 to 2024-12-31" in output
    assert "SK standard VAT 23.0000% from 2025-01-01" in output


def test_post_and_render_ubl(buyer_fr, invoice_for, tmp_path):
    draft = invoice_for(buyer_fr, [line()])

    posted = run("post", str(draft.pk))
    rendered = run("render", str(draft.pk), "ubl", "--output", str(tmp_path))
    checked = run("validate", str(tmp_path / "INV-2025-00001.xml"))

    assert posted.strip() == f"Draft {draft.pk}: posted as INV-2025-00001."
    assert "INV-2025-00001.xml" in rendered
    assert checked.strip().endswith("valid (UBL 2.1 schemas and EN 16931 rules).")


def test_validate_rejects_broken_file(tmp_path):
    xml = (EINVOICE_DIR / "peppol_base-example.xml").read_bytes()
    path = tmp_path / "broken.xml"
    path.write_bytes(
        xml.replace(
            b'<cbc:PayableAmount currencyID="EUR">1656.25',
            b'<cbc:PayableAmount currencyID="EUR">1656.26',
        )
    )

    with pytest.raises(CommandError) as raised:
        run("validate", str(path))

    assert str(raised.value) == "broken.xml is not a valid EN 16931 UBL document."


def test_post_unknown_invoice_names_it():
    with pytest.raises(CommandError) as raised:
        run("post", "999")

    assert str(raised.value) == "No invoice with id 999."
