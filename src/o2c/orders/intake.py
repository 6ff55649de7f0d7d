"""One validation for orders from every channel: web form, API, CSV and EDI.

Each channel turns its input into an `OrderRequest` with the values as received (text
or Decimal), and `validate_order` checks everything before anything is written. Every
problem names the line (0 for the order itself) and the field. The web form shows it
beside the field, the API returns it as JSON, and the CSV and EDI channels map it back
to the row or segment it came from.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from o2c.core import money
from o2c.core.errors import O2CError
from o2c.orders.catalogue import PriceBook, ProductIndex
from o2c.orders.errors import OrderInvalid, OrderProblem
from o2c.orders.models import Order, OrderStatus, Product
from o2c.orders.units import COUNT_UNITS, is_known_unit
from o2c.parties.models import Customer

MAX_LINES = 999
QUANTITY_DECIMALS = 3
UNIT_PRICE_DECIMALS = 4
ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass
class LineRequest:
    """One line as a channel received it; at least one product identifier is needed."""

    quantity: object
    product_code: str = ""
    buyer_product_code: str = ""
    gtin: str = ""
    unit: str = ""
    unit_price: object = None
    discount_percent: object = None
    description: str = ""
    buyer_line_reference: str = ""
    requested_on: object = None


@dataclass
class OrderRequest:
    customer: Customer
    channel: str
    lines: list[LineRequest]
    currency: str = ""
    order_date: object = None
    customer_reference: str = ""
    requested_delivery_on: object = None
    notes: str = ""


@dataclass
class ValidLine:
    line_number: int
    product: Product
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_category: str
    buyer_line_reference: str
    requested_on: dt.date | None


@dataclass
class ValidOrder:
    customer: Customer
    channel: str
    currency: str
    order_date: dt.date
    customer_reference: str
    requested_delivery_on: dt.date | None
    notes: str
    lines: list[ValidLine] = field(default_factory=list)
    duplicate_of: Order | None = None

    @property
    def net_amount(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), ZERO)

    def signature(self) -> list[tuple]:
        """Return what identifies the order's content, to tell a resend from a change."""
        return sorted((line.product.code, line.quantity, line.unit_price) for line in self.lines)


def line_net(quantity: Decimal, unit_price: Decimal, discount: Decimal, currency: str) -> Decimal:
    """Return quantity × unit price less the discount percentage, rounded once, half-up."""
    return money.round_amount(quantity * unit_price * (HUNDRED - discount) / HUNDRED, currency)


def order_signature(order: Order) -> list[tuple]:
    return sorted(
        (line.product.code, line.quantity, line.unit_price)
        for line in order.lines.select_related("product")
    )


class _Checker:
    def __init__(self):
        self.problems: list[OrderProblem] = []

    def add(self, line: int, field_name: str, code: str, message: str) -> None:
        self.problems.append(OrderProblem(line, field_name, code, message))

    def date(self, line: int, field_name: str, value) -> dt.date | None:
        if value is None or value == "":
            return None
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        for parse in (dt.date.fromisoformat, _parse_ccyymmdd):
            try:
                return parse(text)
            except ValueError:
                continue
        self.add(line, field_name, "invalid_date", f"{text!r} is not a date; use YYYY-MM-DD.")
        return None

    def decimal(self, line: int, field_name: str, value, places: int) -> Decimal | None:
        if isinstance(value, float):
            raise TypeError(f"{field_name} must not be a float; pass a Decimal or text")
        text = str(value).strip()
        try:
            number = value if isinstance(value, Decimal) else money.parse_plain_number(text)
        except money.MoneyError as error:
            self.add(line, field_name, "not_a_number", f"{error.message}.")
            return None
        if not number.is_finite():
            self.add(line, field_name, "not_a_number", f"{text!r} is not a number.")
            return None
        if number != number.quantize(Decimal(1).scaleb(-places)):
            self.add(
                line,
                field_name,
                "too_many_decimals",
                f"{text} has more than {places} decimals.",
            )
            return None
        return number


def _parse_ccyymmdd(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError(text)
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def validate_order(request: OrderRequest) -> ValidOrder:
    """Check an order request in full and return it resolved, or raise OrderInvalid.

    Nothing is written. All problems are collected, not only the first.
    """
    check = _Checker()
    customer = request.customer
    entity = customer.entity

    currency = (request.currency or customer.currency or "").strip().upper()
    try:
        currency = money.check_currency(currency)
    except O2CError as error:
        check.add(0, "currency", error.code, error.message)
        currency = ""
    given_order_date = check.date(0, "order_date", request.order_date)
    # An invalid order date is reported once; comparing other dates with today's
    # date in its place would only add problems the sender did not make.
    order_date_known = given_order_date is not None or request.order_date in (None, "")
    order_date = given_order_date or entity.today()
    requested = check.date(0, "requested_delivery_on", request.requested_delivery_on)
    if requested is not None and order_date_known and requested < order_date:
        check.add(
            0,
            "requested_delivery_on",
            "before_order_date",
            f"The requested delivery date {requested} is before the order date {order_date}.",
        )
    reference = (request.customer_reference or "").strip()
    if len(reference) > 40:
        check.add(0, "customer_reference", "too_long", "Use at most 40 characters.")
    notes = (request.notes or "").strip()
    if len(notes) > 500:
        check.add(0, "notes", "too_long", "Use at most 500 characters.")
    if not request.lines:
        check.add(0, "lines", "no_lines", "An order needs at least one line.")
    elif len(request.lines) > MAX_LINES:
        check.add(0, "lines", "too_many_lines", f"An order may have at most {MAX_LINES} lines.")

    valid = ValidOrder(
        customer=customer,
        channel=request.channel,
        currency=currency,
        order_date=order_date,
        customer_reference=reference,
        requested_delivery_on=requested,
        notes=notes,
    )
    if request.lines:
        valid.lines = _validate_lines(check, request, valid, order_date_known)
    if reference:
        valid.duplicate_of = (
            Order.objects.filter(customer=customer, customer_reference=reference)
            .exclude(status=OrderStatus.CANCELLED)
            .order_by("pk")
            .first()
        )
    if check.problems:
        raise OrderInvalid(check.problems, reference)
    return valid


def _validate_lines(
    check: _Checker, request: OrderRequest, order: ValidOrder, order_date_known: bool = True
) -> list[ValidLine]:
    lines = request.lines[:MAX_LINES]
    index = ProductIndex(
        order.customer,
        [(line.product_code or "").strip() for line in lines],
        [(line.buyer_product_code or "").strip() for line in lines],
        [(line.gtin or "").strip() for line in lines],
    )
    found: list[tuple[int, LineRequest, Product, Decimal]] = []
    for number, line in enumerate(lines, start=1):
        product = _resolve_product(check, number, line, index)
        quantity = _check_quantity(check, number, line, product)
        if product is not None and quantity is not None:
            found.append((number, line, product, quantity))
    if not order.currency:
        return []

    prices = PriceBook(
        order.customer, order.currency, order.order_date, [item[2].pk for item in found]
    )
    valid = []
    for number, line, product, quantity in found:
        unit_price = prices.unit_price(product.pk, quantity)
        if unit_price is None:
            check.add(
                number,
                "product",
                "no_price",
                f"{product.code} has no price in {order.currency} for {quantity} "
                f"{product.unit} on {order.order_date}; add it to a price list.",
            )
            continue
        given = line.unit_price
        if given is not None and str(given).strip() != "":
            expected = check.decimal(number, "unit_price", given, UNIT_PRICE_DECIMALS)
            if expected is not None and expected != unit_price:
                check.add(
                    number,
                    "unit_price",
                    "price_mismatch",
                    f"{expected} differs from the price list's {unit_price} {order.currency} "
                    f"for {product.code}; send the list price or ask for a new price list.",
                )
                continue
        discount = ZERO
        if line.discount_percent is not None and str(line.discount_percent).strip() != "":
            discount = check.decimal(number, "discount_percent", line.discount_percent, 2)
            if discount is None:
                continue
            if not ZERO <= discount <= HUNDRED:
                check.add(
                    number,
                    "discount_percent",
                    "out_of_range",
                    f"{discount} is not between 0 and 100.",
                )
                continue
        requested_on = check.date(number, "requested_on", line.requested_on)
        if requested_on is not None and order_date_known and requested_on < order.order_date:
            check.add(
                number,
                "requested_on",
                "before_order_date",
                f"{requested_on} is before the order date {order.order_date}.",
            )
        description = (line.description or "").strip() or product.name
        valid.append(
            ValidLine(
                line_number=number,
                product=product,
                description=description[:200],
                quantity=quantity,
                unit=product.unit,
                unit_price=unit_price,
                discount_percent=discount,
                net_amount=line_net(quantity, unit_price, discount, order.currency),
                tax_category=product.tax_category,
                buyer_line_reference=(line.buyer_line_reference or "").strip()[:20],
                requested_on=requested_on,
            )
        )
    return valid


def _resolve_product(check, number: int, line: LineRequest, index: ProductIndex):
    code = (line.product_code or "").strip()
    buyer_code = (line.buyer_product_code or "").strip()
    gtin = (line.gtin or "").strip()
    if not (code or buyer_code or gtin):
        check.add(number, "product", "missing", "Name a product by its code.")
        return None
    product = index.find(code, buyer_code, gtin)
    if product is None:
        named = ", ".join(
            f"{label} {value!r}"
            for label, value in (("code", code), ("buyer code", buyer_code), ("GTIN", gtin))
            if value
        )
        check.add(number, "product", "unknown_product", f"No product with {named}.")
        return None
    if not product.is_active:
        check.add(number, "product", "inactive_product", f"{product.code} is no longer sold.")
        return None
    return product


def _check_quantity(check, number: int, line: LineRequest, product) -> Decimal | None:
    if line.quantity is None or str(line.quantity).strip() == "":
        check.add(number, "quantity", "missing", "Give a quantity.")
        return None
    quantity = check.decimal(number, "quantity", line.quantity, QUANTITY_DECIMALS)
    if quantity is None:
        return None
    if quantity <= ZERO:
        check.add(number, "quantity", "not_positive", f"{quantity} is not more than zero.")
        return None
    if quantity >= Decimal("1e12"):
        check.add(number, "quantity", "too_large", f"{quantity} is too large.")
        return None
    unit = (line.unit or "").strip().upper()
    if unit and not is_known_unit(unit):
        check.add(number, "unit", "unknown_unit", f"{unit!r} is not a UN/ECE Rec 20 unit code.")
        return None
    if product is None:
        return quantity
    if unit and unit != product.unit:
        check.add(
            number,
            "unit",
            "unit_mismatch",
            f"{product.code} is sold per {product.unit}, not per {unit}.",
        )
        return None
    if product.unit in COUNT_UNITS and quantity != quantity.to_integral_value():
        check.add(
            number,
            "quantity",
            "not_whole",
            f"{product.code} is counted in whole {product.unit}; {quantity} is not whole.",
        )
        return None
    return quantity
