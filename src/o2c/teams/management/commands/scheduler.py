"""Run the Celery beat schedule of every module.

With a broker configured (O2C_BROKER_URL), this is Celery's own beat: it sends each task
to the broker when due, for the workers to run. Without one (the embedded set-up), the
same schedule runs in this process: each task, when due, runs here and now.
"""

import time

from celery.beat import Scheduler
from django.conf import settings
from django.core.management.base import BaseCommand

from o2c.celery import app


class Command(BaseCommand):
    help = "Run the scheduled tasks (Celery beat), in-process when no broker is configured."

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="List the schedule and exit.")
        parser.add_argument(
            "--once", action="store_true", help="Run every scheduled task once now and exit."
        )
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=None,
            help="Stop after this many seconds (default: run until interrupted).",
        )

    def handle(self, *args, **options):
        app.loader.import_default_modules()
        app.finalize()
        schedule = app.conf.beat_schedule
        if options["list"]:
            for name, entry in sorted(schedule.items()):
                self.stdout.write(f"{name}: {entry['task']} ({entry['schedule']})")
            return
        if options["once"]:
            for name, entry in sorted(schedule.items()):
                result = app.tasks[entry["task"]].apply()
                self.stdout.write(f"{name}: {result.result}")
            return
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("A broker is configured: starting Celery beat; run workers too.")
            app.Beat(loglevel="INFO").run()
            return
        self.stdout.write(f"No broker configured: running {len(schedule)} tasks in-process.")
        scheduler = Scheduler(app, lazy=False)
        deadline = time.monotonic() + options["max_seconds"] if options["max_seconds"] else None
        try:
            while deadline is None or time.monotonic() < deadline:
                wait = scheduler.tick()
                if deadline is not None:
                    wait = min(wait, max(deadline - time.monotonic(), 0))
                time.sleep(max(wait, 0.1))
        except KeyboardInterrupt:
            self.stdout.write("Scheduler stopped.")
