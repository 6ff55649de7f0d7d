"""`o2c insights backtest|train|rescore|settings`: the models' lifecycle from the console."""

import argparse
import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from o2c import paths
from o2c.core.errors import O2CError
from o2c.insights import services
from o2c.insights.backtest import DEFAULT_FOLDS, DEFAULT_TEST_SHARE, render_section, verdict
from o2c.ledger.models import Document
from o2c.parties.models import LegalEntity

DEFAULT_OUTPUT = paths.PROJECT_DIR / "benchmarks" / "results"


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"Invalid date {text!r}: use the form YYYY-MM-DD."
        ) from None
    return _checked(services.check_day, day)


def _folds(text: str) -> int:
    try:
        folds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"Invalid number of folds {text!r}: use a whole number."
        ) from None
    return _checked(services.check_folds, folds)


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"Invalid test share {text!r}: use a number.") from None
    return _checked(services.check_test_share, share)


def _checked(check, value):
    """Apply a service check and report its error as an invalid argument."""
    try:
        return check(value)
    except O2CError as error:
        raise argparse.ArgumentTypeError(error.message) from None


class Command(BaseCommand):
    help = "Backtest, train and apply the payment-behaviour models."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("backtest", "Run the rolling-origin backtest and write its table."),
            ("train", "Backtest, fit on all history and save a model version."),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("--entity", action="append", help="Entity code (repeatable).")
            action.add_argument(
                "--folds",
                type=_folds,
                default=DEFAULT_FOLDS,
                help=f"Number of time-ordered folds (1-{services.MAX_FOLDS}).",
            )
            action.add_argument(
                "--test-share",
                type=_share,
                default=DEFAULT_TEST_SHARE,
                help="Share of the labelled date range used for testing (between 0 and 1).",
            )
            action.add_argument(
                "--known-on",
                type=_date,
                help="Use only outcomes known on this date (default: the entity's today).",
            )
            if name == "backtest":
                action.add_argument(
                    "--output-dir",
                    type=Path,
                    default=DEFAULT_OUTPUT,
                    help="Folder for the result tables (default: benchmarks/results).",
                )
        rescore = actions.add_parser("rescore", help="Predict open invoices and score customers.")
        rescore.add_argument("--entity", action="append", help="Entity code (repeatable).")
        rescore.add_argument("--as-of", type=_date, help="Prediction date (default: today).")
        settings = actions.add_parser("settings", help="Show or change an entity's settings.")
        settings.add_argument("--entity", required=True, help="Entity code.")
        settings.add_argument("--prediction-point", choices=["issue", "before_due"])
        settings.add_argument("--days-before-due", type=int)
        settings.add_argument(
            "--late-after-days", type=int, help="Late means settled more than N days after due."
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        try:
            getattr(self, f"_{options['action']}")(options)
        except O2CError as error:
            raise CommandError(error.message) from None

    def _entities(self, codes):
        if codes:
            found = {entity.code: entity for entity in LegalEntity.objects.filter(code__in=codes)}
            missing = [code for code in codes if code not in found]
            if missing:
                raise CommandError(f"No entity with code {', '.join(missing)}.")
            return [found[code] for code in codes]
        ids = Document.objects.values_list("entity_id", flat=True).distinct().order_by()
        return list(LegalEntity.objects.filter(pk__in=ids).order_by("code"))

    def _progress(self, message: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(f"  {message}")

    def _backtest(self, options):
        output: Path = options["output_dir"]
        output.mkdir(parents=True, exist_ok=True)
        sections = []
        for entity in self._entities(options["entity"]):
            self.stdout.write(f"Backtesting {entity.code}...")
            _, _, result, cash_backtest = services.backtest_entity(
                entity,
                known_on=options["known_on"],
                folds=options["folds"],
                test_share=options["test_share"],
                progress=self._progress,
            )
            forecast = cash_backtest.metrics()
            text = render_section(entity, result.metrics, forecast)
            self.stdout.write(text)
            sections.append(text)
            record = {
                "entity": entity.code,
                "metrics": result.metrics,
                "verdict": verdict(result.metrics),
                "cash_forecast": {k: v for k, v in forecast.items() if k != "weeks"},
                "folds": [
                    {
                        "origin": dt.date.fromordinal(fold.origin).isoformat(),
                        "end": dt.date.fromordinal(fold.end).isoformat(),
                        "train": fold.train_count,
                        "test": fold.test_count,
                    }
                    for fold in result.folds
                ],
            }
            path = output / f"insights-backtest-{entity.code}.json"
            path.write_text(json.dumps(record, indent=2) + "\n")
        table = output / "insights-backtest.txt"
        table.write_text("\n\n".join(sections) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {table}"))

    def _train(self, options):
        for entity in self._entities(options["entity"]):
            self.stdout.write(f"Training {entity.code}...")
            result = services.train_models(
                entity,
                known_on=options["known_on"],
                folds=options["folds"],
                test_share=options["test_share"],
                progress=self._progress,
            )
            version = result.version
            self.stdout.write(render_section(entity, version.metrics, version.forecast_metrics))
            used = [name for name, passed in version.verdict.items() if passed]
            message = (
                f"{entity.code}: model v{version.version} {version.get_status_display().lower()}"
                f"; used for: {', '.join(used) or 'nothing (the transparent rule is used)'}"
            )
            style = self.style.SUCCESS if used else self.style.WARNING
            self.stdout.write(style(message))

    def _rescore(self, options):
        for entity in self._entities(options["entity"]):
            result = services.rescore_entity(entity, options["as_of"])
            self.stdout.write(
                f"{entity.code} as of {result.as_of}: {result.predictions} open invoices "
                f"predicted, {result.scores} customers scored, {result.flagged} flagged "
                f"for review ({result.method})"
            )

    def _settings(self, options):
        entity = self._entities([options["entity"]])[0]
        settings = services.change_settings(
            entity,
            prediction_point=options["prediction_point"],
            days_before_due=options["days_before_due"],
            late_after_days=options["late_after_days"],
        )
        self.stdout.write(
            f"{entity.code}: prediction point {settings.prediction_point}, "
            f"{settings.days_before_due} days before due, late after "
            f"{settings.late_after_days} days"
        )
