import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from o2c.core.errors import O2CError
from o2c.credit.services import schedule_credit_reviews
from o2c.parties.models import LegalEntity


class Command(BaseCommand):
    help = "Credit management: open the credit reviews that fall due."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)
        reviews = subcommands.add_parser(
            "reviews", help="Open a credit review work item for each customer due for one."
        )
        reviews.add_argument("--entity", help="Entity code; default every entity.")
        reviews.add_argument(
            "--on",
            type=dt.date.fromisoformat,
            help="Date to plan from (YYYY-MM-DD); default today.",
        )

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _reviews(self, options):
        entity = None
        if options["entity"]:
            entity = LegalEntity.objects.filter(code=options["entity"]).first()
            if entity is None:
                raise CommandError(f"No entity {options['entity']!r}.")
        created = schedule_credit_reviews(entity=entity, on=options["on"])
        self.stdout.write(f"{len(created)} credit review(s) opened.")
        for item in created:
            self.stdout.write(f"  {item.title}")
