"""A private school's fee receivables (pseudonymised), one row per charge.

Only the raw columns are read: student id, school year, charge category, credit-sale
amount, due date and the date the charge was fully paid. The derived columns that the
publisher computed (dtp_*, cumulative sums) are ignored, because some look ahead.

The file has no invoice number and no issue date. o2c numbers each charge from its
student, due date and category, and takes the due date as the issue date, or the
payment date when the charge was paid before it fell due (a charge exists before it is
paid). Amounts are in Philippine pesos.
"""

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from o2c.imports.errors import RecordProblem
from o2c.imports.profiles.base import (
    EntitySpec,
    FieldReader,
    Profile,
    ReceivableRow,
    TermSpec,
    header_problem,
    read_csv_records,
)

DATE_FORMAT = "%Y-%m-%d"
COLUMNS = [
    "school_year",
    "student_id_pseudonimized",
    "category_name",
    "credit_sale_amount",
    "due_date",
    "date_fully_paid",
    "plan_type",
]


class SchoolFeesProfile(Profile):
    name = "school-fees"
    invoice_dates_derived = True
    default_entity = "SCH"
    entities = {
        "SCH": EntitySpec(
            code="SCH",
            name="School fee receivables",
            base_currency="PHP",
            time_zone="Asia/Manila",
            country="PH",
        )
    }
    terms = {"DUE": TermSpec(code="DUE", name="Due on the stated date")}
    columns = {
        "customer_number": "student_id_pseudonimized",
        "due_date": "due_date",
        "paid_on": "date_fully_paid",
        "amount": "credit_sale_amount",
        "segment": "plan_type",
    }

    def rows(self, path: Path) -> Iterator[ReceivableRow | RecordProblem]:
        problem = header_problem(path, COLUMNS)
        if problem is not None:
            yield problem
            return
        seen: Counter[str] = Counter()
        for item in read_csv_records(path):
            if isinstance(item, RecordProblem):
                yield item
                continue
            line, record = item
            reader = FieldReader(path.name, line)
            student = reader.text("student_id_pseudonimized", record["student_id_pseudonimized"])
            year = reader.text("school_year", record["school_year"])
            category = reader.text("category_name", record["category_name"])
            due_date = reader.date("due_date", record["due_date"], DATE_FORMAT)
            paid_on = reader.date(
                "date_fully_paid", record["date_fully_paid"], DATE_FORMAT, required=False
            )
            amount = reader.decimal("credit_sale_amount", record["credit_sale_amount"])
            if reader.problems:
                yield from reader.problems
                continue
            key = charge_number(student, year, category, due_date)
            seen[key] += 1
            number = key if seen[key] == 1 else f"{key}-{seen[key]}"
            yield ReceivableRow(
                line=line,
                customer_number=student,
                customer_name=f"Student {student}",
                invoice_number=number,
                invoice_date=min(due_date, paid_on) if paid_on else due_date,
                due_date=due_date,
                amount=amount,
                currency="PHP",
                paid_on=paid_on,
                segment=record["plan_type"].strip(),
                payment_term="DUE",
                description=f"{year} {category}",
            )


def charge_number(student: str, year: str, category: str, due_date) -> str:
    """Return a stable number for a charge: the same row gets it on every import."""
    digest = hashlib.sha1(f"{year}|{category}".encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{student}-{due_date:%Y%m%d}-{digest}"
