"""`o2c payments`: direct debit files and returns, gateway payout reports, upkeep."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.core.errors import O2CError
from o2c.parties.models import LegalEntity
from o2c.payments import payouts, sepa, sepa_returns, services


class Command(BaseCommand):
    help = (
        "Create SEPA collection files, post collected debits, load returns and payout "
        "reports, expire checkouts."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        collect = commands.add_parser(
            "collect", help="Write the pain.008 file of the debits due by a date."
        )
        collect.add_argument("--entity", required=True, help="Entity code, e.g. FR1.")
        collect.add_argument("--date", required=True, help="Collection date, YYYY-MM-DD.")
        collect.add_argument("--output", type=Path, help="Also write the XML to this file.")
        returns = commands.add_parser(
            "returns", help="Load a pain.002 or camt.054 file of returned direct debits."
        )
        returns.add_argument("file", type=Path)
        report = commands.add_parser("payouts", help="Load a Stripe payout reconciliation CSV.")
        report.add_argument("file", type=Path)
        report.add_argument("--entity", required=True, help="Entity code, e.g. FR1.")
        commands.add_parser("expire", help="Cancel card checkouts left unpaid.")
        commands.add_parser("book", help="Post the direct debits whose collection date has come.")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _entity(self, code: str) -> LegalEntity:
        entity = LegalEntity.objects.filter(code=code).first()
        if entity is None:
            raise CommandError(f"No entity {code!r}; list them with `o2c shell`.")
        return entity

    def _collect(self, options):
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"--date {options['date']!r} is not YYYY-MM-DD.") from None
        created = sepa.create_collection_file(self._entity(options["entity"]), collection_date=day)
        if options["output"]:
            options["output"].write_bytes(bytes(created.content))
        self.stdout.write(
            f"{created.message_id}: {created.transaction_count} debits, "
            f"{created.total_amount:.2f} EUR on {created.collection_date}"
        )

    def _returns(self, options):
        path = options["file"]
        result = sepa_returns.import_returns(path.read_bytes(), path.name)
        self.stdout.write(f"{path.name}: {result.counts}")

    def _payouts(self, options):
        path = options["file"]
        result = payouts.import_stripe_payouts(
            path.read_bytes(), path.name, entity=self._entity(options["entity"])
        )
        self.stdout.write(f"{path.name}: {result.counts}")

    def _book(self, options):
        self.stdout.write(f"{sepa.book_collected_debits()} direct debits posted")

    def _expire(self, options):
        self.stdout.write(f"{services.expire_abandoned_payments()} checkouts canceled")
