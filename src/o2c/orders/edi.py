"""EDI X12 850 purchase orders in, 855 acknowledgments out.

The envelope (ISA/GS/ST and their trailers, control numbers and counts) is read and
checked by the `ansi-x12` library. This module maps each 850 to an `OrderRequest`, and
the order service validates it like any other channel. An interchange is taken
whole or not at all: if any purchase order in it is invalid, no order is created and
the 855 rejects every purchase order, with line detail (ACK IR) for the bad lines.

Segments read from an 850 (version 004010 names):
- BEG: 01 purpose (00, 05, 06 or 07), 03 PO number, 05 PO date (CCYYMMDD).
- CUR: 02 currency. DTM 002 (delivery requested) at header or line level.
- PO1: 01 buyer's line id, 02 quantity, 03 unit (X12 code 355, mapped to UN/ECE Rec 20),
  04 unit price, then qualifier/identifier pairs from 06: VP, VN, SK or IN name our item
  number, BP the buyer's part number, UP, EN or UK a GTIN. PID 05 is the description.
- CTT: 01 number of PO1 lines and 02 the sum of quantities, both checked when sent.
- AMT TT: the order total, checked against Σ quantity × price when sent.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from x12 import X12Error, parse_x12_interchange, tokenize_x12

from o2c.core import money
from o2c.core.errors import O2CError
from o2c.imports.errors import RecordProblem
from o2c.imports.models import ImportRun, ImportStatus
from o2c.orders.errors import OrderInvalid, OrderProblem
from o2c.orders.intake import LineRequest, OrderRequest, ValidOrder, validate_order
from o2c.orders.models import EdiInterchange, Order, OrderChannel, TradingPartner
from o2c.orders.services import place_order
from o2c.orders.units import X12_TO_REC20
from o2c.teams.selectors import visible_customers

logger = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
# BEG01 codes read as a new order. A replace, confirmation or duplicate of a purchase
# order already received with the same lines returns that order. With other lines it is
# rejected as a duplicate PO number.
ACCEPTED_PURPOSES = ("00", "05", "06", "07")
OUR_PART_QUALIFIERS = ("VP", "VN", "SK", "IN")
BUYER_PART_QUALIFIERS = ("BP",)
GTIN_QUALIFIERS = ("UP", "EN", "UK")
# OrderProblem fields and the 850 element each comes from, for messages.
FIELD_ELEMENTS = {
    "quantity": "PO102",
    "unit": "PO103",
    "unit_price": "PO104",
    "product": "PO106-PO107",
    "requested_on": "DTM02",
    "description": "PID05",
    "discount_percent": "PO1",
    "customer_reference": "BEG03",
    "order_date": "BEG05",
    "requested_delivery_on": "DTM02",
    "currency": "CUR02",
    "lines": "PO1",
    "customer": "ISA06",
}


class EdiError(O2CError):
    """An X12 file that cannot be read as an interchange from a known partner."""


@dataclass
class _PurchaseOrder:
    control_number: str
    number: str
    date_text: str
    request: OrderRequest
    line_segments: list[int] = field(default_factory=list)
    line_elements: list[list[str]] = field(default_factory=list)
    # Segment numbers of the order's own fields (BEG, CUR, header DTM), and of each
    # line's DTM, so a problem names the segment the value came from.
    header_segments: dict[str, int] = field(default_factory=dict)
    line_date_segments: dict[int, int] = field(default_factory=dict)
    problems: list[OrderProblem] = field(default_factory=list)
    order: Order | None = None
    validated: ValidOrder | None = None


@dataclass
class EdiResult:
    interchange: EdiInterchange
    accepted: bool
    orders: list[Order]
    problems: list[RecordProblem]
    acknowledgment: str
    created: int = 0


def _text(value: bytes | None) -> str:
    return (value or b"").decode("latin-1").strip()


def _read_interchange(data: bytes, file_name: str):
    if data.startswith(BOM):
        data = data[len(BOM) :]
    data = data.lstrip(b" \t\r\n")
    # A file whose segments end at line breaks often lacks the last one.
    if len(data) >= 106 and data[105:106] in (b"\n", b"\r") and not data.endswith(data[105:106]):
        data = data.rstrip(b" \t") + data[105:106]
    try:
        return parse_x12_interchange(tokenize_x12(data))
    except (X12Error, ValueError, IndexError) as error:
        raise EdiError(
            "edi_unreadable",
            "{file} is not a valid X12 interchange: {reason}",
            file=file_name,
            reason=str(error) or type(error).__name__,
        ) from None


def _partner_for(interchange, file_name: str, actor) -> TradingPartner:
    sender_qualifier = _text(interchange.sender_qualifier)
    sender = _text(interchange.sender_identifier)
    receiver = _text(interchange.receiver_identifier)
    partner = (
        TradingPartner.objects.select_related("customer__entity")
        .filter(interchange_qualifier=sender_qualifier, interchange_id=sender, our_id=receiver)
        .first()
    )
    if partner is None or (
        actor is not None and not visible_customers(actor).filter(pk=partner.customer_id).exists()
    ):
        raise EdiError(
            "edi_unknown_partner",
            "{file}: no trading partner is set up for sender {qualifier}:{sender} writing to "
            "{receiver}; add one before loading its orders.",
            file=file_name,
            qualifier=sender_qualifier,
            sender=sender,
            receiver=receiver,
        )
    return partner


def receive_850(data: bytes, file_name: str, *, actor=None, submit: bool = True) -> EdiResult:
    """Read an X12 interchange of 850s, create all its orders or none, and build the 855s.

    Loading the same file again creates nothing and returns the acknowledgment sent the
    first time. Raises EdiError when the file is not a readable interchange or comes
    from an unknown partner; invalid purchase orders are reported in the result.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    interchange = _read_interchange(data, file_name)
    partner = _partner_for(interchange, file_name, actor)
    known = (
        EdiInterchange.objects.filter(partner=partner, file_sha256=sha256, accepted=True)
        .prefetch_related("orders")
        .first()
    )
    if known is not None:
        return EdiResult(known, True, list(known.orders.all()), [], known.acknowledgment)

    purchase_orders, envelope_problems = _purchase_orders(interchange, partner, file_name)
    for purchase_order in purchase_orders:
        try:
            purchase_order.validated = validate_order(purchase_order.request)
        except OrderInvalid as error:
            purchase_order.problems = error.problems
    problems = envelope_problems + [
        _record_problem(file_name, purchase_order, problem)
        for purchase_order in purchase_orders
        for problem in purchase_order.problems
    ]
    accepted = not problems and bool(purchase_orders)
    if not purchase_orders and not envelope_problems:
        problems.append(RecordProblem(file_name, 0, "ST01", "the interchange holds no 850"))

    with transaction.atomic():
        run = ImportRun.objects.create(
            kind="orders_edi",
            profile="x12_850",
            file_name=file_name,
            file_sha256=sha256,
            entity=partner.customer.entity,
            status=ImportStatus.SUCCEEDED if accepted else ImportStatus.REJECTED,
            started_at=timezone.now(),
            problems=[problem.as_dict() for problem in problems],
            user=actor,
        )
        created = 0
        if accepted:
            try:
                for purchase_order in purchase_orders:
                    purchase_order.order, was_created = place_order(
                        purchase_order.request,
                        actor=actor,
                        submit=submit,
                        resend="return",
                        import_run=run,
                        validated=purchase_order.validated,
                    )
                    created += was_created
            except OrderInvalid as error:
                # A purchase order that passed validation can still clash with one
                # placed meanwhile; the whole interchange is then rejected.
                transaction.set_rollback(True)
                raise EdiError(
                    "edi_rejected",
                    "{file} was not loaded: {reason}",
                    file=file_name,
                    reason=error.message,
                ) from None
        control_number = _take_control_number(partner)
        acknowledgment = build_855(interchange, partner, purchase_orders, accepted, control_number)
        record = EdiInterchange.objects.create(
            partner=partner,
            file_name=file_name,
            file_sha256=sha256,
            control_number=_text(interchange.control_number),
            accepted=accepted,
            problems=[problem.as_dict() for problem in problems],
            acknowledgment=acknowledgment,
            acknowledgment_control_number=control_number,
            import_run=run,
        )
        orders = [po.order for po in purchase_orders if po.order is not None]
        record.orders.set(orders)
        run.counts = {"orders_created": created, "purchase_orders": len(purchase_orders)}
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "finished_at"])
    logger.info(
        "EDI interchange %s from partner %s: %s, %d order(s) created",
        record.control_number,
        partner.pk,
        "accepted" if accepted else "rejected",
        created,
    )
    return EdiResult(record, accepted, orders, problems, acknowledgment, created)


def _take_control_number(partner: TradingPartner) -> int:
    locked = TradingPartner.objects.select_for_update().get(pk=partner.pk)
    number = locked.next_control_number
    locked.next_control_number = number % 999_999_999 + 1
    locked.save(update_fields=["next_control_number"])
    return number


def _record_problem(file_name: str, purchase_order: _PurchaseOrder, problem: OrderProblem):
    element = FIELD_ELEMENTS.get(problem.field, problem.field)
    message = problem.message
    if problem.code == "invalid_date":
        value = _date_value(purchase_order, problem)
        message = f"{value!r} is not a date in the X12 form CCYYMMDD"
    if problem.line and problem.line <= len(purchase_order.line_segments):
        segment = purchase_order.line_segments[problem.line - 1]
        if problem.field == "requested_on":
            segment = purchase_order.line_date_segments.get(problem.line, segment)
        where = f"PO {purchase_order.number}, PO1 line {problem.line}, {element}"
    else:
        segment = purchase_order.header_segments.get(problem.field, 0)
        where = f"PO {purchase_order.number}, {element}"
    return RecordProblem(file_name, segment, where, message)


def _date_value(purchase_order: _PurchaseOrder, problem: OrderProblem) -> str:
    """Return the date text as the 850 sent it, for the field a problem names."""
    request = purchase_order.request
    if problem.field == "requested_on" and 1 <= problem.line <= len(request.lines):
        return str(request.lines[problem.line - 1].requested_on or "")
    return str(getattr(request, problem.field, "") or "")


def _purchase_orders(interchange, partner: TradingPartner, file_name: str):
    orders: list[_PurchaseOrder] = []
    problems: list[RecordProblem] = []
    for group in interchange.groups:
        code = _text(group.functional_identifier_code)
        if code != "PO":
            problems.append(
                RecordProblem(
                    file_name, group.header.index + 1, "GS01", f"{code!r} is not PO (850)"
                )
            )
            continue
        sender = _text(group.application_sender_code)
        if partner.application_code and sender != partner.application_code:
            problems.append(
                RecordProblem(
                    file_name,
                    group.header.index + 1,
                    "GS02",
                    f"{sender!r} is not the partner's application code "
                    f"{partner.application_code!r}",
                )
            )
            continue
        for transaction_set in group.transactions:
            kind = _text(transaction_set.transaction_set_code)
            if kind != "850":
                problems.append(
                    RecordProblem(
                        file_name,
                        transaction_set.header.index + 1,
                        "ST01",
                        f"{kind!r} is not an 850 purchase order",
                    )
                )
                continue
            orders.append(_map_850(transaction_set, partner, file_name, problems))
    return orders, problems


def _decimal(text: str) -> Decimal | None:
    """Return the plain number in an X12 numeric element, or None."""
    try:
        return money.parse_plain_number(text)
    except money.MoneyError:
        return None


def _map_850(transaction_set, partner, file_name, problems) -> _PurchaseOrder:
    """Map one 850 to an order request; structural problems go to `problems`."""
    control = _text(transaction_set.control_number)
    request = OrderRequest(customer=partner.customer, channel=OrderChannel.EDI, lines=[])
    purchase_order = _PurchaseOrder(control, "", "", request)
    line: LineRequest | None = None
    count_declared = hash_declared = total_declared = None
    for segment in transaction_set.segments:
        position = segment.index + 1
        values = [_text(value) for value in segment.elements]

        def element(number: int, values=values) -> str:
            return values[number - 1] if len(values) >= number else ""

        if segment.tag == "BEG":
            purpose = element(1)
            if purpose not in ACCEPTED_PURPOSES:
                problems.append(
                    RecordProblem(
                        file_name,
                        position,
                        "BEG01",
                        f"purpose {purpose!r} is not read: only new purchase orders (00 "
                        "original, 05 replace, 06 confirmation, 07 duplicate) are; change or "
                        "cancel the order in o2c instead",
                    )
                )
            purchase_order.number = element(3)
            purchase_order.date_text = element(5)
            purchase_order.header_segments.update(customer_reference=position, order_date=position)
            request.customer_reference = element(3)
            request.order_date = element(5) or None
        elif segment.tag == "CUR" and line is None:
            request.currency = element(2)
            purchase_order.header_segments["currency"] = position
        elif segment.tag == "DTM" and element(1) == "002":
            if line is None:
                request.requested_delivery_on = element(2)
                purchase_order.header_segments["requested_delivery_on"] = position
            else:
                line.requested_on = element(2)
                purchase_order.line_date_segments[len(request.lines)] = position
        elif segment.tag == "PO1":
            line = _map_po1(element)
            request.lines.append(line)
            purchase_order.line_segments.append(position)
            purchase_order.line_elements.append(values)
        elif segment.tag == "PID" and line is not None and not line.description:
            line.description = element(5)
        elif segment.tag == "CTT":
            count_declared = (position, element(1))
            hash_declared = (position, element(2))
        elif segment.tag == "AMT" and element(1) == "TT":
            total_declared = (position, element(2))

    _check_totals(
        purchase_order, file_name, problems, count_declared, hash_declared, total_declared
    )
    return purchase_order


def _map_po1(element) -> LineRequest:
    x12_unit = element(3)
    line = LineRequest(
        quantity=element(2),
        unit=X12_TO_REC20.get(x12_unit, x12_unit),
        unit_price=element(4) or None,
        buyer_line_reference=element(1),
    )
    for position in range(6, 26, 2):
        qualifier, identifier = element(position), element(position + 1)
        if not identifier:
            continue
        if qualifier in OUR_PART_QUALIFIERS and not line.product_code:
            line.product_code = identifier
        elif qualifier in BUYER_PART_QUALIFIERS and not line.buyer_product_code:
            line.buyer_product_code = identifier
        elif qualifier in GTIN_QUALIFIERS and not line.gtin:
            line.gtin = identifier
    return line


def _check_totals(purchase_order, file_name, problems, count, hash_total, amount) -> None:
    lines = purchase_order.request.lines
    where = f"PO {purchase_order.number}"
    if count is not None and count[1] and count[1] != str(len(lines)):
        problems.append(
            RecordProblem(
                file_name,
                count[0],
                f"{where}, CTT01",
                f"says {count[1]} line(s) but the order has {len(lines)}",
            )
        )
    quantities = [_decimal(line.quantity) for line in lines]
    if hash_total is not None and hash_total[1] and None not in quantities:
        declared = _decimal(hash_total[1])
        if declared is None or declared != sum(quantities, Decimal(0)):
            problems.append(
                RecordProblem(
                    file_name,
                    hash_total[0],
                    f"{where}, CTT02",
                    f"hash total {hash_total[1]} is not the sum of the quantities "
                    f"({sum(quantities, Decimal(0))})",
                )
            )
    prices = [_decimal(line.unit_price) if line.unit_price else None for line in lines]
    if amount is not None and amount[1] and None not in quantities and None not in prices:
        declared = _decimal(amount[1])
        computed = sum((q * p for q, p in zip(quantities, prices, strict=True)), Decimal(0))
        if declared is None or declared != computed:
            problems.append(
                RecordProblem(
                    file_name,
                    amount[0],
                    f"{where}, AMT02",
                    f"order total {amount[1]} is not Σ quantity × price ({computed})",
                )
            )


# 855 ------------------------------------------------------------------------------

ELEMENT = "*"
COMPONENT = ">"
TERMINATOR = "~\n"


def _segment(*elements: str) -> str:
    values = list(elements)
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return ELEMENT.join(values) + TERMINATOR


def build_855(interchange, partner, purchase_orders, accepted: bool, control_number: int) -> str:
    """Return an X12 004010 interchange with one 855 per purchase order received.

    Accepted orders get BAK02 "AD" (acknowledge with detail, no change) and our order
    number in BAK08. In a rejected interchange, purchase orders with errors get "RD"
    (reject with detail: ACK "IR" on bad lines, "IA" on good ones) and the others "RJ".
    """
    now = timezone.localtime()
    today = now.date()
    usage = _text(interchange.usage_indicator) or "P"
    control = f"{control_number:09d}"
    segments = [
        _segment(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            partner.our_qualifier.ljust(2),
            partner.our_id.ljust(15),
            partner.interchange_qualifier.ljust(2),
            partner.interchange_id.ljust(15),
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            "U",
            "00401",
            control,
            "0",
            usage,
            COMPONENT,
        ),
        _segment(
            "GS",
            "PR",
            partner.our_id,
            partner.application_code or partner.interchange_id,
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            str(control_number),
            "X",
            "004010",
        ),
    ]
    for number, purchase_order in enumerate(purchase_orders, start=1):
        segments.extend(_transaction_855(purchase_order, accepted, f"{number:04d}", today))
    segments.append(_segment("GE", str(len(purchase_orders)), str(control_number)))
    segments.append(_segment("IEA", "1", control))
    return "".join(segments)


def _transaction_855(purchase_order: _PurchaseOrder, accepted: bool, control: str, today):
    bad_lines = {problem.line for problem in purchase_order.problems if problem.line}
    if accepted:
        kind = "AD"
    elif purchase_order.problems:
        kind = "RD"
    else:
        kind = "RJ"
    order = purchase_order.order
    body = [
        _segment("ST", "855", control),
        _segment(
            "BAK",
            "00",
            kind,
            purchase_order.number,
            purchase_order.date_text,
            "",
            "",
            "",
            order.number if order is not None else "",
            today.strftime("%Y%m%d"),
        ),
    ]
    if order is not None:
        body.append(_segment("CUR", "SE", order.currency))
    if kind != "RJ":
        for number, values in enumerate(purchase_order.line_elements, start=1):
            body.append(_segment("PO1", *values))
            quantity, unit = (values + ["", "", ""])[1:3]
            status = "IR" if number in bad_lines else "IA"
            body.append(_segment("ACK", status, quantity, unit))
        body.append(_segment("CTT", str(len(purchase_order.line_elements))))
    body.append(_segment("SE", str(len(body) + 1), control))
    return body
