"""Generate a realistic receivables ledger for demos and scale tests.

Payment behaviour is drawn from the real histories shipped in data/ar/. Each generated
customer copies the payment delays (settlement date − due date) of one real customer,
picked at random from the IBM late-payment file or the school-fee file. The mix of
early, punctual, late and very late payers is therefore the one seen in real data.
Invoice amounts follow the IBM file's amounts, scaled per customer and per currency.

The output is a CSV file and a TOML column mapping for the `generic` import profile.
"""

import csv
import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from o2c.core import money
from o2c.paths import SHIPPED_DATA_DIR

IBM_FILE = SHIPPED_DATA_DIR / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
SCHOOL_FILE = SHIPPED_DATA_DIR / "ar" / "school_fee_receivables.csv"
ECB_FILE = SHIPPED_DATA_DIR / "fx" / "eurofxref-hist.csv"


@dataclass(frozen=True)
class EntityTemplate:
    code: str
    name: str
    currency: str
    time_zone: str
    country: str
    languages: tuple[str, ...]
    # Typical invoice size relative to the IBM amounts (which look like US dollars).
    amount_scale: Decimal


ENTITY_TEMPLATES = [
    EntityTemplate(
        "DE01",
        "Nordlicht Maschinenbau GmbH",
        "EUR",
        "Europe/Berlin",
        "DE",
        ("de", "en", "fr"),
        Decimal("40"),
    ),
    EntityTemplate(
        "US01",
        "Lakeside Components Inc.",
        "USD",
        "America/Chicago",
        "US",
        ("en", "es"),
        Decimal("45"),
    ),
    EntityTemplate(
        "JP01", "Sakura Precision KK", "JPY", "Asia/Tokyo", "JP", ("ja", "en"), Decimal("6000")
    ),
    EntityTemplate(
        "KW01", "Gulf Trading Supplies WLL", "KWD", "Asia/Kuwait", "KW", ("ar", "en"), Decimal("12")
    ),
    EntityTemplate(
        "FR01", "Atelier Rhône SAS", "EUR", "Europe/Paris", "FR", ("fr", "en"), Decimal("35")
    ),
    EntityTemplate(
        "GB01", "Thames Office Supply Ltd", "GBP", "Europe/London", "GB", ("en",), Decimal("30")
    ),
    EntityTemplate(
        "CH01", "Alpenwerk AG", "CHF", "Europe/Zurich", "CH", ("de", "fr", "en"), Decimal("38")
    ),
    EntityTemplate(
        "ES01", "Tajo Distribución SL", "EUR", "Europe/Madrid", "ES", ("es", "en"), Decimal("30")
    ),
]
FOREIGN_CURRENCIES = {
    "EUR": ["USD", "GBP"],
    "USD": ["EUR"],
    "JPY": ["USD"],
    "GBP": ["EUR"],
    "CHF": ["EUR"],
}
COUNTRY_OF_LANGUAGE = {"de": "DE", "en": "GB", "fr": "FR", "es": "ES", "ja": "JP", "ar": "KW"}

# Share of each entity's customers billed in a foreign currency, and the payment terms
# used, with their weights.
FOREIGN_CUSTOMER_SHARE = 0.1
# Share of customers who behave like a school-fee payer rather than an IBM customer. The
# school file has many more customers, so picking uniformly would make it dominate.
SCHOOL_BEHAVIOUR_SHARE = 0.3
TERMS = [("NET30", 0.6), ("NET45", 0.1), ("NET60", 0.1), ("2-10-NET30", 0.1), ("EOM30", 0.1)]
TERM_DAYS = {"NET30": 30, "NET45": 45, "NET60": 60, "2-10-NET30": 30}
PARTIAL_PAYMENT_SHARE = 0.04
SEGMENTS = ["key account", "standard", "standard", "small business"]

NAME_FIRST = [
    "Acme",
    "Blue River",
    "Cedar",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Northwind",
    "Orion",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tidewater",
    "Union",
    "Vertex",
    "Westfield",
    "Yarrow",
    "Zenith",
    "Aurora",
    "Beacon",
    "Crescent",
    "Driftwood",
    "Emerald",
]
NAME_SECOND = [
    "Logistics",
    "Retail",
    "Foods",
    "Engineering",
    "Health",
    "Textiles",
    "Motors",
    "Systems",
    "Hardware",
    "Pharma",
    "Energy",
    "Builders",
    "Labs",
    "Outfitters",
    "Media",
    "Trading",
]
NAME_SUFFIX = {
    "DE": "GmbH",
    "FR": "SARL",
    "ES": "SL",
    "GB": "Ltd",
    "US": "Inc.",
    "JP": "KK",
    "KW": "WLL",
    "CH": "AG",
}


@dataclass
class Behaviour:
    """Delays in days (settlement − due date) of one real customer; None = never paid."""

    delays: list[int | None]
    disputed_share: float
    paperless: bool
    source: str = "ibm"


def load_behaviours() -> list[Behaviour]:
    """Read each real customer's payment delays from the shipped histories."""
    behaviours = []
    by_customer: dict[str, list] = defaultdict(list)
    with IBM_FILE.open(newline="", encoding="utf-8-sig") as handle:
        for record in csv.DictReader(handle):
            due = dt.datetime.strptime(record["DueDate"], "%m/%d/%Y").date()  # noqa: DTZ007
            settled = dt.datetime.strptime(record["SettledDate"], "%m/%d/%Y").date()  # noqa: DTZ007
            by_customer[record["customerID"]].append(
                (
                    (settled - due).days,
                    record["Disputed"] == "Yes",
                    record["PaperlessBill"] == "Electronic",
                )
            )
    for rows in by_customer.values():
        behaviours.append(
            Behaviour(
                delays=[delay for delay, _, _ in rows],
                disputed_share=sum(disputed for _, disputed, _ in rows) / len(rows),
                paperless=sum(paperless for _, _, paperless in rows) * 2 > len(rows),
            )
        )
    by_student: dict[str, list] = defaultdict(list)
    with SCHOOL_FILE.open(newline="", encoding="utf-8-sig") as handle:
        for record in csv.DictReader(handle):
            due = dt.date.fromisoformat(record["due_date"])
            paid = record["date_fully_paid"]
            by_student[record["student_id_pseudonimized"]].append(
                (dt.date.fromisoformat(paid) - due).days if paid else None
            )
    for delays in by_student.values():
        if len(delays) >= 5:
            behaviours.append(
                Behaviour(delays=delays, disputed_share=0.0, paperless=True, source="school")
            )
    return behaviours


def load_ibm_amounts() -> list[Decimal]:
    with IBM_FILE.open(newline="", encoding="utf-8-sig") as handle:
        return [Decimal(record["InvoiceAmount"]) for record in csv.DictReader(handle)]


def last_rate_date() -> dt.date:
    with ECB_FILE.open(newline="", encoding="utf-8-sig") as handle:
        next(handle)
        return dt.date.fromisoformat(next(handle).split(",")[0])


@dataclass
class GeneratedLedger:
    csv_path: Path
    mapping_path: Path
    invoices: int
    customers: int
    entities: list[str]


def generate(
    out_dir: Path,
    *,
    invoices: int,
    entities: int,
    end: dt.date,
    years: int = 2,
    seed: int = 7,
) -> GeneratedLedger:
    """Write `invoices` invoices over `entities` entities into out_dir, reproducibly."""
    if not 1 <= entities <= len(ENTITY_TEMPLATES):
        raise ValueError(f"entities must be between 1 and {len(ENTITY_TEMPLATES)}")
    randomness = random.Random(seed)
    behaviours = load_behaviours()
    amounts = load_ibm_amounts()
    rates_end = last_rate_date()
    start = end - dt.timedelta(days=365 * years)
    templates = ENTITY_TEMPLATES[:entities]
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "receivables.csv"
    mapping_path = out_dir / "mapping.toml"

    per_entity = [
        invoices // entities + (1 if index < invoices % entities else 0)
        for index in range(entities)
    ]
    customer_count = 0
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for template, count in zip(templates, per_entity, strict=True):
            customers = _customers(template, max(1, count // 25), behaviours, randomness)
            customer_count += len(customers)
            for sequence in range(1, count + 1):
                customer = randomness.choice(customers)
                writer.writerow(
                    _invoice_row(
                        template, customer, sequence, start, end, rates_end, amounts, randomness
                    )
                )
    mapping_path.write_text(_mapping(templates), encoding="utf-8")
    return GeneratedLedger(
        csv_path, mapping_path, invoices, customer_count, [t.code for t in templates]
    )


COLUMNS = [
    "entity",
    "customer",
    "customer_name",
    "country",
    "language",
    "segment",
    "currency",
    "invoice",
    "invoice_date",
    "due_date",
    "amount",
    "paid_on",
    "paid_amount",
    "disputed",
    "channel",
    "terms",
]


@dataclass
class _Customer:
    number: str
    name: str
    country: str
    language: str
    segment: str
    currency: str
    behaviour: Behaviour
    size: float
    terms: str


def _customers(template: EntityTemplate, count: int, behaviours, randomness) -> list[_Customer]:
    customers = []
    foreign = FOREIGN_CURRENCIES.get(template.currency, [])
    by_source = {
        source: [behaviour for behaviour in behaviours if behaviour.source == source]
        for source in ("ibm", "school")
    }
    for index in range(1, count + 1):
        language = randomness.choice(template.languages)
        country = (
            template.country if language == template.languages[0] else COUNTRY_OF_LANGUAGE[language]
        )
        currency = template.currency
        if foreign and randomness.random() < FOREIGN_CUSTOMER_SHARE:
            currency = randomness.choice(foreign)
        suffix = NAME_SUFFIX.get(country, "Ltd")
        name = f"{randomness.choice(NAME_FIRST)} {randomness.choice(NAME_SECOND)} {suffix}"
        customers.append(
            _Customer(
                number=f"{template.code}-C{index:05d}",
                name=name,
                country=country,
                language=language,
                segment=randomness.choice(SEGMENTS),
                currency=currency,
                behaviour=randomness.choice(
                    by_source["school" if randomness.random() < SCHOOL_BEHAVIOUR_SHARE else "ibm"]
                ),
                size=randomness.lognormvariate(0, 0.8),
                terms=randomness.choices([t for t, _ in TERMS], [w for _, w in TERMS])[0],
            )
        )
    return customers


def _due_date(terms: str, invoice_date: dt.date) -> dt.date:
    if terms == "EOM30":
        from o2c.core.dates import end_of_month

        return end_of_month(invoice_date) + dt.timedelta(days=30)
    return invoice_date + dt.timedelta(days=TERM_DAYS[terms])


def _invoice_row(
    template, customer: _Customer, sequence, start, end, rates_end, amounts, randomness
):
    # Foreign-currency business stops where the shipped exchange rates end, because
    # every foreign document is converted at the rate of its own date.
    activity_end = min(end, rates_end) if customer.currency != template.currency else end
    span = max(1, (activity_end - start).days)
    invoice_date = start + dt.timedelta(days=randomness.randrange(span))
    due_date = _due_date(customer.terms, invoice_date)
    scale = template.amount_scale * Decimal(str(round(customer.size, 3)))
    if customer.currency != template.currency:
        scale = (
            scale
            * _CURRENCY_SCALE.get(customer.currency, Decimal(1))
            / _CURRENCY_SCALE.get(template.currency, Decimal(1))
        )
    amount = money.round_amount(randomness.choice(amounts) * scale, customer.currency)
    if amount <= 0:
        amount = money.quantum(customer.currency)

    delay = randomness.choice(customer.behaviour.delays)
    paid_on = paid_amount = ""
    if delay is not None:
        settled = max(invoice_date, due_date + dt.timedelta(days=delay))
        if settled <= activity_end:
            paid_on = settled.isoformat()
            if randomness.random() < PARTIAL_PAYMENT_SHARE:
                share = Decimal(randomness.randrange(30, 90)) / 100
                paid_amount = str(money.round_amount(amount * share, customer.currency))
    disputed = "yes" if randomness.random() < customer.behaviour.disputed_share / 2 else ""
    return [
        template.code,
        customer.number,
        customer.name,
        customer.country,
        customer.language,
        customer.segment,
        customer.currency,
        f"{template.code}-{sequence:07d}",
        invoice_date.isoformat(),
        due_date.isoformat(),
        str(amount),
        paid_on,
        paid_amount,
        disputed,
        "electronic" if customer.behaviour.paperless else "paper",
        customer.terms,
    ]


# Rough value of one unit of each currency relative to the others, only to keep invoice
# sizes plausible when a customer is billed in a foreign currency (not used for rates).
_CURRENCY_SCALE = {
    "EUR": Decimal("1"),
    "USD": Decimal("1.1"),
    "GBP": Decimal("0.85"),
    "CHF": Decimal("0.95"),
    "JPY": Decimal("160"),
    "KWD": Decimal("0.33"),
}


def _mapping(templates: list[EntityTemplate]) -> str:
    lines = [
        "# Column mapping for the generated demo ledger (generic import profile).",
        "[file]",
        'date_format = "%Y-%m-%d"',
        "",
        "[columns]",
    ]
    for field_name, column in [
        ("entity", "entity"),
        ("customer_number", "customer"),
        ("customer_name", "customer_name"),
        ("country", "country"),
        ("language", "language"),
        ("segment", "segment"),
        ("currency", "currency"),
        ("invoice_number", "invoice"),
        ("invoice_date", "invoice_date"),
        ("due_date", "due_date"),
        ("amount", "amount"),
        ("paid_on", "paid_on"),
        ("paid_amount", "paid_amount"),
        ("disputed", "disputed"),
        ("delivery_channel", "channel"),
        ("payment_term", "terms"),
    ]:
        lines.append(f'{field_name} = "{column}"')
    lines += ["", "[true_values]", 'disputed = ["yes"]', ""]
    for template in templates:
        lines += [
            f"[entities.{template.code}]",
            f'name = "{template.name}"',
            f'base_currency = "{template.currency}"',
            f'time_zone = "{template.time_zone}"',
            f'country = "{template.country}"',
            "",
        ]
    lines += [
        "[payment_terms.NET30]",
        'name = "Net 30 days"',
        "days = 30",
        "",
        "[payment_terms.NET45]",
        'name = "Net 45 days"',
        "days = 45",
        "",
        "[payment_terms.NET60]",
        'name = "Net 60 days"',
        "days = 60",
        "",
        '[payment_terms."2-10-NET30"]',
        'name = "2 % 10 days, net 30"',
        "days = 30",
        "discount_percent = 2",
        "discount_days = 10",
        "",
        "[payment_terms.EOM30]",
        'name = "30 days after end of month"',
        "days = 30",
        "end_of_month = true",
        "",
    ]
    return "\n".join(lines)
