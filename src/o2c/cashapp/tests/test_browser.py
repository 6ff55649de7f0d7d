"""A specialist resolves an exception in a real browser, with the keyboard."""

from decimal import Decimal

import pytest

from o2c.banking.models import LineState
from o2c.cashapp.services import run_matching
from o2c.ledger.services import open_amount

PASSWORD = "a-long-test-passphrase-42"

# Script that counts workbench content arriving still marked as not yet processed by htmx.
# A mutation observer runs after the task that inserted the nodes, before any later key press.
WATCH_WORKBENCH = """() => {
  window.unwiredOnArrival = 0;
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.classList && node.classList.contains("htmx-added")) { window.unwiredOnArrival++; }
      }
    }
  }).observe(document.querySelector("#workbench"), {childList: true});
}"""


@pytest.fixture
def open_queue(page, live_server, login, entity, customer, make_user):
    """Sign a cash application specialist in and open the queue once `line` is listed."""
    person = make_user(
        "cash-specialist",
        entity=entity,
        role="member",
        function="cash_application",
        customers=[customer],
    )
    person.set_password(PASSWORD)
    person.save()

    def open_at(line):
        login(page, "cash-specialist", PASSWORD)
        page.goto(f"{live_server.url}/cashapp/")
        page.wait_for_selector(f'tr[data-line="{line.pk}"]')

    return open_at


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_specialist_accepts_suggestion_with_keyboard(
    page, open_queue, entity, customer, post, bank_account, make_line
):
    # given a receipt the engine could only suggest, and a cash application specialist
    invoice = post(customer, "invoice", "INV-2027-0900", "2027-01-05", "777.70")
    line = make_line(bank_account, "777.70", text="TRANSFER", counterparty_name="R. MILLER")
    run_matching(entity)
    line.refresh_from_db()
    assert line.state == LineState.EXCEPTION

    # when they open the queue, pick the first line (j) and accept the first suggestion (1)
    open_queue(line)
    page.evaluate(WATCH_WORKBENCH)
    page.keyboard.press("j")
    page.wait_for_selector('#workbench button[data-hotkey="1"]')
    # the buttons were live the moment they appeared, so a key pressed at once is not lost
    assert page.evaluate("window.unwiredOnArrival") == 0
    assert "INV-2027-0900" in page.inner_text("#workbench")
    page.keyboard.press("1")

    # then the workbench confirms, the line leaves the queue and the invoice is paid
    page.wait_for_selector("#workbench .message.success")
    assert "INV-2027-0900 777.70 EUR" in page.inner_text("#workbench .message.success")
    page.wait_for_selector(f'tr[data-line="{line.pk}"]', state="detached")
    page.wait_for_load_state("networkidle")
    line.refresh_from_db()
    assert line.state == LineState.MATCHED
    assert open_amount(invoice) == Decimal("0")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_keys_typed_ahead_act_in_order(
    page, open_queue, entity, customer, post, bank_account, make_line
):
    # given three receipts the engine could only suggest
    post(customer, "invoice", "INV-2027-0900", "2027-01-04", "301.10")
    first_invoice = post(customer, "invoice", "INV-2027-0901", "2027-01-05", "777.70")
    second_invoice = post(customer, "invoice", "INV-2027-0902", "2027-01-06", "512.30")
    kept, *lines = [
        make_line(bank_account, amount, text="TRANSFER", counterparty_name="R. MILLER")
        for amount in ["301.10", "777.70", "512.30"]
    ]
    run_matching(entity)
    open_queue(lines[1])

    # when the specialist skips the first line and types 1 j 1 without waiting for the page
    for key in ["j", "j", "1", "j", "1"]:
        page.keyboard.press(key)

    # then the second and third lines are decided and leave the queue, the first stays
    for line in lines:
        page.wait_for_selector(f'tr[data-line="{line.pk}"]', state="detached")
    page.wait_for_load_state("networkidle")
    kept.refresh_from_db()
    assert kept.state == LineState.EXCEPTION
    for line in lines:
        line.refresh_from_db()
        assert line.state == LineState.MATCHED
    assert open_amount(first_invoice) == Decimal("0")
    assert open_amount(second_invoice) == Decimal("0")
