import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.core.errors import O2CError
from o2c.imports.profiles import PROFILE_NAMES
from o2c.imports.services import import_receivables


class Command(BaseCommand):
    help = "Import data files into o2c. Subcommand: receivables."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="what", required=True)
        receivables = subcommands.add_parser(
            "receivables", help="A receivables history: invoices and their settlements."
        )
        receivables.add_argument("file", type=Path)
        receivables.add_argument(
            "--profile", required=True, choices=PROFILE_NAMES, help="Layout of the file."
        )
        receivables.add_argument(
            "--mapping", type=Path, help="Column mapping (TOML) for the generic profile."
        )
        receivables.add_argument(
            "--entity", help="Entity code to import into; default the profile's."
        )
        receivables.add_argument(
            "--quarantine",
            action="store_true",
            help="Import the good records and list the bad ones, instead of rejecting the file.",
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        started = time.monotonic()

        def progress(message: str) -> None:
            sys.stderr.write(f"[{time.monotonic() - started:6.1f}s] {message}\n")

        try:
            result = import_receivables(
                path,
                options["profile"],
                entity_code=options["entity"],
                mapping=options["mapping"],
                quarantine=options["quarantine"],
                progress=progress,
            )
        except O2CError as error:
            raise CommandError(error.message) from None
        counts = result.counts
        self.stdout.write(
            f"Import {result.run.pk} of {path.name}: {result.run.get_status_display()}"
        )
        for key in sorted(counts):
            self.stdout.write(f"  {key.replace('_', ' ')}: {counts[key]}")
        if not result.created_anything:
            self.stdout.write("Nothing new: every record was already imported.")
        for problem in result.quarantined:
            self.stdout.write(f"  quarantined: {problem}")
