"""Printed words of invoices and credit notes, and their legal mentions, per language.

Dates, numbers and amounts are formatted by babel from the customer's locale; these
are the words around them. A language not listed falls back to English.
"""

LANGUAGES = ("en", "fr", "de", "es")

LABELS = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Number",
        "date": "Date",
        "due_date": "Due date",
        "customer_number": "Customer number",
        "buyer_reference": "Your reference",
        "order_reference": "Order",
        "credited_invoice": "Credits invoice",
        "reason": "Reason",
        "seller_vat": "VAT number",
        "buyer_vat": "Customer VAT number",
        "description": "Description",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "discount": "Discount",
        "tax": "Tax",
        "net": "Net",
        "net_total": "Total net",
        "tax_total": "Total tax",
        "rounding": "Rounding",
        "payable": "Amount due",
        "credited": "Amount credited",
        "tax_on": "{name} {rate} on {base}",
        "pay_by_transfer": (
            "Please pay by bank transfer to {iban} quoting the reference {reference}."
        ),
        "early_payment": "Pay {amount} by {date} to take the early-payment discount.",
        "fx_note": "Exchange rate {rate} {base} per {currency} of {date}; tax in {base}: {tax}.",
        "terms": "Payment terms",
        "page": "Page",
        "account_number": "account",
        "bank_code": "bank code",
        "bank_code_US": "routing number",
        "bank_code_GB": "sort code",
        "bank_code_JP": "bank and branch code",
    },
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "number": "Numéro",
        "date": "Date",
        "due_date": "Échéance",
        "customer_number": "Numéro client",
        "buyer_reference": "Votre référence",
        "order_reference": "Commande",
        "credited_invoice": "Avoir sur la facture",
        "reason": "Motif",
        "seller_vat": "N° TVA",
        "buyer_vat": "N° TVA du client",
        "description": "Désignation",
        "quantity": "Quantité",
        "unit_price": "Prix unitaire",
        "discount": "Remise",
        "tax": "Taxe",
        "net": "Montant HT",
        "net_total": "Total HT",
        "tax_total": "Total taxes",
        "rounding": "Arrondi",
        "payable": "Montant dû",
        "credited": "Montant de l'avoir",
        "tax_on": "{name} {rate} sur {base}",
        "pay_by_transfer": "Merci de régler par virement sur {iban} avec la référence {reference}.",
        "early_payment": "Escompte : payez {amount} au plus tard le {date}.",
        "fx_note": (
            "Taux de change {rate} {base} pour 1 {currency} du {date} ; taxe en {base} : {tax}."
        ),
        "terms": "Conditions de paiement",
        "page": "Page",
        "account_number": "compte",
        "bank_code": "code banque",
        "bank_code_US": "numéro de routage ABA",
        "bank_code_GB": "sort code",
        "bank_code_JP": "code banque et agence",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "number": "Nummer",
        "date": "Datum",
        "due_date": "Fällig am",
        "customer_number": "Kundennummer",
        "buyer_reference": "Ihre Referenz",
        "order_reference": "Bestellung",
        "credited_invoice": "Gutschrift zur Rechnung",
        "reason": "Grund",
        "seller_vat": "USt-IdNr.",
        "buyer_vat": "USt-IdNr. des Kunden",
        "description": "Bezeichnung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "discount": "Rabatt",
        "tax": "Steuer",
        "net": "Netto",
        "net_total": "Summe netto",
        "tax_total": "Summe Steuer",
        "rounding": "Rundung",
        "payable": "Zahlbetrag",
        "credited": "Gutschriftsbetrag",
        "tax_on": "{name} {rate} auf {base}",
        "pay_by_transfer": "Bitte überweisen Sie auf {iban} mit der Referenz {reference}.",
        "early_payment": "Bei Zahlung von {amount} bis {date} gilt Skonto.",
        "fx_note": "Wechselkurs {rate} {base} je {currency} vom {date}; Steuer in {base}: {tax}.",
        "terms": "Zahlungsbedingungen",
        "page": "Seite",
        "account_number": "Konto",
        "bank_code": "Bankleitzahl",
        "bank_code_US": "ABA-Routingnummer",
        "bank_code_GB": "Sort Code",
        "bank_code_JP": "Bank- und Filialcode",
    },
    "es": {
        "invoice": "Factura",
        "credit_note": "Factura rectificativa",
        "number": "Número",
        "date": "Fecha",
        "due_date": "Vencimiento",
        "customer_number": "Número de cliente",
        "buyer_reference": "Su referencia",
        "order_reference": "Pedido",
        "credited_invoice": "Rectifica la factura",
        "reason": "Motivo",
        "seller_vat": "NIF-IVA",
        "buyer_vat": "NIF-IVA del cliente",
        "description": "Descripción",
        "quantity": "Cantidad",
        "unit_price": "Precio unitario",
        "discount": "Descuento",
        "tax": "Impuesto",
        "net": "Base",
        "net_total": "Base imponible",
        "tax_total": "Total impuestos",
        "rounding": "Redondeo",
        "payable": "Importe a pagar",
        "credited": "Importe abonado",
        "tax_on": "{name} {rate} sobre {base}",
        "pay_by_transfer": "Pague por transferencia a {iban} indicando la referencia {reference}.",
        "early_payment": "Pague {amount} antes del {date} para el descuento por pronto pago.",
        "fx_note": (
            "Tipo de cambio {rate} {base} por {currency} del {date}; impuesto en {base}: {tax}."
        ),
        "terms": "Condiciones de pago",
        "page": "Página",
        "account_number": "cuenta",
        "bank_code": "código bancario",
        "bank_code_US": "número de ruta ABA",
        "bank_code_GB": "sort code",
        "bank_code_JP": "código de banco y sucursal",
    },
}

# Mentions the law requires on the invoice, keyed by the tax engine's mention names.
MENTIONS = {
    "reverse_charge": {
        "en": "Reverse charge: VAT to be accounted for by the customer "
        "(Article 196, Council Directive 2006/112/EC).",
        "fr": "Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE).",
        "de": "Steuerschuldnerschaft des Leistungsempfängers "
        "(Artikel 196 der Richtlinie 2006/112/EG).",
        "es": "Inversión del sujeto pasivo: IVA a cargo del destinatario "
        "(artículo 196 de la Directiva 2006/112/CE).",
    },
    "export_eu": {
        "en": "VAT exempt: export outside the EU (Article 146, Council Directive 2006/112/EC).",
        "fr": "Exonération de TVA : exportation hors UE (article 146 de la directive 2006/112/CE).",
        "de": "Steuerfreie Ausfuhrlieferung (Artikel 146 der Richtlinie 2006/112/EG).",
        "es": "Exento de IVA: exportación fuera de la UE "
        "(artículo 146 de la Directiva 2006/112/CE).",
    },
    "export": {
        "en": "Zero-rated export.",
        "fr": "Exportation détaxée.",
        "de": "Steuerfreie Ausfuhr.",
        "es": "Exportación exenta.",
    },
    "exempt_buyer": {
        "en": "Sale exempt from tax: the customer's exemption certificate is on file.",
        "fr": "Vente exonérée : attestation d'exonération du client enregistrée.",
        "de": "Steuerfreier Verkauf: Befreiungsnachweis des Kunden liegt vor.",
        "es": "Venta exenta: consta el certificado de exención del cliente.",
    },
    "exempt_supply": {
        "en": "Supply exempt from tax.",
        "fr": "Opération exonérée de taxe.",
        "de": "Steuerfreie Leistung.",
        "es": "Operación exenta.",
    },
}


def language_of(code: str) -> str:
    short = (code or "en").split("-")[0].split("_")[0].lower()
    return short if short in LANGUAGES else "en"


def labels(language: str) -> dict[str, str]:
    return LABELS[language_of(language)]


def mention_texts(keys, language: str) -> list[str]:
    lang = language_of(language)
    return [MENTIONS[key][lang] for key in keys if key in MENTIONS]
