"""Order pages: the entry form, scope on every page, and bounded query counts."""

import pytest
from django.urls import reverse

from o2c.orders.models import Order, OrderStatus, TradingPartner

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(entity, make_customer, make_user, catalogue, rates_today):
    mine = make_customer(entity, number="MINE")
    theirs = make_customer(entity, number="THEIRS")
    sam = make_user("sam", entity=entity, role="member", function="sales", customers=[mine])
    return {"mine": mine, "theirs": theirs, "sam": sam}


def test_order_form_creates_released_order(client, setup):
    client.force_login(setup["sam"])
    response = client.post(
        reverse("orders:order_new"),
        {
            "customer": setup["mine"].pk,
            "customer_reference": "PO-WEB",
            "product-1": "WIDGET",
            "quantity-1": "4",
            "product-2": "",
            "quantity-2": "",
        },
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert order.channel == "web"
    assert order.status == OrderStatus.RELEASED
    assert order.created_by == setup["sam"]


def test_order_form_shows_errors_beside_fields(client, setup):
    client.force_login(setup["sam"])
    response = client.post(
        reverse("orders:order_new"),
        {
            "customer": setup["mine"].pk,
            "product-1": "WIDGET",
            "quantity-1": "1.5",
            "product-2": "BOOK",
            "quantity-2": "",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "WIDGET is counted in whole EA; 1.5 is not whole." in html
    assert "Give a quantity." in html
    assert Order.objects.count() == 0


def test_order_form_refuses_customer_outside_scope(client, setup):
    client.force_login(setup["sam"])
    response = client.post(
        reverse("orders:order_new"),
        {"customer": setup["theirs"].pk, "product-1": "WIDGET", "quantity-1": "1"},
    )
    assert response.status_code == 400
    assert "Choose a customer." in response.content.decode()
    assert Order.objects.count() == 0


def test_order_form_lists_only_visible_customers(client, setup):
    client.force_login(setup["sam"])
    html = client.get(reverse("orders:order_new")).content.decode()
    assert "MINE" in html
    assert "THEIRS" not in html


def test_member_sees_only_portfolio_orders(client, setup, place):
    visible = place(setup["mine"], [("WIDGET", "1")])
    hidden = place(setup["theirs"], [("WIDGET", "1")])
    client.force_login(setup["sam"])

    listing = client.get(reverse("orders:order_list")).content.decode()

    assert visible.number in listing
    assert hidden.number not in listing
    assert client.get(reverse("orders:order_detail", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("orders:order_detail", args=[visible.pk])).status_code == 200
    assert (
        client.post(reverse("orders:order_cancel", args=[hidden.pk]), {"reason": "x"}).status_code
        == 404
    )
    assert (
        client.get(reverse("orders:customer_orders", args=[setup["theirs"].pk])).status_code == 404
    )
    hidden.refresh_from_db()
    assert hidden.status == OrderStatus.RELEASED


def test_order_list_query_count_does_not_grow(client, setup, place, django_assert_max_num_queries):
    for _ in range(30):
        place(setup["mine"], [("WIDGET", "1")])
    client.force_login(setup["sam"])
    # 8 for the page and 4 for the navigation's permission checks, whatever the data
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orders:order_list"))
    assert response.status_code == 200


def test_ship_form_records_partial_shipment(client, setup, place):
    order = place(setup["mine"], [("WIDGET", "10"), ("BOOK", "2")])
    client.force_login(setup["sam"])

    client.post(reverse("orders:order_ship", args=[order.pk]), {"ship-1": "3", "ship-2": ""})

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTLY_FULFILLED
    assert order.lines.get(line_number=1).shipped_quantity == 3


def test_csv_upload_page_reports_bad_row(client, setup, entity):
    client.force_login(setup["sam"])
    content = b"customer,customer_reference,product,quantity\nMINE,PO-1,WIDGET,x\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("orders:order_upload"),
        {"entity": entity.code, "file": SimpleUploadedFile("o.csv", content, "text/csv")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "no order was created" in html
    assert "&#x27;x&#x27; is not a number." in html
    assert Order.objects.count() == 0


def test_edi_acknowledgment_download_is_scoped(client, setup, entity):
    from o2c.orders.models import EdiInterchange

    partner = TradingPartner.objects.create(
        customer=setup["theirs"],
        interchange_qualifier="ZZ",
        interchange_id="THEM",
        our_qualifier="ZZ",
        our_id="US",
    )
    interchange = EdiInterchange.objects.create(
        partner=partner,
        file_name="x.edi",
        file_sha256="0" * 64,
        control_number="1",
        accepted=True,
        acknowledgment="ISA*...",
        acknowledgment_control_number=1,
    )
    client.force_login(setup["sam"])
    url = reverse("orders:edi_acknowledgment", args=[interchange.pk])
    assert client.get(url).status_code == 404


def test_customer_page_loads_orders_section(client, setup, place):
    order = place(setup["mine"], [("WIDGET", "1")])
    client.force_login(setup["sam"])

    page = client.get(reverse("parties:customer_detail", args=[setup["mine"].pk])).content.decode()
    section = client.get(
        reverse("orders:customer_orders", args=[setup["mine"].pk])
    ).content.decode()

    assert reverse("orders:customer_orders", args=[setup["mine"].pk]) in page
    assert order.number in section
