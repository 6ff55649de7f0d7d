import datetime as dt
import sys
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from o2c.core.errors import O2CError
from o2c.demo.generator import ENTITY_TEMPLATES, generate


class Command(BaseCommand):
    help = "Demo data: `generate` writes a larger ledger to import; `setup` loads the whole demo."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)
        make = subcommands.add_parser("generate", help="Write a generated ledger (CSV + mapping).")
        make.add_argument("--invoices", type=int, required=True, help="Number of invoices.")
        make.add_argument("--entities", type=int, default=3, help=f"1 to {len(ENTITY_TEMPLATES)}.")
        make.add_argument(
            "--out", type=Path, default=Path("generated-ledger"), help="Folder to write."
        )
        make.add_argument(
            "--end", type=dt.date.fromisoformat, help="Last date (default yesterday)."
        )
        make.add_argument("--years", type=int, default=2, help="Years of history (default 2).")
        make.add_argument(
            "--seed", type=int, default=7, help="Random seed; the same seed gives the same file."
        )
        setup = subcommands.add_parser(
            "setup",
            help="Migrate, load rates, real and generated data, teams, records in every "
            "module and an admin.",
        )
        setup.add_argument(
            "--people-passwords",
            action="store_true",
            help="Also print a one-time password for each demo team member (by default "
            "they have none and cannot sign in).",
        )

    def handle(self, *args, **options):
        if options["action"] == "generate":
            self._generate(options)
        else:
            self._setup(options["people_passwords"])

    def _generate(self, options):
        if options["invoices"] < 1:
            raise CommandError("--invoices must be at least 1.")
        end = options["end"] or dt.date.today() - dt.timedelta(days=1)  # noqa: DTZ011
        try:
            ledger = generate(
                options["out"],
                invoices=options["invoices"],
                entities=options["entities"],
                end=end,
                years=options["years"],
                seed=options["seed"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Wrote {ledger.invoices:,} invoices of {ledger.customers:,} customers in "
            f"{', '.join(ledger.entities)} to {ledger.csv_path}.\nImport it with:\n  o2c import "
            f"receivables {ledger.csv_path} --profile generic --mapping {ledger.mapping_path}"
        )

    def _setup(self, people_passwords: bool):
        from o2c.demo.setup import set_up_demo

        started = time.monotonic()
        call_command("migrate", verbosity=0)

        def report(message: str) -> None:
            sys.stderr.write(f"[{time.monotonic() - started:6.1f}s] {message}\n")

        report("database migrated")
        try:
            signed = set_up_demo(report, people_passwords=people_passwords)
        except O2CError as error:
            raise CommandError(error.message) from None
        lines = [
            "",
            "The demo is ready. Sign in at http://127.0.0.1:8000/ as",
            "  user: admin",
            f"  one-time password: {signed.admin_password}",
            "You will be asked to choose your own password.",
        ]
        if signed.people_passwords:
            lines += ["", "Demo team members, each with a one-time password:"]
            width = max(len(name) for name in signed.people_passwords)
            lines += [
                f"  {name:<{width}}  {password}"
                for name, password in signed.people_passwords.items()
            ]
        else:
            lines += [
                "Demo team members (for example leader.de01, collector1.de01) have no password;",
                "run `o2c demo setup --people-passwords` to print one-time passwords for them,",
                "or set one with `o2c changepassword collector1.de01`.",
            ]
        if signed.portal_link:
            lines += [
                "",
                f"Customer portal of {signed.portal_customer} (single use, valid 30 minutes):",
                f"  {signed.portal_link}",
                "A new link: o2c portal link ADDRESS --customer NUMBER, with a contact's address.",
            ]
        self.stdout.write("\n".join(lines) + "\n")
