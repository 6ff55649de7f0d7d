"""Orders from CSV files: whole file or nothing, problems by line and column, idempotent."""

from decimal import Decimal

import pytest

from o2c.imports.models import ImportRun
from o2c.orders.csv_orders import import_orders_csv
from o2c.orders.errors import OrderFileRejected
from o2c.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

GOOD = (
    "customer,customer_reference,order_date,product,quantity,discount_percent,description\n"
    "C0001,PO-100,2027-03-01,WIDGET,10,,\n"
    "C0001,PO-100,2027-03-01,CONSULT,2.5,10,Set-up\n"
    "C0002,PO-200,,BOOK,3,,\n"
)


@pytest.fixture
def buyers(entity, make_customer, catalogue, rates_today):
    return make_customer(entity, number="C0001"), make_customer(entity, number="C0002")


def test_csv_creates_one_order_per_purchase_order(entity, buyers):
    result = import_orders_csv(GOOD.encode(), "orders.csv", entity=entity)

    assert result.created == 2
    first, second = result.orders
    assert first.customer == buyers[0]
    assert first.channel == "csv"
    assert str(first.order_date) == "2027-03-01"
    assert first.net_amount == Decimal("462.50")  # 125.00 + 2.5 × 150.00 × 0.90
    assert first.lines.get(line_number=2).description == "Set-up"
    assert second.customer_reference == "PO-200"
    assert second.status == OrderStatus.RELEASED
    assert ImportRun.objects.get().counts == {"orders_created": 2, "orders_unchanged": 0}


def test_same_csv_twice_creates_nothing_more(entity, buyers):
    import_orders_csv(GOOD.encode(), "orders.csv", entity=entity)

    again = import_orders_csv(GOOD.encode(), "orders.csv", entity=entity)

    assert (again.created, again.unchanged) == (0, 2)
    assert Order.objects.count() == 2


def test_bad_row_rejects_whole_file_naming_line_and_column(entity, buyers):
    content = (
        "customer;customer_reference;product;quantity\n"
        "C0001;PO-1;WIDGET;5\n"
        "C0001;PO-1;WIDGET;1,5\n"
        "C0009;PO-2;WIDGET;1\n"
        "C0002;PO-3;NOPE;1\n"
        "C0002;;BOOK;1\n"
    )

    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(content.encode(), "bad.csv", entity=entity)

    problems = [(p.line, p.field, p.message) for p in raised.value.problems]
    assert problems == [
        (3, "quantity", "'1,5' is not a number."),
        (4, "customer", "no customer 'C0009' in E1"),
        (5, "product", "No product with code 'NOPE'."),
        (6, "customer_reference", "missing"),
    ]
    assert raised.value.code == "order_file_rejected"
    assert "bad.csv was not loaded and no order was created" in raised.value.message
    assert Order.objects.count() == 0
    assert ImportRun.objects.get().status == "rejected"


def test_missing_column_is_reported(entity, buyers):
    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(b"customer,product,quantity\nC0001,WIDGET,1\n", "x.csv", entity=entity)
    assert [(p.line, p.field) for p in raised.value.problems] == [(1, "customer_reference")]


def test_changed_resend_of_po_is_rejected(entity, buyers):
    import_orders_csv(GOOD.encode(), "orders.csv", entity=entity)
    changed = GOOD.replace("WIDGET,10", "WIDGET,11")

    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(changed.encode(), "orders-v2.csv", entity=entity)

    assert [(p.line, p.field) for p in raised.value.problems] == [(2, "customer_reference")]
    assert "PO-100 is already order SO-000001 with other lines" in raised.value.problems[0].message


def test_header_values_must_agree_within_a_purchase_order(entity, buyers):
    content = (
        "customer,customer_reference,currency,product,quantity\n"
        "C0001,PO-1,EUR,WIDGET,1\n"
        "C0001,PO-1,USD,WIDGET,1\n"
    )
    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(content.encode(), "mixed.csv", entity=entity)
    assert [(p.line, p.field) for p in raised.value.problems] == [(3, "currency")]


def test_customer_outside_scope_is_unknown(entity, buyers, make_user):
    member = make_user("sam", entity=entity, role="member", customers=[buyers[1]])

    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(GOOD.encode(), "orders.csv", entity=entity, actor=member)

    assert [(p.line, p.field) for p in raised.value.problems] == [
        (2, "customer"),
        (3, "customer"),
    ]
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("C0001,PO-100,2027-03-01,WIDGET", "4 fields, the header has 7"),
        ("C0001,PO-100,2027-03-01,WIDGET,10,,,extra", "8 fields, the header has 7"),
    ],
)
def test_row_with_wrong_field_count_is_rejected(entity, buyers, row, message):
    content = GOOD.splitlines()[0] + "\n" + row + "\n"

    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(content.encode(), "short.csv", entity=entity)

    assert [(p.line, p.field, p.message) for p in raised.value.problems] == [(2, "row", message)]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("quantity", ["1e1", "NaN", "Infinity"])
def test_non_plain_quantity_is_rejected(entity, buyers, quantity):
    content = f"customer,customer_reference,product,quantity\nC0001,PO-1,WIDGET,{quantity}\n"

    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(content.encode(), "sci.csv", entity=entity)

    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (2, "quantity")
    assert problem.message.startswith(f"{quantity!r} is not a plain number")


def test_undecodable_byte_names_its_line(entity, buyers):
    content = GOOD.encode() + "C0002,PO-300,,BOOK,3,,Caf\u00e9\n".encode("latin-1")

    with pytest.raises(OrderFileRejected) as raised:
        import_orders_csv(content, "latin1.csv", entity=entity)

    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (5, "encoding")
    assert problem.message.startswith("byte(s) e9 are not UTF-8")
