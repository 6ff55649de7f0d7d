"""The one validation every channel goes through, and the order's life after it."""

from decimal import Decimal

import pytest

from o2c.orders.errors import OrderError, OrderInvalid
from o2c.orders.intake import LineRequest, OrderRequest, line_net
from o2c.orders.models import (
    CustomerGroup,
    CustomerGroupMember,
    CustomerProductCode,
    Order,
    OrderEvent,
    OrderStatus,
    PriceList,
    PriceListItem,
)
from o2c.orders.services import (
    cancel_order,
    change_order,
    place_order,
    record_shipment,
    reopen_order,
    submit_order,
)

pytestmark = pytest.mark.django_db


def _request(customer, lines, **header):
    return OrderRequest(customer=customer, channel="api", lines=lines, **header)


def _problems(error: OrderInvalid) -> list[tuple[int, str, str]]:
    return [(problem.line, problem.field, problem.code) for problem in error.problems]


def test_valid_order_is_priced_from_price_list(customer, catalogue, rates_today):
    # when an order for 3 widgets and 1.5 hours with 10 % off is placed
    order, created = place_order(
        _request(
            customer,
            [
                LineRequest(product_code="WIDGET", quantity="3"),
                LineRequest(product_code="CONSULT", quantity="1.5", discount_percent="10"),
            ],
            customer_reference="PO-1",
        )
    )

    # then prices come from the EUR list and each line net is rounded once
    assert created
    assert order.number == "SO-000001"
    assert order.status == OrderStatus.RELEASED
    lines = list(order.lines.order_by("line_number"))
    assert [line.unit_price for line in lines] == [Decimal("12.50"), Decimal("150.00")]
    assert [line.net_amount for line in lines] == [Decimal("37.50"), Decimal("202.50")]
    assert [line.unit for line in lines] == ["EA", "HUR"]
    assert [line.tax_category for line in lines] == ["standard", "standard"]
    assert order.net_amount == Decimal("240.00")
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["draft", "submitted", "released"]


def test_line_net_rounds_once_half_up():
    # 129.95 × 9 × 0.95 = 1,111.0725 → 1,111.07; JPY has no decimals
    assert line_net(Decimal("9"), Decimal("129.95"), Decimal("5"), "EUR") == Decimal("1111.07")
    assert line_net(Decimal("3"), Decimal("333.5"), Decimal("0"), "JPY") == Decimal("1001")
    assert line_net(Decimal("1"), Decimal("0.125"), Decimal("0"), "KWD") == Decimal("0.125")


def test_invalid_order_names_every_line_and_field_and_creates_nothing(customer, catalogue):
    # given an order with several bad lines
    request = _request(
        customer,
        [
            LineRequest(product_code="WIDGET", quantity="2.5"),
            LineRequest(product_code="NOPE", quantity="1"),
            LineRequest(product_code="CONSULT", quantity="abc"),
            LineRequest(product_code="BOOK", quantity="1", unit_price="39.00"),
            LineRequest(product_code="BOOK", quantity="-1"),
            LineRequest(product_code="CONSULT", quantity="1", unit="KGM"),
            LineRequest(product_code="CONSULT", quantity="1", discount_percent="120"),
        ],
        currency="EUR",
        requested_delivery_on="2000-01-01",
    )

    # when it is placed, then every problem is listed
    with pytest.raises(OrderInvalid) as raised:
        place_order(request)
    assert _problems(raised.value) == [
        (0, "requested_delivery_on", "before_order_date"),
        (1, "quantity", "not_whole"),
        (2, "product", "unknown_product"),
        (3, "quantity", "not_a_number"),
        (5, "quantity", "not_positive"),
        (6, "unit", "unit_mismatch"),
        (4, "unit_price", "price_mismatch"),
        (7, "discount_percent", "out_of_range"),
    ]
    assert raised.value.code == "order_invalid"
    assert "line 2, product: No product with code 'NOPE'." in raised.value.message
    # and nothing was created, not even an order number
    assert Order.objects.count() == 0
    assert not OrderEvent.objects.exists()


def test_order_without_lines_is_rejected(customer, catalogue):
    with pytest.raises(OrderInvalid) as raised:
        place_order(_request(customer, []))
    assert _problems(raised.value) == [(0, "lines", "no_lines")]


def test_product_without_price_in_currency_is_rejected(customer, catalogue):
    with pytest.raises(OrderInvalid) as raised:
        place_order(
            _request(customer, [LineRequest(product_code="WIDGET", quantity="1")], currency="GBP")
        )
    assert _problems(raised.value) == [(1, "product", "no_price")]
    assert "no price in GBP" in raised.value.problems[0].message


def test_unknown_currency_is_rejected(customer, catalogue):
    with pytest.raises(OrderInvalid) as raised:
        place_order(
            _request(customer, [LineRequest(product_code="WIDGET", quantity="1")], currency="XXQ")
        )
    assert _problems(raised.value) == [(0, "currency", "unknown_currency")]


def test_group_price_list_and_quantity_breaks(entity, customer, catalogue, rates_today):
    # given a group list with a break from 100 widgets
    group = CustomerGroup.objects.create(entity=entity, code="TRADE", name="Trade")
    CustomerGroupMember.objects.create(customer=customer, group=group)
    trade = PriceList.objects.create(
        entity=entity, code="TRADE-EUR", name="Trade", currency="EUR", customer_group=group
    )
    PriceListItem.objects.create(
        price_list=trade, product=catalogue["widget"], unit_price=Decimal("11.00")
    )
    PriceListItem.objects.create(
        price_list=trade,
        product=catalogue["widget"],
        min_quantity=Decimal("100"),
        unit_price=Decimal("9.5000"),
    )

    # when two orders are placed below and above the break
    small, _ = place_order(_request(customer, [LineRequest(product_code="WIDGET", quantity="99")]))
    large, _ = place_order(_request(customer, [LineRequest(product_code="WIDGET", quantity="100")]))

    # then the group's list wins over the general one, with its break
    assert small.lines.get().unit_price == Decimal("11.00")
    assert large.lines.get().unit_price == Decimal("9.50")
    # and a product missing from the group list falls back to the general list
    other, _ = place_order(_request(customer, [LineRequest(product_code="BOOK", quantity="1")]))
    assert other.lines.get().unit_price == Decimal("39.90")


def test_buyer_product_code_and_gtin_find_product(customer, catalogue, rates_today):
    CustomerProductCode.objects.create(customer=customer, code="THEIR-7", product=catalogue["book"])
    catalogue["widget"].gtin = "4006381333931"
    catalogue["widget"].save()

    order, _ = place_order(
        _request(
            customer,
            [
                LineRequest(buyer_product_code="THEIR-7", quantity="1"),
                LineRequest(gtin="4006381333931", quantity="2"),
            ],
        )
    )

    assert [line.product.code for line in order.lines.order_by("line_number")] == ["BOOK", "WIDGET"]


def test_duplicate_customer_reference_is_rejected(customer, catalogue, rates_today):
    lines = [LineRequest(product_code="WIDGET", quantity="1")]
    first, _ = place_order(_request(customer, lines, customer_reference="PO-7"))

    with pytest.raises(OrderInvalid) as raised:
        place_order(_request(customer, lines, customer_reference="PO-7"))

    assert _problems(raised.value) == [(0, "customer_reference", "duplicate_reference")]
    assert first.number in raised.value.message
    # an identical resend from a file returns the first order
    again, created = place_order(
        _request(customer, lines, customer_reference="PO-7"), resend="return"
    )
    assert (again.pk, created) == (first.pk, False)


def test_order_outside_scope_is_rejected(entity, customer, make_customer, make_user, catalogue):
    other = make_customer(entity)
    member = make_user("sam", entity=entity, role="member", customers=[other])

    with pytest.raises(OrderInvalid) as raised:
        place_order(
            _request(customer, [LineRequest(product_code="WIDGET", quantity="1")]), actor=member
        )

    assert _problems(raised.value) == [(0, "customer", "unknown_customer")]
    assert Order.objects.count() == 0


def test_draft_is_submitted_later(customer, catalogue, rates_today):
    order, _ = place_order(
        _request(customer, [LineRequest(product_code="WIDGET", quantity="1")]), submit=False
    )
    assert order.status == OrderStatus.DRAFT

    order = submit_order(order)

    assert order.status == OrderStatus.RELEASED
    with pytest.raises(OrderError) as raised:
        submit_order(order)
    assert raised.value.code == "not_draft"


def test_partial_shipments_move_order_to_fulfilled(customer, catalogue, rates_today):
    order, _ = place_order(
        _request(
            customer,
            [
                LineRequest(product_code="WIDGET", quantity="10"),
                LineRequest(product_code="CONSULT", quantity="2"),
            ],
        )
    )

    record_shipment(order, {1: "4"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTLY_FULFILLED

    with pytest.raises(OrderInvalid) as raised:
        record_shipment(order, {1: "7", 2: "0.5", 3: "1"})
    assert _problems(raised.value) == [
        (1, "quantity", "over_shipped"),
        (3, "line", "unknown_line"),
    ]

    record_shipment(order, {1: "6", 2: "2"})
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert [line.shipped_quantity for line in order.lines.order_by("line_number")] == [
        Decimal("10"),
        Decimal("2"),
    ]


def test_shipped_order_cannot_be_cancelled(customer, catalogue, rates_today):
    order, _ = place_order(_request(customer, [LineRequest(product_code="WIDGET", quantity="10")]))
    record_shipment(order, {1: "1"})

    with pytest.raises(OrderError) as raised:
        cancel_order(order, reason="changed mind")

    assert raised.value.code == "cannot_cancel"


def test_cancel_needs_reason_and_reopen_of_draft_stays_draft(customer, catalogue):
    order, _ = place_order(
        _request(customer, [LineRequest(product_code="WIDGET", quantity="1")]), submit=False
    )
    with pytest.raises(OrderError) as raised:
        cancel_order(order, reason=" ")
    assert raised.value.code == "reason_required"

    cancel_order(order, reason="entered twice")
    order = reopen_order(order)

    assert order.status == OrderStatus.DRAFT


def test_quantity_cannot_drop_below_shipped(customer, catalogue, rates_today):
    order, _ = place_order(_request(customer, [LineRequest(product_code="WIDGET", quantity="10")]))
    record_shipment(order, {1: "6"})

    with pytest.raises(OrderInvalid) as raised:
        change_order(order, quantities={1: "5"})

    assert _problems(raised.value) == [(1, "quantity", "below_shipped")]


def test_added_line_goes_through_same_validation(customer, catalogue, rates_today):
    order, _ = place_order(_request(customer, [LineRequest(product_code="WIDGET", quantity="1")]))

    with pytest.raises(OrderInvalid) as raised:
        change_order(order, add_lines=[LineRequest(product_code="NOPE", quantity="1")])
    assert _problems(raised.value) == [(2, "product", "unknown_product")]

    order = change_order(order, add_lines=[LineRequest(product_code="BOOK", quantity="2")])
    assert order.net_amount == Decimal("92.30")
    assert order.lines.get(line_number=2).product.code == "BOOK"


@pytest.mark.parametrize("lines", [1, 25])
def test_order_placement_queries_do_not_grow_with_lines(
    customer, catalogue, rates_today, django_assert_max_num_queries, lines
):
    # given a customer with a EUR limit, so the credit check computes exposure
    customer.credit_limit_amount = Decimal("1000000")
    customer.credit_limit_currency = "EUR"
    customer.save()
    request = _request(customer, [LineRequest(product_code="WIDGET", quantity="1")] * lines)

    # then placing the order costs the same 38 queries whatever its length
    with django_assert_max_num_queries(38):
        order, _ = place_order(request)
    assert order.lines.count() == lines
