"""In Chromium, a clerk enters an order in the web form, ships it and finds it invoiced."""

import secrets

import pytest

from o2c.orders.models import Order


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clerk_enters_order_and_sees_it_invoiced(
    page,
    live_server,
    login,
    entity,
    make_customer,
    make_user,
    net30,
    catalogue,
    rates_today,
):
    # given a French seller, a customer, and a clerk who looks after that customer
    entity.country = "FR"
    entity.vat_number = "FR40303265045"
    entity.save()
    customer = make_customer(entity, number="C0100", name="Boulangerie Martin", country="FR")
    customer.payment_term = net30
    customer.save()
    password = secrets.token_urlsafe(16)
    clerk = make_user("clerk", entity=entity, role="member", function="sales", customers=[customer])
    clerk.set_password(password)
    clerk.save()

    # when the clerk fills the order form, adding a line with the htmx button
    login(page, "clerk", password)
    page.goto(f"{live_server.url}/orders/new/")
    page.select_option("select[name=customer]", str(customer.pk))
    page.fill("input[name=customer_reference]", "PO-BROWSER-1")
    page.select_option("select[name=product-1]", "WIDGET")
    page.fill("input[name=quantity-1]", "1.5")
    page.get_by_role("button", name="Add a line").click()
    page.wait_for_selector("select[name=product-4]")
    page.select_option("select[name=product-4]", "CONSULT")
    page.fill("input[name=quantity-4]", "2")
    page.get_by_role("button", name="Submit order").click()

    # then the error shows beside the widget quantity and nothing is created
    error = page.locator("[data-field=quantity]")
    assert error.inner_text() == "WIDGET is counted in whole EA; 1.5 is not whole."
    assert Order.objects.count() == 0

    # when the quantity is corrected and the order submitted
    page.fill("input[name=quantity-1]", "4")
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url("**/orders/*/")
    assert page.locator("[data-status]").inner_text() == "Released"

    # and the clerk ships part of it and invoices that part
    page.fill("input[name=ship-1]", "4")
    page.get_by_role("button", name="Record shipment").click()
    assert page.locator("[data-status]").inner_text() == "Partly fulfilled"
    page.get_by_role("button", name="Invoice shipped quantities").click()

    # then the order page lists the posted invoice: 4 × 12.50 + 20 % VAT = 60.00
    order = Order.objects.get()
    invoice = order.invoices.get().invoice
    link = page.locator(f"#order-invoices [data-invoice='{invoice.number}']")
    assert link.inner_text() == invoice.number
    assert "60.00 EUR" in page.locator("#order-invoices").inner_text()

    # when the rest ships and is invoiced, the order is invoiced in full
    page.fill("input[name=ship-2]", "2")
    page.get_by_role("button", name="Record shipment").click()
    page.get_by_role("button", name="Invoice shipped quantities").click()
    assert page.locator("[data-status]").inner_text() == "Invoiced"

    # and the customer page shows the order with both invoices
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    orders = page.locator("#orders")
    orders.get_by_role("link", name=order.number).wait_for()
    numbers = [link.invoice.number for link in order.invoices.select_related("invoice")]
    for number in numbers:
        assert orders.locator(f"[data-invoice='{number}']").count() == 1
