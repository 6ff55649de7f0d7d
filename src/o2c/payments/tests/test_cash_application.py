"""From the portal's payment instructions to the bank statement and back.

A transfer quoting the RF reference the portal showed is matched by cash application to
its invoice, whether the bank reports it in camt.053 or MT940. A card gateway's payout
on the statement is matched to the payout, whose payments already paid their invoices.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from o2c.banking.models import LineState, StatementLine
from o2c.banking.services import add_bank_account, import_statement_file
from o2c.cashapp.models import Decision, LineMatch
from o2c.cashapp.services import run_matching
from o2c.ledger.models import Document, DocumentKind
from o2c.ledger.services import open_amount
from o2c.payments import services
from o2c.payments.models import Payout
from o2c.payments.payouts import import_stripe_payouts
from o2c.payments.tests.fixtures import deliver
from o2c.portal import auth
from o2c.portal.models import PortalUser

D = Decimal

pytestmark = pytest.mark.django_db

CAMT053 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>2025-03-21T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-{id}</Id>
   <CreDtTm>2025-03-21T06:00:00</CreDtTm>
   <Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-03-19</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-03-20</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2025-03-20</Dt></BookgDt><ValDt><Dt>2025-03-20</Dt></ValDt>
    <AcctSvcrRef>BANK-{id}</AcctSvcrRef>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>
     <RmtInf>{remittance}</RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


@pytest.fixture
def account(seller):
    return add_bank_account(entity=seller, identifier="FR7630006000011234567890189", currency="EUR")


def camt053(tmp_path, *, amount, payer, remittance, number=1):
    path = tmp_path / f"statement-{number}.xml"
    closing = D("1000.00") + D(amount)
    path.write_text(
        CAMT053.format(
            id=number, amount=amount, closing=closing, payer=payer, remittance=remittance
        )
    )
    return path


def reference_shown_in_portal(client, customer, invoice) -> str:
    """Sign in as the customer, choose transfer, and read the reference off the page."""
    user = PortalUser.objects.create(customer=customer, email=customer.contacts.get().email)
    client.post(f"/portal/link/{auth.issue_link(user, source='staff')}/")
    page = client.post(
        reverse("portal:pay"),
        {
            "invoice": [invoice.document.pk],
            f"amount_{invoice.document.pk}": "120.00",
            "method": "transfer",
        },
    ).content.decode()
    return re.search(r'<code class="reference">(RF[0-9A-Z]+)</code>', page).group(1)


def test_transfer_with_portal_rf_reference_is_matched(client, buyer, bill, account, tmp_path):
    # given the RF reference the portal showed for an invoice of 120.00
    invoice = bill(buyer, "100.00")
    reference = reference_shown_in_portal(client, buyer, invoice)

    # when the bank statement (camt.053) reports the transfer with that reference
    path = camt053(
        tmp_path,
        amount="120.00",
        payer="BOULANGERIE MARTIN",
        remittance=f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
        f"<Ref>{reference}</Ref></CdtrRefInf></Strd>",
    )
    import_statement_file(path, entity=buyer.entity)
    result = run_matching(buyer.entity)

    # then cash application posts it to the invoice on its own, by the reference
    line = StatementLine.objects.get()
    match = LineMatch.objects.get(line=line)
    assert reference == invoice.creditor_reference
    assert result.auto_applied == 1
    assert line.state == LineState.MATCHED
    assert match.decision == Decision.AUTO
    assert any("RF creditor reference" in note for note in match.evidence)
    assert open_amount(invoice.document) == D("0")


def test_rf_reference_in_mt940_text_is_matched(buyer, bill, account, tmp_path):
    # given an invoice and the printed form of its RF reference, in groups of four
    invoice = bill(buyer, "100.00")
    printed = " ".join(
        invoice.creditor_reference[index : index + 4]
        for index in range(0, len(invoice.creditor_reference), 4)
    )
    path = tmp_path / "statement.sta"
    path.write_text(
        ":20:STMT-1\r\n"
        ":25:FR7630006000011234567890189\r\n"
        ":28C:1/1\r\n"
        ":60F:C250319EUR1000,00\r\n"
        ":61:2503200320C120,00NTRFNONREF\r\n"
        f":86:VIREMENT BOULANGERIE MARTIN {printed}\r\n"
        ":62F:C250320EUR1120,00\r\n"
        "-\r\n"
    )

    # when it is imported and matched
    import_statement_file(path, format="mt940", entity=buyer.entity)
    run_matching(buyer.entity)

    # then the invoice is paid
    assert StatementLine.objects.get().state == LineState.MATCHED
    assert open_amount(invoice.document) == D("0")


def test_card_payout_is_matched_to_its_payout(client, fake_stripe, buyer, bill, account, tmp_path):
    # given two invoices paid by card, and Stripe's payout report of them
    first, second = bill(buyer, "100.00"), bill(buyer, "50.00")
    payments = []
    for index, invoice in enumerate([first, second]):
        payment = services.start_card_payment(
            buyer,
            [(invoice.document.pk, str(open_amount(invoice.document)))],
            idempotency_key=f"k{index}",
            return_url=lambda payment: "http://127.0.0.1:9/back/",
            cancel_url="http://127.0.0.1:9/home/",
        )
        fake_stripe.submit_card(
            payment.checkout_url.removeprefix(fake_stripe.url), "4242424242424242"
        )
        deliver(client, fake_stripe, "stripe")
        payment.refresh_from_db()
        payments.append(payment)
    report = "".join(
        f"po_1QzAbc,2025-03-20 00:00:00,txn_{index},2025-03-18 10:00:00,eur,"
        f"{payment.amount:.2f},{payment.fee_amount:.2f},{payment.amount - payment.fee_amount:.2f},"
        f"charge,ch_{index},{payment.reference},{payment.gateway_payment_id}\n"
        for index, payment in enumerate(payments)
    )
    import_stripe_payouts(
        (
            "automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,"
            "created_utc,currency,gross,fee,net,reporting_category,source_id,description,"
            "payment_intent_id\n" + report
        ).encode(),
        "payouts.csv",
        entity=buyer.entity,
    )
    payout = Payout.objects.get()
    documents_before = Document.objects.filter(kind=DocumentKind.PAYMENT).count()

    # when the bank statement shows the net payout
    path = camt053(
        tmp_path,
        amount=f"{payout.net_amount:.2f}",
        payer="STRIPE TECHNOLOGIES EUROPE",
        remittance="<Ustrd>STRIPE PAYOUT po_1QzAbc</Ustrd>",
    )
    import_statement_file(path, entity=buyer.entity)
    run_matching(buyer.entity)

    # then the line is matched to the payout, listing the invoices and the fees,
    # and no second payment is posted for invoices already paid by card
    line = StatementLine.objects.get()
    match = LineMatch.objects.get(line=line)
    payout.refresh_from_db()
    assert payout.net_amount == D("180.00") - payout.fee_amount
    assert line.state == LineState.MATCHED
    assert [item["invoice"] for item in match.applied] == [first.number, second.number]
    assert f"fees {payout.fee_amount:.2f} EUR" in match.evidence[1]
    assert payout.reconciled_at is not None
    assert Document.objects.filter(kind=DocumentKind.PAYMENT).count() == documents_before
    assert open_amount(first.document) == D("0")
    assert open_amount(second.document) == D("0")
    assert dt.date(2025, 3, 20) == payout.arrival_on
