"""Reads of bank statements: which statements a person may view, and in what order."""

import hashlib

import pytest
from django.utils import timezone

from o2c.banking.models import BalanceCheck, Statement
from o2c.banking.selectors import statements_for
from o2c.banking.services import add_bank_account

pytestmark = pytest.mark.django_db


def make_statement(account, statement_id, period_to):
    return Statement.objects.create(
        bank_account=account,
        format="camt053",
        statement_id=statement_id,
        period_to=period_to,
        balance_check=BalanceCheck.UNCHECKED,
        fingerprint=hashlib.sha256(statement_id.encode()).hexdigest(),
        file_name=f"{statement_id}.xml",
        imported_at=timezone.now(),
    )


def test_statements_without_period_listed_last(make_entity, make_user):
    entity = make_entity(code="FR1", base_currency="EUR")
    account = add_bank_account(
        entity=entity, identifier="FR7630006000011234567890189", currency="EUR"
    )
    undated = make_statement(account, "ST-UNDATED", None)
    older = make_statement(account, "ST-1", "2025-03-01")
    newer = make_statement(account, "ST-2", "2025-04-01")
    admin = make_user("admin", is_superuser=True, is_staff=True)

    listed = list(statements_for(admin))

    assert listed == [newer, older, undated]
