"""Statement of account: opening balance, the period's documents, closing balance.

The balance is what the customer owes: debit documents (invoices, fees, refunds paid
out, reversals of payments) less credit documents (payments, credit notes, write-offs,
discounts, reversals of invoices). The opening balance and the running balance are
computed in SQL (a sum, and a window sum over the period ordered by date). One
statement covers one currency; a customer billed in two currencies gets two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, ExpressionWrapper, F, Sum, Value, When, Window
from django.template.loader import render_to_string

from o2c.core.fields import MoneyField
from o2c.ledger.models import Document, Side
from o2c.ledger.selectors import open_documents
from o2c.portal.formatting import date_text, money_text
from o2c.portal.texts import words

ZERO = Decimal("0")
MONEY = MoneyField()
MAX_PERIOD_DAYS = 731


@dataclass
class StatementLine:
    document_date: dt.date
    kind: str
    number: str
    due_date: dt.date | None
    debit: Decimal
    credit: Decimal
    balance: Decimal
    reversed_kind: str = ""


@dataclass
class Statement:
    customer: object
    currency: str
    start: dt.date
    end: dt.date
    opening: Decimal
    closing: Decimal
    lines: list[StatementLine] = field(default_factory=list)
    open_items: list = field(default_factory=list)


def _signed_amount():
    return Case(
        When(side=Side.DEBIT, then=F("amount")),
        default=ExpressionWrapper(F("amount") * Value(-1), output_field=MONEY),
        output_field=MONEY,
    )


def currencies_of(customer) -> list[str]:
    return list(
        Document.objects.filter(customer=customer)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    ) or [customer.currency]


def build_statement(customer, currency: str, start: dt.date, end: dt.date) -> Statement:
    """Return the statement of one currency from `start` to `end`, both included."""
    documents = Document.objects.filter(customer=customer, currency=currency)
    opening = (
        documents.filter(document_date__lt=start).aggregate(
            total=Sum(_signed_amount(), output_field=MONEY)
        )["total"]
        or ZERO
    )
    rows = (
        documents.filter(document_date__range=(start, end))
        .annotate(
            signed=_signed_amount(),
            running=Window(
                Sum(_signed_amount(), output_field=MONEY),
                order_by=[F("document_date").asc(), F("id").asc()],
            ),
        )
        .order_by("document_date", "id")
        .values(
            "document_date",
            "kind",
            "number",
            "due_date",
            "side",
            "signed",
            "running",
            "reverses__kind",
            "reverses__number",
        )
    )
    lines = [
        StatementLine(
            document_date=row["document_date"],
            kind=row["kind"],
            # A reversal is named after the document it cancels, not by its own technical
            # number (R-payment-...), which means nothing to the customer.
            number=row["reverses__number"] or row["number"],
            due_date=row["due_date"] if row["side"] == Side.DEBIT else None,
            debit=row["signed"] if row["signed"] > ZERO else ZERO,
            credit=-row["signed"] if row["signed"] < ZERO else ZERO,
            balance=opening + row["running"],
            reversed_kind=row["reverses__kind"] or "",
        )
        for row in rows
    ]
    closing = lines[-1].balance if lines else opening
    open_items = list(
        open_documents(documents.filter(side=Side.DEBIT), as_of=end).order_by("due_date", "id")
    )
    return Statement(customer, currency, start, end, opening, closing, lines, open_items)


def line_label(line: StatementLine, language: str) -> str:
    """Return how a statement line names its document, e.g. "Cancellation: Payment DD-1"."""
    w = words(language)
    label = f"{w.get(f'kind_{line.kind}', line.kind)} {line.number}"
    if line.reversed_kind:
        label = f"{w['kind_reversal']}: {w.get(f'kind_{line.reversed_kind}', '')} {line.number}"
    return label


def statement_pdf(statement: Statement, language: str) -> bytes:
    """Return the statement as a PDF in the reader's language (WeasyPrint)."""
    from weasyprint import HTML

    html = render_to_string("portal/statement_pdf.html", statement_context(statement, language))
    return HTML(string=html).write_pdf()


def statement_context(statement: Statement, language: str) -> dict:
    w = words(language)
    currency = statement.currency

    def amount(value):
        return money_text(value, currency, language) if value else ""

    return {
        "w": w,
        "lang": language,
        "statement": statement,
        "entity": statement.customer.entity,
        "customer": statement.customer,
        "period": f"{date_text(statement.start, language)} – {date_text(statement.end, language)}",
        "opening_label": w["opening_balance"].format(date=date_text(statement.start, language)),
        "closing_label": w["closing_balance"].format(date=date_text(statement.end, language)),
        "opening": money_text(statement.opening, currency, language),
        "closing": money_text(statement.closing, currency, language),
        "lines": [
            {
                "date": date_text(line.document_date, language),
                "label": line_label(line, language),
                "due_date": date_text(line.due_date, language),
                "debit": amount(line.debit),
                "credit": amount(line.credit),
                "balance": money_text(line.balance, currency, language),
            }
            for line in statement.lines
        ],
        "open_items": [
            {
                "number": item.number,
                "due_date": date_text(item.due_date, language),
                "open": money_text(item.open_amount, currency, language),
            }
            for item in statement.open_items
        ],
    }
