import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c.collections import services
from o2c.core.dates import parse_iso_date
from o2c.core.errors import O2CError
from o2c.parties.models import LegalEntity


class Command(BaseCommand):
    help = "Dunning: preview or execute a run, resend failed e-mails, record bounces and replies."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="what", required=True)
        run = subcommands.add_parser("run", help="Preview or execute a dunning run.")
        run.add_argument("--as-of", required=True, help="Date of the run, YYYY-MM-DD.")
        run.add_argument("--entity", help="Entity code; default every entity with a strategy.")
        run.add_argument("--preview", action="store_true", help="Show what would be done only.")
        subcommands.add_parser("resend", help="Send the e-mail reminders that failed.")
        inbound = subcommands.add_parser(
            "inbound", help="Record a bounce or reply, from an RFC 5322 file or standard input."
        )
        inbound.add_argument("file", nargs="?", type=Path)

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['what']}")(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _run(self, options):
        as_of = parse_iso_date(options["as_of"])
        entities = LegalEntity.objects.filter(dunning_strategies__is_active=True).distinct()
        if options["entity"]:
            entities = LegalEntity.objects.filter(code=options["entity"])
            if not entities.exists():
                raise CommandError(f"Entity {options['entity']!r} does not exist.")
        for entity in entities.order_by("code"):
            if options["preview"]:
                plan = services.run_dunning(entity, as_of, preview=True)
                self.stdout.write(f"{entity.code} preview as of {as_of}: {plan.counts}")
                for notice in plan.notices:
                    numbers = ", ".join(item.document.number for item in notice.items)
                    self.stdout.write(
                        f"  {notice.customer.number} {notice.step.name} {notice.channel} "
                        f"[{notice.language}] {notice.total_due} {notice.currency}: {numbers}"
                    )
            else:
                run = services.run_dunning(entity, as_of, source="cli")
                run.refresh_from_db()
                sent = services.send_notices(run.pk)
                self.stdout.write(
                    f"{entity.code} run {run.pk} as of {as_of}: {run.counts}; e-mail {sent}"
                )

    def _resend(self, options):
        self.stdout.write(f"E-mail: {services.send_notices()}")

    def _inbound(self, options):
        raw = options["file"].read_bytes() if options["file"] else sys.stdin.buffer.read()
        inbound = services.record_inbound(raw)
        self.stdout.write(f"Recorded {inbound.kind} (notice {inbound.notice_id or 'none'}).")
