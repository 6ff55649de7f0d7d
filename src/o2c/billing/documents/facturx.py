"""Factur-X: the printable PDF as PDF/A-3 with the EN 16931 CII XML embedded.

The CII XML follows the Factur-X EN 16931 profile. The factur-x library checks it
against its XSD while embedding it, and writes the XMP metadata that PDF/A-3 needs.
"""

from lxml import etree

from o2c.billing.documents import common, pdf
from o2c.billing.documents.labels import mention_texts
from o2c.core import money

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"
FACTURX_LEVEL = "en16931"


def _rsm(parent, tag):
    return etree.SubElement(parent, f"{{{NS_RSM}}}{tag}")


def _ram(parent, tag, text=None, **attributes):
    element = etree.SubElement(parent, f"{{{NS_RAM}}}{tag}", **attributes)
    if text is not None:
        element.text = str(text)
    return element


def _date(parent, tag, value, namespace=NS_UDT):
    holder = _ram(parent, tag)
    stamp = etree.SubElement(holder, f"{{{namespace}}}DateTimeString", format="102")
    stamp.text = value.strftime("%Y%m%d")


def render_xml(document) -> bytes:
    """Return the CII XML (Factur-X EN 16931 profile) of a posted invoice or credit note."""
    common.require_posted(document)
    common.require_einvoice(document)
    credit = common.is_credit_note(document)
    invoice = common.invoice_of(document)
    currency = document.currency
    lines = common.document_lines(document)
    root = etree.Element(
        f"{{{NS_RSM}}}CrossIndustryInvoice",
        nsmap={"rsm": NS_RSM, "ram": NS_RAM, "udt": NS_UDT, "qdt": NS_QDT},
    )
    context = _rsm(root, "ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINE_EN16931)

    header = _rsm(root, "ExchangedDocument")
    _ram(header, "ID", document.number)
    _ram(header, "TypeCode", "381" if credit else "380")
    _date(header, "IssueDateTime", common.issue_date(document))
    notes = [document.reason] if credit else []
    notes += mention_texts(document.legal_mentions, document.language)
    for note in notes:
        _ram(_ram(header, "IncludedNote"), "Content", note)

    transaction = _rsm(root, "SupplyChainTradeTransaction")
    for line in lines:
        _line(transaction, line, currency)

    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    if invoice.buyer_reference:
        _ram(agreement, "BuyerReference", invoice.buyer_reference)
    _party(_ram(agreement, "SellerTradeParty"), document.entity, seller=True)
    _party(_ram(agreement, "BuyerTradeParty"), document.customer, seller=False)
    if invoice.order_reference:
        _ram(
            _ram(agreement, "BuyerOrderReferencedDocument"),
            "IssuerAssignedID",
            invoice.order_reference,
        )
    _ram(transaction, "ApplicableHeaderTradeDelivery")
    _settlement(transaction, document, invoice, credit, lines)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _line(transaction, line, currency: str) -> None:
    item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
    _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", line.position)
    product = _ram(item, "SpecifiedTradeProduct")
    if line.product_code:
        _ram(product, "SellerAssignedID", line.product_code)
    _ram(product, "Name", line.description[:200])
    agreement = _ram(item, "SpecifiedLineTradeAgreement")
    _ram(
        _ram(agreement, "NetPriceProductTradePrice"),
        "ChargeAmount",
        common.price_text(line.unit_price, currency),
    )
    _ram(
        _ram(item, "SpecifiedLineTradeDelivery"),
        "BilledQuantity",
        common.number_text(line.quantity),
        unitCode=line.unit,
    )
    settlement = _ram(item, "SpecifiedLineTradeSettlement")
    tax = _ram(settlement, "ApplicableTradeTax")
    _ram(tax, "TypeCode", "VAT")
    _ram(tax, "CategoryCode", line.tax_code)
    _ram(tax, "RateApplicablePercent", common.number_text(line.tax_rate))
    if line.discount_percent:
        base = money.round_amount(line.quantity * line.unit_price, currency)
        allowance = _ram(settlement, "SpecifiedTradeAllowanceCharge")
        indicator = _ram(allowance, "ChargeIndicator")
        etree.SubElement(indicator, f"{{{NS_UDT}}}Indicator").text = "false"
        _ram(allowance, "CalculationPercent", common.number_text(line.discount_percent))
        _ram(allowance, "BasisAmount", money.as_text(base, currency))
        _ram(allowance, "ActualAmount", money.as_text(base - line.net_amount, currency))
        _ram(allowance, "ReasonCode", "95")
    _ram(
        _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation"),
        "LineTotalAmount",
        money.as_text(line.net_amount, currency),
    )


def _party(node, party, *, seller: bool) -> None:
    _ram(node, "Name", party.name)
    address = _ram(node, "PostalTradeAddress")
    if party.postal_code:
        _ram(address, "PostcodeCode", party.postal_code)
    if party.street:
        _ram(address, "LineOne", party.street)
    if party.additional_street:
        _ram(address, "LineTwo", party.additional_street)
    if party.city:
        _ram(address, "CityName", party.city)
    _ram(address, "CountryID", party.country or (party.entity.country if not seller else ""))
    if party.subdivision:
        _ram(address, "CountrySubDivisionName", party.subdivision)
    email = party.email if seller else next(iter(common.billing_emails(party)), "")
    if email:
        _ram(_ram(node, "URIUniversalCommunication"), "URIID", email, schemeID="EM")
    tax_number = party.vat_number if seller else party.tax_number
    if tax_number:
        _ram(_ram(node, "SpecifiedTaxRegistration"), "ID", tax_number, schemeID="VA")


def _settlement(transaction, document, invoice, credit: bool, lines) -> None:
    currency = document.currency
    base_currency = document.entity.base_currency
    foreign = currency != base_currency and document.fx_rate is not None
    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    if invoice.creditor_reference:
        _ram(settlement, "PaymentReference", invoice.creditor_reference)
    if foreign:
        _ram(settlement, "TaxCurrencyCode", base_currency)
    _ram(settlement, "InvoiceCurrencyCode", currency)
    entity = document.entity
    if not credit and entity.iban:
        means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(means, "TypeCode", "58" if document.currency == "EUR" else "30")
        _ram(
            _ram(means, "PayeePartyCreditorFinancialAccount"),
            "IBANID",
            entity.iban.replace(" ", ""),
        )
    for group in common.tax_groups(document, lines):
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", money.as_text(group.tax_amount, currency))
        _ram(tax, "TypeCode", "VAT")
        if group.exemption_reason:
            _ram(tax, "ExemptionReason", group.exemption_reason)
        _ram(tax, "BasisAmount", money.as_text(group.taxable_amount, currency))
        _ram(tax, "CategoryCode", group.code)
        if group.exemption_reason_code:
            _ram(tax, "ExemptionReasonCode", group.exemption_reason_code)
        _ram(tax, "RateApplicablePercent", common.number_text(group.rate))
    if not credit and (invoice.payment_term or invoice.due_date):
        terms = _ram(settlement, "SpecifiedTradePaymentTerms")
        if invoice.payment_term:
            _ram(terms, "Description", invoice.payment_term.name)
        if invoice.due_date:
            _date(terms, "DueDateDateTime", invoice.due_date)
    totals = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(totals, "LineTotalAmount", money.as_text(document.net_amount, currency))
    _ram(totals, "TaxBasisTotalAmount", money.as_text(document.net_amount, currency))
    _ram(
        totals,
        "TaxTotalAmount",
        money.as_text(document.tax_amount, currency),
        currencyID=currency,
    )
    if foreign:
        base_tax = money.round_amount(document.tax_amount * document.fx_rate, base_currency)
        _ram(
            totals,
            "TaxTotalAmount",
            money.as_text(base_tax, base_currency),
            currencyID=base_currency,
        )
    if document.rounding_amount:
        _ram(totals, "RoundingAmount", money.as_text(document.rounding_amount, currency))
    _ram(
        totals,
        "GrandTotalAmount",
        money.as_text(document.net_amount + document.tax_amount, currency),
    )
    _ram(totals, "DuePayableAmount", money.as_text(document.payable_amount, currency))
    if credit:
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _ram(reference, "IssuerAssignedID", invoice.number)
        _date(reference, "FormattedIssueDateTime", invoice.invoice_date, namespace=NS_QDT)


def render(document) -> bytes:
    """Return the Factur-X PDF: PDF/A-3 from WeasyPrint with the CII XML attached."""
    from facturx import generate_from_binary

    xml = render_xml(document)
    printable = pdf.render(document, variant="pdf/a-3b")
    return generate_from_binary(
        printable,
        xml,
        flavor="factur-x",
        level=FACTURX_LEVEL,
        check_xsd=True,
        pdf_metadata={
            "author": document.entity.name,
            "keywords": "Factur-X",
            "title": f"{document.entity.name}: {document.number}",
            "subject": f"{document.number} {document.customer.name}",
        },
        lang=pdf.language_of(document.language),
    )
