"""The IBM Watson Analytics "Late Payment Histories" accounts-receivable sample.

One row per invoice, all settled: customer id, a numeric country code, invoice and due
dates (M/D/YYYY), amount, a Disputed flag, settlement date, paper or electronic billing
and the date the customer went paperless. The file states no currency; o2c reads the
amounts as US dollars. It has no customer names, so the customer id serves as name.
"""

import datetime as dt
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

DATE_FORMAT = "%m/%d/%Y"
COLUMNS = [
    "countryCode",
    "customerID",
    "PaperlessDate",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "Disputed",
    "SettledDate",
    "PaperlessBill",
    "DaysToSettle",
    "DaysLate",
]


class IbmLatePaymentProfile(Profile):
    name = "ibm-late-payment"
    default_entity = "LPH"
    entities = {
        "LPH": EntitySpec(
            code="LPH",
            name="Late payment histories (IBM sample)",
            base_currency="USD",
            time_zone="UTC",
        )
    }
    terms = {"NET30": TermSpec(code="NET30", name="Net 30 days", days=30)}
    columns = {
        "customer_number": "customerID",
        "invoice_number": "invoiceNumber",
        "invoice_date": "InvoiceDate",
        "due_date": "DueDate",
        "amount": "InvoiceAmount",
        "paid_on": "SettledDate",
        "disputed": "Disputed",
        "region": "countryCode",
        "delivery_channel": "PaperlessBill",
        "paperless_since": "PaperlessDate",
    }

    def rows(self, path: Path) -> Iterator[ReceivableRow | RecordProblem]:
        problem = header_problem(path, COLUMNS)
        if problem is not None:
            yield problem
            return
        for item in read_csv_records(path):
            if isinstance(item, RecordProblem):
                yield item
                continue
            line, record = item
            reader = FieldReader(path.name, line)
            row = self._row(reader, line, record)
            if reader.problems:
                yield from reader.problems
            else:
                yield row

    def _row(self, reader: FieldReader, line: int, record: dict) -> ReceivableRow | None:
        invoice_date = reader.date("InvoiceDate", record["InvoiceDate"], DATE_FORMAT)
        due_date = reader.date("DueDate", record["DueDate"], DATE_FORMAT)
        settled = reader.date("SettledDate", record["SettledDate"], DATE_FORMAT, required=False)
        amount = reader.decimal("InvoiceAmount", record["InvoiceAmount"])
        disputed = reader.choice("Disputed", record["Disputed"], {"Yes": True, "No": False})
        channel = reader.choice(
            "PaperlessBill", record["PaperlessBill"], {"Paper": "paper", "Electronic": "electronic"}
        )
        row = ReceivableRow(
            line=line,
            customer_number=reader.text("customerID", record["customerID"]),
            customer_name=record["customerID"].strip(),
            invoice_number=reader.text("invoiceNumber", record["invoiceNumber"]),
            invoice_date=invoice_date,
            due_date=due_date,
            amount=amount,
            currency="USD",
            paid_on=settled,
            disputed=bool(disputed),
            region=record["countryCode"].strip(),
            delivery_channel=channel or "",
            paperless_since=reader.date(
                "PaperlessDate", record["PaperlessDate"], DATE_FORMAT, required=False
            ),
            payment_term="NET30",
        )
        if invoice_date and settled:
            _check_derived_days(reader, record, invoice_date, due_date, settled)
        return row


def _check_derived_days(reader, record, invoice_date, due_date, settled: dt.date) -> None:
    """Check the file's own DaysToSettle and DaysLate against its dates.

    A mismatch means the row was damaged or edited; importing it would give KPIs that
    disagree with the file's own figures.
    """
    if record.get("DaysToSettle", "").strip():
        expected = (settled - invoice_date).days
        if record["DaysToSettle"].strip() != str(expected):
            reader.problem(
                "DaysToSettle",
                f"{record['DaysToSettle']!r} disagrees with InvoiceDate and SettledDate "
                f"({expected} days)",
            )
    if due_date and record.get("DaysLate", "").strip():
        expected = max(0, (settled - due_date).days)
        if record["DaysLate"].strip() != str(expected):
            reader.problem(
                "DaysLate",
                f"{record['DaysLate']!r} disagrees with DueDate and SettledDate ({expected} days)",
            )
