"""Benchmark of cash application: how many bank lines match automatically, how right they are,
and how fast the engine is.

Part 1, quality, on a real receivables history. The IBM "Late Payment Histories" file
(data/ar/) is read with o2c's ibm-late-payment import profile; its 2,466 invoices are
posted open in a fresh entity, and its settlements become the bank lines a bank would
send for them, as camt.053 statements imported through `o2c bank import`'s service.
The truth (customer and invoices of each line) is kept beside them. Noise, drawn with
a fixed seed at the rates in NOISE below: references missing, mistyped, split over
lines or given as RF creditor references; payer names truncated, re-cased or
mistyped; payer accounts missing; several invoices paid by one transfer; bank charges
deducted (sometimes reported by the bank); partial, short and over payments.

The file has no customer names, so each customer gets a made-up company name and one
or two IBANs. Lines are processed day by day as a company would: the engine runs over
the day's lines, then a specialist resolves the day's queue from the truth, which
teaches the engine payer accounts and names (o2c learns from manual matches). The
engine is also measured cold (no learning) for comparison.

- auto-match rate: lines posted without a person ÷ all lines;
- precision: auto-posted lines whose customer and set of invoices equal the truth ÷
  auto-posted lines;
- recall: correctly auto-posted lines ÷ all lines;
- top suggestion: queued lines whose first suggestion is the truth ÷ queued lines.

Part 2, throughput: 100,000 open items of 20,000 generated customers and 50,000
generated receipts with the same noise, imported as one camt.053 file. Measured: the
import, the engine's decisions over all lines (`run_matching(post=False)`, loading the
open items included), and posting through the ledger on a sample of lines.

Run: `.venv/bin/python benchmarks/cash_application.py` (about 10 minutes on 2 cores).
Results: benchmarks/results/cash_application.json and .md.
"""

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IBM_FILE = ROOT / "data" / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"
SEED = 20270301
CENT = Decimal("0.01")

# Share of bank lines with each kind of noise (independent draws unless noted).
NOISE = {
    "reference": {  # one of these per line
        "invoice number": 0.40,
        "invoice number without leading zeros": 0.10,
        "RF creditor reference": 0.12,
        "number with one typo": 0.08,
        "number split over two lines": 0.05,
        "no reference": 0.25,
    },
    "payer account missing": 0.10,
    "second payer account": 0.15,  # share of customers paying from two accounts
    "payer name truncated": 0.20,
    "payer name typo": 0.10,
    "payer name missing": 0.05,
    "grouped with the customer's other payments of the week": 0.30,
    "amount": {  # one of these per line
        "exact": 0.76,
        "bank charges deducted": 0.08,
        "bank charges deducted and reported": 0.03,
        "partial payment": 0.05,
        "short by a few cents": 0.04,
        "overpayment": 0.04,
    },
}

FIRST = [
    "Keller",
    "Nordwind",
    "Aster",
    "Baltic",
    "Cedar",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Marlow",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quarry",
    "Raven",
    "Summit",
    "Tidal",
    "Umber",
    "Vantage",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zephyr",
    "Alder",
    "Brook",
    "Cobalt",
    "Dune",
    "Elm",
    "Fjord",
    "Grove",
    "Heath",
    "Indigo",
    "Jade",
    "Krona",
    "Larch",
    "Meadow",
    "North",
    "Oak",
    "Pine",
    "Quill",
    "Ridge",
    "Sable",
    "Thorn",
    "Upland",
    "Vale",
    "West",
    "Amber",
    "Birch",
    "Coral",
    "Drift",
    "Echo",
    "Fern",
    "Glade",
    "Hollow",
    "Ivory",
    "Jasper",
    "Kelp",
    "Lark",
    "Maple",
    "Nova",
    "Olive",
    "Pebble",
    "Quartz",
    "Rowan",
    "Slate",
    "Tundra",
    "Ursa",
    "Violet",
    "Wren",
    "Yew",
    "Zinc",
    "Atlas",
    "Beacon",
    "Canyon",
    "Dawn",
    "Everest",
    "Frost",
    "Gale",
    "Horizon",
    "Island",
    "Jet",
    "Kite",
    "Lagoon",
    "Mesa",
    "Nectar",
    "Onyx",
    "Prairie",
    "Quest",
    "Reef",
    "Sierra",
]
SECOND = [
    "Logistics",
    "Foods",
    "Trading",
    "Systems",
    "Textiles",
    "Metals",
    "Pharma",
    "Energy",
    "Retail",
    "Marine",
    "Bakery",
    "Motors",
    "Optics",
    "Chemicals",
    "Timber",
    "Plastics",
    "Dairy",
    "Beverages",
    "Electric",
    "Furniture",
    "Paper",
    "Printing",
    "Software",
    "Tools",
    "Packaging",
    "Farms",
    "Coffee",
    "Glass",
    "Apparel",
    "Medical",
]
LEGAL = ["GmbH", "Ltd", "Inc", "BV", "SA", "LLC", "AG", "SARL", "Corp", "Co"]


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def choose(rng: random.Random, table: dict[str, float]) -> str:
    pick = rng.random()
    total = 0.0
    for name, share in table.items():
        total += share
        if pick < total:
            return name
    return name


# Django ------------------------------------------------------------------------------


def setup_django(data_dir: Path) -> None:
    os.environ["O2C_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2c.settings")
    os.environ.pop("O2C_DATABASE_URL", None)
    os.environ.setdefault("O2C_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# Customers, names, accounts -----------------------------------------------------------


def company_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add(f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(LEGAL)}")
        if len(names) < count and len(names) % 7 == 0:
            names.add(
                f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(LEGAL)}"
            )
    ordered = sorted(names)
    rng.shuffle(ordered)
    return ordered[:count]


def iban(number: int) -> str:
    from schwifty import IBAN

    return IBAN.generate("DE", bank_code="37040044", account_code=str(100000 + number)).compact


def typo(rng: random.Random, text: str) -> str:
    """Change one character: substitute, drop, double or swap with its neighbour."""
    if len(text) < 3:
        return text
    index = rng.randrange(1, len(text) - 1)
    kind = rng.choice(["substitute", "drop", "swap"])
    if kind == "substitute":
        pool = "0123456789" if text[index].isdigit() else "ABCDEFGHIJKLMNOPRSTUVW"
        replacement = rng.choice([c for c in pool if c != text[index]])
        return text[:index] + replacement + text[index + 1 :]
    if kind == "drop":
        return text[:index] + text[index + 1 :]
    return text[: index - 1] + text[index] + text[index - 1] + text[index + 1 :]


def payer_name(rng: random.Random, name: str) -> str:
    if rng.random() < NOISE["payer name missing"]:
        return ""
    shown = name.upper()
    if rng.random() < NOISE["payer name truncated"]:
        shown = shown[: rng.randint(14, 20)].strip()
    if rng.random() < NOISE["payer name typo"]:
        shown = typo(rng, shown)
    return shown


# Bank lines with noise -----------------------------------------------------------------


class Receipt:
    """A bank line to be, with the truth it carries."""

    def __init__(self, reference, customer, invoices, amount, booked_on):
        self.reference = reference  # AcctSvcrRef, unique: joins the line to its truth
        self.customer = customer  # (id, name, accounts)
        self.invoices = invoices  # [(number, open amount)]
        self.amount = amount
        self.booked_on = booked_on
        self.text = ""
        self.structured = ""
        self.payer = ""
        self.account = ""
        self.charges = None
        self.noise: list[str] = []


def add_noise(rng: random.Random, receipt: Receipt) -> None:
    from o2c.ledger.references import creditor_reference

    customer_id, name, accounts = receipt.customer
    numbers = [number for number, _ in receipt.invoices]
    style = choose(rng, NOISE["reference"])
    receipt.noise.append(style)
    if style == "invoice number":
        receipt.text = rng.choice(["INV ", "INVOICE ", "RE ", ""]) + " ".join(numbers)
    elif style == "invoice number without leading zeros":
        receipt.text = "PAYMENT " + " ".join(number.lstrip("0") for number in numbers)
    elif style == "RF creditor reference":
        if len(numbers) == 1:
            receipt.structured = creditor_reference(numbers[0])
        else:
            receipt.text = " ".join(creditor_reference(number) for number in numbers)
    elif style == "number with one typo":
        receipt.text = "INVOICE " + " ".join(typo(rng, number.lstrip("0")) for number in numbers)
    elif style == "number split over two lines":
        parts = []
        for number in numbers:
            cut = rng.randrange(2, len(number) - 2)
            parts.append(number[:cut] + "\n" + number[cut:])
        receipt.text = "PAYMT " + " ".join(parts)
    else:
        receipt.text = rng.choice(["PAYMENT", "SUPPLIER PAYMENT", "TRANSFER", "OUR PAYMENT RUN"])
    receipt.payer = payer_name(rng, name)
    if rng.random() >= NOISE["payer account missing"]:
        receipt.account = rng.choice(accounts)
    else:
        receipt.noise.append("payer account missing")

    total = sum((amount for _, amount in receipt.invoices), Decimal("0"))
    kind = choose(rng, NOISE["amount"])
    receipt.noise.append(kind)
    if kind.startswith("bank charges") and total > Decimal("30"):
        charges = money(rng.uniform(2.5, 15))
        receipt.amount = total - charges
        if kind.endswith("reported"):
            receipt.charges = charges
    elif kind == "partial payment" and len(receipt.invoices) == 1:
        receipt.amount = money(total * Decimal(str(rng.uniform(0.3, 0.7))))
    elif kind == "short by a few cents":
        receipt.amount = total - money(rng.uniform(0.01, 0.99))
    elif kind == "overpayment":
        receipt.amount = total + money(total * Decimal(str(rng.uniform(0.005, 0.05))))
    else:
        receipt.amount = total


def camt_file(account_iban: str, currency: str, receipts: list[Receipt], opening: Decimal) -> str:
    """Write the receipts as one camt.053.001.02 statement, balanced."""
    closing = opening + sum((receipt.amount for receipt in receipts), Decimal("0"))
    first = min(receipt.booked_on for receipt in receipts)
    last = max(receipt.booked_on for receipt in receipts)
    entries = []
    for receipt in receipts:
        remittance = (
            f"<Strd><CdtrRefInf><Ref>{escape(receipt.structured)}</Ref></CdtrRefInf></Strd>"
            if receipt.structured
            else f"<Ustrd>{escape(receipt.text)}</Ustrd>"
        )
        account = (
            f"<DbtrAcct><Id><IBAN>{receipt.account}</IBAN></Id></DbtrAcct>"
            if receipt.account
            else ""
        )
        name = f"<Dbtr><Nm>{escape(receipt.payer)}</Nm></Dbtr>" if receipt.payer else ""
        charges = (
            f'<Chrgs><Amt Ccy="{currency}">{receipt.charges}</Amt></Chrgs>'
            if receipt.charges
            else ""
        )
        entries.append(
            f'<Ntry><Amt Ccy="{currency}">{receipt.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{receipt.booked_on}</Dt></BookgDt>"
            f"<ValDt><Dt>{receipt.booked_on}</Dt></ValDt><AcctSvcrRef>{receipt.reference}</AcctSvcrRef>"
            f"{charges}<NtryDtls><TxDtls><RltdPties>{name}{account}</RltdPties>"
            f"<RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>BENCH-{first}</MsgId><CreDtTm>{last}T23:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>BENCH-{first}-{last}</Id><CreDtTm>{last}T23:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{account_iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{opening}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{first}</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{closing}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{last}</Dt></Dt></Bal>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>\n"
    )


# Scoring -------------------------------------------------------------------------------


def truth_of(receipts: list[Receipt]) -> dict[str, tuple[int, frozenset[str]]]:
    return {
        receipt.reference: (receipt.customer[0], frozenset(n for n, _ in receipt.invoices))
        for receipt in receipts
    }


def rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


# Part 1 -------------------------------------------------------------------------------


def part_one(rng: random.Random, work: Path, learn: bool) -> dict:
    from django.contrib.auth import get_user_model

    from o2c.banking.models import LineState, StatementLine
    from o2c.banking.services import add_bank_account, import_statement_file
    from o2c.cashapp.models import LineMatch, Suggestion
    from o2c.cashapp.services import apply_split, put_on_account, run_matching
    from o2c.imports.profiles import get_profile
    from o2c.ledger.services import open_amount, post_document
    from o2c.parties.models import Customer, LegalEntity, PaymentTerm

    code = "IBML" if learn else "IBMC"
    entity = LegalEntity.objects.create(
        code=code, name="IBM history replay", base_currency="USD", time_zone="UTC"
    )
    term, _ = PaymentTerm.objects.get_or_create(
        code="NET30", defaults={"name": "Net 30", "days": 30}
    )
    rows = [
        row
        for row in get_profile("ibm-late-payment").rows(IBM_FILE)
        if hasattr(row, "invoice_number")
    ]
    customer_numbers = sorted({row.customer_number for row in rows})
    names = company_names(random.Random(SEED), len(customer_numbers))
    customers = {}
    account_counter = len(customer_numbers) * (2 if learn else 0)
    for index, (number, name) in enumerate(zip(customer_numbers, names, strict=True)):
        customer = Customer.objects.create(
            entity=entity, number=number, name=name, currency="USD", payment_term=term
        )
        accounts = [iban(account_counter + index * 2)]
        if rng.random() < NOISE["second payer account"]:
            accounts.append(iban(account_counter + index * 2 + 1))
        customers[number] = (customer, accounts)

    started = time.perf_counter()
    invoices = {}
    for row in rows:
        customer = customers[row.customer_number][0]
        invoices[row.invoice_number] = post_document(
            customer=customer,
            kind="invoice",
            number=row.invoice_number,
            document_date=row.invoice_date,
            due_date=row.due_date,
            amount=row.amount,
            currency="USD",
            payment_term=term,
        )
    posting_seconds = time.perf_counter() - started

    # Settlements become receipts; some of a customer's settlements of a week are one transfer.
    by_customer = defaultdict(list)
    for row in rows:
        by_customer[row.customer_number].append(row)
    receipts = []
    serial = 0
    for number, settled in sorted(by_customer.items()):
        settled.sort(key=lambda row: (row.paid_on, row.invoice_number))
        customer, accounts = customers[number]
        index = 0
        while index < len(settled):
            group = [settled[index]]
            index += 1
            grouped = rng.random() < NOISE["grouped with the customer's other payments of the week"]
            while (
                grouped
                and index < len(settled)
                and len(group) < 4
                and (settled[index].paid_on - group[0].paid_on).days <= 6
            ):
                group.append(settled[index])
                index += 1
            serial += 1
            receipt = Receipt(
                f"IBM-{serial:05d}",
                (customer.pk, customer.name, accounts),
                [(row.invoice_number, money(row.amount)) for row in group],
                Decimal("0"),
                group[-1].paid_on,
            )
            add_noise(rng, receipt)
            receipts.append(receipt)
    receipts.sort(key=lambda receipt: (receipt.booked_on, receipt.reference))
    truth = truth_of(receipts)

    account = add_bank_account(
        entity=entity, identifier=iban(9_000_000 + (1 if learn else 0)), currency="USD"
    )
    started = time.perf_counter()
    by_month = defaultdict(list)
    for receipt in receipts:
        by_month[receipt.booked_on.strftime("%Y-%m")].append(receipt)
    balance = Decimal("0")
    for month in sorted(by_month):
        path = work / f"{code}-{month}.xml"
        path.write_text(camt_file(account.identifier, "USD", by_month[month], balance))
        balance += sum((receipt.amount for receipt in by_month[month]), Decimal("0"))
        import_statement_file(path, entity=entity)
    import_seconds = time.perf_counter() - started

    specialist = get_user_model().objects.create_user(f"specialist-{code.lower()}")
    line_truth = {
        line.pk: truth[line.bank_reference]
        for line in StatementLine.objects.filter(entity=entity).only("pk", "bank_reference")
    }
    started = time.perf_counter()
    dates = sorted(
        set(StatementLine.objects.filter(entity=entity).values_list("booking_date", flat=True))
    )
    top_right = queued = 0
    for day in dates:
        lines = StatementLine.objects.filter(entity=entity, booking_date=day, state=LineState.NEW)
        run_matching(entity, lines=lines)
        for line in StatementLine.objects.filter(
            entity=entity, booking_date=day, state=LineState.EXCEPTION
        ):
            queued += 1
            customer_id, numbers = line_truth[line.pk]
            best = Suggestion.objects.filter(line=line, rank=1).first()
            if (
                best
                and best.customer_id == customer_id
                and {entry["number"] for entry in best.allocations} == set(numbers)
            ):
                top_right += 1
            if not learn:
                continue
            # The specialist applies the line to the true invoices, oldest first.
            customer = Customer.objects.get(pk=customer_id)
            remaining = line.amount
            parts = []
            for number in sorted(numbers):
                document = invoices[number]
                available = min(open_amount(document), remaining)
                if available > 0:
                    parts.append((document, available))
                    remaining -= available
            if parts:
                apply_split(line, customer, parts, actor=specialist)
            else:
                put_on_account(line, customer, actor=specialist)
    matching_seconds = time.perf_counter() - started

    auto = LineMatch.objects.filter(entity=entity, decision="auto").select_related("line")
    correct = 0
    wrong_examples = []
    for match in auto:
        expected_customer, expected_numbers = line_truth[match.line_id]
        applied = frozenset(item["invoice"] for item in match.applied)
        if match.customer_id == expected_customer and applied == expected_numbers:
            correct += 1
        elif len(wrong_examples) < 10:
            wrong_examples.append(
                {
                    "line": match.line.text[:80],
                    "amount": str(match.line.amount),
                    "expected": sorted(expected_numbers),
                    "applied": sorted(applied),
                    "evidence": match.evidence,
                }
            )
    total = len(line_truth)
    auto_count = auto.count()
    noise_counts = defaultdict(int)
    for receipt in receipts:
        for kind in receipt.noise:
            noise_counts[kind] += 1
    return {
        "mode": "learning from the specialist's matches" if learn else "cold (no learning)",
        "invoices": len(rows),
        "customers": len(customers),
        "bank_lines": total,
        "lines_paying_several_invoices": sum(1 for r in receipts if len(r.invoices) > 1),
        "noise_counts": dict(sorted(noise_counts.items())),
        "auto_matched": auto_count,
        "auto_match_rate_percent": rate(auto_count, total),
        "precision_percent": rate(correct, auto_count),
        "recall_percent": rate(correct, total),
        "queued": queued,
        "top_suggestion_right_percent": rate(top_right, queued),
        "seconds": {
            "posting_invoices": round(posting_seconds, 1),
            "importing_statements": round(import_seconds, 1),
            "matching_and_posting_day_by_day": round(matching_seconds, 1),
        },
        "wrong_auto_matches": wrong_examples,
    }


# Part 2 -------------------------------------------------------------------------------


def part_two(rng: random.Random, work: Path, items: int, lines: int, sample: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from o2c.banking.models import StatementLine
    from o2c.banking.services import add_bank_account, import_statement_file
    from o2c.cashapp.services import load_book, run_matching
    from o2c.ledger.models import Document
    from o2c.parties.models import Customer, LegalEntity

    entity = LegalEntity.objects.create(
        code="SCALE", name="Scale test", base_currency="EUR", time_zone="UTC"
    )
    customer_count = items // 5
    names = company_names(random.Random(SEED + 1), customer_count)
    started = time.perf_counter()
    Customer.objects.bulk_create(
        [
            Customer(entity=entity, number=f"K{index:06d}", name=name, currency="EUR")
            for index, name in enumerate(names)
        ],
        batch_size=5000,
    )
    customer_rows = list(
        Customer.objects.filter(entity=entity).values_list("pk", "name").order_by("pk")
    )
    accounts = {pk: [iban(10_000_000 + pk)] for pk, _ in customer_rows}

    now = timezone.now()
    day0 = dt.date(2027, 1, 4)
    documents = []
    open_items = defaultdict(list)
    for index in range(items):
        customer_id, _ = customer_rows[index % customer_count]
        amount = money(min(50000.0, max(5.0, rng.lognormvariate(6.0, 1.2))))
        document_date = day0 + dt.timedelta(days=rng.randrange(0, 90))
        number = f"{rng.choice(['INV-', 'INV', '', '2027-'])}{4_000_000 + index}"
        documents.append(
            Document(
                entity=entity,
                customer_id=customer_id,
                kind="invoice",
                side="D",
                number=number,
                document_date=document_date,
                due_date=document_date + dt.timedelta(days=30),
                currency="EUR",
                amount=amount,
                amount_base=amount,
                fx_rate=Decimal("1"),
                source="benchmark",
                posted_at=now,
            )
        )
        open_items[customer_id].append((number, amount, document_date))
    Document.objects.bulk_create(documents, batch_size=5000)
    setup_seconds = time.perf_counter() - started

    receipts = []
    name_of = dict(customer_rows)
    customer_ids = list(open_items)
    rng.shuffle(customer_ids)
    serial = 0
    while len(receipts) < lines:
        customer_id = customer_ids[serial % len(customer_ids)]
        pool = open_items[customer_id]
        if not pool:
            serial += 1
            continue
        take = 1 if rng.random() > 0.2 else min(len(pool), rng.randint(2, 3))
        chosen = [pool.pop() for _ in range(take)]
        serial += 1
        receipt = Receipt(
            f"S-{serial:07d}",
            (customer_id, name_of[customer_id], accounts[customer_id]),
            [(number, amount) for number, amount, _ in chosen],
            Decimal("0"),
            max(date for _, _, date in chosen) + dt.timedelta(days=rng.randrange(5, 40)),
        )
        add_noise(rng, receipt)
        receipts.append(receipt)
    truth = truth_of(receipts)

    account = add_bank_account(entity=entity, identifier=iban(9_000_002), currency="EUR")
    path = work / "scale.xml"
    path.write_text(camt_file(account.identifier, "EUR", receipts, Decimal("0")))
    started = time.perf_counter()
    imported = import_statement_file(path, entity=entity)
    import_seconds = time.perf_counter() - started

    started = time.perf_counter()
    book = load_book(entity)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = run_matching(entity, book=book, post=False)
    decide_seconds = time.perf_counter() - started

    line_truth = {
        pk: truth[reference]
        for pk, reference in StatementLine.objects.filter(entity=entity).values_list(
            "pk", "bank_reference"
        )
    }
    correct = auto = 0
    wrong_examples = []
    texts = dict(StatementLine.objects.filter(entity=entity).values_list("pk", "remittance_info"))
    for line_id, proposal, sure in result.decisions:
        if not sure:
            continue
        auto += 1
        expected_customer, expected_numbers = line_truth[line_id]
        numbers = frozenset(allocation.item.number for allocation in proposal.allocations)
        if proposal.customer_id == expected_customer and numbers == expected_numbers:
            correct += 1
        elif len(wrong_examples) < 15:
            wrong_examples.append(
                {
                    "text": texts[line_id][:80],
                    "expected": sorted(expected_numbers),
                    "proposed": sorted(numbers),
                    "confidence": str(proposal.confidence),
                    "evidence": proposal.evidence,
                }
            )

    sample_lines = StatementLine.objects.filter(entity=entity).order_by("booking_date", "id")[
        :sample
    ]
    sample_ids = list(sample_lines.values_list("pk", flat=True))
    started = time.perf_counter()
    posted = run_matching(entity, lines=StatementLine.objects.filter(pk__in=sample_ids))
    post_seconds = time.perf_counter() - started
    return {
        "database": connection.vendor,
        "open_items": items,
        "customers": customer_count,
        "bank_lines": imported.lines_created,
        "seconds": {
            "generating_open_items": round(setup_seconds, 1),
            "importing_the_camt053_file": round(import_seconds, 1),
            "loading_open_items_into_the_engine": round(load_seconds, 1),
            "engine_decisions_for_all_lines_including_loading": round(
                decide_seconds + load_seconds, 1
            ),
        },
        "lines_decided_per_second": round(lines / (decide_seconds + load_seconds)),
        "auto_match_rate_percent": rate(auto, lines),
        "precision_percent": rate(correct, auto),
        "recall_percent": rate(correct, lines),
        "wrong_auto_matches": wrong_examples,
        "posting_sample": {
            "lines": len(sample_ids),
            "auto_posted": posted.auto_applied,
            "seconds": round(post_seconds, 1),
            "lines_per_second": round(len(sample_ids) / post_seconds, 1),
        },
    }


# Report -------------------------------------------------------------------------------


def write_report(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cash_application.json").write_text(
        json.dumps(results, indent=2, default=str) + "\n"
    )
    lines = [
        "# Cash application benchmark",
        "",
        f"Run on {results['run_at']} ({results['machine']}), seed {SEED}; method in "
        "benchmarks/cash_application.py.",
        "",
        "## Matching quality on the IBM receivables history",
        "",
        "| mode | lines | auto-matched | precision | recall | top suggestion right (queue) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for part in results["quality"]:
        lines.append(
            f"| {part['mode']} | {part['bank_lines']} | {part['auto_match_rate_percent']} % | "
            f"{part['precision_percent']} % | {part['recall_percent']} % | "
            f"{part['top_suggestion_right_percent']} % |"
        )
    scale = results.get("throughput")
    if scale:
        lines += [
            "",
            "## Throughput",
            "",
            f"{scale['bank_lines']:,} bank lines against {scale['open_items']:,} open items of "
            f"{scale['customers']:,} customers ({scale['database']}):",
            "",
            "| step | seconds |",
            "| --- | ---: |",
        ]
        for step, seconds in scale["seconds"].items():
            lines.append(f"| {step.replace('_', ' ')} | {seconds} |")
        lines += [
            "",
            f"Engine: {scale['lines_decided_per_second']:,} lines decided per second; "
            f"auto-match {scale['auto_match_rate_percent']} %, precision "
            f"{scale['precision_percent']} %, recall {scale['recall_percent']} %.",
            "",
            f"Posting through the ledger (payment, allocations, write-offs, timeline): "
            f"{scale['posting_sample']['lines']} lines in {scale['posting_sample']['seconds']} s, "
            f"{scale['posting_sample']['lines_per_second']} lines per second.",
        ]
    (RESULTS / "cash_application.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="Open items in part 2.")
    parser.add_argument("--lines", type=int, default=50_000, help="Bank lines in part 2.")
    parser.add_argument("--posting-sample", type=int, default=2_000, help="Lines posted in part 2.")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument(
        "--modes", default="cold,learning", help="Quality runs to make: cold, learning or both."
    )
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory(prefix="o2c-bench-") as folder:
        work = Path(folder)
        setup_django(work)
        results = {
            "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
            "noise": NOISE,
            "quality": [
                part_one(random.Random(SEED), work, learn=mode == "learning")
                for mode in options.modes.split(",")
                if not options.skip_quality
            ],
        }
        for part in results["quality"]:
            print(
                json.dumps(
                    {key: value for key, value in part.items() if key != "wrong_auto_matches"},
                    default=str,
                )
            )
        if not options.skip_throughput:
            results["throughput"] = part_two(
                random.Random(SEED), work, options.items, options.lines, options.posting_sample
            )
            print(json.dumps(results["throughput"]), flush=True)
    write_report(results)


if __name__ == "__main__":
    main()
