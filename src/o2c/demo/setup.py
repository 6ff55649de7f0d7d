"""Load the demo: rates, the real IBM history, a generated ledger, teams and people, and
records in every module (orders, invoices, bank statements, disputes, models, ...).

Each step reports what it did and how long it took. Every step is idempotent, so a
second run adds nothing. Only the admin's one-time password, the demo people's
passwords (when requested) and the portal link are new each time.
"""

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from o2c.collections.services import review_promises
from o2c.core.models import UserSettings
from o2c.demo.generator import generate
from o2c.demo.passwords import readable_password
from o2c.demo.steps import access, banking, billing, collections, disputes, insights, sales
from o2c.demo.steps import sellers as seller_steps
from o2c.demo.steps.common import demo_entities, home_customers
from o2c.disputes.models import Dispute, DisputeReason, DisputeStatus
from o2c.disputes.routing import route_unrouted_disputes
from o2c.fx.services import import_ecb_csv
from o2c.imports.services import import_receivables
from o2c.parties.models import Contact, ContactRole, Customer, LegalEntity
from o2c.paths import SHIPPED_DATA_DIR, data_dir
from o2c.teams.models import Membership, Portfolio, Role, Team, TeamFunction

logger = logging.getLogger(__name__)

# The size of the generated part of the demo; O2C_DEMO_INVOICES overrides it.
DEMO_INVOICES = 20_000
DEMO_ENTITIES = 4
COLLECTORS_PER_ENTITY = 2
# Folds of the backtest run before each model is saved. `o2c insights train` uses 12;
# fewer keeps the set-up short, at the price of a coarser check against the baselines.
DEMO_TRAINING_FOLDS = 3
# Entities with fewer invoices are not trained, so their predictions use the transparent
# rule. O2C_DEMO_TRAIN_MIN_INVOICES overrides it.
TRAIN_MIN_INVOICES = 1000
TEAM_NAMES = {
    TeamFunction.CREDIT: "Credit",
    TeamFunction.COLLECTIONS: "Collections",
    TeamFunction.DISPUTES: "Disputes",
    TeamFunction.CASH_APPLICATION: "Cash application",
    TeamFunction.SALES: "Sales",
    TeamFunction.CUSTOMER_SERVICE: "Customer service",
}


@dataclass
class DemoAccess:
    """One-time sign-ins for the person at the console, printed once."""

    admin_password: str
    people_passwords: dict[str, str] = field(default_factory=dict)
    portal_customer: str = ""
    portal_link: str = ""


def set_up_demo(report: Callable[[str], None], *, people_passwords: bool = False) -> DemoAccess:
    """Load every part of the demo that is missing and return new one-time sign-ins."""
    step = _Steps(report)
    with step("exchange rates"):
        rates = import_ecb_csv(SHIPPED_DATA_DIR / "fx" / "eurofxref-hist.csv")
        step.note(f"{rates.created} new, {rates.unchanged} already loaded")

    with step("IBM late-payment history"):
        ibm = import_receivables(
            SHIPPED_DATA_DIR / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv", "ibm-late-payment"
        )
        step.note(f"{ibm.counts.get('invoices_created', 0)} invoices new")

    with step("generated ledger"):
        invoices = int(os.environ.get("O2C_DEMO_INVOICES", DEMO_INVOICES))
        generated = _generated_ledger(report, invoices)
        result = import_receivables(
            generated.csv_path, "generic", mapping=generated.mapping_path, progress=report
        )
        step.note(f"{result.counts.get('invoices_created', 0)} invoices new")

    with step("teams, people and contacts"):
        for entity in LegalEntity.objects.all():
            _set_up_teams(entity)
            route_unrouted_disputes(entity)
        _add_contacts()

    entities = demo_entities()
    with step("service levels"):
        step.note(f"{collections.set_up_service_levels()} new")

    with step("sellers and bank accounts"):
        changed = seller_steps.set_up_sellers(entities)
        accounts = {
            account.entity_id: account for account in seller_steps.set_up_bank_accounts(entities)
        }
        step.note(f"{changed} entities completed, {len(accounts)} accounts")

    for entity in entities:
        with step(f"{entity.code} dunning strategies and preview"):
            created = collections.set_up_strategies(entity)
            preview = collections.preview_dunning(entity)
            step.note(
                f"{created} new strategies; preview {preview['counts']}, {preview['languages']}"
            )

    for entity in entities:
        with step(f"{entity.code} catalogue, credit limits and reviews"):
            products = sales.set_up_catalogue(entity)
            credit = sales.set_up_credit(entity)
            step.note(f"{products} new products, {credit}")

    for entity in entities:
        with step(f"{entity.code} billing invoices and credit note"):
            step.note(str(billing.set_up_invoices(entity)))

    for entity in entities:
        with step(f"{entity.code} orders"):
            step.note(str(sales.set_up_orders(entity)))

    for entity in entities:
        with step(f"{entity.code} bank statement, promises and cash application"):
            planned = banking.plan_statement(entity, accounts[entity.pk])
            promises = collections.set_up_promises(entity, planned.paid_by_reference[:2])
            matched = banking.import_and_match(entity, planned)
            # Cash application settles promises once its transaction commits; settle them
            # here too, so the outcome does not depend on when that happens.
            review_promises(entity=entity)
            step.note(f"{len(promises)} new promises, {matched}")

    for entity in entities:
        with step(f"{entity.code} disputes"):
            step.note(str(disputes.set_up_disputes(entity)))

    minimum = int(os.environ.get("O2C_DEMO_TRAIN_MIN_INVOICES", TRAIN_MIN_INVOICES))
    for entity in LegalEntity.objects.order_by("pk"):
        with step(f"{entity.code} insights"):
            size = entity.documents.filter(kind="invoice").count()
            result = insights.set_up_insights(
                entity, folds=DEMO_TRAINING_FOLDS, train=size >= minimum
            )
            step.note(str(result))

    with step("sign-ins"):
        access_result = DemoAccess(admin_password=_reset_admin_password())
        if people_passwords:
            access_result.people_passwords = access.issue_people_passwords()
        customer = _portal_customer(entities)
        if customer is not None:
            access_result.portal_customer = f"{customer.number} {customer.name}"
            access_result.portal_link = access.portal_link(customer)
    report(f"demo steps done in {step.total:.1f}s (database migration not counted)")
    return access_result


class _Steps:
    """Reporter of each step's notes and duration, used as `with step(name): ...`."""

    def __init__(self, report: Callable[[str], None]):
        self.report = report
        self.total = 0.0
        self._notes: list[str] = []

    def __call__(self, name: str):
        return _Step(self, name)

    def note(self, text: str) -> None:
        self._notes.append(text)


class _Step:
    def __init__(self, steps: _Steps, name: str):
        self.steps = steps
        self.name = name

    def __enter__(self):
        self.started = time.monotonic()
        self.steps._notes = []
        return self

    def __exit__(self, *exc_info):
        elapsed = time.monotonic() - self.started
        self.steps.total += elapsed
        notes = "; ".join(self.steps._notes)
        self.steps.report(
            f"{self.name}: {notes} ({elapsed:.1f}s)" if notes else f"{self.name} ({elapsed:.1f}s)"
        )
        return False


def _portal_customer(entities: list[LegalEntity]) -> Customer | None:
    """Return a customer with an open dispute to show in the portal, or any demo customer."""
    for entity in entities:
        dispute = (
            Dispute.objects.filter(entity=entity, status=DisputeStatus.OPEN)
            .exclude(reason=DisputeReason.UNSPECIFIED)
            .select_related("customer")
            .order_by("pk")
            .first()
        )
        if dispute is not None:
            return dispute.customer
    for entity in entities:
        customer = home_customers(entity).first()
        if customer is not None:
            return customer
    return None


def _generated_ledger(report, invoices: int):
    """Generate the demo ledger once; later runs reuse the file so imports stay idempotent."""
    folder = data_dir() / "demo"
    csv_path = folder / "receivables.csv"
    if csv_path.exists():
        from o2c.demo.generator import GeneratedLedger

        return GeneratedLedger(csv_path, folder / "mapping.toml", 0, 0, [])
    end = dt.date.today() - dt.timedelta(days=1)  # noqa: DTZ011 (a calendar day, all zones)
    report(f"generating {invoices:,} invoices over {DEMO_ENTITIES} entities up to {end}")
    return generate(folder, invoices=invoices, entities=DEMO_ENTITIES, end=end)


@transaction.atomic
def _set_up_teams(entity: LegalEntity) -> None:
    """Create the entity's teams and demo people, and split customers into portfolios."""
    User = get_user_model()
    teams = {
        function: Team.objects.get_or_create(
            entity=entity, name=name, defaults={"function": function}
        )[0]
        for function, name in TEAM_NAMES.items()
    }
    code = entity.code.lower()
    people = [
        (f"leader.{code}", teams[TeamFunction.COLLECTIONS], Role.LEADER),
        (f"lead.{code}", teams[TeamFunction.COLLECTIONS], Role.LEAD),
        (f"credit.{code}", teams[TeamFunction.CREDIT], Role.MEMBER),
        (f"cash.{code}", teams[TeamFunction.CASH_APPLICATION], Role.MEMBER),
        (f"disputes.{code}", teams[TeamFunction.DISPUTES], Role.MEMBER),
    ]
    people += [
        (f"collector{index}.{code}", teams[TeamFunction.COLLECTIONS], Role.MEMBER)
        for index in range(1, COLLECTORS_PER_ENTITY + 1)
    ]
    # The leader heads every team of the company, and the lead also leads credit, so that
    # credit holds above a member's level have someone in the demo who may decide them.
    people += [
        (f"leader.{code}", team, Role.LEADER)
        for function, team in teams.items()
        if function != TeamFunction.COLLECTIONS
    ]
    people.append((f"lead.{code}", teams[TeamFunction.CREDIT], Role.LEAD))
    users = {}
    for username, team, role in people:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        Membership.objects.get_or_create(user=user, team=team, defaults={"role": role})
        users[username] = user

    collections = teams[TeamFunction.COLLECTIONS]
    customer_ids = list(
        Customer.objects.filter(entity=entity).order_by("number").values_list("pk", flat=True)
    )
    for index in range(1, COLLECTORS_PER_ENTITY + 1):
        portfolio, created = Portfolio.objects.get_or_create(team=collections, name=f"Book {index}")
        portfolio.members.add(users[f"collector{index}.{code}"])
        if created:
            portfolio.customers.add(*customer_ids[index - 1 :: COLLECTORS_PER_ENTITY])
    credit_book, created = Portfolio.objects.get_or_create(
        team=teams[TeamFunction.CREDIT], name="All accounts"
    )
    credit_book.members.add(users[f"credit.{code}"])
    if created:
        credit_book.customers.add(*customer_ids)


def _add_contacts() -> None:
    """Give each customer without contacts a billing contact at a reserved example domain."""
    missing = Customer.objects.filter(contacts__isnull=True)
    contacts = [
        Contact(
            customer=customer,
            name=f"Accounts payable, {customer.name}",
            email=f"ap.{customer.number.lower()}@example.com",
            role=ContactRole.BILLING,
            language=customer.language,
            is_primary=True,
        )
        for customer in missing
    ]
    Contact.objects.bulk_create(contacts, batch_size=2000)


def _reset_admin_password() -> str:
    """Create or reset the `admin` account with a one-time password, returned once."""
    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    password = readable_password()
    admin.set_password(password)
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.last_login = None
    admin.save()
    UserSettings.objects.update_or_create(user=admin, defaults={"must_change_password": True})
    logger.info("Admin %s: one-time password issued at %s", admin.pk, timezone.now().isoformat())
    return password
