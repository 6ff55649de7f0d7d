"""An entity's receivables history as arrays, read once, to tell what was known on D.

Features and backtests ask the same question thousands of times: what did the ledger
show on date D? `LedgerHistory` loads the invoices, their settlement spells, the
disputes and the promises of one entity with a handful of queries, then answers those
questions with array look-ups instead of one query per invoice.

Definitions (calendar dates in the entity's time zone, stored as ordinals):

- An invoice is known on D when it was posted on or before D (document date <= D).
- A settlement spell starts on the date the allocations dated on or before it first
  cover the invoice in full and ends when a negative allocation reopens it. An invoice
  is settled as of D when a spell started on or before D and had not ended by D, so an
  allocation dated after D never counts.
- Days late of a settled invoice = settlement date - due date (negative = early).
- A spell closed by a reversal cancels the invoice: it is neither paid nor late and is
  left out of every history and every training label.
- A dispute is known from its `opened_on`. Histories that only flag disputes give no
  opening date: such a dispute is known from its `resolved_on` at the latest (it
  existed before it was resolved), and one with neither date is never known. So the
  dispute on an invoice still open on D stays unknown on D, while the disputes of the
  customer's invoices settled before D are part of their history.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.apps import apps
from django.db.models import F, Q

from o2c.disputes.models import Dispute
from o2c.ledger.models import Allocation, Document, DocumentKind
from o2c.parties.models import LegalEntity

# An ordinal later than any real date: "not settled" and "never reopened".
NEVER = dt.date.max.toordinal()

PAID = 0
WRITTEN_OFF = 1
REVERSED = 2

LEVEL_WINDOW_DAYS = 90

HISTORY_KINDS = [DocumentKind.INVOICE, DocumentKind.DEBIT_NOTE]


@dataclass
class CustomerBook:
    """The rows of one customer, as indexes into the entity-wide arrays."""

    invoices: np.ndarray  # invoice indexes, ordered by posting date
    spells: np.ndarray  # spell indexes, ordered by settlement date
    disputes: np.ndarray  # dispute indexes with a known opening date
    promises: np.ndarray  # broken-promise indexes


@dataclass
class LedgerHistory:
    """Invoices, settlement spells, disputes and broken promises of one entity."""

    entity_id: int
    base_currency: str
    # Invoices (debit notes included), one row each.
    invoice_ids: np.ndarray
    numbers: list[str]
    customer_ids: np.ndarray
    posted: np.ndarray
    due: np.ndarray
    amount: np.ndarray  # in base currency, as float: a feature value, never a balance
    currencies: list[str]
    electronic: np.ndarray
    # Settlement spells: invoice index, start, end (NEVER while still settled), closer.
    spell_invoice: np.ndarray
    spell_start: np.ndarray
    spell_end: np.ndarray
    spell_kind: np.ndarray
    # Disputes, each with the day from which it is known (see the module docstring).
    dispute_invoice: np.ndarray
    dispute_opened: np.ndarray
    dispute_resolved: np.ndarray
    # Promises to pay that were broken, from the collections module when installed.
    promise_customer: np.ndarray
    promise_broken_on: np.ndarray
    books: dict[int, CustomerBook] = field(default_factory=dict)
    index_of: dict[int, int] = field(default_factory=dict)
    spells_of: dict[int, list[int]] = field(default_factory=dict)
    dispute_known_on: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self):
        self.index_of = {int(pk): index for index, pk in enumerate(self.invoice_ids)}
        self.spells_of = defaultdict(list)
        for spell, invoice in enumerate(self.spell_invoice.tolist()):
            self.spells_of[invoice].append(spell)
        self.dispute_known_on = np.full(self.size, NEVER, dtype=np.int64)
        np.minimum.at(self.dispute_known_on, self.dispute_invoice, self.dispute_opened)
        self._build_books()
        self._build_prior()

    @property
    def size(self) -> int:
        return len(self.invoice_ids)

    def _build_books(self) -> None:
        by_posting = np.lexsort((self.invoice_ids, self.posted))
        invoices = defaultdict(list)
        for index in by_posting:
            invoices[int(self.customer_ids[index])].append(index)
        spells = defaultdict(list)
        for index in np.lexsort((self.due[self.spell_invoice], self.spell_start)):
            spells[int(self.customer_ids[self.spell_invoice[index]])].append(index)
        disputes = defaultdict(list)
        for index, invoice in enumerate(self.dispute_invoice):
            disputes[int(self.customer_ids[invoice])].append(index)
        promises = defaultdict(list)
        for index, customer in enumerate(self.promise_customer):
            promises[int(customer)].append(index)
        empty = np.zeros(0, dtype=np.int64)
        for customer in set(invoices) | set(promises):
            self.books[customer] = CustomerBook(
                invoices=np.array(invoices.get(customer, []), dtype=np.int64),
                spells=np.array(spells.get(customer, []), dtype=np.int64),
                disputes=np.array(disputes.get(customer, empty), dtype=np.int64),
                promises=np.array(promises.get(customer, empty), dtype=np.int64),
            )

    def _build_prior(self) -> None:
        """Prepare running sums for the entity-wide mean days late on any date."""
        self._priors = {
            None: self._running_sums(self.spell_kind != REVERSED),
            True: self._running_sums(
                (self.spell_kind != REVERSED) & self.electronic[self.spell_invoice]
            ),
            False: self._running_sums(
                (self.spell_kind != REVERSED) & ~self.electronic[self.spell_invoice]
            ),
        }

    def _running_sums(self, counted: np.ndarray) -> tuple:
        late = (self.spell_start - self.due[self.spell_invoice]).astype(float)
        starts = self.spell_start[counted]
        order = np.argsort(starts, kind="stable")
        ended = counted & (self.spell_end != NEVER)
        ends = self.spell_end[ended]
        order_end = np.argsort(ends, kind="stable")
        return (
            starts[order],
            np.concatenate([[0.0], np.cumsum(late[counted][order])]),
            np.concatenate([[0.0], np.cumsum((late[counted][order] > 0).astype(float))]),
            ends[order_end],
            np.concatenate([[0.0], np.cumsum(late[ended][order_end])]),
            np.concatenate([[0.0], np.cumsum((late[ended][order_end] > 0).astype(float))]),
        )

    def prior(self, on: int, electronic: bool | None = None) -> tuple[int, float, float]:
        """Return (count, mean days late, share late) of invoices settled as of `on`.

        With `electronic`, only invoices billed on that channel count.
        """
        starts, late_sums, late_shares, ends, end_sums, end_shares = self._priors[electronic]
        started = int(np.searchsorted(starts, on, side="right"))
        ended = int(np.searchsorted(ends, on, side="right"))
        count = started - ended
        if count <= 0:
            return 0, 0.0, 0.0
        late_sum = late_sums[started] - end_sums[ended]
        share = late_shares[started] - end_shares[ended]
        return count, late_sum / count, share / count

    def level(self, on: np.ndarray | int, window_days: int = LEVEL_WINDOW_DAYS):
        """Return the entity's mean days late of invoices settled in (on - window, on].

        NaN where nothing was settled in the window. It follows drifts that affect
        every customer (a new dunning policy, a recession); spells later reopened still
        count here, as this only sets a level.
        """
        starts, late_sums = self._priors[None][0], self._priors[None][1]
        on = np.asarray(on)
        upper = np.searchsorted(starts, on, side="right")
        lower = np.searchsorted(starts, on - window_days, side="right")
        count = upper - lower
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, (late_sums[upper] - late_sums[lower]) / count, np.nan)

    def book(self, customer_id: int) -> CustomerBook | None:
        return self.books.get(int(customer_id))

    def settled_spells(self, book: CustomerBook, on: int) -> np.ndarray:
        """Return the customer's spell indexes in force on `on`, oldest settlement first."""
        spells = book.spells
        if not len(spells):
            return spells
        starts = self.spell_start[spells]
        known = spells[: int(np.searchsorted(starts, on, side="right"))]
        return known[self.spell_end[known] > on]

    def outcome(self, invoice: int, known_on: int = NEVER) -> tuple[int, int] | None:
        """Return (settlement date, closer kind) of an invoice as known on `known_on`.

        None when the invoice was not settled on that day.
        """
        for spell in self.spells_of.get(invoice, ()):
            end = self.spell_end[spell]
            if self.spell_start[spell] <= known_on and (known_on < end or end == NEVER):
                return int(self.spell_start[spell]), int(self.spell_kind[spell])
        return None

    def outcomes(self, known_on: int = NEVER) -> tuple[np.ndarray, np.ndarray]:
        """Return per invoice the settlement date (NEVER if open) and closer, as of a day."""
        settled_on = np.full(self.size, NEVER, dtype=np.int64)
        kinds = np.full(self.size, -1, dtype=np.int64)
        live = (self.spell_start <= known_on) & (
            (self.spell_end > known_on) | (self.spell_end == NEVER)
        )
        settled_on[self.spell_invoice[live]] = self.spell_start[live]
        kinds[self.spell_invoice[live]] = self.spell_kind[live]
        return settled_on, kinds


def load_history(entity: LegalEntity, customer_ids=None) -> LedgerHistory:
    """Read the invoices, settlements, disputes and broken promises of an entity.

    With `customer_ids`, only those customers are read (a customer page, a rescore of a
    few customers); the entity-wide prior then covers only them.
    """
    documents = Document.objects.filter(entity=entity, kind__in=HISTORY_KINDS)
    if customer_ids is not None:
        documents = documents.filter(customer_id__in=list(customer_ids))
    rows = list(
        documents.order_by("id").values_list(
            "id",
            "number",
            "customer_id",
            "document_date",
            "due_date",
            "amount_base",
            "currency",
            "delivery_channel",
            F("customer__paperless_since"),
            "amount",
        )
    )
    invoice_ids = np.array([row[0] for row in rows], dtype=np.int64)
    index_of = {row[0]: index for index, row in enumerate(rows)}
    posted = np.array([row[3].toordinal() for row in rows], dtype=np.int64)
    electronic = np.array([_is_electronic(row[7], row[8], row[3]) for row in rows], dtype=bool)

    # Allocations are in the invoice's own currency, so they are summed against its
    # amount in that currency, not the base amount.
    spells = _settlement_spells(documents, {row[0]: row[9] for row in rows}, index_of)
    disputes = [
        (invoice_id, opened_on or resolved_on, resolved_on)
        for invoice_id, opened_on, resolved_on in Dispute.objects.filter(
            Q(opened_on__isnull=False) | Q(resolved_on__isnull=False), invoice__in=documents
        ).values_list("invoice_id", "opened_on", "resolved_on")
    ]
    promise_customers, promise_dates = _broken_promises(entity, customer_ids)
    return LedgerHistory(
        entity_id=entity.pk,
        base_currency=entity.base_currency,
        invoice_ids=invoice_ids,
        numbers=[row[1] for row in rows],
        customer_ids=np.array([row[2] for row in rows], dtype=np.int64),
        posted=posted,
        due=np.array([row[4].toordinal() for row in rows], dtype=np.int64),
        amount=np.array([float(row[5]) for row in rows], dtype=float),
        currencies=[row[6] for row in rows],
        electronic=electronic,
        spell_invoice=np.array([spell[0] for spell in spells], dtype=np.int64),
        spell_start=np.array([spell[1] for spell in spells], dtype=np.int64),
        spell_end=np.array([spell[2] for spell in spells], dtype=np.int64),
        spell_kind=np.array([spell[3] for spell in spells], dtype=np.int64),
        dispute_invoice=np.array([index_of[row[0]] for row in disputes], dtype=np.int64),
        dispute_opened=np.array([row[1].toordinal() for row in disputes], dtype=np.int64),
        dispute_resolved=np.array(
            [row[2].toordinal() if row[2] else NEVER for row in disputes], dtype=np.int64
        ),
        promise_customer=promise_customers,
        promise_broken_on=promise_dates,
    )


def _is_electronic(channel: str, paperless_since: dt.date | None, posted: dt.date) -> bool:
    if channel:
        return channel in ("electronic", "email", "portal", "peppol", "edi")
    return paperless_since is not None and paperless_since <= posted


def _settlement_spells(documents, amounts: dict[int, Decimal], index_of: dict[int, int]):
    """Return (invoice index, start, end, closer) for every settlement spell.

    Allocations are summed day by day in `Decimal`, so "covered in full" is exact; the
    closer is the kind of the credit document whose allocation completed the cover.
    """
    allocations = (
        Allocation.objects.filter(debit_document__in=documents)
        .order_by("debit_document_id", "allocated_on", "id")
        .values_list("debit_document_id", "allocated_on", "amount", "credit_document__kind")
    )
    spells = []
    current = None
    covered = Decimal("0")
    open_spell = None
    for invoice_id, on, amount, credit_kind in allocations.iterator(chunk_size=5000):
        if invoice_id != current:
            current, covered, open_spell = invoice_id, Decimal("0"), None
        covered += amount
        if open_spell is None and covered >= amounts[invoice_id]:
            open_spell = [index_of[invoice_id], on.toordinal(), NEVER, _closer(credit_kind)]
            spells.append(open_spell)
        elif open_spell is not None and covered < amounts[invoice_id]:
            if open_spell[1] == on.toordinal():
                spells.remove(open_spell)  # closed and reopened on the same day
            else:
                open_spell[2] = on.toordinal()
            open_spell = None
    return [tuple(spell) for spell in spells]


def _closer(credit_kind: str) -> int:
    if credit_kind == DocumentKind.REVERSAL:
        return REVERSED
    if credit_kind == DocumentKind.WRITE_OFF:
        return WRITTEN_OFF
    return PAID


def _broken_promises(entity, customer_ids) -> tuple[np.ndarray, np.ndarray]:
    """Return (customer id, date broken) of broken promises to pay, if a module keeps them.

    A module that records promises to pay publishes them by naming, in its AppConfig,
    `insights_broken_promises`: the dotted path of a function(entity, customer_ids)
    returning (customer id, date broken) pairs. A promise counts from the day it was
    broken, so it never reaches a prediction made before that day.
    """
    pairs = []
    for config in apps.get_app_configs():
        path = getattr(config, "insights_broken_promises", None)
        if path:
            pairs.extend(_import(path)(entity, customer_ids))
    customers = np.array([customer for customer, _ in pairs], dtype=np.int64)
    dates = np.array([broken_on.toordinal() for _, broken_on in pairs], dtype=np.int64)
    return customers, dates


def _import(path: str):
    from django.utils.module_loading import import_string

    return import_string(path)
