"""The tax engine: which taxes a sale attracts, and how they are computed and rounded.

Determination (`determine_treatment`) looks at the seller's and the buyer's countries,
the buyer's tax status and VAT number, and the product's tax category; the rates come
from `TaxRule` rows (seeded from rates/tax_rules.csv), chosen by the invoice date.

- EU seller, buyer in the same country: that country's rates.
- EU seller, business buyer in another member state with a valid VAT number: reverse
  charge (category AE, 0 %), with the legal mention printed on the invoice. A business
  buyer without a valid number is rejected, since charging or not charging VAT would
  then be a guess.
- EU seller, consumer in another member state: the buyer's country's rates (distance
  sales under the One-Stop Shop).
- Any seller, buyer in another country outside these cases: export, zero-rated (EU
  category G, elsewhere Z).
- Canada: GST, HST or GST plus the provincial tax (PST, RST, QST) of the buyer's province.
- India: GST split into CGST and SGST (half each) when seller and buyer are in the same
  state, IGST for the whole rate between states.
- United States: the state-level sales tax of the buyer's state (local rates are not in
  the table); a buyer with an exemption certificate pays none.

Computation (`compute_taxes`) follows EN 16931: each line net is rounded once to the
currency's minor unit, and those rounded nets are what tax is computed on.

- Per document: tax of each rate = round(sum of rounded line nets × rate).
- Per line: tax of each line = round(line net × rate); tax of each rate = the sum.

The rounding mode (half up, half even, down) is the entity's `tax_rounding_mode`, the
level its `tax_rounding_level`. Either way the invoice total is the sum of the line nets
plus the sum of the tax lines, so the printed figures always add up.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from o2c.billing.errors import TaxError
from o2c.core import money

ZERO = Decimal("0")
HUNDRED = Decimal("100")

EU_COUNTRIES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
# EU VAT numbers of Greece start with EL, not the ISO code GR.
VAT_PREFIX = {"GR": "EL"}


class TaxCategory(models.TextChoices):
    """What kind of supply a line is, before knowing who buys it and where."""

    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"
    EXEMPT = "exempt", "Exempt"


class Regime(models.TextChoices):
    DOMESTIC = "domestic", "Domestic sale"
    DISTANCE_SALE = "distance_sale", "EU distance sale to a consumer (One-Stop Shop)"
    REVERSE_CHARGE = "reverse_charge", "Intra-EU supply, reverse charge"
    EXPORT = "export", "Export, zero-rated"
    EXEMPT_BUYER = "exempt_buyer", "Buyer exempt from tax"
    INTRA_STATE = "intra_state", "India, within one state (CGST + SGST)"
    INTER_STATE = "inter_state", "India, between states (IGST)"


# UNCL5305 duty or tax category codes, as EN 16931 and Peppol use them.
CODE_STANDARD = "S"
CODE_ZERO = "Z"
CODE_EXEMPT = "E"
CODE_REVERSE_CHARGE = "AE"
CODE_EXPORT_EU = "G"


@dataclass(frozen=True)
class TaxComponent:
    name: str
    rate: Decimal  # percent


@dataclass(frozen=True)
class TaxTreatment:
    """The taxes one line attracts, with the codes and the legal mention they need."""

    regime: str
    code: str
    components: tuple[TaxComponent, ...]
    exemption_reason_code: str = ""
    exemption_reason: str = ""
    mention: str = ""  # key of a legal mention printed on the invoice, see documents.labels

    @property
    def rate(self) -> Decimal:
        return sum((component.rate for component in self.components), ZERO)


@dataclass(frozen=True)
class Party:
    """The tax identity of a seller or buyer: country, state or province, status, number."""

    country: str
    subdivision: str = ""
    status: str = "business"
    tax_number: str = ""


def valid_eu_vat_number(number: str, country: str) -> bool:
    """Return whether `number` is a well-formed VAT number of the EU member state `country`.

    The check digits are verified with python-stdnum; the number's prefix must name the
    buyer's country (EL for Greece). A check against the VIES service is not done here.
    """
    try:
        compact = eu_vat.validate(number)
    except ValidationError:
        return False
    return compact[:2] == VAT_PREFIX.get(country, country)


class RuleSource:
    """Tax rules loaded once and looked up by country, subdivision, category and date."""

    def __init__(self, rules=None):
        from o2c.billing.models import TaxRule

        rows = rules if rules is not None else TaxRule.objects.all()
        self._rules: dict[tuple[str, str, str], list] = {}
        for rule in rows:
            key = (rule.country, rule.subdivision, rule.category)
            self._rules.setdefault(key, []).append(rule)

    def components(
        self, country: str, subdivision: str, category: str, on: dt.date
    ) -> tuple[TaxComponent, ...]:
        rules = self._rules.get((country, subdivision, category))
        if rules is None and subdivision:
            rules = self._rules.get((country, "", category))
        in_force = [
            rule
            for rule in rules or []
            if rule.valid_from <= on and (rule.valid_to is None or on <= rule.valid_to)
        ]
        if not in_force:
            where = f"{country}-{subdivision}" if subdivision else country
            raise TaxError(
                "no_tax_rule",
                "No {category} tax rate for {where} on {on}; add one to the tax rules "
                "(o2c billing tax-rules load FILE).",
                category=category,
                where=where,
                on=on,
            )
        return tuple(
            TaxComponent(rule.tax_name, Decimal(rule.rate_percent))
            for rule in sorted(in_force, key=lambda rule: rule.tax_name)
        )


def determine_treatment(
    seller: Party, buyer: Party, category: str, on: dt.date, rules: RuleSource
) -> TaxTreatment:
    """Return the taxes a line of `category` attracts when `seller` sells to `buyer`."""
    if category not in TaxCategory.values:
        raise TaxError(
            "unknown_tax_category",
            "{category!r} is not a tax category; use one of {choices}.",
            category=category,
            choices=", ".join(TaxCategory.values),
        )
    if not seller.country:
        raise TaxError(
            "seller_country_missing",
            "The entity has no country, so its taxes cannot be determined; set its country.",
        )
    buyer_country = buyer.country or seller.country

    if buyer_country != seller.country:
        cross_border = _cross_border(seller, buyer, buyer_country, category, on, rules)
        if cross_border is not None:
            return cross_border
    if buyer.status == "exempt":
        return TaxTreatment(
            Regime.EXEMPT_BUYER,
            CODE_EXEMPT,
            (TaxComponent(_tax_name(seller.country), ZERO),),
            exemption_reason="Buyer exempt from tax; exemption certificate on file",
            mention="exempt_buyer",
        )
    if category == TaxCategory.ZERO:
        return TaxTreatment(
            Regime.DOMESTIC, CODE_ZERO, (TaxComponent(_tax_name(seller.country), ZERO),)
        )
    if category == TaxCategory.EXEMPT:
        return TaxTreatment(
            Regime.DOMESTIC,
            CODE_EXEMPT,
            (TaxComponent(_tax_name(seller.country), ZERO),),
            exemption_reason="Exempt from tax",
            mention="exempt_supply",
        )
    if seller.country == "IN":
        return _india(seller, buyer, category, on, rules)
    subdivision = buyer.subdivision if seller.country in ("CA", "US") else ""
    if seller.country in ("CA", "US") and not subdivision:
        raise TaxError(
            "buyer_subdivision_missing",
            "Tax in {country} depends on the buyer's state or province; set it on the customer.",
            country=seller.country,
        )
    components = rules.components(seller.country, subdivision, category, on)
    return TaxTreatment(Regime.DOMESTIC, CODE_STANDARD, components)


def _cross_border(
    seller: Party, buyer: Party, buyer_country: str, category: str, on: dt.date, rules
) -> TaxTreatment | None:
    both_eu = seller.country in EU_COUNTRIES and buyer_country in EU_COUNTRIES
    if both_eu and buyer.status in ("business", "exempt"):
        if not valid_eu_vat_number(buyer.tax_number, buyer_country):
            raise TaxError(
                "invalid_vat_number",
                "The buyer is a business in {country}, so the sale is reverse-charged, "
                "but its VAT number {number!r} is not a valid {country} VAT number; correct "
                "the number or set the customer's tax status to consumer.",
                country=buyer_country,
                number=buyer.tax_number,
            )
        return TaxTreatment(
            Regime.REVERSE_CHARGE,
            CODE_REVERSE_CHARGE,
            (TaxComponent("VAT", ZERO),),
            exemption_reason_code="VATEX-EU-AE",
            exemption_reason="Reverse charge",
            mention="reverse_charge",
        )
    if both_eu:
        if category in (TaxCategory.ZERO, TaxCategory.EXEMPT):
            return None
        components = rules.components(buyer_country, "", category, on)
        return TaxTreatment(Regime.DISTANCE_SALE, CODE_STANDARD, components)
    if seller.country in EU_COUNTRIES:
        return TaxTreatment(
            Regime.EXPORT,
            CODE_EXPORT_EU,
            (TaxComponent("VAT", ZERO),),
            exemption_reason_code="VATEX-EU-G",
            exemption_reason="Export outside the EU",
            mention="export_eu",
        )
    return TaxTreatment(
        Regime.EXPORT,
        CODE_ZERO,
        (TaxComponent(_tax_name(seller.country), ZERO),),
        mention="export",
    )


def _india(seller: Party, buyer: Party, category: str, on: dt.date, rules) -> TaxTreatment:
    if not seller.subdivision or not buyer.subdivision:
        raise TaxError(
            "buyer_subdivision_missing",
            "Indian GST depends on the states of seller and buyer; set both state codes.",
        )
    (gst,) = rules.components("IN", "", category, on)
    if seller.subdivision == buyer.subdivision:
        half = gst.rate / 2
        return TaxTreatment(
            Regime.INTRA_STATE,
            CODE_STANDARD,
            (TaxComponent("CGST", half), TaxComponent("SGST", half)),
        )
    return TaxTreatment(Regime.INTER_STATE, CODE_STANDARD, (TaxComponent("IGST", gst.rate),))


def _tax_name(country: str) -> str:
    return {"CA": "GST", "IN": "GST", "US": "Sales tax", "AU": "GST", "NZ": "GST"}.get(
        country, "Consumption tax" if country == "JP" else "VAT"
    )


# Computation ---------------------------------------------------------------------------


def line_net(
    quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: str
) -> Decimal:
    """Return quantity × unit price less the discount, rounded once (half up) to the currency."""
    gross = quantity * unit_price
    return money.round_amount(gross * (HUNDRED - discount_percent) / HUNDRED, currency)


@dataclass
class TaxAmount:
    """One tax line of a document: a component at a rate, on a taxable amount."""

    tax_name: str
    code: str
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason_code: str = ""
    exemption_reason: str = ""


@dataclass
class TaxResult:
    lines: list[TaxAmount]
    line_taxes: list[Decimal | None]  # per input line; None when rounding per document
    net_amount: Decimal
    tax_amount: Decimal
    mentions: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.net_amount + self.tax_amount


def compute_taxes(
    lines: Sequence[tuple[Decimal, TaxTreatment]],
    currency: str,
    *,
    mode: str = "half_up",
    level: str = "document",
) -> TaxResult:
    """Compute the tax lines of a document from its rounded line nets and treatments.

    `lines` holds (line net, treatment) pairs whose nets are already rounded to the
    currency. Tax lines come out grouped by component name, category code and rate, in
    the order first seen.
    """
    if level not in ("line", "document"):
        raise TaxError("invalid_rounding_level", "Rounding level must be 'line' or 'document'.")
    groups: dict[tuple[str, str, Decimal], TaxAmount] = {}
    line_taxes: list[Decimal | None] = []
    mentions: list[str] = []
    for net, treatment in lines:
        if money.round_amount(net, currency) != net:
            raise TaxError(
                "unrounded_line_net",
                "Line net {net} is not rounded to {currency}; round each line net first.",
                net=net,
                currency=currency,
            )
        if treatment.mention and treatment.mention not in mentions:
            mentions.append(treatment.mention)
        line_tax = ZERO
        for component in treatment.components:
            key = (component.name, treatment.code, component.rate)
            group = groups.get(key)
            if group is None:
                group = groups[key] = TaxAmount(
                    component.name,
                    treatment.code,
                    component.rate,
                    ZERO,
                    ZERO,
                    treatment.exemption_reason_code,
                    treatment.exemption_reason,
                )
            group.taxable_amount += net
            if level == "line":
                tax = money.round_amount(net * component.rate / HUNDRED, currency, mode)
                group.tax_amount += tax
                line_tax += tax
        line_taxes.append(line_tax if level == "line" else None)
    if level == "document":
        for group in groups.values():
            group.tax_amount = money.round_amount(
                group.taxable_amount * group.rate / HUNDRED, currency, mode
            )
    net_total = sum((net for net, _ in lines), ZERO)
    tax_total = sum((group.tax_amount for group in groups.values()), ZERO)
    return TaxResult(list(groups.values()), line_taxes, net_total, tax_total, mentions)
