"""The matching engine: from one bank line to ranked proposals with confidence and evidence.

The engine works on an in-memory picture of an entity's open items (`OpenBook`),
loaded with a few queries and kept current as lines are applied, so matching tens of
thousands of lines costs no query per line. It reads, in this order:

1. references: ISO 11649 RF creditor references (check digits must hold), invoice
   numbers in the free text (also when split over lines or by spaces and dashes, and
   with one character wrong, missing, extra or two swapped), remittance advices;
2. the customer: a payer account or name known for a customer (entered or learned),
   the payer's name compared fuzzily with customer names, the customer number;
3. amounts: the open amount exactly, after the early-payment discount, within the
   write-off tolerance, net of bank charges, converted from another currency (within
   the exchange tolerance, since banks convert at their own rate), or a combination of
   the customer's open items (a subset-sum search with a bound).

Each finding is evidence with a weight w. Findings about the open items (references,
amounts) combine as P_items = 1 − Π(1 − w); findings about the payer (account, name,
customer number) combine the same way into P_payer. A known payer is weak evidence of
which of its invoices are paid, so the confidence is P_items + (1 − P_items) × P_payer
× CUSTOMER_SHARE. It is lowered when the payer evidence points to another customer, when
the payment far exceeds the invoices named, and when another proposal is nearly as good.
"""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from rapidfuzz import fuzz, process
from stdnum import iso11649

from o2c.core import money
from o2c.fx.errors import RateError

ZERO = Decimal("0")
HUNDRED = Decimal("100")

# Evidence weights: how likely a finding alone is to name the right open items.
W_RF_REFERENCE = Decimal("0.95")
W_INVOICE_NUMBER = Decimal("0.85")
W_INVOICE_NUMBER_SHORT = Decimal("0.70")
W_INVOICE_NUMBER_FUZZY = Decimal("0.55")
W_REMITTANCE = Decimal("0.85")
W_PAYER_ACCOUNT = Decimal("0.80")
W_PAYER_ALIAS = Decimal("0.75")
W_CUSTOMER_NUMBER = Decimal("0.40")
W_AMOUNT_EXACT = Decimal("0.70")
W_AMOUNT_DISCOUNT = Decimal("0.65")
W_AMOUNT_CHARGES_REPORTED = Decimal("0.65")
W_AMOUNT_TOLERANCE = Decimal("0.50")
W_AMOUNT_COMBINATION = Decimal("0.85")
W_AMOUNT_UNIQUE = Decimal("0.90")
W_AMOUNT_WHOLE_BALANCE = Decimal("0.88")
W_AMOUNT_ONLY = Decimal("0.35")
W_AMOUNT_NEAR = Decimal("0.35")
NEAR_PERCENT = Decimal("20")
CONFLICT_FACTOR = Decimal("0.6")
FAR_OVER_FACTOR = Decimal("0.85")
CONTRADICTED_FACTOR = Decimal("0.95")
# Payer evidence this strong for another customer contradicts a proposal without any.
W_OTHER_PAYER = Decimal("0.60")
# Evidence about the customer can remove at most this share of the doubt about the items.
CUSTOMER_SHARE = Decimal("0.5")
AMBIGUITY_MARGIN = Decimal("0.05")
AMBIGUITY_PENALTY = Decimal("0.15")
MIN_NUMBER_LENGTH = 4
MIN_FUZZY_LENGTH = 5
COMBINATION_NODE_BUDGET = 20_000
MAX_NAME_CANDIDATES = 500

LEGAL_FORMS = {
    "AG", "BV", "CO", "CORP", "CORPORATION", "GMBH", "INC", "LLC", "LTD", "LIMITED", "NV",
    "PLC", "SA", "SARL", "SAS", "SPA", "SRL", "KG", "OY", "AB", "AS", "THE", "AND",
}  # fmt: skip
TOKEN = re.compile(r"[0-9A-Z]+")


def compact(text: str) -> str:
    """Return letters and digits only, upper-cased: how references are compared."""
    return re.sub(r"[^0-9A-Z]", "", (text or "").upper())


def name_key(name: str) -> str:
    """Return a payer or customer name reduced for comparison (no legal form, no case)."""
    words = re.findall(r"[0-9A-Z]+", (name or "").upper())
    return " ".join(word for word in words if word not in LEGAL_FORMS)


def _deletions(text: str) -> set[str]:
    return {text[:index] + text[index + 1 :] for index in range(len(text))}


@dataclass
class Rules:
    """The matching rules as plain values (see `MatchingRules`)."""

    auto_post_threshold: Decimal = Decimal("0.900")
    suggestion_floor: Decimal = Decimal("0.200")
    write_off_limit_amount: Decimal = Decimal("5.00")
    write_off_limit_percent: Decimal = Decimal("1.000")
    bank_charge_limit_amount: Decimal = Decimal("25.00")
    deduction_min_coverage_percent: Decimal = Decimal("80.000")
    fx_tolerance_percent: Decimal = Decimal("1.000")
    max_combination_size: int = 5
    max_combination_candidates: int = 30
    name_min_score: int = 85

    @classmethod
    def from_model(cls, model) -> "Rules":
        if model is None:
            return cls()
        return cls(**{name: getattr(model, name) for name in cls.__dataclass_fields__})


@dataclass
class OpenItem:
    id: int
    customer_id: int
    number: str
    currency: str
    amount: Decimal
    open_amount: Decimal
    due_date: dt.date
    document_date: dt.date
    discount_percent: Decimal = ZERO
    discount_until: dt.date | None = None

    def discount_on(self, on: dt.date) -> Decimal:
        """Return the early-payment discount available on `on` for the whole balance.

        Same rule as the ledger's settlement proposal: the term's percentage of the
        invoice amount, never more than what is still open.
        """
        if not self.discount_until or on > self.discount_until or self.open_amount <= ZERO:
            return ZERO
        discount = money.round_amount(self.amount * self.discount_percent / HUNDRED, self.currency)
        return min(discount, self.open_amount)


@dataclass
class CustomerInfo:
    id: int
    number: str
    name: str
    key: str = ""


@dataclass
class AdviceInfo:
    id: int
    customer_id: int | None
    payer_key: str
    payer_account: str
    reference: str
    total_amount: Decimal
    currency: str
    items: list[tuple[str, Decimal, Decimal]]  # (compact number, amount, deduction)


@dataclass
class LineFacts:
    """Facts of a statement line that the engine reads."""

    id: int
    amount: Decimal
    currency: str
    booking_date: dt.date
    text: str
    counterparty_name: str = ""
    counterparty_account: str = ""
    charges_amount: Decimal | None = None

    @classmethod
    def from_line(cls, line) -> "LineFacts":
        charges = line.charges_amount
        return cls(
            id=line.pk,
            amount=money.round_amount(line.amount, line.currency),
            currency=line.currency,
            booking_date=line.booking_date,
            text=line.text,
            counterparty_name=line.counterparty_name,
            counterparty_account=compact(line.counterparty_account),
            charges_amount=money.round_amount(charges, line.currency) if charges else None,
        )


@dataclass
class Allocation:
    item: OpenItem
    amount: Decimal  # in the item's currency
    discount: Decimal = ZERO
    write_off: Decimal = ZERO
    deduction: Decimal = ZERO


@dataclass
class Proposal:
    customer_id: int
    allocations: list[Allocation]
    outcome: str
    confidence: Decimal = ZERO
    evidence: list[str] = field(default_factory=list)
    on_account: Decimal = ZERO  # in the line's currency
    write_off_reason: str = ""
    advice_id: int | None = None

    def key(self) -> tuple:
        return (self.customer_id, tuple(sorted(a.item.id for a in self.allocations)))


class OpenBook:
    """An entity's open debit items and customers, indexed for matching.

    `rates` converts between currencies (an `o2c.fx.services.RateTable` or anything
    with its `convert` method); `base_currency` is the currency of the rule limits.
    """

    def __init__(
        self,
        items: list[OpenItem],
        customers: list[CustomerInfo],
        *,
        rules: Rules,
        base_currency: str,
        rates=None,
        account_hints: dict[str, set[int]] | None = None,
        name_hints: dict[str, set[int]] | None = None,
        advices: list[AdviceInfo] | None = None,
    ):
        self.rules = rules
        self.base_currency = base_currency
        self.rates = rates
        self.items: dict[int, OpenItem] = {}
        self.by_number: dict[str, list[int]] = defaultdict(list)
        self.by_customer: dict[int, list[int]] = defaultdict(list)
        self.by_amount: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
        self.fuzzy: dict[str, set[int]] = defaultdict(set)
        for item in items:
            self.add_item(item)
        self.customers = {customer.id: customer for customer in customers}
        self.customers_by_number: dict[str, int] = {}
        self.name_tokens: dict[str, set[int]] = defaultdict(set)
        for customer in customers:
            customer.key = customer.key or name_key(customer.name)
            number = compact(customer.number)
            if len(number) >= MIN_NUMBER_LENGTH:
                self.customers_by_number[number] = customer.id
            for token in customer.key.split():
                if len(token) >= 3:
                    self.name_tokens[token].add(customer.id)
        self.account_hints = account_hints or {}
        self.name_hints = name_hints or {}
        self.advices = advices or []
        self.advices_by_amount: dict[tuple[str, Decimal], list[AdviceInfo]] = defaultdict(list)
        for advice in self.advices:
            self.advices_by_amount[(advice.currency, advice.total_amount)].append(advice)

    # Keeping the book current ---------------------------------------------------

    def add_item(self, item: OpenItem) -> None:
        self.items[item.id] = item
        key = compact(item.number)
        self.by_number[key].append(item.id)
        if key.isdigit() and key.lstrip("0") != key:
            self.by_number[key.lstrip("0")].append(item.id)
        self.by_customer[item.customer_id].append(item.id)
        self.by_amount[(item.currency, item.open_amount)].append(item.id)
        if len(key) >= MIN_FUZZY_LENGTH:
            for variant in _deletions(key):
                self.fuzzy[variant].add(item.id)

    def consume(self, item_id: int, amount: Decimal) -> None:
        """Take an applied amount off an item's open amount (in the item's currency)."""
        item = self.items[item_id]
        bucket = self.by_amount.get((item.currency, item.open_amount))
        if bucket and item_id in bucket:
            bucket.remove(item_id)
        item.open_amount -= amount
        if item.open_amount > ZERO:
            self.by_amount[(item.currency, item.open_amount)].append(item_id)

    def drop_advice(self, advice_id: int) -> None:
        """Forget an advice once a line has used it."""
        for key, advices in list(self.advices_by_amount.items()):
            self.advices_by_amount[key] = [item for item in advices if item.id != advice_id]

    def open_items_of(self, customer_id: int) -> list[OpenItem]:
        return [
            self.items[item_id]
            for item_id in self.by_customer.get(customer_id, ())
            if self.items[item_id].open_amount > ZERO
        ]

    # Matching -----------------------------------------------------------------

    def propose(self, line: LineFacts, limit: int = 5) -> list[Proposal]:
        """Return up to `limit` proposals for a receipt, best first."""
        if line.amount <= ZERO:
            return []
        text = (line.text or "").upper()
        references = self._references(text)
        customers = self._customer_evidence(line, text)
        proposals: dict[tuple, Proposal] = {}

        def keep(proposal: Proposal | None) -> None:
            if proposal is None:
                return
            key = proposal.key()
            if key not in proposals or proposals[key].confidence < proposal.confidence:
                proposals[key] = proposal

        for advice_proposal in self._advice_proposals(line, text, customers):
            keep(advice_proposal)

        by_customer: dict[int, list[tuple[OpenItem, Decimal, str]]] = defaultdict(list)
        for item_id, (weight, note) in references.items():
            item = self.items[item_id]
            if item.open_amount > ZERO:
                by_customer[item.customer_id].append((item, weight, note))
        for customer_id, found in by_customer.items():
            found.sort(key=lambda entry: (entry[0].due_date, entry[0].id))
            items = [item for item, _, _ in found]
            reference_evidence = [(weight, note) for _, weight, note in found]
            whole = self._fit(line, customer_id, items, reference_evidence, customers)
            keep(whole)
            if whole is not None and whole.outcome == "over":
                keep(self._complete(line, customer_id, items, reference_evidence, customers))
            if len(found) > 1:
                for item, weight, note in found:
                    keep(self._fit(line, customer_id, [item], [(weight, note)], customers))

        for customer_id in list(customers):
            if customer_id in by_customer:
                continue
            for proposal in self._amount_proposals(line, customer_id, customers):
                keep(proposal)

        if not proposals:
            for proposal in self._amount_only(line, customers):
                keep(proposal)

        ranked = sorted(
            proposals.values(), key=lambda proposal: (-proposal.confidence, proposal.key())
        )
        if ranked:
            top = ranked[0]
            # A proposal for part of the same invoices is no rival: only another customer
            # or another set of invoices makes the choice ambiguous.
            rivals = [other for other in ranked[1:] if not _nested(top, other)]
            if rivals and top.confidence - rivals[0].confidence < AMBIGUITY_MARGIN:
                top.confidence = max(ZERO, top.confidence - AMBIGUITY_PENALTY)
                top.evidence.append(
                    f"another proposal is nearly as likely ({rivals[0].confidence:.2f})"
                )
                ranked.sort(key=lambda proposal: (-proposal.confidence, proposal.key()))
        floor = self.rules.suggestion_floor
        return [proposal for proposal in ranked if proposal.confidence >= floor][:limit]

    def _references(self, text: str) -> dict[int, tuple[Decimal, str]]:
        """Return {item id: (weight, evidence)} for open items the text refers to."""
        found: dict[int, tuple[Decimal, str]] = {}

        def note(item_ids, weight: Decimal, message: str) -> None:
            for item_id in item_ids:
                if item_id in found and found[item_id][0] >= weight:
                    continue
                found[item_id] = (weight, message.format(number=self.items[item_id].number))

        # References may be printed in groups ("RF27 0000 6113 65") or run together, so
        # they are read from the text without spaces. The check digits find where each ends.
        squeezed = compact(text)
        position = squeezed.find("RF")
        while position >= 0:
            end = position + 2
            # Several lengths may pass the check digits by chance (1 in 97 each), so the
            # longest reference naming a known invoice wins.
            for candidate_end in range(min(len(squeezed), position + 25), position + 4, -1):
                candidate = squeezed[position:candidate_end]
                if not (candidate[2:4].isdigit() and iso11649.is_valid(candidate)):
                    continue
                if candidate[4:] in self.by_number:
                    note(
                        self.by_number[candidate[4:]],
                        W_RF_REFERENCE,
                        f"RF creditor reference {candidate} is invoice {{number}}",
                    )
                    end = candidate_end
                    break
            position = squeezed.find("RF", end)

        tokens = TOKEN.findall(text)
        candidates: dict[str, tuple[int, int]] = {}
        for start in range(len(tokens)):
            joined = ""
            for width in range(1, 4):
                if start + width > len(tokens):
                    break
                joined += tokens[start + width - 1]
                if len(joined) >= MIN_NUMBER_LENGTH and any(c.isdigit() for c in joined):
                    candidates.setdefault(joined, (start, width))
        covered: set[int] = set()
        for candidate, (start, width) in candidates.items():
            item_ids = self.by_number.get(candidate)
            if not item_ids:
                continue
            covered.update(range(start, start + width))
            weight = W_INVOICE_NUMBER if len(candidate) >= 6 else W_INVOICE_NUMBER_SHORT
            split = " (split in the text)" if width > 1 else ""
            note(item_ids, weight, f"invoice number {{number}} in the text{split}")

        # A mistyped number counts only where no exact number was read, and only when one
        # open item is one character away: in dense numbering a typo often hits another.
        for candidate, (start, width) in candidates.items():
            if len(candidate) < MIN_FUZZY_LENGTH or candidate in self.by_number:
                continue
            if covered.intersection(range(start, start + width)):
                continue
            matched: set[int] = set(self.fuzzy.get(candidate, ()))
            for variant in _deletions(candidate):
                matched.update(self.by_number.get(variant, ()))
                matched.update(self.fuzzy.get(variant, ()))
            if len(matched) == 1:
                note(
                    matched,
                    W_INVOICE_NUMBER_FUZZY,
                    f"{candidate} in the text is one character off invoice {{number}}",
                )
        return found

    def _customer_evidence(self, line: LineFacts, text: str) -> dict[int, list[tuple]]:
        """Return {customer id: [(weight, evidence)]} from payer account, name, number."""
        evidence: dict[int, list[tuple]] = defaultdict(list)
        account = line.counterparty_account
        if account and account in self.account_hints:
            for customer_id in self.account_hints[account]:
                evidence[customer_id].append(
                    (W_PAYER_ACCOUNT, f"payer account {account} is known for the customer")
                )
        key = name_key(line.counterparty_name)
        if key:
            if key in self.name_hints:
                for customer_id in self.name_hints[key]:
                    evidence[customer_id].append(
                        (W_PAYER_ALIAS, f"payer name {line.counterparty_name!r} is known")
                    )
            choices = {
                customer_id: self.customers[customer_id].key
                for customer_id in self._name_candidates(key)
                if customer_id in self.customers
            }
            found = process.extract(
                key,
                choices,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=self.rules.name_min_score,
                limit=5,
            )
            for _, score, customer_id in found:
                customer = self.customers[customer_id]
                span = Decimal(max(1, 100 - self.rules.name_min_score))
                weight = (
                    Decimal("0.30")
                    + Decimal("0.40") * (Decimal(str(score)) - self.rules.name_min_score) / span
                )
                evidence[customer_id].append(
                    (
                        weight.quantize(Decimal("0.01")),
                        f"payer name {line.counterparty_name!r} resembles "
                        f"{customer.name!r} ({score:.0f}/100)",
                    )
                )
        for token in TOKEN.findall(text):
            customer_id = self.customers_by_number.get(token)
            if customer_id is not None:
                evidence[customer_id].append(
                    (W_CUSTOMER_NUMBER, f"customer number {token} in the text")
                )
        return evidence

    def _name_candidates(self, key: str) -> set[int]:
        """Return customers sharing the rarest words of a payer name (at most a few hundred)."""
        tokens = sorted(
            (token for token in key.split() if len(token) >= 3),
            key=lambda token: len(self.name_tokens.get(token, ())),
        )
        candidates: set[int] = set()
        for token in tokens[:2]:
            customers = self.name_tokens.get(token, ())
            if len(customers) <= MAX_NAME_CANDIDATES:
                candidates.update(customers)
        return candidates

    # Fitting amounts ----------------------------------------------------------

    def _to_currency(self, amount: Decimal, from_currency: str, to_currency: str, on) -> Decimal:
        if from_currency == to_currency:
            return amount
        if self.rates is None:
            raise LookupError(f"no rates to convert {from_currency} to {to_currency}")
        try:
            return self.rates.convert(amount, from_currency, to_currency, on).amount
        except RateError as error:
            # Callers skip a currency they cannot convert; a missing rate is that case.
            raise LookupError(error.message) from error

    def _in_base(self, amount: Decimal, currency: str, on) -> Decimal | None:
        """Return the amount in the entity's base currency, or None without a rate."""
        try:
            return self._to_currency(amount, currency, self.base_currency, on)
        except LookupError:
            return None

    def _fit(
        self,
        line: LineFacts,
        customer_id: int,
        items: list[OpenItem],
        reference_evidence: list[tuple[Decimal, str]],
        customers: dict[int, list[tuple]],
        amount_note: str = "",
        amount_weight: Decimal | None = None,
    ) -> Proposal | None:
        """Fit the line's amount onto the items and score the result."""
        currency = items[0].currency
        if any(item.currency != currency for item in items):
            return None
        try:
            paid = self._to_currency(line.amount, line.currency, currency, line.booking_date)
        except LookupError:
            return None
        fx = line.currency != currency
        open_total = sum((item.open_amount for item in items), ZERO)
        discounts = [item.discount_on(line.booking_date) for item in items]
        discounted_total = open_total - sum(discounts, ZERO)
        evidence = [note for _, note in reference_evidence]
        weights = [weight for weight, _ in reference_evidence]
        allocations: list[Allocation] = []
        on_account = ZERO
        write_off_reason = ""
        difference = open_total - paid  # > 0 short, < 0 over, in the items' currency
        fx_tolerance = self._fx_slack(open_total, fx)

        if difference == ZERO or (fx and abs(difference) <= fx_tolerance and difference < ZERO):
            outcome = "exact"
            allocations = [Allocation(item, item.open_amount) for item in items]
            if difference < ZERO:
                on_account = self._excess(line, open_total, currency)
            weights.append(W_AMOUNT_EXACT)
            evidence.append(amount_note or _exact_note(items, fx))
        elif any(discounts) and paid == discounted_total:
            outcome = "discount"
            allocations = [
                Allocation(item, item.open_amount - discount, discount=discount)
                for item, discount in zip(items, discounts, strict=True)
            ]
            weights.append(W_AMOUNT_DISCOUNT)
            evidence.append("amount is the open amount less the early-payment discount")
        elif difference < ZERO:
            outcome = "over"
            allocations = [Allocation(item, item.open_amount) for item in items]
            on_account = self._excess(line, open_total, currency)
            evidence.append(
                f"amount exceeds the open amount by {money.as_text(-difference, currency)} "
                f"{currency}; the excess "
                "stays on account"
            )
            if -difference * HUNDRED <= open_total * NEAR_PERCENT:
                weights.append(W_AMOUNT_NEAR)
        else:
            outcome, allocations, write_off_reason, weight, note = self._short(
                line, items, paid, difference, fx, fx_tolerance
            )
            if weight:
                weights.append(weight)
            evidence.append(note)

        if amount_weight is not None and outcome in ("exact", "discount"):
            weights[-1] = amount_weight
        conflict = False
        payer_weights = []
        for weight, note in customers.get(customer_id, ()):
            payer_weights.append(weight)
            evidence.append(note)
        others = [other for other in customers if other != customer_id]
        strong_other = any(
            weight >= W_OTHER_PAYER for other in others for weight, _ in customers[other]
        )
        if strong_other and not customers.get(customer_id):
            conflict = True
            evidence.append("the payer account or name belongs to another customer")
        items_likely = _combine(weights)
        confidence = items_likely + (1 - items_likely) * _combine(payer_weights) * CUSTOMER_SHARE
        if conflict:
            confidence *= CONFLICT_FACTOR
        if outcome == "over" and -difference * HUNDRED > open_total * NEAR_PERCENT:
            confidence *= FAR_OVER_FACTOR
            evidence.append("the payment is far more than the invoices named")
        typo_proof = any(weight >= W_RF_REFERENCE for weight, _ in reference_evidence)
        if (
            outcome in ("partial", "over")
            and reference_evidence
            and not typo_proof
            and any(self._has_open_neighbour(item) for item in items)
        ):
            # One mistyped character of a neighbouring number gives this one, and the
            # amount does not confirm which was meant.
            confidence *= CONTRADICTED_FACTOR
            evidence.append("another open invoice's number is one character away")
        return Proposal(
            customer_id=customer_id,
            allocations=allocations,
            outcome=outcome,
            confidence=confidence.quantize(Decimal("0.001")),
            evidence=evidence,
            on_account=on_account,
            write_off_reason=write_off_reason,
        )

    def _has_open_neighbour(self, item: OpenItem) -> bool:
        """Return whether another open item's number is one character away from this one's."""
        key = compact(item.number)
        near: set[int] = set(self.fuzzy.get(key, ()))
        for variant in _deletions(key):
            near.update(self.by_number.get(variant, ()))
            near.update(self.fuzzy.get(variant, ()))
        near.discard(item.id)
        return any(self.items[other].open_amount > ZERO for other in near)

    def _complete(self, line, customer_id, items, reference_evidence, customers):
        """Propose the named items plus the customer's other items that make up the excess."""
        currency = items[0].currency
        try:
            paid = self._to_currency(line.amount, line.currency, currency, line.booking_date)
        except LookupError:
            return None
        excess = paid - sum((item.open_amount for item in items), ZERO)
        slack = self._fx_slack(paid, line.currency != currency)
        named = {item.id for item in items}
        others = [
            item
            for item in self.open_items_of(customer_id)
            if item.id not in named and item.currency == currency
        ]
        exact = [item for item in others if abs(item.open_amount - excess) <= slack]
        extra = exact if len(exact) == 1 else None
        if extra is None and not exact:
            extra = self._combination(others, excess, max_size=2, tolerance=slack)
        if not extra:
            return None
        evidence = [
            *reference_evidence,
            (
                W_AMOUNT_NEAR,
                "the rest of the amount equals the open amount of "
                + ", ".join(item.number for item in extra),
            ),
        ]
        combined = sorted([*items, *extra], key=lambda item: (item.due_date, item.id))
        return self._fit(line, customer_id, combined, evidence, customers)

    def _excess(self, line: LineFacts, applied_total: Decimal, currency: str) -> Decimal:
        """Return what is left of the line, in its currency, after paying applied_total."""
        applied_in_line_currency = self._to_currency(
            applied_total, currency, line.currency, line.booking_date
        )
        return max(ZERO, line.amount - applied_in_line_currency)

    def _short(self, line, items, paid, difference, fx, fx_tolerance):
        """Decide what a shortfall is: write-off, bank charges, FX, deduction or partial."""
        rules = self.rules
        currency = items[0].currency
        open_total = sum((item.open_amount for item in items), ZERO)
        # The limits are in the base currency. Without a rate the shortfall's size there is
        # unknown, so it is neither written off nor taken as bank charges.
        difference_base = self._in_base(difference, currency, line.booking_date)
        percent = difference * HUNDRED / open_total
        # Pay items in due-date order; the shortfall lands on the last ones.
        allocations = []
        remaining = paid
        for item in items:
            applied = min(item.open_amount, remaining)
            remaining -= applied
            allocations.append(Allocation(item, applied))

        def settle_rest(kind: str) -> list[Allocation]:
            for allocation in allocations:
                rest = allocation.item.open_amount - allocation.amount
                if kind == "write_off":
                    allocation.write_off = rest
                else:
                    allocation.deduction = rest
            return [
                allocation
                for allocation in allocations
                if allocation.amount > ZERO or allocation.write_off or allocation.deduction
            ]

        charges = line.charges_amount
        if (
            charges
            and self._to_currency(charges, line.currency, currency, line.booking_date) == difference
        ):
            return (
                "short_charges",
                settle_rest("write_off"),
                "bank charges",
                W_AMOUNT_CHARGES_REPORTED,
                f"amount is the open amount less bank charges of {charges} {line.currency} "
                "the bank reports",
            )
        if fx and difference <= fx_tolerance:
            return (
                "short_fx",
                settle_rest("write_off"),
                "exchange rate difference",
                W_AMOUNT_TOLERANCE,
                f"converted amount is {money.as_text(difference, currency)} {currency} short, "
                "within the "
                f"{rules.fx_tolerance_percent}% exchange tolerance",
            )
        if (
            difference_base is not None
            and difference_base <= rules.write_off_limit_amount
            and percent <= rules.write_off_limit_percent
        ):
            return (
                "short_write_off",
                settle_rest("write_off"),
                "small difference",
                W_AMOUNT_TOLERANCE,
                f"amount is {money.as_text(difference, currency)} {currency} short, "
                "within the write-off tolerance",
            )
        if difference_base is not None and difference_base <= rules.bank_charge_limit_amount:
            return (
                "short_charges",
                settle_rest("write_off"),
                "bank charges",
                W_AMOUNT_TOLERANCE - Decimal("0.05"),
                f"amount is {money.as_text(difference, currency)} {currency} short, "
                "within the bank-charge limit",
            )
        coverage = paid * HUNDRED / open_total
        if coverage >= rules.deduction_min_coverage_percent:
            weight = W_AMOUNT_NEAR if coverage >= HUNDRED - NEAR_PERCENT else ZERO
            return (
                "deduction",
                settle_rest("deduction"),
                "",
                weight,
                f"amount is {money.as_text(difference, currency)} {currency} short "
                f"({coverage:.1f}% paid): a deduction "
                "for the disputes team",
            )
        return (
            "partial",
            [allocation for allocation in allocations if allocation.amount > ZERO],
            "",
            ZERO,
            f"partial payment: {money.as_text(paid, currency)} {currency} of "
            f"{money.as_text(open_total, currency)} open; the rest stays open",
        )

    def _amount_proposals(self, line: LineFacts, customer_id: int, customers) -> list[Proposal]:
        """Proposals from the amount alone, among one customer's open items."""
        items = self.open_items_of(customer_id)
        if not items:
            return []
        proposals = []
        by_currency: dict[str, list[OpenItem]] = defaultdict(list)
        for item in items:
            by_currency[item.currency].append(item)
        for currency, group in by_currency.items():
            try:
                paid = self._to_currency(line.amount, line.currency, currency, line.booking_date)
            except LookupError:
                continue
            charges = line.charges_amount or ZERO
            fx = currency != line.currency
            exact = [item for item in group if self._settles(item.open_amount, paid, fx)]
            if len(exact) == 1:
                on_cent = exact[0].open_amount == paid
                proposals.append(
                    self._fit(
                        line,
                        customer_id,
                        exact,
                        [],
                        customers,
                        amount_note=(
                            "amount equals the open amount of one of the customer's "
                            if on_cent
                            else "converted amount is within the exchange tolerance of the "
                            "open amount of one of the customer's "
                        )
                        + "invoices, and of no other",
                        # Off the cent, the amount makes the invoice likely, not certain.
                        amount_weight=W_AMOUNT_UNIQUE if on_cent else None,
                    )
                )
                continue
            if len(exact) > 1:
                exact.sort(key=lambda item: (item.due_date, item.id))
                for item in exact[:2]:
                    proposal = self._fit(
                        line,
                        customer_id,
                        [item],
                        [],
                        customers,
                        amount_note=f"amount equals the open amount of {len(exact)} invoices; "
                        "the oldest is proposed",
                        amount_weight=W_AMOUNT_ONLY,
                    )
                    proposals.append(proposal)
                continue
            discounted = [
                item
                for item in group
                if item.discount_on(line.booking_date)
                and item.open_amount - item.discount_on(line.booking_date) == paid
            ]
            if len(discounted) == 1:
                proposals.append(
                    self._fit(
                        line, customer_id, discounted, [], customers, amount_weight=W_AMOUNT_UNIQUE
                    )
                )
                continue
            whole = sum((item.open_amount for item in group), ZERO)
            if len(group) > 1 and self._settles(whole, paid, fx):
                group.sort(key=lambda item: (item.due_date, item.id))
                proposals.append(
                    self._fit(
                        line,
                        customer_id,
                        group,
                        [],
                        customers,
                        amount_note=f"amount equals the customer's whole open balance "
                        f"({len(group)} items)" + _converted_note(whole, paid),
                        amount_weight=W_AMOUNT_WHOLE_BALANCE if whole == paid else None,
                    )
                )
                continue
            target = paid + charges if charges else paid
            combination = self._combination(group, target, tolerance=self._fx_slack(target, fx))
            if combination:
                total = sum((item.open_amount for item in combination), ZERO)
                proposal = self._fit(
                    line,
                    customer_id,
                    combination,
                    [],
                    customers,
                    amount_note=f"amount equals the sum of {len(combination)} open items "
                    "(the only such combination)" + _converted_note(total, target),
                    amount_weight=W_AMOUNT_COMBINATION if total == target else None,
                )
                proposals.append(proposal)
                continue
            near = self._near(line, group, paid)
            if near is not None:
                proposals.append(self._fit(line, customer_id, [near], [], customers))
        return [proposal for proposal in proposals if proposal is not None]

    def _fx_slack(self, amount: Decimal, fx: bool) -> Decimal:
        """Return how far a converted amount may be from `amount` (zero without conversion)."""
        return amount * self.rules.fx_tolerance_percent / HUNDRED if fx else ZERO

    def _settles(self, open_total: Decimal, paid: Decimal, fx: bool) -> bool:
        """Return whether `paid` is `open_total`: exactly, or once converted within the
        exchange tolerance, as `_fit` accepts it (over as exact, short as a write-off).

        A bank converts at its own rate, so a converted amount rarely lands on the
        cent. Compared exactly, it would find no invoice.
        """
        if not fx:
            return open_total == paid
        return abs(open_total - paid) <= self._fx_slack(open_total, fx)

    def _near(self, line: LineFacts, group: list[OpenItem], paid: Decimal) -> OpenItem | None:
        """Return the one item the payment falls just short of (charges, tolerance)."""
        limit = max(self.rules.bank_charge_limit_amount, self.rules.write_off_limit_amount)
        close = []
        for item in group:
            shortfall = item.open_amount - paid
            if shortfall <= ZERO:
                continue
            shortfall_base = self._in_base(shortfall, item.currency, line.booking_date)
            if shortfall_base is not None and shortfall_base <= limit:
                close.append(item)
        return close[0] if len(close) == 1 else None

    def _combination(
        self,
        group: list[OpenItem],
        target: Decimal,
        max_size: int | None = None,
        tolerance: Decimal = ZERO,
    ) -> list[OpenItem] | None:
        """Return the only combination of open items adding up to target, or None.

        The sum may differ from target by `tolerance` (a converted amount). Searches at
        most `max_combination_size` items among the `max_combination_candidates` oldest,
        depth first with pruning, and gives up after COMBINATION_NODE_BUDGET steps; a
        second solution returns None.
        """
        rules = self.rules
        candidates = sorted(
            (item for item in group if item.open_amount <= target + tolerance),
            key=lambda item: (item.due_date, item.id),
        )[: rules.max_combination_candidates]
        candidates.sort(key=lambda item: item.open_amount, reverse=True)
        amounts = [item.open_amount for item in candidates]
        suffix = [ZERO] * (len(amounts) + 1)
        for index in range(len(amounts) - 1, -1, -1):
            suffix[index] = suffix[index + 1] + amounts[index]
        solutions: list[list[int]] = []
        budget = [COMBINATION_NODE_BUDGET]
        size_limit = min(max_size or rules.max_combination_size, rules.max_combination_size)

        def search(start: int, remaining: Decimal, chosen: list[int]) -> None:
            if len(solutions) > 1 or budget[0] <= 0:
                return
            budget[0] -= 1
            if abs(remaining) <= tolerance and len(chosen) > 1:
                solutions.append(list(chosen))
                return
            if len(chosen) >= size_limit or suffix[start] < remaining - tolerance:
                return
            for index in range(start, len(amounts)):
                if amounts[index] > remaining + tolerance:
                    continue
                chosen.append(index)
                search(index + 1, remaining - amounts[index], chosen)
                chosen.pop()
                if len(solutions) > 1:
                    return

        search(0, target, [])
        if len(solutions) != 1 or budget[0] <= 0:
            return None
        chosen = [candidates[index] for index in solutions[0]]
        return sorted(chosen, key=lambda item: (item.due_date, item.id))

    def _amount_only(self, line: LineFacts, customers) -> list[Proposal]:
        """Proposals from an amount that only one open item in the entity has."""
        item_ids = [
            item_id
            for item_id in self.by_amount.get((line.currency, line.amount), ())
            if self.items[item_id].open_amount == line.amount
        ]
        if len(item_ids) != 1:
            return []
        item = self.items[item_ids[0]]
        proposal = self._fit(
            line,
            item.customer_id,
            [item],
            [],
            customers,
            amount_note="amount equals the open amount of one invoice, and no other",
            amount_weight=W_AMOUNT_ONLY,
        )
        return [proposal] if proposal is not None else []

    def _advice_proposals(self, line: LineFacts, text: str, customers) -> list[Proposal]:
        """Proposals from remittance advices naming this payment's invoices."""
        proposals = []
        text_compact = compact(text)
        for advice in self.advices_by_amount.get((line.currency, line.amount), ()):
            reasons = []
            if advice.reference and compact(advice.reference) in text_compact:
                reasons.append(f"remittance advice {advice.reference} is quoted")
            if advice.payer_account and advice.payer_account == line.counterparty_account:
                reasons.append("remittance advice comes from the payer's account")
            if advice.payer_key and advice.payer_key == name_key(line.counterparty_name):
                reasons.append("remittance advice comes from the payer")
            if advice.customer_id is not None and advice.customer_id in customers:
                reasons.append("remittance advice is the customer's")
            if not reasons:
                continue
            items = []
            for number, _amount, _deduction in advice.items:
                for item_id in self.by_number.get(number, ()):
                    item = self.items[item_id]
                    if item.open_amount > ZERO and item.currency == line.currency:
                        items.append(item)
            customer_ids = {item.customer_id for item in items}
            if not items or len(customer_ids) != 1:
                continue
            customer_id = customer_ids.pop()
            evidence = [
                (
                    W_REMITTANCE,
                    f"remittance advice lists {len(items)} invoice(s); " + "; ".join(reasons),
                )
            ]
            proposal = self._fit(line, customer_id, items, evidence, customers)
            if proposal is not None:
                proposal.advice_id = advice.id
                proposals.append(proposal)
        return proposals


def _exact_note(items: list[OpenItem], fx: bool) -> str:
    if fx:
        return "converted amount equals the open amount"
    if len(items) == 1:
        return "amount equals the open amount"
    return f"amount equals the open amount of the {len(items)} invoices"


def _converted_note(total: Decimal, paid: Decimal) -> str:
    return "" if total == paid else ", once converted, within the exchange tolerance"


def _nested(one: Proposal, other: Proposal) -> bool:
    if one.customer_id != other.customer_id:
        return False
    first = {allocation.item.id for allocation in one.allocations}
    second = {allocation.item.id for allocation in other.allocations}
    return first <= second or second <= first


def _combine(weights: list[Decimal]) -> Decimal:
    remaining = Decimal("1")
    for weight in weights:
        remaining *= Decimal("1") - min(weight, Decimal("0.999"))
    return Decimal("1") - remaining
