from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.banking.models import StatementLine
from o2c.cashapp import export, remittance, services
from o2c.cashapp.engine import Rules
from o2c.cashapp.models import HintKind
from o2c.core.errors import O2CError
from o2c.parties.models import Customer, LegalEntity


class Command(BaseCommand):
    help = (
        "Cash application: match bank lines to open items, export what was done, import "
        "remittance advices, show or change the matching rules, record customer hints."
    )

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)

        match = subcommands.add_parser("match", help="Run the engine over every unmatched line.")
        match.add_argument("--entity", help="Only the lines of this entity.")

        out = subcommands.add_parser(
            "export", help="Every statement line with its state, allocations and evidence."
        )
        out.add_argument("--format", choices=["json", "csv"], default="json")
        out.add_argument("--entity", help="Only the lines of this entity.")
        out.add_argument(
            "--output", "-o", type=Path, help="File to write; default standard output."
        )

        advice = subcommands.add_parser("remittance", help="Import a remittance advice.")
        advice.add_argument("file", type=Path)
        advice.add_argument("--entity", required=True)
        advice.add_argument(
            "--source",
            choices=["csv", "email"],
            help="csv or email (the text of an e-mail); default from the file suffix.",
        )

        rules = subcommands.add_parser("rules", help="Show or change an entity's matching rules.")
        rules.add_argument("--entity", required=True)
        rules.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="Change one rule, e.g. --set auto_post_threshold=0.95 (repeatable).",
        )

        hint = subcommands.add_parser("hint", help="Record a payer account or name of a customer.")
        hint.add_argument("--entity", required=True)
        hint.add_argument("--customer", required=True, help="Customer number.")
        hint.add_argument("--kind", choices=[kind.value for kind in HintKind], required=True)
        hint.add_argument("value")

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

    def _match(self, options):
        result = services.run_matching(self._entity(options["entity"]))
        self.stdout.write(
            f"{result.lines_seen} line(s) seen: {result.auto_applied} applied automatically, "
            f"{result.queued} sent to the queue, {result.reversals} reversal(s) processed, "
            f"{result.ignored} outgoing line(s) set aside."
        )
        for error in result.errors:
            self.stderr.write(f"  posting failed, line queued: {error}")

    def _export(self, options):
        lines = StatementLine.objects.all()
        entity = self._entity(options["entity"])
        if entity is not None:
            lines = lines.filter(entity=entity)
        records = export.export_records(lines)
        writer = export.write_json if options["format"] == "json" else export.write_csv
        if options["output"]:
            with options["output"].open("w", encoding="utf-8", newline="") as stream:
                count = writer(records, stream)
            self.stderr.write(f"{count} line(s) written to {options['output']}.")
        else:
            writer(records, self.stdout)

    def _remittance(self, options):
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")
        run, created, known = remittance.import_remittance(
            path, entity=self._entity(options["entity"]), source=options["source"]
        )
        self.stdout.write(
            f"{path.name}: {created} advice(s) imported, {known} already there (import {run.pk})."
        )

    def _rules(self, options):
        entity = self._entity(options["entity"])
        if options["set"]:
            values = {}
            for assignment in options["set"]:
                name, _, value = assignment.partition("=")
                name = name.strip()
                if name not in Rules.__dataclass_fields__:
                    known = ", ".join(Rules.__dataclass_fields__)
                    raise CommandError(f"{name!r} is not a rule; rules are: {known}.")
                values[name] = _value(name, value.strip())
            services.update_rules(entity, **values)
        current = services.rules_for(entity)
        for name in Rules.__dataclass_fields__:
            self.stdout.write(f"{name} = {getattr(current, name)}")

    def _hint(self, options):
        entity = self._entity(options["entity"])
        customer = Customer.objects.filter(entity=entity, number=options["customer"]).first()
        if customer is None:
            raise CommandError(f"No customer {options['customer']!r} in entity {entity.code}.")
        hint = services.add_hint(customer, options["kind"], options["value"])
        self.stdout.write(f"Recorded: {hint}")


def _value(name: str, text: str):
    kind = Rules.__dataclass_fields__[name].type
    try:
        if kind in (int, "int"):
            return int(text)
        return Decimal(text)
    except (ValueError, InvalidOperation):
        raise CommandError(f"{name}: {text!r} is not a number.") from None
