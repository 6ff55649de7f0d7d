from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.core.errors import O2CError
from o2c.orders.csv_orders import import_orders_csv
from o2c.orders.edi import receive_850
from o2c.parties.models import LegalEntity


class Command(BaseCommand):
    help = "Order intake from files: a CSV of order lines, or an EDI X12 850 interchange."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)
        csv_file = subcommands.add_parser("import-csv", help="Load orders from a CSV file.")
        csv_file.add_argument("file", type=Path)
        csv_file.add_argument("--entity", required=True, help="Entity code the orders are for.")
        edi = subcommands.add_parser(
            "receive-850", help="Load an X12 850 interchange and write the 855 acknowledgment."
        )
        edi.add_argument("file", type=Path)
        edi.add_argument(
            "--ack", type=Path, help="Where to write the 855; default next to the file (.855)."
        )

    def handle(self, *args, **options):
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(path, options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _import_csv(self, path: Path, options):
        entity = LegalEntity.objects.filter(code=options["entity"]).first()
        if entity is None:
            raise CommandError(f"No entity {options['entity']!r}.")
        result = import_orders_csv(path.read_bytes(), path.name, entity=entity)
        self.stdout.write(
            f"{path.name}: {result.created} order(s) created, {result.unchanged} already loaded."
        )
        for order in result.orders:
            self.stdout.write(f"  {order.number} PO {order.customer_reference}: {order.status}")

    def _receive_850(self, path: Path, options):
        result = receive_850(path.read_bytes(), path.name)
        target = options["ack"] or path.with_suffix(".855")
        target.write_text(result.acknowledgment, encoding="ascii")
        self.stdout.write(f"855 written to {target}")
        if not result.accepted:
            problems = "\n".join(f"  {problem}" for problem in result.problems)
            raise CommandError(f"{path.name} was rejected; no order was created.\n{problems}")
        self.stdout.write(f"{path.name}: {result.created} order(s) created.")
        for order in result.orders:
            self.stdout.write(f"  {order.number} PO {order.customer_reference}: {order.status}")
