"""Measure the receivables import and the pages that read the imported ledger.

Generates a ledger (default 100,000 invoices over 4 entities), loads it into a fresh
database, loads it again (which must create nothing), then times the KPI report and the
dashboard and customer pages. Prints the figures and writes them to
benchmarks/results/import_receivables-<vendor>.json.

    .venv/bin/python benchmarks/import_receivables.py                  # fresh SQLite file
    .venv/bin/python benchmarks/import_receivables.py --database-url postgres://postgres@127.0.0.1:5432/o2c_bench

The PostgreSQL database named in the URL is dropped and created again.
"""

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=4)
    parser.add_argument("--database-url", help="Default: a new SQLite file in a temporary folder.")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30))
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="o2c-bench-"))
    os.environ["O2C_DATA_DIR"] = str(workdir)
    os.environ["O2C_DATABASE_URL"] = (
        arguments.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ["O2C_LOG_LEVEL"] = "WARNING"
    os.environ["O2C_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2c.settings")
    if arguments.database_url:
        _recreate_postgres_database(arguments.database_url)

    import django

    django.setup()
    results = run(arguments, workdir)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"import_receivables-{results['database']}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key:32} {value}")
    print(f"written to {out}")
    if results["import_seconds"] > TARGET_SECONDS:
        sys.exit(f"import took {results['import_seconds']} s, over the {TARGET_SECONDS} s target")


def _recreate_postgres_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    settings = dj_database_url.parse(url)
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname="postgres",
        autocommit=True,
    ) as connection:
        name = sql.Identifier(settings["NAME"])
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _timed(function):
    started = time.perf_counter()
    value = function()
    return value, round(time.perf_counter() - started, 2)


def run(arguments, workdir: Path) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from o2c.analytics.kpis import kpi_report
    from o2c.demo.generator import generate
    from o2c.fx.services import import_ecb_csv
    from o2c.imports.services import import_receivables
    from o2c.parties.models import Customer, LegalEntity
    from o2c.paths import SHIPPED_DATA_DIR

    call_command("migrate", verbosity=0)
    import_ecb_csv(SHIPPED_DATA_DIR / "fx" / "eurofxref-hist.csv")
    ledger, generate_seconds = _timed(
        lambda: generate(
            workdir / "ledger",
            invoices=arguments.invoices,
            entities=arguments.entities,
            end=arguments.end,
        )
    )
    first, import_seconds = _timed(
        lambda: import_receivables(ledger.csv_path, "generic", mapping=ledger.mapping_path)
    )
    second, reimport_seconds = _timed(
        lambda: import_receivables(ledger.csv_path, "generic", mapping=ledger.mapping_path)
    )
    entity = LegalEntity.objects.order_by("code").first()
    _, kpi_seconds = _timed(lambda: kpi_report(entity, arguments.end))

    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("bench-admin", password=None)
    client = Client()
    client.force_login(admin)
    with CaptureQueriesContext(connection) as dashboard_queries:
        response, dashboard_seconds = _timed(
            lambda: client.get(f"/?entity={entity.code}&as_of={arguments.end}")
        )
    assert response.status_code == 200, response.status_code
    busiest = (
        Customer.objects.filter(entity=entity)
        .order_by("-documents__amount")
        .values_list("pk", flat=True)
        .first()
    )
    with CaptureQueriesContext(connection) as customer_queries:
        response, customer_seconds = _timed(lambda: client.get(f"/customers/{busiest}/"))
    assert response.status_code == 200, response.status_code

    return {
        "database": connection.vendor,
        "measured_on": dt.date.today().isoformat(),  # noqa: DTZ011
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "invoices": arguments.invoices,
        "entities": arguments.entities,
        "generate_seconds": generate_seconds,
        "import_seconds": import_seconds,
        "import_counts": first.counts,
        "invoices_per_second": round(arguments.invoices / import_seconds),
        "reimport_seconds": reimport_seconds,
        "reimport_created_anything": second.created_anything,
        "kpi_report_seconds": kpi_seconds,
        "dashboard_seconds": dashboard_seconds,
        "dashboard_queries": len(dashboard_queries),
        "customer_page_seconds": customer_seconds,
        "customer_page_queries": len(customer_queries),
        "target_import_seconds": TARGET_SECONDS,
    }


if __name__ == "__main__":
    main()
