"""Business verbs of billing: draft an invoice, post it, credit it, render and send it.

An invoice is drafted with its lines and taxes computed at once (see `o2c.billing.tax`
for the rules and the rounding). Posting takes the next number of the entity's series in
the same transaction as the ledger document, so a failed posting gives its number back.
After posting the invoice is frozen, and only a credit note corrects it.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from o2c.billing.errors import BillingError
from o2c.billing.models import (
    CreditNote,
    CreditNoteLine,
    CreditNoteTax,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    NumberSeries,
    Status,
)
from o2c.billing.tax import (
    Party,
    RuleSource,
    TaxCategory,
    TaxComponent,
    TaxTreatment,
    compute_taxes,
    determine_treatment,
    line_net,
)
from o2c.core import money
from o2c.core.fields import SCALE
from o2c.ledger.models import DocumentKind
from o2c.ledger.references import creditor_reference
from o2c.ledger.services import allocate, open_amount, post_document
from o2c.parties.models import Customer, LegalEntity
from o2c.parties.services import record_event

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
HUNDRED = Decimal("100")
QUANTITY_DECIMALS = 6
SERIES_PREFIX = {"invoice": "INV", "credit_note": "CN"}

__all__ = [
    "CreditLineInput",
    "InvoiceLineInput",
    "TaxCategory",
    "create_invoice",
    "issue_credit_note",
    "post_invoice",
    "render_facturx",
    "render_pdf",
    "render_ubl",
    "send_invoice",
]


@dataclass(frozen=True)
class InvoiceLineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal  # net of tax, in the invoice currency
    tax_category: str  # a code of o2c.billing.tax.TaxCategory
    product_code: str = ""
    unit: str = "EA"  # UN/ECE Recommendation 20 unit code (EA, HUR, KGM, ...)
    discount_percent: Decimal = Decimal("0")
    source_reference: str = ""  # e.g. "order SO-12 line 3"


@dataclass(frozen=True)
class CreditLineInput:
    """Part of an invoice line to credit; without a quantity, whatever is left of it."""

    line: int  # the invoice line's position, from 1
    quantity: Decimal | None = None


def seller_party(entity: LegalEntity) -> Party:
    return Party(entity.country, entity.subdivision, "business", entity.vat_number)


def buyer_party(customer: Customer) -> Party:
    return Party(customer.country, customer.subdivision, customer.tax_status, customer.tax_number)


# Drafting ------------------------------------------------------------------------------


@transaction.atomic
def create_invoice(
    *,
    customer: Customer,
    lines: list[InvoiceLineInput],
    invoice_date: dt.date,
    currency: str | None = None,
    buyer_reference: str = "",
    order_reference: str = "",
    actor=None,
) -> Invoice:
    """Create a draft invoice with its lines, taxes and totals; nothing is posted yet."""
    entity = customer.entity
    currency = money.check_currency(currency or customer.currency)
    if not lines:
        raise BillingError("no_lines", "An invoice needs at least one line.")
    checked = [_check_line(position, line) for position, line in enumerate(lines, start=1)]
    rules = RuleSource()
    seller, buyer = seller_party(entity), buyer_party(customer)
    treatments = [
        _with_error_line(
            position, determine_treatment, seller, buyer, line.tax_category, invoice_date, rules
        )
        for position, line in enumerate(checked, start=1)
    ]
    nets = [
        line_net(line.quantity, line.unit_price, line.discount_percent, currency)
        for line in checked
    ]
    result = compute_taxes(
        list(zip(nets, treatments, strict=True)),
        currency,
        mode=entity.tax_rounding_mode,
        level=entity.tax_rounding_level,
    )
    payable, rounding = _payable(entity, currency, result.total)

    invoice = Invoice.objects.create(
        entity=entity,
        customer=customer,
        currency=currency,
        language=customer.language or "en",
        invoice_date=invoice_date,
        payment_term=customer.payment_term,
        buyer_reference=buyer_reference.strip(),
        order_reference=order_reference.strip(),
        net_amount=result.net_amount,
        tax_amount=result.tax_amount,
        rounding_amount=rounding,
        payable_amount=payable,
        tax_rounding_mode=entity.tax_rounding_mode,
        tax_rounding_level=entity.tax_rounding_level,
        legal_mentions=result.mentions,
        created_by=actor,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=line.description,
            product_code=line.product_code,
            unit=line.unit,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            net_amount=net,
            tax_category=line.tax_category,
            tax_code=treatment.code,
            tax_rate_percent=treatment.rate,
            tax_components=_treatment_data(treatment),
            tax_amount=line_tax,
            source_reference=line.source_reference,
        )
        for position, (line, net, treatment, line_tax) in enumerate(
            zip(checked, nets, treatments, result.line_taxes, strict=True), start=1
        )
    )
    InvoiceTax.objects.bulk_create(
        InvoiceTax(invoice=invoice, **_tax_fields(tax)) for tax in result.lines
    )
    record_event(
        customer,
        "invoice_drafted",
        f"Draft invoice {invoice.pk} created: {payable} {currency}",
        actor=actor,
        invoice_id=invoice.pk,
    )
    logger.info("Invoice draft %s: created for customer %s", invoice.pk, customer.pk)
    return invoice


def _with_error_line(position: int, function, *args):
    try:
        return function(*args)
    except BillingError as error:
        error.params.setdefault("line", position)
        error.template = "Line {line}: " + error.template
        error.args = (error.message,)
        raise


def _check_line(position: int, line: InvoiceLineInput) -> InvoiceLineInput:
    """Return the line with its numbers as Decimals, or raise naming the line and field."""

    def fail(field: str, problem: str, value=None):
        raise BillingError(
            f"invalid_{field}",
            "Line {line}, {field}: {problem}",
            line=position,
            field=field,
            problem=problem,
            value=value,
        )

    if not (line.description or "").strip():
        fail("description", "a description is required.")
    quantity = _decimal(line.quantity, position, "quantity")
    unit_price = _decimal(line.unit_price, position, "unit_price")
    discount = _decimal(line.discount_percent, position, "discount_percent")
    if quantity <= ZERO:
        fail("quantity", f"{quantity} is not positive; credit a posted invoice instead.")
    if quantity != quantity.quantize(Decimal(1).scaleb(-QUANTITY_DECIMALS)):
        fail("quantity", f"{quantity} has more than {QUANTITY_DECIMALS} decimals.")
    if unit_price < ZERO:
        fail("unit_price", f"{unit_price} is negative; use a credit note for reductions.")
    if unit_price != unit_price.quantize(Decimal(1).scaleb(-SCALE)):
        fail("unit_price", f"{unit_price} has more than {SCALE} decimals.")
    if not ZERO <= discount < HUNDRED:
        fail("discount_percent", f"{discount} must be from 0 up to, not including, 100.")
    if line.tax_category not in TaxCategory.values:
        fail(
            "tax_category",
            f"{line.tax_category!r} is not one of {', '.join(TaxCategory.values)}.",
        )
    unit = (line.unit or "").strip().upper()
    if not (1 <= len(unit) <= 3 and unit.isalnum()):
        fail("unit", f"{line.unit!r} is not a UN/ECE Recommendation 20 code such as EA or HUR.")
    return InvoiceLineInput(
        description=line.description.strip()[:500],
        quantity=quantity,
        unit_price=unit_price,
        tax_category=line.tax_category,
        product_code=(line.product_code or "").strip(),
        unit=unit,
        discount_percent=discount,
        source_reference=(line.source_reference or "").strip(),
    )


def _decimal(value, position: int, field: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"line {position} {field}: pass a Decimal or text, not a float")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise BillingError(
            f"invalid_{field}",
            "Line {line}, {field}: {value!r} is not a number.",
            line=position,
            field=field,
            value=value,
        )
    return number


def _payable(entity: LegalEntity, currency: str, total: Decimal) -> tuple[Decimal, Decimal]:
    """Return (payable amount, rounding added): cash rounding applies in the base currency."""
    if entity.cash_rounding_increment and currency == entity.base_currency:
        payable = money.cash_round(total, currency, entity.cash_rounding_increment)
        return payable, payable - total
    return total, ZERO


def _treatment_data(treatment: TaxTreatment) -> dict:
    return {
        "regime": treatment.regime,
        "code": treatment.code,
        "components": [[component.name, str(component.rate)] for component in treatment.components],
        "exemption_reason_code": treatment.exemption_reason_code,
        "exemption_reason": treatment.exemption_reason,
        "mention": treatment.mention,
    }


def treatment_of(line: InvoiceLine) -> TaxTreatment:
    """Rebuild the tax treatment a posted line was invoiced with."""
    data = line.tax_components
    return TaxTreatment(
        data["regime"],
        data["code"],
        tuple(TaxComponent(name, Decimal(rate)) for name, rate in data["components"]),
        data.get("exemption_reason_code", ""),
        data.get("exemption_reason", ""),
        data.get("mention", ""),
    )


def _tax_fields(tax) -> dict:
    return {
        "tax_name": tax.tax_name,
        "tax_code": tax.code,
        "rate_percent": tax.rate,
        "taxable_amount": tax.taxable_amount,
        "tax_amount": tax.tax_amount,
        "exemption_reason_code": tax.exemption_reason_code,
        "exemption_reason": tax.exemption_reason,
    }


# Numbering -----------------------------------------------------------------------------


def _next_number(entity: LegalEntity, kind: str, on: dt.date) -> str:
    """Take the next number of the entity's series for `kind` and the year of `on`.

    The caller must be inside the transaction that posts the document: the series row
    stays locked until it commits, so concurrent postings queue here (SELECT ... FOR
    UPDATE on PostgreSQL; on SQLite every transaction starts with BEGIN IMMEDIATE, see
    settings), and a rollback returns the number. Dates must not go backwards within a
    series, so numbers follow the chronological order that tax authorities expect.
    """
    prefix = SERIES_PREFIX[kind]
    NumberSeries.objects.get_or_create(
        entity=entity, kind=kind, year=on.year, defaults={"prefix": prefix}
    )
    series = NumberSeries.objects.select_for_update().get(entity=entity, kind=kind, year=on.year)
    if series.last_date and on < series.last_date:
        raise BillingError(
            "date_before_last_posted",
            "{prefix}-{year}-{last:05d} is dated {last_date}; a {kind} dated {on} cannot "
            "follow it. Date it {last_date} or later.",
            prefix=series.prefix,
            year=series.year,
            last=series.last_number,
            last_date=series.last_date,
            kind=kind.replace("_", " "),
            on=on,
        )
    series.last_number += 1
    series.last_date = on
    series.save(update_fields=["last_number", "last_date"])
    return f"{series.prefix}-{series.year}-{series.last_number:05d}"


# Posting -------------------------------------------------------------------------------


def post_invoice(invoice: Invoice, *, actor=None) -> Invoice:
    """Number the draft, post its ledger document with its RF reference, and freeze it."""
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("entity", "customer", "payment_term")
            .get(pk=invoice.pk)
        )
        if invoice.status == Status.POSTED:
            raise BillingError(
                "already_posted", "{invoice} is already posted.", invoice=str(invoice)
            )
        lines = list(invoice.lines.all())
        if not lines:
            raise BillingError("no_lines", "Draft invoice {id} has no lines.", id=invoice.pk)
        if invoice.payable_amount <= ZERO:
            raise BillingError(
                "nothing_to_post",
                "Draft invoice {id} totals {amount} {currency}; only a positive amount "
                "can be posted.",
                id=invoice.pk,
                amount=money.as_text(invoice.payable_amount, invoice.currency),
                currency=invoice.currency,
            )

        number = _next_number(invoice.entity, "invoice", invoice.invoice_date)
        reference = creditor_reference(number)
        document = post_document(
            customer=invoice.customer,
            kind=DocumentKind.INVOICE,
            number=number,
            document_date=invoice.invoice_date,
            amount=invoice.payable_amount,
            currency=invoice.currency,
            tax_amount=invoice.tax_amount,
            payment_term=invoice.payment_term,
            reference=reference,
            description=invoice.order_reference[:500],
            source="billing",
            actor=actor,
        )
        _record_line_base_amounts(lines, document.fx_rate, invoice.entity.base_currency)

        invoice.number = number
        invoice.creditor_reference = reference
        invoice.document = document
        invoice.due_date = document.due_date
        invoice.fx_rate = document.fx_rate
        invoice.fx_rate_on = document.fx_rate_on
        invoice.payable_amount_base = document.amount_base
        invoice.status = Status.POSTED
        invoice.posted_at = timezone.now()
        invoice.posted_by = actor
        invoice.save()
    logger.info("Invoice %s: posted (entity %s)", number, invoice.entity.code)
    return invoice


def _record_line_base_amounts(lines, rate: Decimal, base_currency: str) -> None:
    """Store each line's net in base currency, each converted and rounded on its own.

    The receivable in base currency is the payable amount converted once (the ledger
    does that); the lines' base amounts may differ from it by a rounding residue, which
    `base_rounding_amount` reports instead of an exchange difference.
    """
    for line in lines:
        line.net_amount_base = money.round_amount(line.net_amount * rate, base_currency)
    InvoiceLine.objects.bulk_update(lines, ["net_amount_base"])


def base_rounding_amount(invoice: Invoice) -> Decimal:
    """Return the base-currency residue between the converted total and its converted parts.

    The receivable is `payable_amount_base`, converted once from the total; converting
    the lines, the tax and the cash rounding one by one can give a cent more or less.
    That residue is a rounding line of the invoice, never an exchange gain or loss.
    """
    if invoice.payable_amount_base is None:
        return ZERO
    base = invoice.entity.base_currency
    rate = invoice.fx_rate
    parts = sum((line.net_amount_base or ZERO for line in invoice.lines.all()), ZERO)
    parts += money.round_amount(invoice.tax_amount * rate, base)
    parts += money.round_amount(invoice.rounding_amount * rate, base)
    return invoice.payable_amount_base - parts


def early_payment_amount(invoice: Invoice) -> tuple[Decimal, dt.date] | None:
    """Return (amount to pay, last day) for the term's early-payment discount, if any.

    The amount follows the entity's cash rounding, like every amount asked of a customer.
    """
    term = invoice.payment_term
    if term is None or not term.discount_percent:
        return None
    increment = (
        invoice.entity.cash_rounding_increment
        if invoice.currency == invoice.entity.base_currency
        else None
    )
    amount = invoice.payable_amount * (HUNDRED - term.discount_percent) / HUNDRED
    return money.cash_round(amount, invoice.currency, increment), term.discount_date(
        invoice.invoice_date
    )


# Credit notes --------------------------------------------------------------------------


def issue_credit_note(
    invoice: Invoice,
    *,
    reason: str,
    lines=None,
    amount=None,
    actor=None,
    credit_date: dt.date | None = None,
) -> CreditNote:
    """Credit a posted invoice in full, by lines, or by a gross amount; post and apply it.

    - Neither `lines` nor `amount`: credit whatever is left of the invoice, exactly.
    - `lines`: CreditLineInput items (or a mapping of line position to quantity); each
      line's net is quantity × price less discount, and tax is computed as on invoices.
    - `amount`: a gross amount (tax included), split over the lines in proportion to
      what is left of them; within a line the tax part is rounded and the net part is
      the remainder, so net + tax always equals the amount.

    The credit note is numbered in its own series, posted to the ledger as a credit
    note related to the invoice, and allocated to the invoice as far as it is open.
    """
    if not (reason or "").strip():
        raise BillingError("reason_required", "Say why the invoice is credited.")
    if lines is not None and amount is not None:
        raise BillingError("lines_and_amount", "Credit either by lines or by an amount, not both.")
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("entity", "customer", "document")
            .get(pk=invoice.pk)
        )
        if invoice.status != Status.POSTED:
            raise BillingError(
                "invoice_not_posted",
                "Draft invoice {id} is not posted; change the draft instead of crediting it.",
                id=invoice.pk,
            )
        entity = invoice.entity
        credit_date = credit_date or entity.today()
        if credit_date < invoice.invoice_date:
            raise BillingError(
                "credit_before_invoice",
                "{number} is dated {date}; a credit note cannot be dated {on}.",
                number=invoice.number,
                date=invoice.invoice_date,
                on=credit_date,
            )
        left = _what_is_left(invoice)
        if left.payable <= ZERO:
            raise BillingError(
                "fully_credited", "{number} is already fully credited.", number=invoice.number
            )
        if amount is not None:
            amount = money.parse_amount(
                amount, invoice.currency, policy=entity.amount_policy, field="amount"
            )
            if amount <= ZERO or amount > left.payable:
                raise BillingError(
                    "invalid_credit_amount",
                    "A credit of {amount} {currency} on {number} must be positive and at "
                    "most the {left} {currency} not yet credited.",
                    amount=amount,
                    currency=invoice.currency,
                    number=invoice.number,
                    left=money.as_text(left.payable, invoice.currency),
                )
        if lines is None and (amount is None or amount == left.payable):
            plan = _plan_remainder(invoice, left)
        elif amount is not None:
            plan = _plan_amount(invoice, left, amount)
        else:
            plan = _plan_lines(invoice, left, _credit_inputs(lines))

        if plan.payable > left.payable:
            raise BillingError(
                "invalid_credit_amount",
                "The lines chosen come to {amount} {currency}, more than the {left} "
                "{currency} of {number} not yet credited; credit the rest in full instead.",
                amount=money.as_text(plan.payable, invoice.currency),
                currency=invoice.currency,
                left=money.as_text(left.payable, invoice.currency),
                number=invoice.number,
            )
        credit_note = _save_credit_note(invoice, plan, reason.strip(), credit_date, actor)
        _post_credit_note(credit_note, invoice, actor)
    logger.info("Credit note %s: posted for invoice %s", credit_note.number, invoice.number)
    return credit_note


@dataclass
class _Left:
    """The part of an invoice not yet credited, per line and per tax line."""

    quantity: dict[int, Decimal]
    net: dict[int, Decimal]
    taxes: dict[tuple[str, str, Decimal], tuple[Decimal, Decimal]]
    payable: Decimal
    rounding: Decimal


@dataclass
class _Plan:
    lines: list[tuple[InvoiceLine, Decimal, Decimal, Decimal | None]]  # line, qty, net, tax
    taxes: list[dict]
    net: Decimal
    tax: Decimal
    rounding: Decimal

    @property
    def payable(self) -> Decimal:
        return self.net + self.tax + self.rounding


def _what_is_left(invoice: Invoice) -> _Left:
    lines = list(invoice.lines.all())
    quantity = {line.pk: line.quantity for line in lines}
    net = {line.pk: line.net_amount for line in lines}
    taxes = {
        (tax.tax_name, tax.tax_code, tax.rate_percent): (tax.taxable_amount, tax.tax_amount)
        for tax in invoice.taxes.all()
    }
    payable, rounding = invoice.payable_amount, invoice.rounding_amount
    posted = invoice.credit_notes.filter(status=Status.POSTED)
    for line in CreditNoteLine.objects.filter(credit_note__in=posted):
        quantity[line.invoice_line_id] -= line.quantity
        net[line.invoice_line_id] -= line.net_amount
    for tax in CreditNoteTax.objects.filter(credit_note__in=posted):
        key = (tax.tax_name, tax.tax_code, tax.rate_percent)
        taxable, amount = taxes[key]
        taxes[key] = (taxable - tax.taxable_amount, amount - tax.tax_amount)
    for credit in posted:
        payable -= credit.payable_amount
        rounding -= credit.rounding_amount
    # Amounts read back from the database carry four decimals; show them as the currency.
    payable = money.round_amount(payable, invoice.currency)
    return _Left(quantity, net, taxes, payable, rounding)


def _plan_remainder(invoice: Invoice, left: _Left) -> _Plan:
    lines = [
        (line, left.quantity[line.pk], left.net[line.pk], None)
        for line in invoice.lines.all()
        if left.net[line.pk] > ZERO or left.quantity[line.pk] > ZERO
    ]
    taxes = [
        {"key": key, "taxable_amount": taxable, "tax_amount": tax}
        for key, (taxable, tax) in left.taxes.items()
        if taxable or tax
    ]
    net = sum((line[2] for line in lines), ZERO)
    tax = sum((entry["tax_amount"] for entry in taxes), ZERO)
    return _Plan(lines, taxes, net, tax, left.payable - net - tax)


def _credit_inputs(lines) -> list[CreditLineInput]:
    if isinstance(lines, Mapping):
        return [CreditLineInput(int(position), quantity) for position, quantity in lines.items()]
    inputs = list(lines) if isinstance(lines, Iterable) else []
    if not inputs:
        raise BillingError("no_lines", "Name at least one invoice line to credit.")
    return inputs


def _plan_lines(invoice: Invoice, left: _Left, inputs: list[CreditLineInput]) -> _Plan:
    by_position = {line.position: line for line in invoice.lines.all()}
    chosen = []
    for item in inputs:
        line = by_position.get(item.line)
        if line is None:
            raise BillingError(
                "unknown_line",
                "{number} has no line {line}.",
                number=invoice.number,
                line=item.line,
            )
        remaining = left.quantity[line.pk]
        quantity = (
            remaining if item.quantity is None else _decimal(item.quantity, item.line, "quantity")
        )
        if quantity <= ZERO or quantity > remaining:
            raise BillingError(
                "invalid_credit_quantity",
                "Line {line} of {number}: a credit of {quantity} must be positive and at "
                "most the {remaining} not yet credited.",
                line=item.line,
                number=invoice.number,
                quantity=quantity,
                remaining=remaining,
            )
        if quantity == remaining:
            net = left.net[line.pk]
        else:
            net = line_net(quantity, line.unit_price, line.discount_percent, invoice.currency)
        chosen.append((line, quantity, net))
    result = compute_taxes(
        [(net, treatment_of(line)) for line, _, net in chosen],
        invoice.currency,
        mode=invoice.tax_rounding_mode,
        level=invoice.tax_rounding_level,
    )
    taxes = [
        {
            "key": (tax.tax_name, tax.code, tax.rate),
            "taxable_amount": tax.taxable_amount,
            "tax_amount": min(tax.tax_amount, left.taxes[(tax.tax_name, tax.code, tax.rate)][1]),
        }
        for tax in result.lines
    ]
    tax_total = sum((entry["tax_amount"] for entry in taxes), ZERO)
    _, rounding = _payable(invoice.entity, invoice.currency, result.net_amount + tax_total)
    plan_lines = [
        (line, quantity, net, line_tax)
        for (line, quantity, net), line_tax in zip(chosen, result.line_taxes, strict=True)
    ]
    return _Plan(plan_lines, taxes, result.net_amount, tax_total, rounding)


def _plan_amount(invoice: Invoice, left: _Left, amount: Decimal) -> _Plan:
    """Split a gross amount over the lines, then each line's part into tax and net."""
    currency = invoice.currency
    lines = [line for line in invoice.lines.all() if left.net[line.pk] > ZERO]
    treatments = [treatment_of(line) for line in lines]
    weights = [
        left.net[line.pk] * (HUNDRED + treatment.rate) / HUNDRED
        for line, treatment in zip(lines, treatments, strict=True)
    ]
    parts = money.split_proportionally(amount, weights, currency)
    plan_lines = []
    groups: dict[tuple[str, str, Decimal], dict] = {}
    for line, treatment, part in zip(lines, treatments, parts, strict=True):
        line_tax = money.round_amount(part * treatment.rate / (HUNDRED + treatment.rate), currency)
        net = part - line_tax
        plan_lines.append((line, ZERO, net, line_tax))
        component_taxes = (
            money.split_proportionally(
                line_tax, [component.rate for component in treatment.components], currency
            )
            if treatment.rate
            else [ZERO] * len(treatment.components)
        )
        for component, component_tax in zip(treatment.components, component_taxes, strict=True):
            key = (component.name, treatment.code, component.rate)
            entry = groups.setdefault(key, {"key": key, "taxable_amount": ZERO, "tax_amount": ZERO})
            entry["taxable_amount"] += net
            entry["tax_amount"] += component_tax
    net_total = sum((line[2] for line in plan_lines), ZERO)
    tax_total = sum((line[3] for line in plan_lines), ZERO)
    return _Plan(plan_lines, list(groups.values()), net_total, tax_total, ZERO)


def _save_credit_note(
    invoice: Invoice, plan: _Plan, reason: str, credit_date: dt.date, actor
) -> CreditNote:
    exemptions = {
        (tax.tax_name, tax.tax_code, tax.rate_percent): tax for tax in invoice.taxes.all()
    }
    credit_note = CreditNote.objects.create(
        entity=invoice.entity,
        customer=invoice.customer,
        invoice=invoice,
        currency=invoice.currency,
        language=invoice.language,
        credit_date=credit_date,
        reason=reason[:500],
        net_amount=plan.net,
        tax_amount=plan.tax,
        rounding_amount=plan.rounding,
        payable_amount=plan.payable,
        tax_rounding_mode=invoice.tax_rounding_mode,
        tax_rounding_level=invoice.tax_rounding_level,
        legal_mentions=invoice.legal_mentions,
        created_by=actor,
    )
    CreditNoteLine.objects.bulk_create(
        CreditNoteLine(
            credit_note=credit_note,
            invoice_line=line,
            position=position,
            description=line.description,
            quantity=quantity,
            unit_price=line.unit_price,
            net_amount=net,
            tax_amount=line_tax,
        )
        for position, (line, quantity, net, line_tax) in enumerate(plan.lines, start=1)
    )
    CreditNoteTax.objects.bulk_create(
        CreditNoteTax(
            credit_note=credit_note,
            tax_name=entry["key"][0],
            tax_code=entry["key"][1],
            rate_percent=entry["key"][2],
            taxable_amount=entry["taxable_amount"],
            tax_amount=entry["tax_amount"],
            exemption_reason_code=exemptions[entry["key"]].exemption_reason_code,
            exemption_reason=exemptions[entry["key"]].exemption_reason,
        )
        for entry in plan.taxes
    )
    return credit_note


def _post_credit_note(credit_note: CreditNote, invoice: Invoice, actor) -> None:
    if credit_note.payable_amount <= ZERO:
        raise BillingError(
            "nothing_to_credit",
            "The credit note on {number} would total {amount}; credit something positive.",
            number=invoice.number,
            amount=credit_note.payable_amount,
        )
    number = _next_number(invoice.entity, "credit_note", credit_note.credit_date)
    document = post_document(
        customer=invoice.customer,
        kind=DocumentKind.CREDIT_NOTE,
        number=number,
        document_date=credit_note.credit_date,
        amount=credit_note.payable_amount,
        currency=credit_note.currency,
        tax_amount=credit_note.tax_amount,
        reference=invoice.creditor_reference,
        description=credit_note.reason,
        related_invoice=invoice.document,
        source="billing",
        actor=actor,
    )
    if open_amount(invoice.document) > ZERO:
        allocate(
            invoice.document, document, on=credit_note.credit_date, source="billing", actor=actor
        )
    credit_note.number = number
    credit_note.document = document
    credit_note.fx_rate = document.fx_rate
    credit_note.fx_rate_on = document.fx_rate_on
    credit_note.payable_amount_base = document.amount_base
    credit_note.status = Status.POSTED
    credit_note.posted_at = timezone.now()
    credit_note.posted_by = actor
    credit_note.save()
    record_event(
        invoice.customer,
        "credit_note_issued",
        f"Credit note {number} on invoice {invoice.number}: "
        f"{money.as_text(credit_note.payable_amount, credit_note.currency)} "
        f"{credit_note.currency}, {credit_note.reason}",
        actor=actor,
        document=document,
    )


# Documents and delivery ----------------------------------------------------------------


def render_pdf(invoice) -> bytes:
    """Return the PDF of an invoice or credit note, in the customer's language."""
    from o2c.billing.documents import pdf

    return pdf.render(invoice)


def render_ubl(invoice) -> bytes:
    """Return the Peppol BIS Billing 3.0 UBL XML of an invoice or credit note."""
    from o2c.billing.documents import ubl

    return ubl.render(invoice)


def render_facturx(invoice) -> bytes:
    """Return the Factur-X PDF/A-3 (EN 16931 profile) with its CII XML embedded."""
    from o2c.billing.documents import facturx

    return facturx.render(invoice)


def document_file(document, kind: str) -> bytes:
    """Return the stored file of a posted invoice or credit note, rendering it the first time.

    `kind` is "pdf", "ubl" or "facturx". The first rendering is kept, so every later
    download or e-mail carries the same bytes as the first one.
    """
    import hashlib

    from o2c.billing.models import CreditNote, DocumentFile, FileKind

    renderers = {
        FileKind.PDF: render_pdf,
        FileKind.UBL: render_ubl,
        FileKind.FACTURX: render_facturx,
    }
    if kind not in renderers:
        raise BillingError("unknown_file_kind", "{kind!r} is not pdf, ubl or facturx.", kind=kind)
    owner = {"credit_note": document} if isinstance(document, CreditNote) else {"invoice": document}
    stored = DocumentFile.objects.filter(kind=kind, **owner).first()
    if stored is not None:
        return bytes(stored.content)
    content = renderers[kind](document)
    with transaction.atomic():
        stored, _ = DocumentFile.objects.get_or_create(
            kind=kind,
            **owner,
            defaults={"content": content, "sha256": hashlib.sha256(content).hexdigest()},
        )
    return bytes(stored.content)


def send_invoice(invoice, *, actor=None) -> None:
    """E-mail the posted invoice (PDF and UBL attached) to the customer's billing contacts."""
    from o2c.billing.documents import mail

    mail.send(invoice, actor=actor)
