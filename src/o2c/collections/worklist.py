"""The collector's worklist: customers ordered by the expected value of acting today.

score = amount at risk × risk × contact effect, where

- amount at risk: the customer's overdue, undisputed open amount, in the entity's base
  currency at the rate of the day (items in a currency without a rate count at zero,
  and the entry says so);
- risk: the loss model's probability (`o2c.collections.scoring`), of loss or of a
  nearer event that the estimate names, such as being still unpaid in 30 days;
- contact effect: how much a contact today can change the outcome: 1.2 after a broken
  promise in the last 30 days, 0.1 while a promise is pending, 0.3 if the customer was
  contacted in the last 3 days, 0.6 in the last 7 days, else 1.0.

Each collector sees at most their worklist size (a per-person setting) of customers
not yet worked today; the rest are counted as beyond today's capacity.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Max, Min, Sum
from django.db.models.functions import Least
from django.utils import timezone

from o2c.collections.models import CollectionActivity, DunningNotice, PromiseStatus, PromiseToPay
from o2c.collections.scoring import LOSS_MEASURE, CustomerFacts, loss_model
from o2c.collections.selectors import behaviour_by_customer, disputed_subquery
from o2c.core import money
from o2c.fx.errors import RateError
from o2c.fx.services import RateTable
from o2c.ledger.models import Document, Side
from o2c.ledger.selectors import with_open_amount
from o2c.parties.models import Customer
from o2c.parties.selectors import customers_for
from o2c.teams.models import MemberSettings, Membership, TeamFunction

ZERO = Decimal("0")
BROKEN_PROMISE_DAYS = 30
DEFAULT_WORKLIST_SIZE = 20


@dataclass
class WorklistEntry:
    customer: Customer
    overdue: dict[str, Decimal]
    amount_at_risk: Decimal
    oldest_days_past_due: int
    probability: Decimal
    contact_effect: Decimal
    score: Decimal
    reasons: list[str] = field(default_factory=list)
    measure: str = LOSS_MEASURE
    worked_today: bool = False


@dataclass
class Worklist:
    as_of: dt.date
    currency: str
    model: str
    capacity: int
    entries: list[WorklistEntry]
    worked_today: list[WorklistEntry]
    beyond_capacity: int


def worklist_size(user, entity) -> int:
    membership = (
        Membership.objects.filter(
            user=user, team__entity=entity, team__function=TeamFunction.COLLECTIONS
        )
        .select_related("settings")
        .first()
    )
    if membership is None:
        return DEFAULT_WORKLIST_SIZE
    own = getattr(membership, "settings", None) or MemberSettings()
    return own.worklist_size


def _contact_effect(
    last_contact: dt.datetime | None, promise: dict, now: dt.datetime
) -> tuple[Decimal, str]:
    if promise.get("broken_on"):
        return Decimal("1.2"), f"promise broken on {promise['broken_on']}: call now"
    if promise.get("pending_until"):
        return Decimal("0.1"), f"promise to pay pending until {promise['pending_until']}"
    if last_contact is None:
        return Decimal("1.0"), "no contact recorded"
    days = (now - last_contact).days
    if days < 3:
        return Decimal("0.3"), f"contacted {days} day(s) ago"
    if days < 7:
        return Decimal("0.6"), f"contacted {days} days ago"
    return Decimal("1.0"), f"last contact {days} days ago"


def build_worklist(user, entity, as_of: dt.date | None = None) -> Worklist:
    """Return the person's worklist in one entity, from a fixed number of queries."""
    as_of = as_of or entity.today()
    now = timezone.now()
    customers = customers_for(user, entity=entity)
    documents = Document.objects.filter(
        entity=entity,
        customer__in=customers,
        side=Side.DEBIT,
        document_date__lte=as_of,
        due_date__lt=as_of,
    )
    rows = (
        with_open_amount(documents, as_of)
        .filter(open_amount__gt=0)
        .annotate(disputed=disputed_subquery(as_of))
        .values("customer_id", "currency")
        .annotate(
            open_total=Sum("open_amount"),
            disputed_total=Sum(Least("open_amount", "disputed")),
            oldest_due=Min("due_date"),
        )
        .order_by()
    )
    overdue: dict[int, dict[str, Decimal]] = defaultdict(dict)
    oldest: dict[int, dt.date] = {}
    for row in rows:
        undisputed = money.round_amount(
            row["open_total"] - (row["disputed_total"] or ZERO), row["currency"]
        )
        if undisputed <= ZERO:
            continue
        overdue[row["customer_id"]][row["currency"]] = undisputed
        oldest[row["customer_id"]] = min(oldest.get(row["customer_id"], as_of), row["oldest_due"])
    ids = list(overdue)
    names = Customer.objects.in_bulk(ids)
    last_contact = dict(
        CollectionActivity.objects.filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
    )
    last_reminder = dict(
        DunningNotice.objects.filter(customer_id__in=ids, sent_at__isnull=False)
        .values("customer_id")
        .annotate(last=Max("sent_at"))
        .values_list("customer_id", "last")
    )
    day_start = dt.datetime.combine(as_of, dt.time.min, tzinfo=ZoneInfo(entity.time_zone))
    worked = set(
        CollectionActivity.objects.filter(
            customer_id__in=ids, user=user, occurred_at__gte=day_start
        ).values_list("customer_id", flat=True)
    )
    promises: dict[int, dict] = defaultdict(dict)
    recent = as_of - dt.timedelta(days=BROKEN_PROMISE_DAYS)
    for customer_id, status, promised_on, settled_on in PromiseToPay.objects.filter(
        customer_id__in=ids, status__in=[PromiseStatus.OPEN, PromiseStatus.BROKEN]
    ).values_list("customer_id", "status", "promised_on", "settled_on"):
        if status == PromiseStatus.OPEN and promised_on >= as_of:
            promises[customer_id]["pending_until"] = promised_on
        elif status == PromiseStatus.BROKEN and settled_on and settled_on >= recent:
            promises[customer_id]["broken_on"] = settled_on
    behaviour = behaviour_by_customer(entity, ids, as_of)

    base = entity.base_currency
    rates = RateTable({base} | {code for cell in overdue.values() for code in cell})
    facts, at_risk, missing_rates = [], {}, defaultdict(list)
    for customer_id, cell in overdue.items():
        total = ZERO
        for currency, amount in cell.items():
            try:
                total += rates.convert(amount, currency, base, as_of).amount
            except RateError:
                missing_rates[customer_id].append(currency)
        at_risk[customer_id] = total
        facts.append(
            CustomerFacts(
                customer_id,
                (as_of - oldest[customer_id]).days,
                total,
                behaviour.get(customer_id, {"class": "new"}),
            )
        )
    model = loss_model()
    estimates = model.estimate(facts, as_of)
    # A model named by O2C_LOSS_MODEL may predate the measure field.
    measures = {pk: getattr(item, "measure", LOSS_MEASURE) for pk, item in estimates.items()}

    entries = []
    for fact in facts:
        customer_id = fact.customer_id
        estimate = estimates[customer_id]
        contact = max(
            (
                moment
                for moment in (last_contact.get(customer_id), last_reminder.get(customer_id))
                if moment is not None
            ),
            default=None,
        )
        effect, effect_reason = _contact_effect(contact, promises[customer_id], now)
        score = (at_risk[customer_id] * estimate.probability * effect).quantize(Decimal("0.01"))
        amounts = ", ".join(
            f"{money.as_text(amount, code)} {code}"
            for code, amount in sorted(overdue[customer_id].items())
        )
        reasons = [
            f"{amounts} overdue and undisputed = "
            f"{money.as_text(at_risk[customer_id], base)} {base} at risk",
            f"{measures[customer_id]} {estimate.probability} ({estimate.model}: "
            + "; ".join(estimate.reasons)
            + ")",
            f"contact effect {effect}: {effect_reason}",
        ]
        if missing_rates[customer_id]:
            reasons.append(
                "no exchange rate for " + ", ".join(missing_rates[customer_id]) + ": not counted"
            )
        entries.append(
            WorklistEntry(
                customer=names[customer_id],
                overdue=overdue[customer_id],
                amount_at_risk=at_risk[customer_id],
                oldest_days_past_due=fact.oldest_days_past_due,
                probability=estimate.probability,
                measure=measures[customer_id],
                contact_effect=effect,
                score=score,
                reasons=reasons,
                worked_today=customer_id in worked,
            )
        )
    entries.sort(key=lambda entry: (-entry.score, entry.customer.number))
    capacity = worklist_size(user, entity)
    done = [entry for entry in entries if entry.worked_today]
    waiting = [entry for entry in entries if not entry.worked_today]
    room = max(capacity - len(done), 0)
    return Worklist(
        as_of=as_of,
        currency=base,
        # The models the rows used: one may hand customers it cannot score to another.
        model=", ".join(sorted({item.model for item in estimates.values()})) or model.name,
        capacity=capacity,
        entries=waiting[:room],
        worked_today=done,
        beyond_capacity=max(len(waiting) - room, 0),
    )
