"""Stripe payout reports: fees per payment, the net payout, and finding it in the bank."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.imports.errors import ImportRejected
from o2c.ledger.services import open_amount
from o2c.payments import services
from o2c.payments.models import Payout
from o2c.payments.payouts import import_stripe_payouts, match_bank_credit, reconcile_payout
from o2c.payments.tests.fixtures import deliver

D = Decimal

pytestmark = pytest.mark.django_db

HEADER = (
    "automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,"
    "currency,gross,fee,net,reporting_category,source_id,description,payment_intent_id\n"
)


def card_payment(client, fake, customer, invoice, key):
    payment = services.start_card_payment(
        customer,
        [(invoice.document.pk, str(open_amount(invoice.document)))],
        idempotency_key=key,
        return_url=lambda payment: "http://127.0.0.1:9/back/",
        cancel_url="http://127.0.0.1:9/home/",
    )
    fake.submit_card(payment.checkout_url.removeprefix(fake.url), "4242424242424242")
    deliver(client, fake, "stripe")
    payment.refresh_from_db()
    return payment


def report(payments, *, payout="po_1QxYz", fees=("2.05", "1.30")):
    rows = [
        f"{payout},2025-03-14 00:00:00,txn_{index},2025-03-11 10:00:00,eur,"
        f"{payment.amount:.2f},{fee},{payment.amount - D(fee):.2f},charge,ch_{index},"
        f"{payment.reference},{payment.gateway_payment_id}\n"
        for index, (payment, fee) in enumerate(zip(payments, fees, strict=True))
    ]
    return (HEADER + "".join(rows)).encode()


def test_payout_report_records_fees_and_net(client, fake_stripe, buyer, bill):
    # given two card payments of 120.00 and 60.00
    first = card_payment(client, fake_stripe, buyer, bill(buyer, "100.00"), "a")
    second = card_payment(client, fake_stripe, buyer, bill(buyer, "50.00"), "b")

    # when Stripe's payout report is loaded
    result = import_stripe_payouts(report([first, second]), "payouts.csv", entity=buyer.entity)

    # then the payout nets the fees and each payment carries its own fee
    payout = Payout.objects.get()
    assert result.counts == {"payouts_created": 1, "payouts_present": 0, "fees_recorded": 2}
    assert (payout.gross_amount, payout.fee_amount, payout.net_amount) == (
        D("180.00"),
        D("3.35"),
        D("176.65"),
    )
    assert payout.arrival_on == dt.date(2025, 3, 14)
    first.refresh_from_db()
    assert (first.fee_amount, first.fee_currency) == (D("2.05"), "EUR")
    assert [line.payment_id for line in payout.lines.order_by("id")] == [first.pk, second.pk]


def test_same_report_twice_changes_nothing(client, fake_stripe, buyer, bill):
    payment = card_payment(client, fake_stripe, buyer, bill(buyer, "100.00"), "a")
    content = report([payment], fees=("2.05",))
    import_stripe_payouts(content, "payouts.csv", entity=buyer.entity)

    again = import_stripe_payouts(content, "payouts.csv", entity=buyer.entity)

    assert again.counts == {"payouts_created": 0, "payouts_present": 1, "fees_recorded": 0}
    assert Payout.objects.count() == 1


def test_bad_rows_reject_file(buyer):
    content = (
        HEADER
        + "po_1,2025-03-14,txn_1,2025-03-11,eur,100.00,1.75,98.25,charge,ch_1,x,pi_1\n"
        + "po_1,2025-03-14,txn_2,2025-03-11,eur,ten,0,10,charge,ch_2,x,pi_2\n"
        + "po_1,2025-03-14,txn_3,2025-03-11,eur,10.00,1.00,8.00,charge,ch_3,x,pi_3\n"
    ).encode()

    with pytest.raises(ImportRejected) as raised:
        import_stripe_payouts(content, "payouts.csv", entity=buyer.entity)

    problems = [(p.line, p.field, p.message) for p in raised.value.problems]
    assert problems == [
        (3, "gross", "gross 'ten' is not a number."),
        (4, "net", "gross 10.00 less fee 1.00 is not 8.00"),
    ]
    assert Payout.objects.count() == 0


def test_missing_column_rejects_the_file(buyer):
    with pytest.raises(ImportRejected) as raised:
        import_stripe_payouts(b"automatic_payout_id,gross\npo_1,1\n", "x.csv", entity=buyer.entity)

    assert {problem.field for problem in raised.value.problems} >= {"net", "fee", "currency"}


def test_bank_credit_finds_its_payout(client, fake_stripe, buyer, bill):
    # given an imported payout of 117.95 net
    payment = card_payment(client, fake_stripe, buyer, bill(buyer, "100.00"), "a")
    import_stripe_payouts(report([payment], fees=("2.05",)), "p.csv", entity=buyer.entity)

    # when the bank statement shows the credit, by id or by amount and date
    by_id = match_bank_credit(
        buyer.entity,
        amount=D("117.95"),
        currency="EUR",
        booked_on=dt.date(2025, 3, 14),
        text="STRIPE TRANSFER po_1QxYz",
    )
    by_amount = match_bank_credit(
        buyer.entity,
        amount=D("117.95"),
        currency="EUR",
        booked_on=dt.date(2025, 3, 16),
        text="STRIPE PAYMENTS EUROPE",
    )
    customer_transfer = match_bank_credit(
        buyer.entity,
        amount=D("117.95"),
        currency="EUR",
        booked_on=dt.date(2025, 3, 14),
        text="Boulangerie Martin facture",
    )
    wrong_amount = match_bank_credit(
        buyer.entity,
        amount=D("120.00"),
        currency="EUR",
        booked_on=dt.date(2025, 3, 14),
        text="STRIPE",
    )

    # then the payout is found, and once reconciled it is not offered again
    assert by_id.payout_id == "po_1QxYz"
    assert by_amount == by_id
    assert customer_transfer is None
    assert wrong_amount is None
    reconcile_payout(by_id, bank_reference="statement 14 line 3")
    again = match_bank_credit(
        buyer.entity,
        amount=D("117.95"),
        currency="EUR",
        booked_on=dt.date(2025, 3, 14),
        text="STRIPE po_1QxYz",
    )
    assert again is None
