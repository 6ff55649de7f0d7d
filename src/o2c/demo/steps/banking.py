"""Today's bank statement of each demo entity, imported and matched by cash application.

The statement (ISO 20022 camt.053.001.02) carries receipts for open invoices of the
demo ledger, written as payers write them. Most quote the RF creditor reference, some
the invoice number, and some nothing but their name. Some pay short, and a few cannot
be matched at all. A few leave a doubt that cash application proposes for a person to
decide: a parent company pays under its own name, pays part of an invoice, or pays
invoices of two group companies in one transfer. It is written once into the data
folder, so a second set-up imports the same file, which the import recognises and skips.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from lxml import etree

from o2c.banking.models import BankAccount, LineState, StatementLine
from o2c.banking.services import import_statement_file
from o2c.cashapp.services import run_matching
from o2c.core import money
from o2c.demo.steps.common import home_customers, randomness
from o2c.disputes.models import Dispute, DisputeStatus
from o2c.ledger.models import Document, DocumentKind, Side
from o2c.ledger.references import creditor_reference
from o2c.ledger.selectors import open_documents
from o2c.parties.models import LegalEntity
from o2c.paths import data_dir

logger = logging.getLogger(__name__)

CAMT_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
RECEIPTS_PER_STATEMENT = 40
# Shares of the receipts, in order: RF reference, invoice number in the text, payer
# name only, short payment quoting the number. Then come the ones left to a person: the
# exact amount paid by a parent company, part of an invoice paid by the parent quoting
# its number, and one transfer for invoices of two customers. The rest match nothing.
SHARES = [
    ("rf", 0.35),
    ("number", 0.20),
    ("name", 0.10),
    ("short", 0.10),
    ("parent", 0.05),
    ("partial", 0.05),
    ("group", 0.05),
]
# Kinds a person decides on. A small ledger keeps one of each in place of an RF receipt.
PERSON_KINDS = ("parent", "partial", "group")
SHORT_PAYMENT_SHARE = Decimal("0.93")
PARTIAL_PAYMENT_SHARE = Decimal("0.40")
UNKNOWN_PAYERS = ["M. SCHNEIDER", "ACCOUNTS DEPT", "J. TANAKA", "PAYMENT SERVICES LTD"]


@dataclass
class Receipt:
    amount: Decimal
    payer: str
    structured_reference: str = ""
    remittance: str = ""
    invoices: list[Document] = field(default_factory=list)


@dataclass
class PlannedStatement:
    path: Path
    # Invoices paid in full by a receipt quoting their RF reference (empty when the file
    # was written by an earlier run).
    paid_by_reference: list[Document] = field(default_factory=list)


def statement_path(entity: LegalEntity) -> Path:
    return data_dir() / "demo" / "statements" / f"{entity.code.lower()}-camt053.xml"


def plan_statement(entity: LegalEntity, account: BankAccount) -> PlannedStatement:
    """Write today's statement of the account unless an earlier run wrote it."""
    path = statement_path(entity)
    if path.exists():
        return PlannedStatement(path)
    receipts = _receipts(entity)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_camt053(entity, account, receipts))
    paid = [
        receipt.invoices[0]
        for receipt in receipts
        if receipt.structured_reference and len(receipt.invoices) == 1
    ]
    return PlannedStatement(path, paid)


def import_and_match(entity: LegalEntity, planned: PlannedStatement) -> dict[str, int]:
    """Import the statement file and run cash application over its new lines."""
    result = import_statement_file(planned.path, entity=entity)
    lines = StatementLine.objects.filter(
        statement__file_name=planned.path.name, entity=entity, state=LineState.NEW
    )
    matched = run_matching(entity, lines=lines)
    return {
        "lines_created": result.lines_created,
        "auto_applied": matched.auto_applied,
        "queued": matched.queued,
        "ignored": matched.ignored,
    }


def _candidates(entity: LegalEntity) -> list[Document]:
    """Return open, undisputed invoices of home customers due around today."""
    today = entity.today()
    disputed = Dispute.objects.filter(entity=entity, status=DisputeStatus.OPEN).values("invoice_id")
    invoices = (
        Document.objects.filter(
            entity=entity,
            kind=DocumentKind.INVOICE,
            side=Side.DEBIT,
            customer__in=home_customers(entity),
            due_date__gte=today - dt.timedelta(days=45),
            due_date__lte=today + dt.timedelta(days=20),
        )
        .exclude(pk__in=disputed)
        .select_related("customer")
    )
    found = [
        invoice
        for invoice in open_documents(invoices).order_by("number")
        if invoice.open_amount == invoice.amount
    ]
    randomness(entity, "statement").shuffle(found)
    return found


def _parent_name(customer) -> str:
    """Return the name a customer's parent company pays under: its first word, "Holding"."""
    return f"{customer.name.split()[0]} Holding".upper()


def _unique_open_amount(invoice: Document) -> bool:
    """Return whether no other open item of the entity has the invoice's open amount."""
    debits = Document.objects.filter(entity_id=invoice.entity_id, side=Side.DEBIT)
    return open_documents(debits).filter(open_amount=invoice.open_amount).count() == 1


def _kinds(count: int) -> list[str]:
    """Return the kind of each of `count` receipts, in the order of SHARES."""
    sizes, start, bound = {}, 0.0, 0
    for kind, share in SHARES:
        start += share
        sizes[kind] = round(start * count) - bound
        bound += sizes[kind]
    for kind in PERSON_KINDS:
        if sizes[kind] == 0 and sizes["rf"] > 2:
            sizes["rf"] -= 1
            sizes[kind] = 1
    kinds = [kind for kind, _ in SHARES for _ in range(sizes[kind])]
    return kinds + ["unknown"] * (count - len(kinds))


def _receipts(entity: LegalEntity) -> list[Receipt]:
    pick = randomness(entity, "receipts")
    currency = entity.base_currency
    found = _candidates(entity)
    invoices = found[:RECEIPTS_PER_STATEMENT]
    # Second invoices of the group transfers, of other customers than the first ones.
    spare = found[RECEIPTS_PER_STATEMENT:]
    receipts = []
    for invoice, kind in zip(invoices, _kinds(len(invoices)), strict=True):
        amount = money.round_amount(invoice.open_amount, currency)
        payer = invoice.customer.name.upper()
        if kind == "rf":
            receipts.append(
                Receipt(amount, payer, creditor_reference(invoice.number), "", [invoice])
            )
        elif kind == "number":
            text = pick.choice(["Invoice {n}", "INV {n} thank you", "Payment of {n}", "Re: {n}"])
            receipts.append(Receipt(amount, payer, "", text.format(n=invoice.number), [invoice]))
        elif kind == "name":
            receipts.append(Receipt(amount, payer, "", "Payment", [invoice]))
        elif kind == "short":
            short = money.round_amount(amount * SHORT_PAYMENT_SHARE, currency)
            text = f"{invoice.number} less damaged goods"
            receipts.append(Receipt(short, payer, "", text, [invoice]))
        elif kind == "parent" and _unique_open_amount(invoice):
            # Only the amount names the invoice; accepting teaches the parent's name.
            parent = _parent_name(invoice.customer)
            receipts.append(Receipt(amount, parent, "", "Payment", [invoice]))
        elif kind == "parent":
            receipts.append(Receipt(amount, payer, "", "Payment", [invoice]))
        elif kind == "partial":
            part = money.round_amount(amount * PARTIAL_PAYMENT_SHARE, currency)
            text = f"Part payment {invoice.number}"
            parent = _parent_name(invoice.customer)
            receipts.append(Receipt(part, parent, "", text, [invoice]))
        elif kind == "group":
            other = next((item for item in spare if item.customer_id != invoice.customer_id), None)
            if other is None:
                receipts.append(Receipt(amount, payer, "", "Payment", [invoice]))
                continue
            spare.remove(other)
            total = amount + money.round_amount(other.open_amount, currency)
            text = f"{invoice.number} {other.number}"
            receipts.append(Receipt(total, payer, "", text, [invoice, other]))
        else:
            odd = money.round_amount(
                amount * Decimal(pick.choice(["0.37", "0.61", "1.18"])), currency
            )
            receipts.append(Receipt(odd, pick.choice(UNKNOWN_PAYERS), "", "Transfer", []))
    return receipts


def _camt053(entity: LegalEntity, account: BankAccount, receipts: list[Receipt]) -> bytes:
    """Return the camt.053 statement of today's receipts and one bank fee."""
    currency = account.currency
    today = entity.today()
    created = timezone.now().replace(microsecond=0).isoformat()
    fee = money.round_amount(Decimal("12.50") * _scale(currency), currency)
    opening = money.round_amount(Decimal("250000") * _scale(currency), currency)
    closing = opening + sum((receipt.amount for receipt in receipts), Decimal(0)) - fee

    def sub(parent, tag, text=None, **attributes):
        element = etree.SubElement(parent, f"{{{CAMT_NAMESPACE}}}{tag}", **attributes)
        if text is not None:
            element.text = text
        return element

    root = etree.Element(f"{{{CAMT_NAMESPACE}}}Document", nsmap={None: CAMT_NAMESPACE})
    report = sub(root, "BkToCstmrStmt")
    header = sub(report, "GrpHdr")
    sub(header, "MsgId", f"DEMO-{entity.code}-{today:%Y%m%d}")
    sub(header, "CreDtTm", created)
    statement = sub(report, "Stmt")
    sub(statement, "Id", f"{entity.code}-{today:%Y%m%d}")
    sub(statement, "ElctrncSeqNb", f"{today:%j}")
    sub(statement, "CreDtTm", created)
    period = sub(statement, "FrToDt")
    sub(period, "FrDtTm", f"{today.isoformat()}T00:00:00")
    sub(period, "ToDtTm", f"{today.isoformat()}T23:59:59")
    account_node = sub(statement, "Acct")
    identifier = sub(account_node, "Id")
    if account.iban:
        sub(identifier, "IBAN", account.iban)
    else:
        sub(sub(identifier, "Othr"), "Id", account.identifier)
    sub(account_node, "Ccy", currency)
    if account.bic or account.bank_name:
        institution = sub(sub(account_node, "Svcr"), "FinInstnId")
        if account.bic:
            sub(institution, "BIC", account.bic)
        if account.bank_name:
            sub(institution, "Nm", account.bank_name)
    for code, amount in (("OPBD", opening), ("CLBD", closing)):
        balance = sub(statement, "Bal")
        sub(sub(sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
        sub(balance, "Amt", money.as_text(amount, currency), Ccy=currency)
        sub(balance, "CdtDbtInd", "CRDT")
        sub(sub(balance, "Dt"), "Dt", today.isoformat())
    for position, receipt in enumerate(receipts, start=1):
        _entry(sub, statement, today, currency, position, receipt)
    _fee_entry(sub, statement, today, currency, fee, len(receipts) + 1)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _entry(sub, statement, today: dt.date, currency: str, position: int, receipt: Receipt):
    entry = sub(statement, "Ntry")
    sub(entry, "Amt", money.as_text(receipt.amount, currency), Ccy=currency)
    sub(entry, "CdtDbtInd", "CRDT")
    sub(entry, "Sts", "BOOK")
    sub(sub(entry, "BookgDt"), "Dt", today.isoformat())
    sub(sub(entry, "ValDt"), "Dt", today.isoformat())
    sub(entry, "AcctSvcrRef", f"{today:%Y%m%d}{position:05d}")
    codes = sub(sub(entry, "BkTxCd"), "Domn")
    sub(codes, "Cd", "PMNT")
    family = sub(codes, "Fmly")
    sub(family, "Cd", "RCDT")
    sub(family, "SubFmlyCd", "ESCT")
    details = sub(sub(entry, "NtryDtls"), "TxDtls")
    sub(sub(details, "Refs"), "EndToEndId", "NOTPROVIDED")
    sub(sub(sub(details, "RltdPties"), "Dbtr"), "Nm", receipt.payer[:70])
    remittance = sub(details, "RmtInf")
    if receipt.remittance:
        sub(remittance, "Ustrd", receipt.remittance[:140])
    if receipt.structured_reference:
        reference = sub(sub(remittance, "Strd"), "CdtrRefInf")
        sub(sub(sub(reference, "Tp"), "CdOrPrtry"), "Cd", "SCOR")
        sub(reference, "Ref", receipt.structured_reference)


def _fee_entry(sub, statement, today: dt.date, currency: str, fee: Decimal, position: int):
    entry = sub(statement, "Ntry")
    sub(entry, "Amt", money.as_text(fee, currency), Ccy=currency)
    sub(entry, "CdtDbtInd", "DBIT")
    sub(entry, "Sts", "BOOK")
    sub(sub(entry, "BookgDt"), "Dt", today.isoformat())
    sub(sub(entry, "ValDt"), "Dt", today.isoformat())
    sub(entry, "AcctSvcrRef", f"{today:%Y%m%d}{position:05d}")
    sub(entry, "AddtlNtryInf", "Account maintenance fee")


def _scale(currency: str) -> Decimal:
    return {"JPY": Decimal("160"), "KWD": Decimal("0.33")}.get(currency, Decimal("1"))
