"""Every real statement file shipped in data/bank: imported, or rejected with its reason."""

from pathlib import Path

import pytest

from o2c.banking.errors import StatementFileRejected
from o2c.banking.models import BalanceCheck, Statement, StatementLine
from o2c.banking.services import import_statement_file, save_csv_mapping

BANK_DATA = Path(__file__).resolve().parents[4] / "data" / "bank"
# Files under AGPL-3.0 may be removed from a distribution; their cases are then skipped.
AGPL_PREFIX = "oca_"

# file: ("imported", statements, lines) or ("rejected", text the reason contains)
EXPECTED = {
    "mt940/abnamro.sta": ("rejected", "(difference -2038.00)"),
    "mt940/asnbank_0708271685_09022020_164516.940.txt": ("imported", 31, 8),
    "mt940/betterplace_sepa_mt9401.sta": ("imported", 26, 97),
    "mt940/betterplace_sepa_snippet.sta": ("rejected", "(difference 300.08)"),
    "mt940/betterplace_with_binary_character.sta": ("imported", 2, 4),
    "mt940/cmxl_mt940.sta": ("imported", 3, 16),
    "mt940/generic_jejik.sta": ("imported", 2, 2),
    "mt940/ing.sta": ("rejected", "(difference 49.06)"),
    "mt940/oca_ing-old.940": ("imported", 1, 8),
    "mt940/oca_ing.940": ("imported", 1, 8),
    "mt940/oca_rabobank.swi": ("imported", 4, 2),
    "mt940/postfinance.sta": ("rejected", "(difference 0.20)"),
    "mt940/rabobank-iban.sta": ("imported", 2, 4),
    "mt940/rabobank.sta": ("rejected", "(difference 1135.93)"),
    "mt940/selfprovided_details_60-63.sta": ("rejected", "(difference 234.01)"),
    "mt940/selfprovided_gv_codes.sta": ("rejected", "has no opening and closing balance"),
    "mt940/selfprovided_malformed_details.sta": ("rejected", "(difference 234.01)"),
    "mt940/selfprovided_mt942.sta": ("rejected", "states 1 debit(s) of 2.30"),
    "mt940/selfprovided_raphaelm.sta": ("imported", 3, 9),
    "mt940/selfprovided_whitespace.sta": ("rejected", "(difference 234.01)"),
    "mt940/sparkasse.sta": ("rejected", "no statement found"),
    "bai2/account_trailer_amount_blank_example.bai2": ("imported", 2, 0),
    "bai2/citi_example.bai2": ("rejected", "(difference -0.01)"),
    "bai2/natwest_nwb_example.bai2": ("imported", 1, 5),
    "camt/genkgo_camt052.v1.xml": ("imported", 1, 1),
    "camt/genkgo_camt052.v2.other-account.xml": ("imported", 1, 1),
    "camt/genkgo_camt052.v2.with-account-name.xml": ("imported", 1, 1),
    "camt/genkgo_camt052.v2.xml": ("imported", 1, 1),
    "camt/genkgo_camt052.v4.xml": ("imported", 1, 0),
    "camt/genkgo_camt053.v2.all-balance-types.xml": ("rejected", "(difference -5.82)"),
    "camt/genkgo_camt053.v2.five.decimals.xml": ("rejected", "(difference 0.05)"),
    "camt/genkgo_camt053.v2.minimal.ultimate.xml": ("rejected", "no opening and closing balance"),
    "camt/genkgo_camt053.v2.minimal.xml": ("rejected", "no opening and closing balance in EUR"),
    "camt/genkgo_camt053.v2.with-account-name.xml": (
        "rejected",
        "no opening and closing balance in EUR",
    ),
    "camt/genkgo_camt053.v2.with-party-ids.xml": ("rejected", "no opening and closing balance"),
    "camt/genkgo_camt053.v2.wrong.xml": ("rejected", "holds no Stmt element"),
    "camt/genkgo_camt053.v4.xml": ("rejected", "no opening and closing balance"),
    "camt/genkgo_camt054.v2.with-account-name.xml": ("imported", 1, 1),
    "camt/genkgo_camt054.v2.xml": ("imported", 1, 1),
    "camt/genkgo_camt054.v4.xml": ("imported", 1, 1),
    "camt/genkgo_camt53.only-Dt-with-DtTm.xml": (
        "rejected",
        "no opening and closing balance in RON",
    ),
    "camt/oca_test-camt053-txdtls.xml": ("imported", 1, 2),
    "camt/oca_test-camt053.xml": ("rejected", "(difference -434.16)"),
}
CSV_EXPECTED = {
    "csv/oca_paypal_activity_en.csv": ("paypal_activity.toml", 3, 76),
    "csv/oca_paypal_statement_en.csv": ("paypal_statement.toml", 2, 19),
}
# camt.054 entries of the LT809 account are status INFO: notices, not bookings, so no line.
DIRECTORIES = {
    "camt/subite_BE_deutschebank": (4, 4, 1047),
    "camt/subite_LT625883379695428516_camt053": (155, 277, 1285),
    "camt/subite_LT809872649478701594_camt052": (177, 177, 0),
    "camt/subite_LT809872649478701594_camt054": (40, 40, 0),
}


def sample(relative: str) -> Path:
    path = BANK_DATA / relative
    if not path.exists():
        if Path(relative).name.startswith(AGPL_PREFIX):
            pytest.skip(f"{relative} (AGPL-3.0) is not in this distribution")
        pytest.fail(f"{relative} is missing from data/bank")
    return path


def test_every_shipped_file_has_an_expected_outcome():
    shipped = {
        str(path.relative_to(BANK_DATA))
        for path in BANK_DATA.rglob("*")
        if path.is_file() and path.suffix != ".toml" and not path.name.startswith("LICENSE")
    }
    covered = {
        name
        for name in set(EXPECTED) | set(CSV_EXPECTED)
        if (BANK_DATA / name).exists() or not Path(name).name.startswith(AGPL_PREFIX)
    }
    in_directories = {name for name in shipped if str(Path(name).parent) in DIRECTORIES}
    assert shipped - in_directories == covered


@pytest.mark.django_db
@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_sample_imports_or_is_rejected_with_reason(relative, entity):
    path = sample(relative)
    expected = EXPECTED[relative]

    if expected[0] == "rejected":
        with pytest.raises(StatementFileRejected) as raised:
            import_statement_file(path, entity=entity, create_accounts=True)
        assert expected[1] in raised.value.message
        assert not StatementLine.objects.exists()
        return

    result = import_statement_file(path, entity=entity, create_accounts=True)
    assert (result.statements_created, result.lines_created) == expected[1:]
    for statement in Statement.objects.all():
        assert statement.balance_check != BalanceCheck.MISMATCH
        assert statement.duplicate_line_count == 0
        if statement.balance_check == BalanceCheck.BALANCED:
            lines_total = sum(line.amount for line in statement.lines.all())
            assert statement.opening_balance + lines_total == statement.closing_balance

    again = import_statement_file(path, entity=entity, create_accounts=True)
    assert again.statements_created == 0
    assert again.lines_created == 0
    assert StatementLine.objects.count() == expected[2]


@pytest.mark.django_db
def test_unbalanced_statement_imports_when_accepted_and_is_marked(entity):
    result = import_statement_file(
        sample("mt940/abnamro.sta"), entity=entity, create_accounts=True, accept_unbalanced=True
    )

    assert result.statements_created == 2
    statement = Statement.objects.get(statement_id="ABN AMRO BANK NV 19321/1")
    assert statement.balance_check == BalanceCheck.MISMATCH
    assert statement.balance_difference == -2038
    assert "closing balance is 876.84" in statement.check_note
    assert len(result.notes) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("relative", sorted(CSV_EXPECTED))
def test_csv_export_imports_with_saved_mapping(relative, entity):
    import tomllib

    path = sample(relative)
    mapping_file, statements, lines = CSV_EXPECTED[relative]
    settings = tomllib.loads((BANK_DATA / "csv" / "mappings" / mapping_file).read_text())
    save_csv_mapping("paypal", settings)

    result = import_statement_file(
        path,
        entity=entity,
        account="paypal@my-company.com",
        mapping="paypal",
        create_accounts=True,
    )

    assert (result.statements_created, result.lines_created) == (statements, lines)
    assert set(Statement.objects.values_list("balance_check", flat=True)) == {"balanced"}
    again = import_statement_file(
        path, entity=entity, account="paypal@my-company.com", mapping="paypal"
    )
    assert again.lines_created == 0


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("directory", sorted(DIRECTORIES))
def test_daily_statement_series_import_once(directory, entity):
    files, statements, lines = DIRECTORIES[directory]
    paths = sorted((BANK_DATA / directory).glob("*.xml"))
    assert len(paths) == files

    for path in paths:
        import_statement_file(path, entity=entity, create_accounts=True)

    assert Statement.objects.count() == statements
    assert StatementLine.objects.count() == lines
    for path in paths[:5]:
        again = import_statement_file(path, entity=entity, create_accounts=True)
        assert again.lines_created == 0
    assert StatementLine.objects.count() == lines


@pytest.mark.django_db
def test_camt_without_account_currency_is_held_against_registered_account(entity):
    # The file names no Ccy for the account, and its first amount is a JPY balance.
    from o2c.banking.services import add_bank_account

    add_bank_account(entity=entity, identifier="CH2801234000123456789", currency="SEK")

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(sample("camt/genkgo_camt053.v2.with-account-name.xml"))

    assert "a line in EUR on account CH2801234000123456789 in SEK" in raised.value.message
    assert "JPY" not in raised.value.message
    assert not StatementLine.objects.exists()
