"""The matching engine and its postings: each rule, and each edge of a payment."""

import datetime as dt
from decimal import Decimal

import pytest

from o2c.banking.models import LineState
from o2c.cashapp.models import CustomerHint, Decision, HintKind, LineMatch, Suggestion
from o2c.cashapp.services import add_hint, run_matching, update_rules
from o2c.disputes.models import Dispute, DisputeReason
from o2c.ledger.models import Allocation, Document, DocumentKind
from o2c.ledger.references import creditor_reference
from o2c.ledger.services import open_amount, status_of
from o2c.teams.models import TeamFunction, WorkItem, WorkKind

D = Decimal
pytestmark = pytest.mark.django_db


def match_of(line) -> LineMatch:
    return LineMatch.objects.get(line=line)


def refresh(line):
    line.refresh_from_db()
    return line


def test_rf_reference_posts_automatically(customer, post, bank_account, make_line):
    # given an open invoice and a receipt quoting its RF creditor reference
    invoice = post(customer, "invoice", "INV-2027-0042", "2027-01-05", "1200.00")
    reference = creditor_reference(invoice.number)
    line = make_line(bank_account, "1200.00", structured_reference=reference)

    # when the engine runs
    result = run_matching(customer.entity)

    # then the invoice is paid by a payment posted for the line
    assert result.auto_applied == 1
    assert refresh(line).state == LineState.MATCHED
    match = match_of(line)
    assert match.decision == Decision.AUTO
    assert match.confidence >= D("0.95")
    assert any("RF creditor reference" in note for note in match.evidence)
    assert match.payment.amount == D("1200.00")
    assert open_amount(invoice) == D("0")


def test_invoice_number_split_over_lines_is_found(customer, post, bank_account, make_line):
    invoice = post(customer, "invoice", "INV-2027-0042", "2027-01-05", "310.00")
    line = make_line(bank_account, "310.00", text="PAYMENT FOR INV-2027-\n0042 THANK YOU")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.MATCHED
    assert open_amount(invoice) == D("0")
    assert any("invoice number INV-2027-0042" in note for note in match_of(line).evidence)


def test_mistyped_number_with_payer_posts(make_customer, entity, post, bank_account, make_line):
    customer = make_customer(entity, name="Acme Tools GmbH")
    invoice = post(customer, "invoice", "7004512", "2027-01-05", "845.10")
    # one digit swapped, paid by a payer the bank names like the customer
    line = make_line(
        bank_account, "845.10", text="RECHNUNG 7005412", counterparty_name="ACME TOOLS GMBH"
    )

    run_matching(entity)

    assert refresh(line).state == LineState.MATCHED
    assert open_amount(invoice) == D("0")
    assert any("one character off" in note for note in match_of(line).evidence)


def test_mistyped_number_alone_is_queued(customer, post, bank_account, make_line):
    post(customer, "invoice", "7004512", "2027-01-05", "845.10")
    line = make_line(bank_account, "845.00", text="RECHNUNG 7005412")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.EXCEPTION
    suggestion = Suggestion.objects.get(line=line, rank=1)
    assert suggestion.allocations[0]["number"] == "7004512"


def test_known_payer_account_and_exact_amount_post(customer, post, bank_account, make_line):
    # given a payer account recorded for the customer, and no reference in the text
    add_hint(customer, HintKind.PAYER_ACCOUNT, "DE89 3704 0044 0532 0130 00")
    post(customer, "invoice", "INV-2027-0001", "2027-01-05", "99.00")
    invoice = post(customer, "invoice", "INV-2027-0002", "2027-01-06", "432.19")
    line = make_line(bank_account, "432.19", counterparty_account="DE89370400440532013000")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.MATCHED
    assert open_amount(invoice) == D("0")


def test_fuzzy_payer_name_alone_with_unique_amount(
    make_customer, entity, post, bank_account, make_line
):
    customer = make_customer(entity, name="Brasserie du Port SARL")
    invoice = post(customer, "invoice", "F-88", "2027-01-05", "76.40")
    line = make_line(bank_account, "76.40", counterparty_name="BRASSERIE DU PORT")

    run_matching(entity)

    assert refresh(line).state == LineState.MATCHED
    assert open_amount(invoice) == D("0")
    assert any("resembles" in note for note in match_of(line).evidence)


def test_amount_alone_is_only_a_suggestion(customer, post, bank_account, make_line):
    post(customer, "invoice", "INV-2027-0001", "2027-01-05", "1234.56")
    line = make_line(bank_account, "1234.56", text="TRANSFER")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.EXCEPTION
    suggestion = Suggestion.objects.get(line=line)
    assert suggestion.confidence < D("0.9")
    assert suggestion.customer == customer


def test_partial_payments_allocate_the_bank_amount(customer, post, bank_account, make_line):
    # T01: two receipts of 90.00 and then 160.00 for a 240.00 invoice, quoting its reference
    invoice = post(customer, "invoice", "INV-1001", "2027-01-10", "240.00")
    payer = {"structured_reference": creditor_reference(invoice.number)}
    first = make_line(bank_account, "90.00", text="part 1", on="2027-01-20", **payer)

    run_matching(customer.entity)

    payment = match_of(first).payment
    assert payment.amount == D("90.00")
    assert Allocation.objects.get(credit_document=payment).amount == D("90.00")
    assert open_amount(invoice) == D("150.00")
    assert status_of(invoice.amount, open_amount(invoice)) == "partly paid"
    assert open_amount(payment) == D("0")

    second = make_line(bank_account, "160.00", text="rest", on="2027-01-25", **payer)
    run_matching(customer.entity)

    second_payment = match_of(second).payment
    assert Allocation.objects.get(credit_document=second_payment).amount == D("150.00")
    assert open_amount(invoice) == D("0")
    assert open_amount(second_payment) == D("10.00")
    assert match_of(second).on_account_amount == D("10.00")


def test_partial_with_number_only_is_queued(customer, post, bank_account, make_line):
    from o2c.cashapp.services import apply_split

    # given a receipt of 90.00 quoting a 240.00 invoice, with nothing else to confirm it
    invoice = post(customer, "invoice", "INV-1002", "2027-01-10", "240.00")
    line = make_line(bank_account, "90.00", text="INV-1002", on="2027-01-20")
    run_matching(customer.entity)
    assert refresh(line).state == LineState.EXCEPTION
    suggestion = Suggestion.objects.get(line=line, rank=1)
    assert suggestion.outcome == "partial"
    assert suggestion.allocations[0]["amount"] == "90.00"

    # when a person applies it to the invoice
    apply_split(line, customer, [(invoice, D("90.00"))], actor=None)

    # then the payment is the bank amount, and the rest of the invoice stays open
    assert match_of(line).payment.amount == D("90.00")
    assert open_amount(invoice) == D("150.00")


def test_overpayment_keeps_excess_on_account(customer, post, bank_account, make_line):
    # T03: 1,400.00 received for a 1,250.00 invoice
    invoice = post(customer, "invoice", "INV-2027-0003", "2027-02-01", "1250.00")
    reference = creditor_reference(invoice.number)
    line = make_line(bank_account, "1400.00", structured_reference=reference, on="2027-02-10")

    run_matching(customer.entity)

    match = match_of(line)
    assert open_amount(invoice) == D("0")
    assert open_amount(match.payment) == D("150.00")
    assert match.on_account_amount == D("150.00")
    assert open_amount(invoice) - open_amount(match.payment) == D("-150.00")


def test_short_payment_within_tolerance_is_written_off(customer, post, bank_account, make_line):
    invoice = post(customer, "invoice", "INV-2027-0004", "2027-02-01", "1000.00")
    line = make_line(bank_account, "997.00", text="INV-2027-0004", on="2027-02-10")

    run_matching(customer.entity)

    match = match_of(line)
    assert match.write_off_amount == D("3.00")
    write_off = Document.objects.get(kind=DocumentKind.WRITE_OFF, related_invoice=invoice)
    assert write_off.amount == D("3.00")
    assert open_amount(invoice) == D("0")


def test_short_payment_above_tolerance_opens_deduction(customer, post, bank_account, make_line):
    # given an invoice of 1,000.00 paid with 900.00: 10 % short, more than any tolerance
    invoice = post(customer, "invoice", "INV-2027-0005", "2027-02-01", "1000.00")
    line = make_line(bank_account, "900.00", text="INV-2027-0005", on="2027-02-10")

    run_matching(customer.entity)

    # then 900.00 is applied, 100.00 stays open and goes to the disputes team
    assert open_amount(invoice) == D("100.00")
    dispute = Dispute.objects.get(invoice=invoice)
    assert dispute.reason == DisputeReason.SHORT_PAYMENT
    assert dispute.amount == D("100.00")
    work = WorkItem.objects.get(kind=WorkKind.DEDUCTION)
    assert work.team.function == TeamFunction.DISPUTES
    assert work.subject_id == str(dispute.pk)
    assert match_of(line).deduction_amount == D("100.00")


def test_contradicted_number_near_neighbour_is_queued(customer, post, bank_account, make_line):
    # given a plain invoice number one character away from another open invoice's,
    # and an amount that pays more than the invoice named
    post(customer, "invoice", "INV-2027-0061", "2027-02-01", "1250.00")
    post(customer, "invoice", "INV-2027-0067", "2027-02-01", "4000.00")
    line = make_line(bank_account, "1400.00", text="INV-2027-0061", on="2027-02-10")

    run_matching(customer.entity)

    # then a person decides: the number may be a typo naming another invoice
    assert refresh(line).state == LineState.EXCEPTION
    assert Suggestion.objects.get(line=line, rank=1).outcome == "over"


def test_excess_equal_to_other_invoice_completes(customer, post, bank_account, make_line):
    named = post(customer, "invoice", "INV-2027-0071", "2027-02-01", "100.00")
    other = post(customer, "invoice", "INV-2027-0072", "2027-02-02", "37.25")
    line = make_line(bank_account, "137.25", text="INV-2027-0071", on="2027-02-10")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.MATCHED
    assert open_amount(named) == open_amount(other) == D("0")
    assert any("the rest of the amount equals" in note for note in match_of(line).evidence)


def test_small_share_paid_is_a_partial_payment(customer, post, bank_account, make_line):
    invoice = post(customer, "invoice", "INV-2027-0006", "2027-02-01", "1000.00")
    reference = creditor_reference(invoice.number)
    make_line(bank_account, "300.00", structured_reference=reference, on="2027-02-10")

    run_matching(customer.entity)

    assert open_amount(invoice) == D("700.00")
    assert not Dispute.objects.exists()


def test_early_payment_discount_after_partial_payment(customer, post, bank_account, make_line):
    # T14: 2,500.00, 2 % within 10 days; 1,000.00 then 1,450.00 within the window
    from o2c.parties.models import PaymentTerm

    term = PaymentTerm.objects.create(
        code="2-10-N30", name="2/10 net 30", days=30, discount_percent=D("2"), discount_days=10
    )
    invoice = post(customer, "invoice", "INV-2027-0007", "2027-03-01", "2500.00", payment_term=term)
    reference = {"structured_reference": creditor_reference(invoice.number)}
    make_line(bank_account, "1000.00", on="2027-03-05", **reference)
    run_matching(customer.entity)
    assert open_amount(invoice) == D("1500.00")

    second = make_line(bank_account, "1450.00", on="2027-03-10", **reference)
    run_matching(customer.entity)

    assert open_amount(invoice) == D("0")
    assert match_of(second).discount_amount == D("50.00")
    assert Document.objects.get(kind=DocumentKind.DISCOUNT).amount == D("50.00")


def test_bank_charges_reported_are_written_off(customer, post, bank_account, make_line):
    invoice = post(customer, "invoice", "INV-2027-0008", "2027-02-01", "5000.00")
    line = make_line(
        bank_account, "4985.00", text="INV-2027-0008", on="2027-02-10", charges_amount=D("15.00")
    )

    run_matching(customer.entity)

    match = match_of(line)
    assert match.write_off_amount == D("15.00")
    assert "bank charges" in Document.objects.get(kind=DocumentKind.WRITE_OFF).description
    assert open_amount(invoice) == D("0")


def test_one_payment_for_several_invoices_by_combination(customer, post, bank_account, make_line):
    # given four open invoices and a payer known by account, paying three of them
    add_hint(customer, HintKind.PAYER_ACCOUNT, "NL91ABNA0417164300")
    first = post(customer, "invoice", "INV-2027-0011", "2027-01-01", "100.00")
    second = post(customer, "invoice", "INV-2027-0012", "2027-01-02", "250.00")
    third = post(customer, "invoice", "INV-2027-0013", "2027-01-03", "75.50")
    fourth = post(customer, "invoice", "INV-2027-0014", "2027-01-04", "300.00")
    line = make_line(bank_account, "425.50", counterparty_account="NL91ABNA0417164300")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.MATCHED
    assert [open_amount(doc) for doc in (first, second, third, fourth)] == [
        D("0"),
        D("0"),
        D("0"),
        D("300.00"),
    ]
    assert any("sum of 3 open items" in note for note in match_of(line).evidence)


def test_several_invoice_numbers_in_one_payment(customer, post, bank_account, make_line):
    first = post(customer, "invoice", "INV-2027-0021", "2027-01-01", "100.00")
    second = post(customer, "invoice", "INV-2027-0022", "2027-01-02", "200.00")
    line = make_line(bank_account, "300.00", text="INV-2027-0021 INV-2027-0022")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.MATCHED
    assert open_amount(first) == open_amount(second) == D("0")


def test_conflicting_payer_account_sends_line_to_queue(
    make_customer, entity, post, bank_account, make_line
):
    owner = make_customer(entity)
    other = make_customer(entity)
    add_hint(other, HintKind.PAYER_ACCOUNT, "NL91ABNA0417164300")
    post(owner, "invoice", "INV-2027-0031", "2027-01-01", "100.00")
    line = make_line(
        bank_account, "100.00", text="INV-2027-0031", counterparty_account="NL91ABNA0417164300"
    )

    run_matching(entity)

    assert refresh(line).state == LineState.EXCEPTION


def test_rules_raise_threshold_sends_line_to_queue(customer, post, bank_account, make_line):
    # given a lead who wants every match checked by a person
    update_rules(customer.entity, auto_post_threshold=D("0.999"))
    post(customer, "invoice", "INV-2027-0041", "2027-01-01", "100.00")
    line = make_line(bank_account, "100.00", text="INV-2027-0041")

    run_matching(customer.entity)

    assert refresh(line).state == LineState.EXCEPTION


def test_outgoing_lines_are_set_aside(customer, bank_account, make_line):
    line = make_line(bank_account, "-50.00", text="SUPPLIER PAYMENT")

    result = run_matching(customer.entity)

    assert result.ignored == 1
    assert refresh(line).state == LineState.IGNORED


def test_accepted_suggestion_teaches_payer_account(customer, post, bank_account, make_line):
    from o2c.cashapp.services import accept_suggestion

    # given a receipt with only an amount, which the engine can only suggest
    post(customer, "invoice", "INV-2027-0051", "2027-01-01", "640.00")
    invoice = post(customer, "invoice", "INV-2027-0052", "2027-01-02", "512.00")
    line = make_line(bank_account, "640.00", counterparty_account="BE68539007547034")
    run_matching(customer.entity)
    suggestion = Suggestion.objects.get(line=line, rank=1)

    # when a person accepts it
    accept_suggestion(suggestion, actor=None)
    from django.contrib.auth import get_user_model

    person = get_user_model().objects.create_user("specialist")
    from o2c.cashapp.services import learn_from

    learn_from(refresh(line), customer, person)

    # then the payer account is remembered, and the next receipt from it posts alone
    assert CustomerHint.objects.filter(
        customer=customer, kind=HintKind.PAYER_ACCOUNT, value="BE68539007547034", learned=True
    ).exists()
    later = make_line(bank_account, "512.00", counterparty_account="BE68539007547034")
    run_matching(customer.entity)
    assert refresh(later).state == LineState.MATCHED
    assert open_amount(invoice) == D("0")


def test_missing_rate_skips_other_currency(make_entity, make_customer, post, make_line):
    # given a EUR receipt whose payer name also fits a USD customer, and no recent USD rate
    from o2c.banking.services import add_bank_account
    from o2c.fx.services import set_manual_rate

    entity = make_entity(code="T03", base_currency="EUR")
    day = dt.date(2027, 2, 1)
    set_manual_rate("USD", day, D("1.1"))
    euro = make_customer(entity, currency="EUR", name="Harbor Foods GmbH")
    dollar = make_customer(entity, currency="USD", name="Harbor Foods GmbH")
    invoice = post(euro, "invoice", "EU-2027-0001", day, "400.00")
    post(dollar, "invoice", "US-2027-0001", day, "380.00", currency="USD")
    account = add_bank_account(entity=entity, identifier="EU-ACCOUNT-1", currency="EUR")
    paid_on = day + dt.timedelta(days=30)
    line = make_line(
        account, "400.00", text="Payment", on=paid_on, counterparty_name="HARBOR FOODS"
    )

    # when matching runs
    result = run_matching(entity)

    # then the run completes and the EUR invoice is proposed
    assert result.errors == []
    assert refresh(line).state in (LineState.MATCHED, LineState.EXCEPTION)
    proposed = Suggestion.objects.filter(line=line).values_list("customer_id", flat=True)
    assert euro.pk in proposed or open_amount(invoice) == D("0")


def test_same_rate_leaves_no_fx_difference(make_entity, make_customer, post, make_line):
    # T04: EUR entity, USD invoice of 60.09 at 1.15, paid 60.09 USD the same day
    from o2c.banking.services import add_bank_account
    from o2c.fx.services import set_manual_rate

    entity = make_entity(code="T04", base_currency="EUR")
    day = dt.date(2027, 3, 1)
    set_manual_rate("USD", day, D("1") / D("1.15"))
    customer = make_customer(entity, currency="USD")
    invoice = post(customer, "invoice", "US-2027-0001", day, "60.09", currency="USD")
    account = add_bank_account(entity=entity, identifier="US-ACCOUNT-1", currency="USD")
    line = make_line(account, "60.09", text="US-2027-0001", on=day)

    run_matching(entity)

    allocation = Allocation.objects.get(debit_document=invoice, amount__gt=0)
    assert invoice.amount_base == D("69.10")
    assert allocation.fx_difference_base == D("0")
    assert open_amount(invoice) == D("0")
    assert match_of(line).payment.amount_base == D("69.10")


def test_foreign_receipt_converted_at_full_precision(make_entity, make_customer, post, make_line):
    # T05: GBP entity, 1 GBP = 4.87 PLN, 1,234.56 PLN received for a GBP invoice
    from o2c.banking.services import add_bank_account
    from o2c.fx.services import set_manual_rate

    entity = make_entity(code="T05", base_currency="GBP")
    day = dt.date(2027, 4, 1)
    set_manual_rate("GBP", day, D("1"))
    set_manual_rate("PLN", day, D("4.87"))
    customer = make_customer(entity, currency="GBP", name="Kowalski Trading")
    invoice = post(customer, "invoice", "GB-2027-0077", day, "253.50", currency="GBP")
    account = add_bank_account(entity=entity, identifier="PL-ACCOUNT-1", currency="PLN")
    line = make_line(account, "1234.56", text="GB-2027-0077", on=day)

    run_matching(entity)

    match = match_of(line)
    assert match.payment.amount_base == D("253.50")
    assert open_amount(invoice) == D("0")
    assert open_amount(match.payment) == D("0")


def test_foreign_receipt_posts_realised_exchange_difference(
    make_entity, make_customer, post, make_line
):
    # given a EUR invoice booked at 1.10 USD and paid in USD when the rate is 1.08
    from o2c.banking.services import add_bank_account
    from o2c.fx.services import set_manual_rate

    entity = make_entity(code="FXD", base_currency="USD")
    set_manual_rate("USD", dt.date(2027, 5, 1), D("1.10"))
    set_manual_rate("USD", dt.date(2027, 5, 20), D("1.08"))
    customer = make_customer(entity, currency="EUR")
    invoice = post(customer, "invoice", "EU-2027-0009", "2027-05-01", "1000.00", currency="EUR")
    account = add_bank_account(entity=entity, identifier="USD-ACCOUNT-9", currency="USD")
    line = make_line(account, "1080.00", text="EU-2027-0009", on="2027-05-20")

    run_matching(entity)

    allocation = Allocation.objects.get(debit_document=invoice, amount__gt=0)
    assert open_amount(invoice) == D("0")
    assert invoice.amount_base == D("1100.00")
    assert allocation.fx_difference_base == D("-20.00")
    assert match_of(line).decision == Decision.AUTO


# A bank converts a foreign payment at its own rate, a little off the reference rate:
# within the exchange tolerance (1 %), the payer's name must still find the invoices.
@pytest.mark.parametrize(
    ("paid_eur", "expected_numbers"),
    [
        ("1003.00", ["US-2027-0001"]),  # 1,103.30 USD: 0.3 % over one invoice
        ("9950.00", ["US-2027-0003"]),  # 10,945.00 USD: 0.5 % (55 USD) short of one invoice
        ("3010.00", ["US-2027-0001", "US-2027-0002"]),  # 3,311.00 USD: two invoices
    ],
)
def test_converted_receipt_found_by_payer_name(
    make_entity, make_customer, post, make_line, paid_eur, expected_numbers
):
    # given a EUR entity, 1 EUR = 1.10 USD, and a USD customer with three open invoices
    from o2c.banking.services import add_bank_account
    from o2c.fx.services import set_manual_rate

    entity = make_entity(code="FXN", base_currency="EUR")
    day = dt.date(2027, 6, 1)
    set_manual_rate("USD", day, D("1.10"))
    customer = make_customer(entity, currency="USD", name="Harbor Foods Inc.")
    post(customer, "invoice", "US-2027-0001", day, "1100.00", currency="USD")
    post(customer, "invoice", "US-2027-0002", day, "2200.00", currency="USD")
    post(customer, "invoice", "US-2027-0003", day, "11000.00", currency="USD")
    account = add_bank_account(entity=entity, identifier="EU-ACCOUNT-7", currency="EUR")
    line = make_line(account, paid_eur, text="Payment", on=day, counterparty_name="HARBOR FOODS")

    # when matching runs
    result = run_matching(entity)

    # then the invoices are proposed first, for a person to decide: off the cent, the
    # amount makes them likely, not certain
    assert result.errors == []
    assert refresh(line).state == LineState.EXCEPTION
    best = Suggestion.objects.get(line=line, rank=1)
    assert sorted(entry["number"] for entry in best.allocations) == expected_numbers
    assert best.customer == customer
    assert any("exchange tolerance" in note for note in best.evidence)


def test_short_foreign_receipt_without_recent_rate(make_entity, make_customer, post, make_line):
    # given a USD invoice of a EUR entity, a USD receipt 30 days later that falls short by
    # a few dollars, and no USD rate recent enough to convert the shortfall to EUR
    from o2c.banking.services import add_bank_account
    from o2c.fx.services import set_manual_rate

    entity = make_entity(code="T06", base_currency="EUR")
    day = dt.date(2027, 3, 1)
    set_manual_rate("USD", day, D("1.1"))
    customer = make_customer(entity, currency="USD", name="Harbor Foods Inc")
    invoice = post(customer, "invoice", "US-2027-0002", day, "500.00", currency="USD")
    account = add_bank_account(entity=entity, identifier="US-ACCOUNT-2", currency="USD")
    line = make_line(
        account,
        "496.00",
        text="US-2027-0002",
        on=day + dt.timedelta(days=30),
        counterparty_name="HARBOR FOODS INC",
    )

    # when matching runs
    result = run_matching(entity)

    # then the run completes: posting needs the rate, so the line waits for a person with
    # the invoice proposed, and the run names the missing rate
    assert len(result.errors) == 1
    assert "No USD rate on or in the 10 days before 2027-03-31" in result.errors[0]
    assert refresh(line).state == LineState.EXCEPTION
    assert Suggestion.objects.filter(line=line, customer=customer).exists()
    assert open_amount(invoice) == D("500.00")
