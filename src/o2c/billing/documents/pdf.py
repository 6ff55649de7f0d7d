"""Printable invoices and credit notes, rendered by WeasyPrint in the customer's language.

Babel formats dates, quantities and amounts for the customer's locale, so an amount
in JPY shows no decimals and one in EUR is written 1 234,56 € for a French reader.
"""

from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django.template.loader import render_to_string

from o2c.billing.documents import common
from o2c.billing.documents.labels import labels, language_of, mention_texts
from o2c.billing.services import early_payment_amount
from o2c.core import money

ZERO = Decimal("0")


class Formatter:
    """Locale-aware formatting of the figures on one document."""

    def __init__(self, language: str, currency: str):
        self.locale = language_of(language)
        self.currency = currency

    def money(self, amount: Decimal, currency: str | None = None) -> str:
        currency = currency or self.currency
        return format_currency(money.round_amount(amount, currency), currency, locale=self.locale)

    def price(self, amount: Decimal) -> str:
        """Format a unit price, keeping decimals beyond the currency's (0.0125 EUR)."""
        if -amount.normalize().as_tuple().exponent > money.minor_unit(self.currency):
            return format_currency(
                amount.normalize(), self.currency, locale=self.locale, decimal_quantization=False
            )
        return self.money(amount)

    def number(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale)

    def percent(self, value: Decimal) -> str:
        return f"{self.number(value)} %"

    def date(self, value) -> str:
        return format_date(value, format="long", locale=self.locale) if value else ""


def context(document) -> dict:
    """Return everything the template prints, already formatted."""
    credit = common.is_credit_note(document)
    invoice = common.invoice_of(document)
    entity, customer = document.entity, document.customer
    words = labels(document.language)
    fmt = Formatter(document.language, document.currency)
    lines = common.document_lines(document)
    taxes = [
        {
            "label": words["tax_on"].format(
                name=tax.tax_name,
                rate=fmt.percent(tax.rate_percent),
                base=fmt.money(tax.taxable_amount),
            ),
            "amount": fmt.money(tax.tax_amount),
        }
        for tax in document.taxes.all()
    ]
    notes = mention_texts(document.legal_mentions, document.language)
    account = payee_account(entity, document.currency, words)
    if not credit and account and invoice.creditor_reference:
        notes.append(
            words["pay_by_transfer"].format(iban=account, reference=invoice.creditor_reference)
        )
    early = None if credit else early_payment_amount(invoice)
    if early is not None:
        notes.append(
            words["early_payment"].format(amount=fmt.money(early[0]), date=fmt.date(early[1]))
        )
    base = entity.base_currency
    if document.currency != base and document.fx_rate is not None:
        notes.append(
            words["fx_note"].format(
                rate=fmt.number(document.fx_rate),
                base=base,
                currency=document.currency,
                date=fmt.date(document.fx_rate_on),
                tax=fmt.money(document.tax_amount * document.fx_rate, base),
            )
        )
    return {
        "words": words,
        "lang": language_of(document.language),
        "title": words["credit_note" if credit else "invoice"],
        "document": document,
        "invoice": invoice,
        "credit": credit,
        "entity": entity,
        "customer": customer,
        "issue_date": fmt.date(common.issue_date(document)),
        "due_date": "" if credit else fmt.date(invoice.due_date),
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "product_code": line.product_code,
                "quantity": f"{fmt.number(line.quantity)} {line.unit}",
                "unit_price": fmt.price(line.unit_price),
                "discount": fmt.percent(line.discount_percent) if line.discount_percent else "",
                "tax": fmt.percent(line.tax_rate),
                "net": fmt.money(line.net_amount),
            }
            for line in lines
        ],
        "taxes": taxes,
        "net_total": fmt.money(document.net_amount),
        "tax_total": fmt.money(document.tax_amount),
        "rounding": fmt.money(document.rounding_amount) if document.rounding_amount else "",
        "payable": fmt.money(document.payable_amount),
        "payment_term": invoice.payment_term.name if invoice.payment_term else "",
        "notes": notes,
    }


def render_html(document) -> str:
    return render_to_string("billing/document_pdf.html", context(document))


def render(document, *, variant: str | None = None) -> bytes:
    """Return the PDF bytes; `variant` "pdf/a-3b" gives the archival form Factur-X needs."""
    from weasyprint import HTML

    common.require_posted(document)
    html = render_html(document)
    return HTML(string=html).write_pdf(pdf_variant=variant)


def payee_account(entity, currency: str, words: dict) -> str:
    """Return the account the customer pays into, in words: the IBAN, else a bank account.

    Countries without IBANs (the United States, Japan) have bank account numbers with a
    domestic clearing code, kept with the entity's bank accounts.
    """
    from o2c.banking.services import bank_code_text

    if entity.iban:
        return entity.iban
    account = common.payee_bank_account(entity, currency)
    if account is None:
        return ""
    parts = [account.bank_name] if account.bank_name else []
    if account.bank_code:
        name = words.get(f"bank_code_{entity.country}", words["bank_code"])
        parts.append(f"{name} {bank_code_text(entity.country, account.bank_code)}")
    parts.append(f"{words['account_number']} {account.identifier}")
    return ", ".join(parts)
