"""Seller details of the demo entities, buyer details of the customers they bill, bank accounts.

Invoices print the seller's address, tax number and IBAN; the tax engine needs the
buyer's country, US state or EU VAT number. The numbers are made up but valid: their
check digits hold, so the tax engine and the e-invoice rules accept them.
"""

import logging
from dataclasses import dataclass

from schwifty import IBAN
from stdnum import luhn
from stdnum.iso7064 import mod_11_10
from stdnum.jp import cn as japanese_corporate_number

from o2c.banking.models import BankAccount
from o2c.banking.services import add_bank_account, valid_iban
from o2c.billing.tax import EU_COUNTRIES
from o2c.demo.steps.common import randomness
from o2c.parties.models import Customer, LegalEntity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seller:
    street: str
    city: str
    postal_code: str
    subdivision: str
    vat_number: str
    email: str
    bank_name: str
    bic: str
    # An IBAN, or the bank's account number where the country has no IBANs (US, Japan).
    account: str
    # The domestic clearing code that goes with an account number (fictitious banks).
    bank_code: str = ""


def _german_vat_number(body: str) -> str:
    return f"DE{body}{mod_11_10.calc_check_digit(body)}"


def _french_vat_number(body: str) -> str:
    """Return the VAT number of the SIREN made of 8 digits and their Luhn check digit."""
    siren = body + luhn.calc_check_digit(body)
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def _japanese_registration_number(body: str) -> str:
    """Return a qualified invoice issuer number: T and a 13-digit corporate number."""
    return f"T{japanese_corporate_number.calc_check_digit(body)}{body}"


SELLERS = {
    "DE01": Seller(
        street="Am Sandtorkai 12",
        city="Hamburg",
        postal_code="20457",
        subdivision="",
        vat_number=_german_vat_number("81234567"),
        email="receivables@de01.example.com",
        bank_name="Commerzbank",
        bic="COBADEFFXXX",
        account=str(IBAN.generate("DE", bank_code="20040000", account_code="0611365000")),
    ),
    "US01": Seller(
        street="400 Lakeshore Drive",
        city="Chicago",
        postal_code="60611",
        subdivision="IL",
        vat_number="",
        email="receivables@us01.example.com",
        bank_name="Lakeside Commercial Bank",
        bic="",
        account="0026009593",
        # Check digit valid; its first two digits (50) are outside the ABA's bank ranges
        # (00-12, 21-32, 61-72, 80), so it names no real bank.
        bank_code="500000102",
    ),
    "JP01": Seller(
        street="2-1 Marunouchi, Chiyoda-ku",
        city="Tokyo",
        postal_code="100-0005",
        subdivision="",
        vat_number=_japanese_registration_number("010401012345"),
        email="receivables@jp01.example.com",
        bank_name="Sakura City Bank",
        bic="",
        account="0012345678",
        bank_code="0999-123",
    ),
    "KW01": Seller(
        street="Block 3, Street 14, Sharq",
        city="Kuwait City",
        postal_code="15300",
        subdivision="",
        vat_number="",
        email="receivables@kw01.example.com",
        bank_name="National Bank of Kuwait",
        bic="NBOKKWKW",
        account=str(IBAN.generate("KW", bank_code="NBOK", account_code="0000000000001234560101")),
    ),
}

# Cities and US states given to buyers, by country.
BUYER_CITIES = {
    "DE": [("Köln", "50667", ""), ("München", "80331", ""), ("Leipzig", "04109", "")],
    "FR": [("Lyon", "69002", ""), ("Lille", "59000", "")],
    "GB": [("Leeds", "LS1 4AP", ""), ("Bristol", "BS1 5TR", "")],
    "US": [("Milwaukee", "53202", "WI"), ("Chicago", "60654", "IL"), ("Austin", "78701", "TX")],
    "ES": [("Valencia", "46002", ""), ("Sevilla", "41001", "")],
    "JP": [("Osaka", "530-0001", ""), ("Nagoya", "450-0002", "")],
    "KW": [("Hawalli", "32001", ""), ("Salmiya", "22001", "")],
}


def set_up_sellers(entities: list[LegalEntity]) -> int:
    """Fill in each entity's address, tax number, e-mail and payment account if blank."""
    changed = 0
    for entity in entities:
        seller = SELLERS.get(entity.code)
        if seller is None or entity.street:
            continue
        entity.street = seller.street
        entity.city = seller.city
        entity.postal_code = seller.postal_code
        entity.subdivision = seller.subdivision
        entity.vat_number = seller.vat_number
        entity.email = seller.email
        if valid_iban(seller.account):
            entity.iban = seller.account
            entity.bic = seller.bic
        entity.full_clean()
        entity.save()
        changed += 1
    return changed


def set_up_bank_accounts(entities: list[LegalEntity]) -> list[BankAccount]:
    """Register each entity's account in its base currency (an existing one is kept)."""
    return [
        add_bank_account(
            entity=entity,
            identifier=SELLERS[entity.code].account,
            currency=entity.base_currency,
            name=f"{SELLERS[entity.code].bank_name} {entity.base_currency}",
            bic=SELLERS[entity.code].bic,
            bank_name=SELLERS[entity.code].bank_name,
            bank_code=SELLERS[entity.code].bank_code,
        )
        for entity in entities
        if entity.code in SELLERS
    ]


def complete_buyer(customer: Customer) -> Customer:
    """Give a customer the address and tax number its invoices need, unless it has them."""
    if customer.street:
        return customer
    pick = randomness(customer.entity, f"buyer:{customer.number}")
    country = customer.country or customer.entity.country
    city, postal_code, subdivision = pick.choice(BUYER_CITIES.get(country, [("", "", "")]))
    customer.street = f"{pick.choice(['Industrial Park', 'Harbour Road', 'Main Street'])} " + str(
        pick.randrange(1, 200)
    )
    customer.city = city
    customer.postal_code = postal_code
    customer.subdivision = subdivision
    if country in EU_COUNTRIES and customer.tax_status == "business":
        digits = f"{pick.randrange(10**8):08d}"
        if country == "DE":
            customer.tax_number = _german_vat_number(digits)
        elif country == "FR":
            customer.tax_number = _french_vat_number(digits)
    customer.full_clean(exclude=["entity", "payment_term"])
    customer.save()
    return customer
