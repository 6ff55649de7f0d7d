"""Fixtures for cash application tests: a bank account and bank lines made to order."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.utils import timezone


@pytest.fixture
def bank_account(entity):
    from o2c.banking.services import add_bank_account

    return add_bank_account(
        entity=entity, identifier="FR7630006000011234567890189", currency=entity.base_currency
    )


@pytest.fixture
def make_line(db):
    """Create a booked bank line: make_line(account, "100.00", text="INV-1", on="2027-01-20")."""
    from o2c.banking.models import BalanceCheck, Statement, StatementLine

    counter = {"next": 1}

    def make(account, amount, *, text="", on="2027-01-20", currency=None, **extra):
        on = dt.date.fromisoformat(on) if isinstance(on, str) else on
        number = counter["next"]
        counter["next"] += 1
        statement = Statement.objects.create(
            bank_account=account,
            format="camt053",
            statement_id=f"ST-{number}",
            balance_check=BalanceCheck.UNCHECKED,
            fingerprint=hashlib.sha256(f"st{number}".encode()).hexdigest(),
            file_name="made-in-test.xml",
            imported_at=timezone.now(),
            line_count=1,
        )
        return StatementLine.objects.create(
            statement=statement,
            bank_account=account,
            entity=account.entity,
            position=1,
            booking_date=on,
            value_date=on,
            amount=Decimal(amount),
            currency=currency or account.currency,
            remittance_info=text,
            fingerprint=hashlib.sha256(f"line{number}".encode()).hexdigest(),
            created_at=timezone.now(),
            **extra,
        )

    return make
