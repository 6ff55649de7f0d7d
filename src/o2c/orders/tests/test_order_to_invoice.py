"""Story tests: an order from each channel is shipped and ends as a posted invoice.

Each test walks the cycle the way the order desk would: take the order, ship it (in
part, then the rest), invoice what shipped, and find the invoice on the customer page.
"""

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from o2c.billing.models import Invoice
from o2c.core.models import ApiToken
from o2c.credit.exposure import compute_exposure
from o2c.ledger.models import Document
from o2c.orders.edi import receive_850
from o2c.orders.errors import OrderError
from o2c.orders.models import (
    CustomerProductCode,
    Order,
    OrderStatus,
    PriceList,
    PriceListItem,
    TradingPartner,
)
from o2c.orders.services import invoice_order, record_shipment
from o2c.paths import SHIPPED_DATA_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(entity):
    """Entity E1 with the tax identity and address an invoice needs."""
    for name, value in {
        "name": "Atelier Lumière SAS",
        "country": "FR",
        "vat_number": "FR40303265045",
        "street": "12 rue des Lilas",
        "city": "Lyon",
        "postal_code": "69003",
        "email": "factures@atelier-lumiere.example",
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
    }.items():
        setattr(entity, name, value)
    entity.save()
    return entity


@pytest.fixture
def buyer(seller, make_customer, net30, catalogue, rates_today):
    return make_customer(
        seller,
        number="C0001",
        name="Boulangerie Martin",
        country="FR",
        street="3 place Bellecour",
        city="Lyon",
        postal_code="69002",
        payment_term=net30,
    )


@pytest.fixture
def clerk(seller, buyer, make_user):
    user = make_user("clerk", entity=seller, role="member", function="sales", customers=[buyer])
    user.set_password("a-long-test-passphrase")
    user.save()
    return user


def _assert_invoiced(order: Order, invoice: Invoice, net: str, tax: str):
    assert invoice.status == "posted"
    assert invoice.number
    assert invoice.net_amount == Decimal(net)
    assert invoice.tax_amount == Decimal(tax)
    assert invoice.order_reference == order.customer_reference
    document = Document.objects.get(pk=invoice.document_id)
    assert document.kind == "invoice"
    assert document.amount == invoice.payable_amount
    assert document.customer_id == order.customer_id


def test_web_order_invoiced_end_to_end(client, buyer, clerk):
    client.force_login(clerk)

    # the clerk enters the order in the form
    client.post(
        reverse("orders:order_new"),
        {
            "customer": buyer.pk,
            "customer_reference": "PO-WEB-1",
            "product-1": "WIDGET",
            "quantity-1": "10",
            "product-2": "BOOK",
            "quantity-2": "2",
        },
    )
    order = Order.objects.get(channel="web")
    assert order.status == OrderStatus.RELEASED

    # ships everything and invoices it
    client.post(reverse("orders:order_ship", args=[order.pk]), {"ship-1": "10", "ship-2": "2"})
    response = client.post(reverse("orders:order_invoice", args=[order.pk]))
    assert response.status_code == 302

    # then the order is invoiced: 125.00 at the French standard 20 % and 79.80 at the
    # reduced 10 % that the tax table holds for France
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED
    invoice = order.invoices.get().invoice
    _assert_invoiced(order, invoice, "204.80", "32.98")  # 25.00 + 7.98
    detail = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert invoice.number in detail
    section = client.get(reverse("orders:customer_orders", args=[buyer.pk])).content.decode()
    assert f'data-invoice="{invoice.number}"' in section
    billing_section = client.get(
        reverse("billing:customer_invoices", args=[buyer.pk])
    ).content.decode()
    assert invoice.number in billing_section


def test_api_order_invoiced_end_to_end(client, buyer, clerk):
    _, token = ApiToken.issue(clerk, "erp")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    created = client.post(
        "/api/orders/",
        data=json.dumps(
            {
                "customer_id": buyer.pk,
                "customer_reference": "PO-API-9",
                "lines": [{"product": "CONSULT", "quantity": "3"}],
            }
        ),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="erp-9",
        **auth,
    ).json()
    client.post(
        f"/api/orders/{created['id']}/shipments",
        data=json.dumps({"lines": [{"line": 1, "quantity": "3"}]}),
        content_type="application/json",
        **auth,
    )
    response = client.post(f"/api/orders/{created['id']}/invoice", **auth)

    assert response.status_code == 200
    body = response.json()
    assert body["payable_amount"] == "540.00"  # 450.00 + 20 % VAT
    assert body["order"]["status"] == "invoiced"
    assert body["order"]["invoices"] == [body["invoice_number"]]
    order = Order.objects.get(pk=created["id"])
    _assert_invoiced(order, Invoice.objects.get(pk=body["invoice_id"]), "450.00", "90.00")


def test_csv_order_invoiced_end_to_end(client, seller, buyer, clerk):
    client.force_login(clerk)
    content = b"customer,customer_reference,product,quantity\nC0001,PO-CSV-3,WIDGET,4\n"
    client.post(
        reverse("orders:order_upload"),
        {"entity": seller.code, "file": SimpleUploadedFile("orders.csv", content, "text/csv")},
    )
    order = Order.objects.get(channel="csv")

    record_shipment(order, {1: "4"}, actor=clerk)
    invoice = invoice_order(order, actor=clerk)

    _assert_invoiced(order, invoice, "50.00", "10.00")
    section = client.get(reverse("orders:customer_orders", args=[buyer.pk])).content.decode()
    assert invoice.number in section


def test_edi_order_invoiced_end_to_end(seller, make_customer, net30, rates_today):
    customer = make_customer(
        seller,
        number="PGW",
        currency="USD",
        country="US",
        street="2290 Menelaus Road",
        city="Berea",
        postal_code="40403",
        subdivision="KY",
        payment_term=net30,
    )
    TradingPartner.objects.create(
        customer=customer,
        interchange_qualifier="01",
        interchange_id="828513080",
        our_qualifier="01",
        our_id="001903202U",
    )
    price_list = PriceList.objects.create(entity=seller, code="USD", name="USD", currency="USD")
    from o2c.orders.models import Product

    for code, price in [
        ("0459001004", "5.09"),
        ("0650002027", "63.11"),
        ("0670104514", "8.02"),
        ("0684202074", "85.25"),
    ]:
        product = Product.objects.create(entity=seller, code=f"P-{code}", name=code, unit="EA")
        CustomerProductCode.objects.create(customer=customer, code=code, product=product)
        PriceListItem.objects.create(
            price_list=price_list, product=product, unit_price=Decimal(price)
        )

    result = receive_850(
        (SHIPPED_DATA_DIR / "edi" / "x12_850_Example1_PGWGlass.edi").read_bytes(), "pgw.edi"
    )
    order = result.orders[0]
    record_shipment(order, {1: "5", 2: "12", 3: "2", 4: "1"})
    invoice = invoice_order(order)

    # an export from France to the US is zero-rated
    _assert_invoiced(order, invoice, "884.06", "0.00")
    assert invoice.currency == "USD"
    assert invoice.order_reference == "S41000439"


def test_partial_shipments_give_partial_invoices(buyer, place):
    order = place(buyer, [("WIDGET", "10"), ("CONSULT", "3")])

    # first shipment: 4 widgets and 1 hour
    record_shipment(order, {1: "4", 2: "1"})
    first = invoice_order(order)
    order.refresh_from_db()
    assert first.net_amount == Decimal("200.00")  # 50.00 + 150.00
    assert order.status == OrderStatus.PARTLY_FULFILLED
    with pytest.raises(OrderError) as raised:
        invoice_order(order)
    assert raised.value.code == "nothing_to_invoice"

    # second shipment: the rest
    record_shipment(order, {1: "6", 2: "2"})
    second = invoice_order(order)
    order.refresh_from_db()
    assert second.net_amount == Decimal("375.00")  # 75.00 + 300.00
    assert order.status == OrderStatus.INVOICED
    lines = list(order.lines.order_by("line_number"))
    assert [line.invoiced_quantity for line in lines] == [Decimal("10"), Decimal("3")]
    assert sum(line.invoiced_amount for line in lines) == order.net_amount
    assert [link.invoice.pk for link in order.invoices.all()] == [first.pk, second.pk]


def test_invoicing_moves_exposure_to_receivables(buyer, place, rates_today):
    order = place(buyer, [("CONSULT", "2")])
    record_shipment(order, {1: "1"})
    invoice_order(order)

    exposure = compute_exposure(buyer.entity, [buyer.pk], "EUR", rates_today)

    # 150.00 + 30.00 VAT invoiced and open, 150.00 still to invoice
    assert exposure.receivables == Decimal("180.00")
    assert exposure.released_orders == Decimal("150.00")


def test_unshipped_order_cannot_be_invoiced(buyer, place):
    order = place(buyer, [("WIDGET", "1")])
    with pytest.raises(OrderError) as raised:
        invoice_order(order)
    assert raised.value.code == "cannot_invoice"
