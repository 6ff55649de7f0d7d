"""Load the demo: rates, the real IBM history, a generated ledger, teams and people."""

import datetime as dt
import logging
import os
import secrets
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from o2c.core.models import UserSettings
from o2c.demo.generator import generate
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
TEAM_NAMES = {
    TeamFunction.CREDIT: "Credit",
    TeamFunction.COLLECTIONS: "Collections",
    TeamFunction.DISPUTES: "Disputes",
    TeamFunction.CASH_APPLICATION: "Cash application",
    TeamFunction.SALES: "Sales",
    TeamFunction.CUSTOMER_SERVICE: "Customer service",
}


def set_up_demo(report: Callable[[str], None]) -> str:
    """Load every part of the demo that is missing and return a new admin password."""
    rates = import_ecb_csv(SHIPPED_DATA_DIR / "fx" / "eurofxref-hist.csv")
    report(f"exchange rates: {rates.created} new, {rates.unchanged} already loaded")

    ibm = import_receivables(
        SHIPPED_DATA_DIR / "ar" / "WA_Fn-UseC_-Accounts-Receivable.csv", "ibm-late-payment"
    )
    report(f"IBM late-payment history: {ibm.counts.get('invoices_created', 0)} invoices new")

    generated = _generated_ledger(report, int(os.environ.get("O2C_DEMO_INVOICES", DEMO_INVOICES)))
    result = import_receivables(
        generated.csv_path, "generic", mapping=generated.mapping_path, progress=report
    )
    report(f"generated ledger: {result.counts.get('invoices_created', 0)} invoices new")

    for entity in LegalEntity.objects.all():
        _set_up_teams(entity)
    _add_contacts()
    return _reset_admin_password()


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
    password = _readable_password()
    admin.set_password(password)
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.last_login = None
    admin.save()
    UserSettings.objects.update_or_create(user=admin, defaults={"must_change_password": True})
    logger.info("Admin %s: one-time password issued at %s", admin.pk, timezone.now().isoformat())
    return password


def _readable_password() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)
