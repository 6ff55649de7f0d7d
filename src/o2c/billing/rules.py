"""Load tax rules from a CSV file, atomically and idempotently.

Columns: country, subdivision, category, tax_name, rate_percent, valid_from, valid_to
(dates as YYYY-MM-DD, valid_to empty while in force). A row already loaded with the same
rate is left alone; one that changes a loaded rate, or closes it, updates that rule.
"""

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from o2c.billing.errors import TaxError
from o2c.billing.tax import TaxCategory

SHIPPED_RULES = Path(__file__).resolve().parent / "rates" / "tax_rules.csv"
COLUMNS = [
    "country",
    "subdivision",
    "category",
    "tax_name",
    "rate_percent",
    "valid_from",
    "valid_to",
]


@dataclass
class LoadResult:
    created: int
    updated: int
    unchanged: int


def read_rules(path: Path) -> list[dict]:
    """Read and check every row, raising on the first bad one with its line and field."""
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise TaxError(
                "invalid_tax_rules",
                "{file}: missing columns {columns}.",
                file=path.name,
                columns=", ".join(missing),
            )
        for line_number, record in enumerate(reader, start=2):
            rows.append(_parse_row(path, line_number, record))
    return rows


def _parse_row(path: Path, line_number: int, record: dict) -> dict:
    def fail(field: str, problem: str):
        raise TaxError(
            "invalid_tax_rules",
            "{file} line {line}, {field}: {problem}",
            file=path.name,
            line=line_number,
            field=field,
            problem=problem,
        )

    country = record["country"].strip().upper()
    if len(country) != 2:
        fail("country", f"{country!r} is not an ISO 3166 alpha-2 code.")
    category = record["category"].strip()
    if category not in TaxCategory.values:
        fail("category", f"{category!r} is not one of {', '.join(TaxCategory.values)}.")
    try:
        rate = Decimal(record["rate_percent"].strip())
    except InvalidOperation:
        fail("rate_percent", f"{record['rate_percent']!r} is not a number.")
    if not Decimal(0) <= rate < Decimal(100):
        fail("rate_percent", f"{rate} is not a percentage from 0 to 100.")
    dates = {}
    for field in ("valid_from", "valid_to"):
        text = (record[field] or "").strip()
        if not text:
            dates[field] = None
            continue
        try:
            dates[field] = dt.date.fromisoformat(text)
        except ValueError:
            fail(field, f"{text!r} is not a date (YYYY-MM-DD).")
    if dates["valid_from"] is None:
        fail("valid_from", "a start date is required.")
    if dates["valid_to"] and dates["valid_to"] < dates["valid_from"]:
        fail("valid_to", "the rule ends before it starts.")
    return {
        "country": country,
        "subdivision": record["subdivision"].strip().upper(),
        "category": category,
        "tax_name": record["tax_name"].strip(),
        "rate_percent": rate,
        "valid_from": dates["valid_from"],
        "valid_to": dates["valid_to"],
    }


def load_rules(path: Path = SHIPPED_RULES, model=None) -> LoadResult:
    """Create or update the rules of the file; `model` lets a data migration pass its own."""
    if model is None:
        from o2c.billing.models import TaxRule as model
    rows = read_rules(path)
    created = updated = unchanged = 0
    with transaction.atomic():
        for row in rows:
            key = {name: row[name] for name in COLUMNS if name not in ("rate_percent", "valid_to")}
            rule = model.objects.filter(**key).first()
            if rule is None:
                model.objects.create(**row)
                created += 1
            elif rule.rate_percent != row["rate_percent"] or rule.valid_to != row["valid_to"]:
                rule.rate_percent = row["rate_percent"]
                rule.valid_to = row["valid_to"]
                rule.save(update_fields=["rate_percent", "valid_to"])
                updated += 1
            else:
                unchanged += 1
    return LoadResult(created, updated, unchanged)
