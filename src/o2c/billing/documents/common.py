"""What every rendering of an invoice or credit note needs: amounts, parties, tax groups."""

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from o2c.billing.models import CreditNote, Invoice, Status
from o2c.billing.services import treatment_of
from o2c.core import money

ZERO = Decimal("0")


def is_credit_note(document) -> bool:
    return isinstance(document, CreditNote)


def require_posted(document) -> None:
    from o2c.billing.errors import BillingError

    if document.status != Status.POSTED:
        raise BillingError(
            "not_posted",
            "{what} is a draft; post it before producing its documents.",
            what=str(document),
        )


def require_einvoice(document) -> None:
    from o2c.billing.errors import BillingError

    problems = einvoice_problems(document)
    if problems:
        raise BillingError(
            "einvoice_unavailable",
            "No EN 16931 e-invoice can be made of {what}: {problems}.",
            what=str(document),
            problems="; ".join(problems),
        )


def number_text(value: Decimal) -> str:
    """Return a quantity or rate without trailing zeros: 9.975, 20, 7.5."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return str(normalized.quantize(Decimal(1)))
    return format(normalized, "f")


def price_text(price: Decimal, currency: str) -> str:
    """Return a unit price with at least the currency's decimals and no needless zeros."""
    digits = max(money.minor_unit(currency), -price.normalize().as_tuple().exponent)
    return str(price.quantize(Decimal(1).scaleb(-digits)))


@dataclass
class TaxGroup:
    """A VAT breakdown entry of an e-invoice: one category code at one (total) rate."""

    code: str
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason_code: str
    exemption_reason: str


@dataclass
class DocumentLine:
    position: int
    description: str
    product_code: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_code: str
    tax_rate: Decimal
    components: list


def document_lines(document) -> list[DocumentLine]:
    """Return the lines as printed; a credit note by amount shows its lines without quantity."""
    if is_credit_note(document):
        rows = []
        for item in document.lines.select_related("invoice_line"):
            source = item.invoice_line
            by_quantity = item.quantity > ZERO
            rows.append(
                DocumentLine(
                    item.position,
                    item.description if by_quantity else f"{item.description} (adjustment)",
                    source.product_code,
                    source.unit,
                    item.quantity if by_quantity else Decimal(1),
                    item.unit_price if by_quantity else item.net_amount,
                    source.discount_percent if by_quantity else ZERO,
                    item.net_amount,
                    source.tax_code,
                    source.tax_rate_percent,
                    treatment_of(source).components,
                )
            )
        return rows
    return [
        DocumentLine(
            line.position,
            line.description,
            line.product_code,
            line.unit,
            line.quantity,
            line.unit_price,
            line.discount_percent,
            line.net_amount,
            line.tax_code,
            line.tax_rate_percent,
            treatment_of(line).components,
        )
        for line in document.lines.all()
    ]


def tax_groups(document, lines: list[DocumentLine]) -> list[TaxGroup]:
    """Group tax lines by category code and total rate, as EN 16931's VAT breakdown does.

    A line taxed by several components (GST and a provincial tax, CGST and SGST) falls in
    one group at the sum of their rates, and the group's tax is the sum of those
    components' tax lines.
    """
    taxes = list(document.taxes.all())
    groups: OrderedDict[tuple[str, Decimal], TaxGroup] = OrderedDict()
    members: dict[tuple[str, Decimal], set] = {}
    for line in lines:
        key = (line.tax_code, line.tax_rate)
        group = groups.get(key)
        if group is None:
            group = groups[key] = TaxGroup(line.tax_code, line.tax_rate, ZERO, ZERO, "", "")
            members[key] = set()
        group.taxable_amount += line.net_amount
        members[key].update((c.name, line.tax_code, c.rate) for c in line.components)
    for key, group in groups.items():
        for tax in taxes:
            if (tax.tax_name, tax.tax_code, tax.rate_percent) in members[key]:
                group.tax_amount += tax.tax_amount
                group.exemption_reason_code = tax.exemption_reason_code
                group.exemption_reason = tax.exemption_reason
    return list(groups.values())


def invoice_of(document) -> Invoice:
    return document.invoice if is_credit_note(document) else document


def issue_date(document):
    return document.credit_date if is_credit_note(document) else document.invoice_date


def billing_emails(customer) -> list[str]:
    """Return the e-mail addresses of the customer's billing contacts, primary first."""
    return [contact.email for contact in customer.contacts.filter(role="billing").exclude(email="")]


def einvoice_problems(document) -> list[str]:
    """Return why no EN 16931 e-invoice (UBL or Factur-X) can be made of the document.

    An empty list means the e-invoice can be made. Two EN 16931 rules cannot be met by
    the renderer alone. The seller needs a VAT identifier (BR-S-02, BR-Z-02, BR-AE-02
    and the other category rules, BR-CO-26). Amounts have at most two decimals (BR-DEC
    rules), which three-decimal currencies cannot meet.
    """
    problems = []
    decimals = money.minor_unit(document.currency)
    if decimals > 2:
        problems.append(
            f"EN 16931 amounts have at most two decimals and {document.currency} has "
            f"{decimals}, so only the PDF can be sent"
        )
    if not document.entity.vat_number:
        problems.append(
            f"entity {document.entity.code} has no VAT number (field vat_number), which "
            "EN 16931 requires of the seller; add it in Administration under legal entities"
        )
    # BR-CO-09: VAT identifiers start with the two-letter code of the issuing country
    # (EL for Greece), which Japanese or Canadian registration numbers do not have.
    for who, number in (
        (f"entity {document.entity.code}", document.entity.vat_number),
        (f"customer {document.customer.number}", document.customer.tax_number),
    ):
        if number and not (number[:2].isalpha() and number[:2].isupper()):
            problems.append(
                f"the VAT number {number} of {who} does not start with a country code, "
                "as EN 16931 requires (rule BR-CO-09)"
            )
    return problems


def payee_bank_account(entity, currency: str):
    """Return the entity's active bank account in the currency, else its first one, or None.

    Invoices of an entity without an IBAN name this account for payment.
    """
    from o2c.banking.models import BankAccount

    accounts = BankAccount.objects.filter(entity=entity, is_active=True)
    return accounts.filter(currency=currency).first() or accounts.first()
