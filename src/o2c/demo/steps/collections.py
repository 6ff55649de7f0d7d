"""Service levels of the demo teams, dunning strategies, a previewed run, promises to pay."""

import datetime as dt
import logging
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

from o2c.collections.models import DunningStep, DunningStrategy, PromiseToPay, ReminderTone
from o2c.collections.models import StepAction as Action
from o2c.collections.models import StepChannel as Channel
from o2c.collections.services import record_promise, review_promises, run_dunning
from o2c.demo.steps.common import clock_at, home_customers, person, randomness
from o2c.ledger.models import Document, DocumentKind, Side
from o2c.ledger.selectors import open_documents
from o2c.parties.models import LegalEntity
from o2c.teams.models import SlaPolicy, Team, TeamFunction, WorkKind

logger = logging.getLogger(__name__)

# Hours to resolve each kind of work, and its priority (1 is the most urgent), per function.
SERVICE_LEVELS = {
    TeamFunction.CREDIT: [(WorkKind.CREDIT_APPROVAL, 24, 2), (WorkKind.CREDIT_REVIEW, 336, 3)],
    TeamFunction.COLLECTIONS: [
        (WorkKind.COLLECTION_CALL, 48, 3),
        (WorkKind.PROMISE_FOLLOW_UP, 24, 2),
    ],
    TeamFunction.DISPUTES: [
        (WorkKind.DISPUTE, 120, 3),
        (WorkKind.DEDUCTION, 240, 3),
        (WorkKind.WRITE_OFF_APPROVAL, 48, 2),
    ],
    TeamFunction.CASH_APPLICATION: [(WorkKind.CASH_EXCEPTION, 24, 2)],
    TeamFunction.SALES: [(WorkKind.DISPUTE, 72, 3)],
    TeamFunction.CUSTOMER_SERVICE: [(WorkKind.DISPUTE, 72, 3), (WorkKind.GENERAL, 48, 3)],
}

# Step names in each language of the entities; the reminders themselves are written in
# each contact's language by the shipped templates.
STEP_NAMES = {
    "de": {
        "friendly": "Zahlungshinweis vor Fälligkeit",
        "first": "Zahlungserinnerung",
        "second": "Zweite Mahnung",
        "call": "Telefonat",
        "final": "Letzte Mahnung (Brief)",
        "hold": "Liefersperre",
    },
    "en": {
        "friendly": "Courtesy reminder before due date",
        "first": "First reminder",
        "second": "Second reminder",
        "call": "Collection call",
        "final": "Final notice (letter)",
        "hold": "Hold new orders",
    },
    "ja": {
        "friendly": "支払期日前のご案内",
        "first": "督促状（第1回）",
        "second": "督促状（第2回）",
        "call": "電話督促",
        "final": "最終督促状（郵送）",
        "hold": "新規受注の保留",
    },
    "ar": {
        "friendly": "تذكير ودي قبل تاريخ الاستحقاق",
        "first": "التذكير الأول",
        "second": "التذكير الثاني",
        "call": "اتصال تحصيل",
        "final": "الإنذار النهائي (خطاب)",
        "hold": "إيقاف الطلبات الجديدة",
    },
}
ENTITY_LANGUAGE = {"DE01": "de", "US01": "en", "JP01": "ja", "KW01": "ar"}

# (key, days after due, channel, action, tone, fee in base currency per unit of scale)
DEFAULT_STEPS = [
    ("friendly", -3, Channel.EMAIL, Action.NONE, ReminderTone.FRIENDLY, None),
    ("first", 7, Channel.EMAIL, Action.NONE, ReminderTone.FIRST, None),
    ("second", 21, Channel.EMAIL, Action.NONE, ReminderTone.SECOND, Decimal("5")),
    ("call", 30, Channel.CALL, Action.NONE, ReminderTone.SECOND, None),
    ("final", 45, Channel.LETTER, Action.NONE, ReminderTone.FINAL, Decimal("10")),
    ("hold", 60, Channel.ACTION, Action.HOLD_ORDERS, ReminderTone.FINAL, None),
]
# Key accounts get a call before any written reminder, and no fees.
KEY_ACCOUNT_STEPS = [
    ("friendly", -5, Channel.EMAIL, Action.NONE, ReminderTone.FRIENDLY, None),
    ("call", 10, Channel.CALL, Action.NONE, ReminderTone.FIRST, None),
    ("second", 25, Channel.EMAIL, Action.NONE, ReminderTone.SECOND, None),
    ("final", 50, Channel.LETTER, Action.NONE, ReminderTone.FINAL, None),
]
# A fee of 5 in EUR is about 5 USD, 800 JPY or 1.5 KWD: scale it per base currency.
FEE_SCALE = {"EUR": Decimal("1"), "USD": Decimal("1"), "JPY": Decimal("160"), "KWD": Decimal("0.3")}
PROMISES_PER_ENTITY = {"open": 2, "broken": 2}
BROKEN_PROMISE_DAYS_AGO = 20


def set_up_service_levels() -> int:
    """Give every team an SLA for each kind of work its function handles."""
    created = 0
    for team in Team.objects.all():
        for kind, hours, priority in SERVICE_LEVELS.get(team.function, []):
            _, is_new = SlaPolicy.objects.get_or_create(
                team=team, kind=kind, defaults={"resolution_hours": hours, "priority": priority}
            )
            created += is_new
    return created


def set_up_strategies(entity: LegalEntity) -> int:
    """Create the entity's default and key-account dunning strategies if missing."""
    names = STEP_NAMES[ENTITY_LANGUAGE.get(entity.code, "en")]
    created = 0
    for segment, title, steps in (
        ("", "Standard dunning", DEFAULT_STEPS),
        ("key account", "Key accounts", KEY_ACCOUNT_STEPS),
    ):
        strategy, is_new = DunningStrategy.objects.get_or_create(
            entity=entity, segment=segment, defaults={"name": title}
        )
        if not is_new:
            continue
        created += 1
        scale = FEE_SCALE.get(entity.base_currency, Decimal("1"))
        DunningStep.objects.bulk_create(
            DunningStep(
                strategy=strategy,
                sequence=sequence,
                name=names[key],
                days_after_due=days,
                channel=channel,
                action=action,
                tone=tone,
                fee_amount=fee * scale if fee is not None else None,
                charge_interest=key == "final",
            )
            for sequence, (key, days, channel, action, tone, fee) in enumerate(steps, start=1)
        )
    return created


def preview_dunning(entity: LegalEntity) -> dict:
    """Preview today's dunning run of the entity (nothing is written or sent)."""
    plan = run_dunning(entity, entity.today(), preview=True)
    languages = Counter(notice.language for notice in plan.notices)
    return {"counts": plan.counts, "languages": dict(languages)}


def _open_invoices(entity: LegalEntity, customer_ids, due_before: dt.date, issued_before):
    invoices = Document.objects.filter(
        entity=entity,
        customer_id__in=customer_ids,
        kind=DocumentKind.INVOICE,
        side=Side.DEBIT,
        due_date__lt=due_before,
        document_date__lt=issued_before,
    )
    return list(open_documents(invoices).order_by("customer_id", "due_date", "pk"))


def set_up_promises(entity: LegalEntity, paid_soon: list[Document]) -> list[PromiseToPay]:
    """Record promises to pay: open ones, ones the bank statement keeps, broken ones.

    `paid_soon` are invoices the demo statement pays today: a promise recorded on them
    now is kept once cash application applies the payment. Broken promises are replayed
    as recorded 20 days ago for a date that has passed, on invoices still open today.
    """
    if PromiseToPay.objects.filter(entity=entity).exists():
        return []
    collector = person(entity, "collector1")
    today = entity.today()
    pick = randomness(entity, "promises")
    promises = []
    for invoice in paid_soon:
        promises.append(
            record_promise(
                invoice.customer,
                documents=[invoice],
                amount=invoice.amount,
                promised_on=today + dt.timedelta(days=2),
                actor=collector,
                note="Payment run on its way, customer says",
            )
        )
    promised = {invoice.customer_id for invoice in paid_soon}
    customers = [pk for pk in home_customers(entity).values_list("pk", flat=True)]
    pick.shuffle(customers)
    candidates = [pk for pk in customers if pk not in promised]

    recorded_on = today - dt.timedelta(days=BROKEN_PROMISE_DAYS_AGO)
    by_customer = _first_by_customer(
        _open_invoices(entity, candidates, due_before=recorded_on, issued_before=recorded_on)
    )
    broken = list(by_customer.values())[: PROMISES_PER_ENTITY["broken"]]
    at = dt.datetime.combine(recorded_on, dt.time(10, 30), tzinfo=ZoneInfo(entity.time_zone))
    with clock_at(at):
        for invoice in broken:
            promises.append(
                record_promise(
                    invoice.customer,
                    documents=[invoice],
                    amount=invoice.open_amount,
                    promised_on=recorded_on + dt.timedelta(days=7),
                    actor=collector,
                    note="Promised to pay after the month-end close",
                )
            )
    taken = promised | {invoice.customer_id for invoice in broken}
    by_customer = _first_by_customer(
        _open_invoices(
            entity,
            [pk for pk in candidates if pk not in taken],
            due_before=today,
            issued_before=today,
        )
    )
    for invoice in list(by_customer.values())[: PROMISES_PER_ENTITY["open"]]:
        promises.append(
            record_promise(
                invoice.customer,
                documents=[invoice],
                amount=invoice.open_amount,
                promised_on=today + dt.timedelta(days=pick.randrange(5, 15)),
                actor=collector,
                note="Will pay with the next payment run",
            )
        )
    review_promises(entity=entity)
    return promises


def _first_by_customer(invoices: list[Document]) -> dict[int, Document]:
    first: dict[int, Document] = {}
    for invoice in invoices:
        first.setdefault(invoice.customer_id, invoice)
    return first
