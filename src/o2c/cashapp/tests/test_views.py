"""Queue, workbench and rules pages: what each person may see and do."""

from decimal import Decimal

import pytest
from django.urls import reverse

from o2c.banking.models import LineState
from o2c.cashapp.models import CustomerHint, LineMatch, MatchingRules, Suggestion
from o2c.cashapp.services import run_matching
from o2c.core import money
from o2c.ledger.services import open_amount
from o2c.parties.models import TimelineEvent

D = Decimal
pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queued(customer, post, bank_account, make_line):
    """An invoice and a receipt the engine can only suggest (amount alone)."""
    invoice = post(customer, "invoice", "INV-2027-0500", "2027-01-05", "640.00")
    line = make_line(
        bank_account,
        "640.00",
        text="TRANSFER",
        counterparty_name="J SMITH",
        counterparty_account="BE68539007547034",
    )
    run_matching(customer.entity)
    line.refresh_from_db()
    assert line.state == LineState.EXCEPTION
    return invoice, line


@pytest.fixture
def specialist(make_user, entity, customer, client):
    user = make_user(
        "specialist",
        entity=entity,
        role="member",
        function="cash_application",
        customers=[customer],
    )
    client.force_login(user)
    return user


def test_queue_lists_waiting_lines(
    client, specialist, queued, bank_account, make_line, django_assert_max_num_queries
):
    # given more waiting lines, the page's queries stay the same in number
    _, line = queued
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00"):
        make_line(bank_account, amount, state=LineState.EXCEPTION)
    with django_assert_max_num_queries(22):
        response = client.get(reverse("cashapp:queue"))
    assert response.status_code == 200
    assert f'data-line="{line.pk}"' in response.content.decode()


def test_queue_refused_outside_cash_application(client, make_user, entity, customer, queued):
    collector = make_user("collector", entity=entity, role="member", customers=[customer])
    client.force_login(collector)

    response = client.get(reverse("cashapp:queue"))

    assert response.status_code == 403


def test_line_of_other_entity_is_not_found(client, make_entity, make_user, queued):
    other = make_entity(code="E2")
    outsider = make_user("outsider", entity=other, role="lead", function="cash_application")
    client.force_login(outsider)
    _, line = queued

    assert client.get(reverse("cashapp:line_detail", args=[line.pk])).status_code == 404
    response = client.post(reverse("cashapp:return", args=[line.pk]), {"reason": "unknown payer"})
    assert response.status_code == 404
    line.refresh_from_db()
    assert line.state == LineState.EXCEPTION


def test_suggestions_of_other_entity_are_hidden(client, make_entity, make_user, queued):
    other = make_entity(code="E2")
    outsider = make_user("narrow", entity=other, role="member", function="cash_application")
    client.force_login(outsider)
    _, line = queued
    suggestion = Suggestion.objects.get(line=line, rank=1)

    response = client.post(reverse("cashapp:accept", args=[line.pk, suggestion.pk]), **HTMX)

    assert response.status_code == 404
    assert not LineMatch.objects.filter(line=line).exists()


def test_cash_member_without_portfolio_sees_suggestions(client, make_user, entity, queued):
    member = make_user("wide", entity=entity, role="member", function="cash_application")
    client.force_login(member)
    _, line = queued
    suggestion = Suggestion.objects.get(line=line, rank=1)

    page = client.get(reverse("cashapp:line_detail", args=[line.pk]), **HTMX).content.decode()

    assert suggestion.customer.name in page


def test_accepting_suggestion_applies_and_records_on_timeline(client, specialist, queued, customer):
    invoice, line = queued
    suggestion = Suggestion.objects.get(line=line, rank=1)

    response = client.post(reverse("cashapp:accept", args=[line.pk, suggestion.pk]), **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "queue-changed"
    assert open_amount(invoice) == D("0")
    event = TimelineEvent.objects.get(customer=customer, kind="cash_applied")
    assert event.actor == specialist
    assert "INV-2027-0500" in event.summary
    assert CustomerHint.objects.filter(customer=customer, value="BE68539007547034").exists()


def test_split_over_two_invoices_leaves_rest_on_account(client, specialist, customer, post, queued):
    first, line = queued
    second = post(customer, "invoice", "INV-2027-0501", "2027-01-06", "100.00")

    response = client.post(
        reverse("cashapp:split", args=[line.pk]),
        {"document": [first.pk, second.pk], "amount": ["500.00", "100.00"], "reason": "per call"},
        **HTMX,
    )

    assert response.status_code == 200, response.content.decode()
    assert open_amount(first) == D("140.00")
    assert open_amount(second) == D("0")
    match = LineMatch.objects.get(line=line)
    assert match.on_account_amount == D("40.00")


def test_split_more_than_received_is_rejected(client, specialist, queued):
    invoice, line = queued

    response = client.post(
        reverse("cashapp:split", args=[line.pk]),
        {"document": [invoice.pk], "amount": ["700.00"]},
        **HTMX,
    )

    assert response.status_code == 400
    assert "more than the 640.00 EUR received" in response.content.decode()
    assert open_amount(invoice) == D("640.00")


def test_put_on_account_refund_and_return(
    client, specialist, customer, bank_account, make_line, queued
):
    _, line = queued
    response = client.post(
        reverse("cashapp:on_account", args=[line.pk]), {"customer": customer.pk}, **HTMX
    )
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.state == LineState.ON_ACCOUNT

    second = make_line(bank_account, "12.00", text="DOUBLE PAYMENT")
    response = client.post(
        reverse("cashapp:refund", args=[second.pk]),
        {"customer": customer.pk, "reason": "paid twice"},
        **HTMX,
    )
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.state == LineState.REFUNDED

    third = make_line(bank_account, "7.00", text="UNKNOWN")
    response = client.post(reverse("cashapp:return", args=[third.pk]), {"reason": ""}, **HTMX)
    assert response.status_code == 400
    response = client.post(
        reverse("cashapp:return", args=[third.pk]), {"reason": "payer unknown"}, **HTMX
    )
    assert response.status_code == 200
    third.refresh_from_db()
    assert third.state == LineState.RETURNED
    kinds = set(TimelineEvent.objects.filter(customer=customer).values_list("kind", flat=True))
    assert {"cash_applied", "cash_refunded"} <= kinds


def test_rules_page_needs_a_lead(client, specialist, entity):
    assert client.get(reverse("cashapp:rules", args=[entity.code])).status_code == 403
    response = client.post(
        reverse("cashapp:rules", args=[entity.code]),
        {"form": "rules", "auto_post_threshold": "0.5"},
    )
    assert response.status_code == 403


def test_lead_changes_rules_and_adds_hint(client, make_user, entity, customer):
    lead = make_user("lead", entity=entity, role="lead", function="cash_application")
    from o2c.teams.models import Portfolio

    portfolio = Portfolio.objects.create(team=lead.memberships.get().team, name="book")
    portfolio.customers.add(customer)
    client.force_login(lead)
    url = reverse("cashapp:rules", args=[entity.code])
    values = {
        "form": "rules",
        "auto_post_threshold": "0.950",
        "suggestion_floor": "0.200",
        "write_off_limit_amount": "2.00",
        "write_off_limit_percent": "0.5",
        "bank_charge_limit_amount": "20.00",
        "deduction_min_coverage_percent": "75",
        "fx_tolerance_percent": "1",
        "max_combination_size": "4",
        "max_combination_candidates": "25",
        "name_min_score": "88",
    }

    assert client.post(url, values).status_code == 302
    rules = MatchingRules.objects.get(entity=entity)
    assert rules.auto_post_threshold == D("0.950")
    assert rules.updated_by == lead

    response = client.post(
        url,
        {"form": "hint", "customer": customer.pk, "kind": "payer_account", "value": "DE89 3704"},
    )
    assert response.status_code == 302
    assert CustomerHint.objects.get(customer=customer).value == "DE893704"


def test_api_queue_and_accept_respect_scope(client, specialist, queued, make_user, make_entity):
    _, line = queued
    listed = client.get("/api/cashapp/lines").json()
    assert [item["id"] for item in listed["items"]] == [line.pk]
    suggestions = client.get(f"/api/cashapp/lines/{line.pk}/suggestions").json()
    accepted = client.post(
        f"/api/cashapp/lines/{line.pk}/suggestions/{suggestions[0]['id']}/accept"
    ).json()
    assert accepted["decision"] == "manual"

    outsider = make_user(
        "api-outsider", entity=make_entity(code="E9"), role="lead", function="cash_application"
    )
    client.force_login(outsider)
    assert client.get("/api/cashapp/lines").json()["items"] == []
    assert client.get(f"/api/cashapp/lines/{line.pk}/suggestions").status_code == 404
    assert client.get("/api/banking/statements").json()["items"] == []


def test_open_item_search_by_number_and_amount(client, specialist, queued):
    invoice, line = queued
    url = reverse("cashapp:search_items", args=[line.pk])

    by_number = client.get(url, {"q": "0500"}, **HTMX).content.decode()
    by_amount = client.get(url, {"q": "640.00"}, **HTMX).content.decode()
    odd = client.get(url, {"q": "1.234567"}, **HTMX)

    assert invoice.number in by_number
    assert invoice.number in by_amount
    assert odd.status_code == 200
    assert "No open item matches." in odd.content.decode()


def test_api_split_and_refund(client, specialist, customer, post, bank_account, make_line, queued):
    invoice, line = queued
    response = client.post(
        f"/api/cashapp/lines/{line.pk}/split",
        {"customer_id": customer.pk, "parts": [{"document_id": invoice.pk, "amount": "600.00"}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["on_account_amount"] == "40.00"
    assert open_amount(invoice) == D("40.00")

    too_much = make_line(bank_account, "5.00", text="X")
    response = client.post(
        f"/api/cashapp/lines/{too_much.pk}/split",
        {"customer_id": customer.pk, "parts": [{"document_id": invoice.pk, "amount": "6.00"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "split_exceeds_line"

    response = client.post(
        f"/api/cashapp/lines/{too_much.pk}/refund",
        {"customer_id": customer.pk, "reason": "not ours"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["decision"] == "refund"


def test_api_statements_show_amounts_at_minor_unit(client, specialist, queued):
    _, line = queued

    statements = client.get("/api/banking/statements").json()["items"]
    lines = client.get(f"/api/banking/statements/{line.statement_id}/lines").json()["items"]

    decimals = money.minor_unit(line.currency)
    balances = [statements[0]["opening_balance"], statements[0]["closing_balance"]]
    for text in [lines[0]["amount"], *[balance for balance in balances if balance]]:
        assert len(text.partition(".")[2]) == decimals, text
