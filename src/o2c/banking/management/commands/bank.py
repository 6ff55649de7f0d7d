import sys
import tomllib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.banking import services
from o2c.banking.models import BankAccount
from o2c.core.errors import O2CError
from o2c.parties.models import LegalEntity


class Command(BaseCommand):
    help = "Bank accounts and statements: register accounts, save CSV mappings, import files."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)

        load = subcommands.add_parser(
            "import", help="Import statement files (MT940/MT942, camt.052/053/054, BAI2, CSV)."
        )
        load.add_argument("files", nargs="+", type=Path)
        load.add_argument(
            "--format",
            choices=["mt940", "camt", "bai2", "csv"],
            help="Format of the files; default: read from the content.",
        )
        load.add_argument("--entity", help="Entity code the accounts belong to.")
        load.add_argument("--account", help="Account (IBAN or number) of a CSV file.")
        load.add_argument("--mapping", help="Name of the saved CSV mapping to read a CSV with.")
        load.add_argument(
            "--create-accounts",
            action="store_true",
            help="Register accounts the files name that are not registered yet (needs --entity).",
        )
        load.add_argument(
            "--accept-unbalanced",
            action="store_true",
            help="Import statements whose balances do not add up, marked as such.",
        )

        account = subcommands.add_parser("account", help="Register or list bank accounts.")
        account_actions = account.add_subparsers(dest="account_action", required=True)
        add = account_actions.add_parser("add", help="Register an account of an entity.")
        add.add_argument("identifier", help="IBAN, or the bank's account number.")
        add.add_argument("--entity", required=True)
        add.add_argument("--currency", required=True)
        add.add_argument("--name", default="")
        add.add_argument("--bic", default="")
        add.add_argument("--bank", default="", help="Name of the bank.")
        add.add_argument(
            "--bank-code",
            default="",
            help="Domestic clearing code for an account number: US routing number, UK sort "
            "code, Japanese bank and branch code.",
        )
        add.add_argument("--mapping", help="Saved CSV mapping for this bank's CSV exports.")
        account_actions.add_parser("list", help="List the registered accounts.")

        mapping = subcommands.add_parser("mapping", help="Save a bank's CSV column mapping.")
        mapping_actions = mapping.add_subparsers(dest="mapping_action", required=True)
        save = mapping_actions.add_parser("save", help="Create or replace a mapping from TOML.")
        save.add_argument("name")
        save.add_argument("file", type=Path, help="TOML file: settings and a [columns] table.")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _entity(self, code: str | None) -> LegalEntity | None:
        if not code:
            return None
        entity = LegalEntity.objects.filter(code=code).first()
        if entity is None:
            raise CommandError(f"No entity with code {code!r}.")
        return entity

    def _import(self, options):
        entity = self._entity(options["entity"])
        if options["create_accounts"] and entity is None:
            raise CommandError("--create-accounts needs --entity to know whose accounts they are.")
        failures = 0
        for path in options["files"]:
            if not path.is_file():
                self.stderr.write(f"{path}: does not exist or is not a file.")
                failures += 1
                continue
            try:
                result = services.import_statement_file(
                    path,
                    format=options["format"],
                    entity=entity,
                    account=options["account"],
                    mapping=options["mapping"],
                    create_accounts=options["create_accounts"],
                    accept_unbalanced=options["accept_unbalanced"],
                )
            except O2CError as error:
                self.stderr.write(error.message)
                failures += 1
                continue
            self.stdout.write(
                f"{path.name} ({result.format}): {result.statements_created} statement(s) and "
                f"{result.lines_created} line(s) imported; {result.statements_already_imported} "
                f"statement(s) and {result.lines_already_imported} line(s) already there."
            )
            for note in result.notes:
                self.stdout.write(f"  accepted although unbalanced: {note}")
        if failures:
            sys.stdout.flush()
            raise CommandError(f"{failures} of {len(options['files'])} file(s) not imported.")

    def _account(self, options):
        if options["account_action"] == "list":
            for account in BankAccount.objects.select_related("entity"):
                self.stdout.write(
                    f"{account.entity.code}\t{account.identifier}\t{account.currency}\t"
                    f"{account.name}\t{account.bank_name}\t{account.bank_code}"
                )
            return
        mapping = None
        if options["mapping"]:
            from o2c.banking.models import CsvMapping

            mapping = CsvMapping.objects.filter(name=options["mapping"]).first()
            if mapping is None:
                raise CommandError(f"No CSV mapping named {options['mapping']!r}.")
        account = services.add_bank_account(
            entity=self._entity(options["entity"]),
            identifier=options["identifier"],
            currency=options["currency"],
            name=options["name"],
            bic=options["bic"],
            bank_name=options["bank"],
            bank_code=options["bank_code"],
            csv_mapping=mapping,
        )
        self.stdout.write(f"Registered: {account}")

    def _mapping(self, options):
        path: Path = options["file"]
        try:
            settings = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise CommandError(f"{path}: cannot read the mapping ({error}).") from None
        mapping = services.save_csv_mapping(options["name"], settings)
        self.stdout.write(f"Saved CSV mapping {mapping.name} ({len(mapping.columns)} columns).")
