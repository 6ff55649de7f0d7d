"""Peppol BIS Billing 3.0 (EN 16931 CIUS) UBL 2.1 XML of invoices and credit notes.

Elements are written in the order the UBL 2.1 schemas require. Amounts carry the
currency's decimals. What EN 16931 cannot express (three-decimal currencies, a seller
without VAT number) is refused before writing, by `common.einvoice_problems`.
"""

from decimal import Decimal

from lxml import etree

from o2c.billing.documents import common
from o2c.billing.documents.labels import mention_texts
from o2c.core import money

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_TYPE_CODE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNTDID 1001: credit note
CREDIT_TRANSFER = "30"  # UNCL4461
SEPA_CREDIT_TRANSFER = "58"
UNDEFINED_MEANS = "1"  # UNCL4461: instrument not defined
DISCOUNT_REASON = "95"  # UNCL5189: discount
EMAIL_SCHEME = "EM"  # Peppol EAS: electronic mail


def _cbc(parent, tag, text=None, **attributes):
    element = etree.SubElement(parent, f"{{{NS_CBC}}}{tag}", **attributes)
    if text is not None:
        element.text = str(text)
    return element


def _cac(parent, tag):
    return etree.SubElement(parent, f"{{{NS_CAC}}}{tag}")


def render(document) -> bytes:
    """Return the UBL XML bytes of a posted invoice or credit note."""
    common.require_posted(document)
    common.require_einvoice(document)
    credit = common.is_credit_note(document)
    invoice = common.invoice_of(document)
    currency = document.currency
    lines = common.document_lines(document)
    groups = common.tax_groups(document, lines)
    root_namespace = NS_CREDIT_NOTE if credit else NS_INVOICE
    root = etree.Element(
        f"{{{root_namespace}}}{'CreditNote' if credit else 'Invoice'}",
        nsmap={None: root_namespace, "cac": NS_CAC, "cbc": NS_CBC},
    )

    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", document.number)
    _cbc(root, "IssueDate", common.issue_date(document).isoformat())
    if credit:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        if invoice.due_date:
            _cbc(root, "DueDate", invoice.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    notes = [document.reason] if credit else []
    notes += mention_texts(document.legal_mentions, document.language)
    if notes:
        _cbc(root, "Note", " ".join(notes))
    _cbc(root, "DocumentCurrencyCode", currency)
    base_currency = document.entity.base_currency
    foreign = currency != base_currency and document.fx_rate is not None
    if foreign:
        _cbc(root, "TaxCurrencyCode", base_currency)
    if invoice.buyer_reference:
        _cbc(root, "BuyerReference", invoice.buyer_reference)
    if invoice.order_reference:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.order_reference)
    if credit:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", invoice.number)
        _cbc(reference, "IssueDate", invoice.invoice_date.isoformat())

    _party(_cac(root, "AccountingSupplierParty"), document.entity, seller=True)
    _party(_cac(root, "AccountingCustomerParty"), document.customer, seller=False)
    _payment(root, document, invoice, credit)

    total = _cac(root, "TaxTotal")
    _cbc(total, "TaxAmount", money.as_text(document.tax_amount, currency), currencyID=currency)
    for group in groups:
        _tax_subtotal(total, group, currency)
    if foreign:
        base_tax = money.round_amount(document.tax_amount * document.fx_rate, base_currency)
        _cbc(
            _cac(root, "TaxTotal"),
            "TaxAmount",
            money.as_text(base_tax, base_currency),
            currencyID=base_currency,
        )
    _monetary_total(root, document, currency)
    for line in lines:
        _line(root, line, currency, credit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _party(parent, party, *, seller: bool) -> None:
    node = _cac(parent, "Party")
    email = party.email if seller else next(iter(common.billing_emails(party)), "")
    scheme, identifier = _endpoint(party, email)
    if identifier:
        _cbc(node, "EndpointID", identifier, schemeID=scheme)
    _cbc(_cac(node, "PartyName"), "Name", party.name)
    address = _cac(node, "PostalAddress")
    for name, value in (
        ("StreetName", party.street),
        ("AdditionalStreetName", party.additional_street),
        ("CityName", party.city),
        ("PostalZone", party.postal_code),
        ("CountrySubentity", party.subdivision),
    ):
        if value:
            _cbc(address, name, value)
    country = party.country or (party.entity.country if not seller else "")
    _cbc(_cac(address, "Country"), "IdentificationCode", country)
    tax_number = party.vat_number if seller else party.tax_number
    if tax_number:
        scheme_node = _cac(node, "PartyTaxScheme")
        _cbc(scheme_node, "CompanyID", tax_number)
        _cbc(_cac(scheme_node, "TaxScheme"), "ID", "VAT")
    _cbc(_cac(node, "PartyLegalEntity"), "RegistrationName", party.name)
    if email:
        _cbc(_cac(node, "Contact"), "ElectronicMail", email)


def _endpoint(party, email: str) -> tuple[str, str]:
    """Return (EAS scheme, identifier) from 'scheme:identifier', else the e-mail address."""
    if party.electronic_address and ":" in party.electronic_address:
        scheme, identifier = party.electronic_address.split(":", 1)
        return scheme.strip(), identifier.strip()
    return EMAIL_SCHEME, email


def _payment(root, document, invoice, credit: bool) -> None:
    entity = document.entity
    if not credit and invoice.creditor_reference:
        means = _cac(root, "PaymentMeans")
        account_id, provider_id = _payee(entity, document.currency)
        # A credit transfer code needs the payee's account (BR-61), so without one the
        # means stay undefined and the reference is still given.
        if entity.iban and document.currency == "EUR":
            _cbc(means, "PaymentMeansCode", SEPA_CREDIT_TRANSFER, name="SEPA credit transfer")
        elif account_id:
            _cbc(means, "PaymentMeansCode", CREDIT_TRANSFER, name="Credit transfer")
        else:
            _cbc(means, "PaymentMeansCode", UNDEFINED_MEANS)
        _cbc(means, "PaymentID", invoice.creditor_reference)
        if account_id:
            account = _cac(means, "PayeeFinancialAccount")
            _cbc(account, "ID", account_id)
            _cbc(account, "Name", entity.name)
            if provider_id:
                _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", provider_id)
    if not credit and invoice.payment_term is not None:
        _cbc(_cac(root, "PaymentTerms"), "Note", invoice.payment_term.name)


def _payee(entity, currency: str) -> tuple[str, str]:
    """Return the payee's account (BT-84) and its payment service provider (BT-86).

    The IBAN and BIC when the entity has an IBAN; else a bank account number with its
    domestic clearing code (a US routing number, say), which BT-86 also allows.
    """
    if entity.iban:
        return entity.iban.replace(" ", ""), entity.bic
    account = common.payee_bank_account(entity, currency)
    if account is None:
        return "", ""
    return account.identifier, account.bank_code or account.bic


def _tax_subtotal(total, group, currency: str) -> None:
    subtotal = _cac(total, "TaxSubtotal")
    _cbc(
        subtotal,
        "TaxableAmount",
        money.as_text(group.taxable_amount, currency),
        currencyID=currency,
    )
    _cbc(subtotal, "TaxAmount", money.as_text(group.tax_amount, currency), currencyID=currency)
    _tax_category(_cac(subtotal, "TaxCategory"), group.code, group.rate, group)


def _tax_category(node, code: str, rate: Decimal, group=None) -> None:
    _cbc(node, "ID", code)
    _cbc(node, "Percent", common.number_text(rate))
    if group is not None and group.exemption_reason_code:
        _cbc(node, "TaxExemptionReasonCode", group.exemption_reason_code)
    if group is not None and group.exemption_reason:
        _cbc(node, "TaxExemptionReason", group.exemption_reason)
    _cbc(_cac(node, "TaxScheme"), "ID", "VAT")


def _monetary_total(root, document, currency: str) -> None:
    totals = _cac(root, "LegalMonetaryTotal")
    net = document.net_amount
    gross = net + document.tax_amount
    for name, value in (
        ("LineExtensionAmount", net),
        ("TaxExclusiveAmount", net),
        ("TaxInclusiveAmount", gross),
    ):
        _cbc(totals, name, money.as_text(value, currency), currencyID=currency)
    if document.rounding_amount:
        _cbc(
            totals,
            "PayableRoundingAmount",
            money.as_text(document.rounding_amount, currency),
            currencyID=currency,
        )
    _cbc(
        totals,
        "PayableAmount",
        money.as_text(document.payable_amount, currency),
        currencyID=currency,
    )


def _line(root, line, currency: str, credit: bool) -> None:
    node = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(node, "ID", line.position)
    _cbc(
        node,
        "CreditedQuantity" if credit else "InvoicedQuantity",
        common.number_text(line.quantity),
        unitCode=line.unit,
    )
    _cbc(
        node,
        "LineExtensionAmount",
        money.as_text(line.net_amount, currency),
        currencyID=currency,
    )
    if line.discount_percent:
        base = money.round_amount(line.quantity * line.unit_price, currency)
        allowance = _cac(node, "AllowanceCharge")
        _cbc(allowance, "ChargeIndicator", "false")
        _cbc(allowance, "AllowanceChargeReasonCode", DISCOUNT_REASON)
        _cbc(allowance, "MultiplierFactorNumeric", common.number_text(line.discount_percent))
        _cbc(
            allowance,
            "Amount",
            money.as_text(base - line.net_amount, currency),
            currencyID=currency,
        )
        _cbc(allowance, "BaseAmount", money.as_text(base, currency), currencyID=currency)
    item = _cac(node, "Item")
    _cbc(item, "Name", line.description[:200])
    if line.product_code:
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.product_code)
    _tax_category(_cac(item, "ClassifiedTaxCategory"), line.tax_code, line.tax_rate)
    _cbc(
        _cac(node, "Price"),
        "PriceAmount",
        common.price_text(line.unit_price, currency),
        currencyID=currency,
    )
