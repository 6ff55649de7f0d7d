import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from o2c.analytics.kpis import DEFAULT_PERIOD_DAYS, kpi_report
from o2c.analytics.serialize import report_dict, report_table
from o2c.parties.models import Customer, LegalEntity


class Command(BaseCommand):
    help = "Print the receivables KPIs (aging, DSO, CEI, payment behaviour) as of a date."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            help="YYYY-MM-DD; default today in each entity's time zone.",
        )
        parser.add_argument("--entity", help="Entity code; default every entity.")
        parser.add_argument("--customer", help="Customer number, to report on one customer.")
        parser.add_argument("--currency", help="Only documents in this currency.")
        parser.add_argument(
            "--period-days",
            type=int,
            default=DEFAULT_PERIOD_DAYS,
            help="Days in the period for sales, DSO, CEI and payment behaviour (default 90).",
        )
        parser.add_argument("--format", choices=["json", "table"], default="table")

    def handle(self, *args, **options):
        entities = LegalEntity.objects.all()
        if options["entity"]:
            entities = entities.filter(code=options["entity"])
            if not entities:
                raise CommandError(f"Entity {options['entity']!r} does not exist.")
        if options["period_days"] < 1:
            raise CommandError("--period-days must be at least 1.")
        reports = []
        for entity in entities:
            customers = None
            if options["customer"]:
                customers = Customer.objects.filter(entity=entity, number=options["customer"])
                if not customers.exists():
                    if options["entity"]:
                        raise CommandError(
                            f"Customer {options['customer']!r} does not exist "
                            f"in entity {entity.code}."
                        )
                    continue
            as_of = options["as_of"] or entity.today()
            reports.append(
                kpi_report(
                    entity,
                    as_of,
                    customers=customers,
                    currency=options["currency"],
                    period_days=options["period_days"],
                )
            )
        if options["customer"] and not reports:
            raise CommandError(f"Customer {options['customer']!r} does not exist.")
        if options["format"] == "json":
            payload = [report_dict(report) for report in reports]
            self.stdout.write(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
        else:
            self.stdout.write("\n\n".join(report_table(report) for report in reports))
