"""REST endpoints for bank statements, scoped to the entities a person works for."""

import datetime as dt
from decimal import Decimal

from ninja import Router
from ninja.pagination import paginate

from o2c.api.schemas import MoneySchema
from o2c.banking import selectors

router = Router()


class StatementOut(MoneySchema):
    money_fields = {"opening_balance": "currency", "closing_balance": "currency"}

    id: int
    entity: str
    account: str
    currency: str
    format: str
    statement_id: str
    period_from: dt.date | None
    period_to: dt.date | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    balance_check: str
    check_note: str
    line_count: int
    file_name: str

    @staticmethod
    def resolve_entity(statement):
        return statement.bank_account.entity.code

    @staticmethod
    def resolve_account(statement):
        return statement.bank_account.identifier

    @staticmethod
    def resolve_currency(statement):
        return statement.bank_account.currency


class StatementLineOut(MoneySchema):
    money_fields = {"amount": "currency"}

    id: int
    position: int
    booking_date: dt.date
    value_date: dt.date | None
    amount: Decimal
    currency: str
    is_reversal: bool
    counterparty_name: str
    counterparty_account: str
    remittance_info: str
    structured_reference: str
    end_to_end_id: str
    bank_reference: str
    state: str


@router.get("/statements", response=list[StatementOut])
@paginate
def list_statements(request):
    return selectors.statements_for(request.user)


@router.get("/statements/{statement_id}/lines", response=list[StatementLineOut])
@paginate
def list_lines(request, statement_id: int):
    statement = selectors.statement_for(request.user, statement_id)
    return statement.lines.order_by("position")
