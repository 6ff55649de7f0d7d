"""Measure order intake: a CSV file of orders, its reload, and an EDI 850 interchange.

Creates a fresh database with one entity, 200 customers with EUR credit limits and a
small catalogue, then times loading a CSV file of orders (each submitted, so each runs
the credit check), loading the same file again (which must create nothing) and
receiving an X12 interchange of 850s. Prints the figures and writes them to
benchmarks/results/order_intake-<vendor>.json.

    .venv/bin/python benchmarks/order_intake.py                       # fresh SQLite file
    .venv/bin/python benchmarks/order_intake.py --database-url postgres://postgres@127.0.0.1:5432/o2c_bench_orders

The PostgreSQL database named in the URL is dropped and created again.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from decimal import Decimal
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
CUSTOMERS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="Orders in the CSV file.")
    parser.add_argument("--lines", type=int, default=3, help="Lines per order.")
    parser.add_argument("--edi-orders", type=int, default=100, help="850s in the interchange.")
    parser.add_argument("--database-url", help="Default: a new SQLite file in a temporary folder.")
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="o2c-bench-orders-"))
    os.environ["O2C_DATA_DIR"] = str(workdir)
    os.environ["O2C_DATABASE_URL"] = (
        arguments.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ["O2C_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2c.settings")
    if arguments.database_url:
        _recreate_postgres_database(arguments.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    entity = _set_up()
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "orders": arguments.orders,
        "lines_per_order": arguments.lines,
    }
    results.update(_time_csv(entity, arguments.orders, arguments.lines))
    results.update(_time_edi(entity, arguments.edi_orders, arguments.lines))
    from django.db import connection

    results["database"] = connection.vendor
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"order_intake-{connection.vendor}.json"
    target.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key}: {value}")
    print(f"written to {target}")


def _set_up():
    from o2c.fx.services import set_manual_rate
    from o2c.orders.models import PriceList, PriceListItem, Product, TradingPartner
    from o2c.parties.models import Customer, LegalEntity

    entity = LegalEntity.objects.create(
        code="B1", name="Bench", base_currency="EUR", time_zone="Europe/Paris", country="FR"
    )
    set_manual_rate("USD", entity.today(), Decimal("1.10"))
    customers = Customer.objects.bulk_create(
        Customer(
            entity=entity,
            number=f"C{index:05d}",
            name=f"Customer {index}",
            currency="EUR",
            credit_limit_amount=Decimal("50000"),
            credit_limit_currency="EUR",
        )
        for index in range(CUSTOMERS)
    )
    TradingPartner.objects.create(
        customer=customers[0],
        interchange_qualifier="ZZ",
        interchange_id="BENCHBUYER",
        our_qualifier="ZZ",
        our_id="BENCHSELLER",
    )
    price_list = PriceList.objects.create(entity=entity, code="EUR", name="EUR", currency="EUR")
    for index in range(20):
        product = Product.objects.create(entity=entity, code=f"P{index:03d}", name=f"Item {index}")
        PriceListItem.objects.create(
            price_list=price_list, product=product, unit_price=Decimal("9.90") + index
        )
    return entity


def _time_csv(entity, orders: int, lines: int) -> dict:
    from o2c.orders.csv_orders import import_orders_csv

    rows = ["customer,customer_reference,product,quantity"]
    for order in range(orders):
        for line in range(lines):
            rows.append(f"C{order % CUSTOMERS:05d},PO-{order:06d},P{(order + line) % 20:03d},2")
    content = ("\n".join(rows) + "\n").encode()
    started = time.perf_counter()
    first = import_orders_csv(content, "bench.csv", entity=entity)
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = import_orders_csv(content, "bench.csv", entity=entity)
    again_seconds = time.perf_counter() - started
    return {
        "csv_orders_created": first.created,
        "csv_seconds": round(first_seconds, 2),
        "csv_orders_per_second": round(first.created / first_seconds, 1),
        "csv_reload_created": again.created,
        "csv_reload_seconds": round(again_seconds, 2),
    }


def _time_edi(entity, orders: int, lines: int) -> dict:
    from o2c.orders.edi import receive_850

    segments = [
        "ISA*00*          *00*          *ZZ*BENCHBUYER     *ZZ*BENCHSELLER    "
        "*270301*1200*U*00401*000000001*0*T*>",
        "GS*PO*BENCHBUYER*BENCHSELLER*20270301*1200*1*X*004010",
    ]
    for order in range(orders):
        body = [f"BEG*00*SA*EDI-{order:06d}**20270301"]
        body += [f"PO1*{line + 1}*1*EA**" + f"*VP*P{line:03d}" for line in range(lines)]
        body.append(f"CTT*{lines}")
        control = f"{order + 1:04d}"
        segments += [f"ST*850*{control}", *body, f"SE*{len(body) + 2}*{control}"]
    segments += [f"GE*{orders}*1", "IEA*1*000000001"]
    data = ("~\n".join(segments) + "~\n").encode()
    started = time.perf_counter()
    result = receive_850(data, "bench.edi")
    seconds = time.perf_counter() - started
    return {
        "edi_orders_created": result.created,
        "edi_accepted": result.accepted,
        "edi_seconds": round(seconds, 2),
    }


def _recreate_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
