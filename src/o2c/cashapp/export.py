"""Export of every bank line with what cash application did with it, for audit outside o2c.

One record per statement line: the bank's data, the line's state, the decision with
its confidence and evidence, and each allocation as invoice number and amount. A line
still in the queue carries its best suggestion instead, marked as suggested.
"""

import csv
import json
from collections.abc import Iterator

from o2c.banking.models import StatementLine
from o2c.cashapp.models import Suggestion
from o2c.core import money

CSV_FIELDS = [
    "line_id",
    "entity",
    "account",
    "statement",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_account",
    "text",
    "state",
    "decision",
    "customer",
    "confidence",
    "allocations",
    "on_account",
    "write_off",
    "discount",
    "deduction",
    "evidence",
    "decided_by",
    "decided_at",
]


def export_records(lines=None) -> Iterator[dict]:
    """Yield one record per line, reading lines, decisions and suggestions in chunks."""
    lines = (
        (lines if lines is not None else StatementLine.objects.all())
        .select_related(
            "entity",
            "bank_account",
            "statement",
            "match",
            "match__customer",
            "match__decided_by",
        )
        .order_by("entity_id", "booking_date", "id")
    )
    chunk: list[StatementLine] = []
    for line in lines.iterator(chunk_size=2000):
        chunk.append(line)
        if len(chunk) == 2000:
            yield from _records(chunk)
            chunk = []
    if chunk:
        yield from _records(chunk)


def _records(lines: list[StatementLine]) -> Iterator[dict]:
    best: dict[int, Suggestion] = {}
    for suggestion in Suggestion.objects.filter(line__in=lines, rank=1).select_related("customer"):
        best[suggestion.line_id] = suggestion
    for line in lines:
        record = {
            "line_id": line.pk,
            "entity": line.entity.code,
            "account": line.bank_account.identifier,
            "statement": line.statement.statement_id,
            "booking_date": line.booking_date.isoformat(),
            "value_date": line.value_date.isoformat() if line.value_date else "",
            "amount": str(line.shown_amount),
            "currency": line.currency,
            "counterparty_name": line.counterparty_name,
            "counterparty_account": line.counterparty_account,
            "text": line.text,
            "state": line.state,
            "decision": "",
            "customer": "",
            "confidence": "",
            "allocations": [],
            "on_account": "",
            "write_off": "",
            "discount": "",
            "deduction": "",
            "evidence": [],
            "decided_by": "",
            "decided_at": "",
        }
        match = getattr(line, "match", None)
        if match is not None:
            # Write-offs, discounts and deductions are in the invoices' currency.
            invoice_currency = match.applied[0]["currency"] if match.applied else line.currency
            record.update(
                decision=match.decision,
                customer=match.customer.number if match.customer else "",
                confidence=str(match.confidence) if match.confidence is not None else "",
                allocations=[
                    {
                        "invoice": item["invoice"],
                        "amount": item["amount"],
                        "currency": item["currency"],
                    }
                    for item in match.applied
                ],
                on_account=_shown(match.on_account_amount, line.currency),
                write_off=_shown(match.write_off_amount, invoice_currency),
                discount=_shown(match.discount_amount, invoice_currency),
                deduction=_shown(match.deduction_amount, invoice_currency),
                evidence=list(match.evidence),
                decided_by=match.decided_by.get_username() if match.decided_by else "",
                decided_at=match.decided_at.isoformat(),
            )
        elif line.pk in best:
            suggestion = best[line.pk]
            record.update(
                decision="suggested",
                customer=suggestion.customer.number,
                confidence=str(suggestion.confidence),
                allocations=[
                    {
                        "invoice": item["number"],
                        "amount": item["amount"],
                        "currency": item["currency"],
                    }
                    for item in suggestion.allocations
                ],
                evidence=list(suggestion.evidence),
            )
        yield record


def _shown(amount, currency: str) -> str:
    return "" if amount is None else str(money.round_amount(amount, currency))


def write_json(records, stream) -> int:
    count = 0
    stream.write("[")
    for record in records:
        stream.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        count += 1
    stream.write("\n]\n")
    return count


def write_csv(records, stream) -> int:
    writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS)
    writer.writeheader()
    count = 0
    for record in records:
        row = dict(record)
        row["allocations"] = ";".join(
            f"{item['invoice']}:{item['amount']} {item['currency']}"
            for item in record["allocations"]
        )
        row["evidence"] = " | ".join(record["evidence"])
        writer.writerow(row)
        count += 1
    return count
