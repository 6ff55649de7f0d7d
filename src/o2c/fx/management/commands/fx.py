import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.core.errors import O2CError
from o2c.fx.services import convert, import_ecb_csv, set_manual_rate


class Command(BaseCommand):
    help = "Exchange rates: import the ECB reference rates, enter a rate, convert an amount."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)
        load = subcommands.add_parser("import", help="Load an ECB euro reference rates CSV file.")
        load.add_argument("file", type=Path)
        manual = subcommands.add_parser("set", help="Enter a rate the ECB does not publish.")
        manual.add_argument("currency")
        manual.add_argument("units_per_euro", help="Units of the currency for one euro.")
        manual.add_argument("--on", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")
        show = subcommands.add_parser("convert", help="Convert an amount on a date.")
        show.add_argument("amount")
        show.add_argument("from_currency")
        show.add_argument("to_currency")
        show.add_argument("--on", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _import(self, options):
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        result = import_ecb_csv(path)
        self.stdout.write(
            f"{path.name}: {result.created} rates created, {result.unchanged} already loaded, "
            f"{len(result.currencies)} currencies."
        )

    def _set(self, options):
        value = _decimal(options["units_per_euro"])
        rate = set_manual_rate(options["currency"], options["on"], value)
        self.stdout.write(f"Recorded: {rate}")

    def _convert(self, options):
        amount = _decimal(options["amount"])
        result = convert(
            amount, options["from_currency"].upper(), options["to_currency"].upper(), options["on"]
        )
        self.stdout.write(
            f"{result.amount} {result.currency} "
            f"(rate {result.rate} of {result.rate_on}, {result.source})"
        )


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"{text!r} is not a number.") from None
