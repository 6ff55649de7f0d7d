"""Features built as of a day D see only what the ledger showed on D."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from o2c.disputes.models import Dispute, DisputeReason, DisputeStatus
from o2c.insights.features import build_matrix, describe, query_for_invoice
from o2c.insights.history import load_history
from o2c.insights.learning import Policy, build_examples, with_outcomes
from o2c.insights.tests.conftest import pay
from o2c.ledger.services import post_document, reverse_document, unallocate

pytestmark = pytest.mark.django_db

JAN = dt.date(2025, 1, 2)


def invoice(customer, number, on, amount="100.00", term=None, **extra):
    return post_document(
        customer=customer,
        kind="invoice",
        number=number,
        document_date=on,
        amount=Decimal(amount),
        payment_term=term,
        **extra,
    )


def features_of(entity, document, on: dt.date, late_after=0):
    history = load_history(entity)
    query = query_for_invoice(history, history.index_of[document.pk], on.toordinal())
    return describe(history, query, late_after)


def test_later_allocation_does_not_change_features(entity, customer, net30):
    # given an invoice paid late, and a second invoice predicted before that payment
    first = invoice(customer, "INV-1", JAN, term=net30)
    second = invoice(customer, "INV-2", dt.date(2025, 2, 10), term=net30)
    as_of = dt.date(2025, 2, 20)
    before = features_of(entity, second, as_of)

    # when the first invoice is paid after the prediction date
    pay(first, dt.date(2025, 3, 15), "P-1")
    after = features_of(entity, second, as_of)

    # then every feature as of the earlier day is unchanged
    assert before == pytest.approx(after, nan_ok=True)
    assert after["history_count"] == 0
    assert after["open_past_due_count"] == 1
    # and the payment shows from its own date on
    later = features_of(entity, second, dt.date(2025, 3, 16))
    assert later["history_count"] == 1
    assert later["recent_mean_days_late"] == (dt.date(2025, 3, 15) - first.due_date).days


def test_later_document_does_not_change_features(entity, customer, net30):
    # given an invoice predicted on 20 February
    target = invoice(customer, "INV-1", dt.date(2025, 2, 10), term=net30)
    as_of = dt.date(2025, 2, 20)
    before = features_of(entity, target, as_of)

    # when another invoice is posted later and paid, and a dispute opened later
    other = invoice(customer, "INV-2", dt.date(2025, 2, 25), term=net30)
    pay(other, dt.date(2025, 2, 26), "P-2")
    Dispute.objects.create(
        entity=entity,
        customer=customer,
        invoice=target,
        amount=target.amount,
        currency="EUR",
        reason=DisputeReason.PRICING,
        opened_on=dt.date(2025, 2, 21),
    )
    after = features_of(entity, target, as_of)

    # then the features as of 20 February are unchanged
    assert before == pytest.approx(after, nan_ok=True)
    assert after["open_count"] == 0
    assert after["invoice_disputed"] == 0.0
    assert after["recent_invoice_count"] == 0


def test_dispute_counts_from_its_opening_day(entity, customer, net30):
    target = invoice(customer, "INV-1", JAN, term=net30)
    Dispute.objects.create(
        entity=entity,
        customer=customer,
        invoice=target,
        amount=target.amount,
        currency="EUR",
        reason=DisputeReason.PRICING,
        opened_on=dt.date(2025, 1, 10),
    )

    assert features_of(entity, target, dt.date(2025, 1, 9))["invoice_disputed"] == 0.0
    assert features_of(entity, target, dt.date(2025, 1, 10))["invoice_disputed"] == 1.0


def test_dispute_without_opening_date_unknown_until_resolved(entity, customer, net30):
    # given an imported dispute with no opening date, resolved when the invoice was paid
    disputed = invoice(customer, "INV-1", JAN, term=net30)
    pay(disputed, dt.date(2025, 2, 20), "P-1")
    Dispute.objects.create(
        entity=entity,
        customer=customer,
        invoice=disputed,
        amount=disputed.amount,
        currency="EUR",
        reason=DisputeReason.UNSPECIFIED,
        status=DisputeStatus.RESOLVED,
        opened_on=None,
        resolved_on=dt.date(2025, 2, 20),
    )
    next_one = invoice(customer, "INV-2", dt.date(2025, 1, 15), term=net30)

    # then while the disputed invoice is open, the dispute is unknown
    assert features_of(entity, disputed, dt.date(2025, 2, 1))["invoice_disputed"] == 0.0
    assert features_of(entity, next_one, dt.date(2025, 2, 1))["disputes_last_year"] == 0
    # and once resolved it is part of the customer's history
    after = features_of(entity, next_one, dt.date(2025, 2, 21))
    assert after["dispute_share"] == 1.0
    assert after["disputes_last_year"] == 1


def test_unallocation_reopens_invoice_from_its_day(entity, customer, net30):
    paid = invoice(customer, "INV-1", JAN, term=net30)
    allocation = pay(paid, dt.date(2025, 1, 20), "P-1")
    result = paid.debit_allocations.get()
    unallocate(result, on=dt.date(2025, 1, 25))
    history = load_history(entity)
    index = history.index_of[paid.pk]
    assert allocation.pk

    assert history.outcome(index, dt.date(2025, 1, 22).toordinal()) is not None
    assert history.outcome(index, dt.date(2025, 1, 25).toordinal()) is None
    assert history.outcome(index, dt.date(2025, 1, 19).toordinal()) is None


def test_reversed_invoice_left_out_of_examples(entity, customer, net30):
    kept = invoice(customer, "INV-1", JAN, term=net30)
    cancelled = invoice(customer, "INV-2", JAN, term=net30)
    pay(kept, dt.date(2025, 2, 5), "P-1")
    reverse_document(cancelled, on=dt.date(2025, 1, 20), reason="wrong customer")
    history = load_history(entity)

    examples = build_examples(history, Policy(), dt.date(2025, 6, 1).toordinal())

    assert [history.invoice_ids[index] for index in examples.invoices] == [kept.pk]


def test_outcomes_known_on_a_day_ignore_later_settlements(entity, customer, net30):
    early = invoice(customer, "INV-1", JAN, term=net30)
    late = invoice(customer, "INV-2", JAN, term=net30)
    pay(early, dt.date(2025, 1, 30), "P-1")
    pay(late, dt.date(2025, 3, 30), "P-2")
    history = load_history(entity)
    examples = build_examples(history, Policy(), dt.date(2025, 6, 1).toordinal())

    known = with_outcomes(examples, history, Policy(), dt.date(2025, 3, 1).toordinal())

    by_number = {history.numbers[index]: row for row, index in enumerate(known.invoices)}
    assert known.days_late[by_number["INV-1"]] == -2
    assert np.isnan(known.days_late[by_number["INV-2"]])
    # still open 28 days after due on 1 March: known to be late, days unknown
    assert known.is_late[by_number["INV-2"]] == 1.0


def test_before_due_policy_never_reads_invoice_date(entity, make_customer):
    # given two customers' invoices, alike but for their invoice date
    due = dt.date(2025, 3, 31)
    one = invoice(make_customer(entity), "INV-1", dt.date(2025, 1, 1), due_date=due)
    two = invoice(make_customer(entity), "INV-2", dt.date(2025, 3, 30), due_date=due)
    history = load_history(entity)
    policy = Policy("before_due", 30)
    on = policy.prediction_day(history, history.index_of[one.pk])

    rows = build_matrix(
        history,
        [query_for_invoice(history, history.index_of[pk], on) for pk in (one.pk, two.pk)],
        policy.use_issue_dates,
        0,
    )

    # then the prediction day and every feature are the same for both
    assert on == policy.prediction_day(history, history.index_of[two.pk])
    assert "term_days" not in rows.names
    assert "days_to_due" not in rows.names
    assert "mean_days_to_pay" not in rows.names
    assert rows.values[0] == pytest.approx(rows.values[1], nan_ok=True)


@pytest.mark.parametrize(
    "rate, paid, settled",
    [("0.50", "100.00", True), ("2.00", "100.00", True), ("2.00", "60.00", False)],
)
def test_invoice_in_other_currency_settles_on_its_amount(
    entity, customer, net30, rate, paid, settled
):
    # given a GBP invoice of 100 in a EUR entity, paid in full or in part
    from o2c.fx.services import set_manual_rate
    from o2c.ledger.services import allocate

    paid_on = JAN + dt.timedelta(days=20)
    for day in (JAN, paid_on):
        set_manual_rate("GBP", day, Decimal(rate))
    document = invoice(customer, "GB-1", JAN, "100.00", net30, currency="GBP")
    payment = post_document(
        customer=customer,
        kind="payment",
        number="P-GB-1",
        document_date=paid_on,
        amount=Decimal(paid),
        currency="GBP",
    )
    allocate(document, payment, on=paid_on)
    history = load_history(entity)

    assert (history.outcome(history.index_of[document.pk]) is not None) is settled
