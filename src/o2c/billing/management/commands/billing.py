from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.billing import services
from o2c.billing.documents import validation
from o2c.billing.models import Invoice, TaxRule
from o2c.billing.rules import SHIPPED_RULES, load_rules
from o2c.core.errors import O2CError

SUFFIXES = {"pdf": "pdf", "ubl": "xml", "facturx": "facturx.pdf"}


class Command(BaseCommand):
    help = "Billing: tax rules, posting and sending invoices, e-invoice files and validation."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)
        rules = subcommands.add_parser("tax-rules", help="List or load the tax rules.")
        rules.add_argument("operation", choices=["list", "load"])
        rules.add_argument(
            "file",
            nargs="?",
            type=Path,
            default=SHIPPED_RULES,
            help="CSV file to load; default the shipped rates.",
        )
        rules.add_argument("--country", default="", help="List one country only (ISO code).")
        post = subcommands.add_parser("post", help="Post draft invoices by id.")
        post.add_argument("invoice_ids", nargs="+", type=int)
        send = subcommands.add_parser("send", help="E-mail posted invoices by id.")
        send.add_argument("invoice_ids", nargs="+", type=int)
        render = subcommands.add_parser("render", help="Write an invoice's file to a folder.")
        render.add_argument("invoice_id", type=int)
        render.add_argument("kind", choices=sorted(SUFFIXES))
        render.add_argument("--output", type=Path, default=Path("."), help="Folder to write to.")
        check = subcommands.add_parser(
            "validate", help="Check a UBL file against the UBL 2.1 schemas and EN 16931 rules."
        )
        check.add_argument("file", type=Path)

    def handle(self, *args, **options):
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _tax_rules(self, options):
        if options["operation"] == "load":
            path = options["file"]
            if not path.is_file():
                raise CommandError(f"{path} does not exist or is not a file.")
            result = load_rules(path)
            self.stdout.write(
                f"{path.name}: {result.created} rules created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
            return
        rules = TaxRule.objects.all()
        if options["country"]:
            rules = rules.filter(country=options["country"].upper())
        for rule in rules:
            self.stdout.write(str(rule) + (f" to {rule.valid_to}" if rule.valid_to else ""))

    def _invoices(self, ids):
        found = {invoice.pk: invoice for invoice in Invoice.objects.filter(pk__in=ids)}
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise CommandError(f"No invoice with id {', '.join(missing)}.")
        return [found[pk] for pk in ids]

    def _post(self, options):
        for invoice in self._invoices(options["invoice_ids"]):
            posted = services.post_invoice(invoice)
            self.stdout.write(f"Draft {invoice.pk}: posted as {posted.number}.")

    def _send(self, options):
        for invoice in self._invoices(options["invoice_ids"]):
            services.send_invoice(invoice)
            self.stdout.write(f"{invoice.number}: e-mailed.")

    def _render(self, options):
        (invoice,) = self._invoices([options["invoice_id"]])
        folder = options["output"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{invoice.number}.{SUFFIXES[options['kind']]}"
        path.write_bytes(services.document_file(invoice, options["kind"]))
        self.stdout.write(f"Wrote {path}.")

    def _validate(self, options):
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        xml = path.read_bytes()
        errors = validation.schema_errors(xml)
        for error in errors:
            self.stdout.write(f"{path.name}: schema: {error}")
        failures = [] if errors else validation.business_rule_failures(xml)
        for failure in failures:
            self.stdout.write(
                f"{path.name}: {failure.flag or 'error'} {failure.rule}: {failure.text}"
            )
        if errors or any(failure.is_error for failure in failures):
            raise CommandError(f"{path.name} is not a valid EN 16931 UBL document.")
        self.stdout.write(f"{path.name}: valid (UBL 2.1 schemas and EN 16931 rules).")
