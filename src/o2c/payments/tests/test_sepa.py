"""SEPA direct debit: mandates, pain.008 files checked against the ISO 20022 schema,
sequence types, and returns from pain.002 and camt.054 that reopen invoices."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from lxml import etree

from o2c.imports.errors import ImportRejected
from o2c.imports.models import ImportRun
from o2c.ledger.references import creditor_reference
from o2c.ledger.services import open_amount
from o2c.payments import sepa
from o2c.payments.errors import PaymentError
from o2c.payments.models import (
    DirectDebitStatus,
    MandateStatus,
    PaymentStatus,
    SequenceType,
)
from o2c.payments.sepa_returns import import_returns
from o2c.teams.models import Team, WorkItem

D = Decimal
NS = {"p": sepa.PAIN_008}
# A Monday: the earliest collection with two business days of lead time is Wednesday.
TODAY = "2025-03-10 09:00:00+01:00"
COLLECTION_DAY = dt.date(2025, 3, 12)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_day():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def mandate(buyer):
    return sepa.sign_mandate(
        buyer,
        debtor_name="Boulangerie Martin",
        iban="DE89 3704 0044 0532 0130 00",
        bic="COBADEFFXXX",
    )


def schedule(customer, invoices, key):
    return sepa.schedule_debit(
        customer,
        [(invoice.document.pk, str(open_amount(invoice.document))) for invoice in invoices],
        idempotency_key=key,
    )


def collect(entity, day=COLLECTION_DAY):
    return sepa.create_collection_file(entity, collection_date=day)


def parse(collection_file):
    return etree.fromstring(bytes(collection_file.content))


def test_mandate_gets_a_unique_reference(buyer, mandate):
    assert mandate.reference == "FR1-C0001-001"
    assert mandate.iban == "DE89370400440532013000"
    assert mandate.signed_on == dt.date(2025, 3, 10)
    assert mandate.next_sequence_type == SequenceType.FIRST


@pytest.mark.parametrize(
    ("iban", "code"),
    [("DE89 3704 0044 0532 0130 01", "invalid_iban"), ("US12345678", "invalid_iban")],
)
def test_mandate_refuses_bad_accounts(buyer, iban, code):
    with pytest.raises(PaymentError) as raised:
        sepa.sign_mandate(buyer, debtor_name="X", iban=iban)

    assert raised.value.code == code


def test_mandate_refuses_account_outside_sepa(buyer):
    # a valid Brazilian IBAN is still outside the SEPA schemes
    with pytest.raises(PaymentError) as raised:
        sepa.sign_mandate(buyer, debtor_name="X", iban="BR1800360305000010009795493C1")

    assert raised.value.code == "iban_outside_sepa"


def test_collection_file_validates_against_schema(buyer, other_buyer, bill):
    # given debits under a first and a recurring mandate
    first_time = sepa.sign_mandate(
        buyer, debtor_name="Boulangerie Martin", iban="DE89370400440532013000"
    )
    regular = sepa.sign_mandate(
        other_buyer, debtor_name="Müller Maschinenbau", iban="FR1420041010050500013M02606"
    )
    regular.next_sequence_type = SequenceType.RECURRING
    regular.last_collected_on = dt.date(2025, 1, 10)
    regular.save()
    invoice_a, invoice_b = bill(buyer, "100.00"), bill(other_buyer, "50.00")
    debit_a = schedule(buyer, [invoice_a], "a")
    debit_b = schedule(other_buyer, [invoice_b], "b")

    # when the collection file is made
    collection_file = collect(buyer.entity)

    # then it is valid pain.008.001.02 (checked again here, independently of the service)
    schema = etree.XMLSchema(etree.parse(str(sepa.SCHEMA_PATH)))
    document = parse(collection_file)
    assert schema.validate(document), schema.error_log
    # with one batch per sequence type and the totals right
    assert document.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert document.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "180.00"
    batches = {
        block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS): block
        for block in document.findall("p:CstmrDrctDbtInitn/p:PmtInf", namespaces=NS)
    }
    assert set(batches) == {"FRST", "RCUR"}
    frst = batches["FRST"]
    assert frst.findtext("p:ReqdColltnDt", namespaces=NS) == "2025-03-12"
    assert frst.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    assert (
        frst.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == "FR72ZZZ123456"
    )
    transaction = frst.find("p:DrctDbtTxInf", namespaces=NS)
    assert transaction.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == debit_a.reference
    assert transaction.find("p:InstdAmt", namespaces=NS).get("Ccy") == "EUR"
    assert transaction.findtext("p:InstdAmt", namespaces=NS) == "120.00"
    assert (
        transaction.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS)
        == first_time.reference
    )
    assert transaction.findtext("p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == (
        "NOTPROVIDED"
    )
    assert transaction.findtext(
        "p:RmtInf/p:Strd/p:CdtrRefInf/p:Ref", namespaces=NS
    ) == creditor_reference(invoice_a.number)
    # and the accented name is written in the SEPA character set
    rcur = batches["RCUR"].find("p:DrctDbtTxInf", namespaces=NS)
    assert rcur.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Muller Maschinenbau"
    # and the payments are sent but not posted before the collection date
    debit_a.refresh_from_db()
    debit_b.refresh_from_db()
    assert debit_a.status == PaymentStatus.SUBMITTED
    assert debit_a.document is None
    assert debit_a.debit.sequence_type == SequenceType.FIRST
    assert debit_b.debit.sequence_type == SequenceType.RECURRING
    assert open_amount(invoice_a.document) == D("120.00")
    assert open_amount(invoice_b.document) == D("60.00")
    # and the mandates moved on
    first_time.refresh_from_db()
    assert first_time.next_sequence_type == SequenceType.RECURRING
    assert first_time.last_collected_on == COLLECTION_DAY


def test_one_off_mandate_is_used_once(buyer, bill):
    mandate = sepa.sign_mandate(
        buyer, debtor_name="Boulangerie", iban="DE89370400440532013000", is_recurrent=False
    )
    schedule(buyer, [bill(buyer, "10.00")], "a")

    document = parse(collect(buyer.entity))

    assert document.findtext(".//p:SeqTp", namespaces=NS) == "OOFF"
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.USED


def test_account_change_is_reported_once(buyer, bill, mandate):
    # given a mandate moved to another account after a first collection
    mandate.next_sequence_type = SequenceType.RECURRING
    mandate.save()
    sepa.change_mandate_account(mandate, iban="FR1420041010050500013M02606")
    schedule(buyer, [bill(buyer, "10.00")], "a")

    # when the next debit is collected
    document = parse(collect(buyer.entity))

    # then it carries the amendment with the original account, and only this once
    info = document.find(".//p:MndtRltdInf", namespaces=NS)
    assert info.findtext("p:AmdmntInd", namespaces=NS) == "true"
    assert (
        info.findtext("p:AmdmntInfDtls/p:OrgnlDbtrAcct/p:Id/p:IBAN", namespaces=NS)
        == "DE89370400440532013000"
    )
    mandate.refresh_from_db()
    assert mandate.original_iban == ""


def test_collection_date_checked(buyer, bill, mandate):
    schedule(buyer, [bill(buyer, "10.00")], "a")

    with pytest.raises(PaymentError) as too_early:
        collect(buyer.entity, dt.date(2025, 3, 11))
    with pytest.raises(PaymentError) as on_a_holiday:
        collect(buyer.entity, dt.date(2025, 4, 21))

    assert too_early.value.code == "collection_date"
    assert on_a_holiday.value.code == "collection_date"  # Easter Monday 2025


def test_target_calendar():
    assert sepa.is_target_day(dt.date(2025, 4, 18)) is False  # Good Friday
    assert sepa.is_target_day(dt.date(2025, 5, 1)) is False
    assert sepa.is_target_day(dt.date(2025, 12, 24)) is True
    assert sepa.add_target_days(dt.date(2025, 12, 23), 2) == dt.date(2025, 12, 29)


def test_revoked_mandate_cancels_scheduled_debits(buyer, bill, mandate):
    payment = schedule(buyer, [bill(buyer, "10.00")], "a")

    sepa.revoke_mandate(mandate, reason="customer asked")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert payment.debit.status == DirectDebitStatus.CANCELED
    with pytest.raises(PaymentError) as raised:
        collect(buyer.entity)
    assert raised.value.code == "nothing_to_collect"


def test_debit_needs_a_mandate(buyer, bill):
    with pytest.raises(PaymentError) as raised:
        schedule(buyer, [bill(buyer, "10.00")], "a")

    assert raised.value.code == "no_mandate"


# Returns -------------------------------------------------------------------------------


def pain002(message_id, rejections, *, group_status="PART"):
    transactions = "".join(
        f"""<TxInfAndSts><StsId>S{index}</StsId><OrgnlEndToEndId>{end_to_end}</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf></TxInfAndSts>"""
        for index, (end_to_end, code) in enumerate(rejections)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
<CstmrPmtStsRpt>
  <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2025-03-14T08:00:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
    <GrpSts>{group_status}</GrpSts></OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts><OrgnlPmtInfId>X</OrgnlPmtInfId>{transactions}</OrgnlPmtInfAndSts>
</CstmrPmtStsRpt></Document>""".encode()


def camt054(returns):
    entries = "".join(
        f"""<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2025-03-20</Dt></BookgDt><ValDt><Dt>2025-03-20</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>
        <RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"""
        for end_to_end, amount, code in returns
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-1</MsgId><CreDtTm>2025-03-20T07:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N-1</Id><CreDtTm>2025-03-20T07:00:00</CreDtTm>
<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>{entries}</Ntfctn>
</BkToCstmrDbtCdtNtfctn></Document>""".encode()


def test_rejection_in_pain002_reopens_invoice(buyer, bill, mandate):
    # given a first collection sent to the bank
    Team.objects.create(entity=buyer.entity, name="Collections", function="collections")
    invoice = bill(buyer, "100.00")
    payment = schedule(buyer, [invoice], "a")
    collection_file = collect(buyer.entity)

    # when the bank rejects it for insufficient funds
    result = import_returns(
        pain002(collection_file.message_id, [(payment.reference, "AM04")]), "status.xml"
    )

    # then the payment is reversed and the invoice open again
    assert result.counts == {"returned": 1, "already_returned": 0}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.RETURNED
    assert payment.debit.return_reason_code == "AM04"
    assert open_amount(invoice.document) == D("120.00")
    # and the next collection is a first one again, the mandate still usable
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.ACTIVE
    assert mandate.next_sequence_type == SequenceType.FIRST
    # and collections has a follow-up
    assert WorkItem.objects.get().title == (
        "Direct debit returned (AM04, insufficient funds): Boulangerie Martin"
    )


def test_return_in_camt054_ends_mandate_of_closed_account(buyer, bill, mandate):
    invoice = bill(buyer, "100.00")
    payment = schedule(buyer, [invoice], "a")
    collect(buyer.entity)

    with time_machine.travel("2025-03-20 09:00:00+01:00", tick=False):
        assert sepa.book_collected_debits() == 1
        assert open_amount(invoice.document) == D("0")
        import_returns(camt054([(payment.reference, "120.00", "AC04")]), "notification.xml")

    payment.refresh_from_db()
    mandate.refresh_from_db()
    assert payment.debit.returned_on == dt.date(2025, 3, 20)
    assert open_amount(invoice.document) == D("120.00")
    assert mandate.status == MandateStatus.REVOKED
    assert mandate.revoked_reason.endswith("AC04 account closed")


def test_same_returns_file_twice_changes_nothing(buyer, bill, mandate):
    invoice = bill(buyer, "100.00")
    payment = schedule(buyer, [invoice], "a")
    collection_file = collect(buyer.entity)
    content = pain002(collection_file.message_id, [(payment.reference, "MS02")])
    import_returns(content, "status.xml")

    again = import_returns(content, "status.xml")

    assert again.counts == {"returned": 0, "already_returned": 1}
    assert open_amount(invoice.document) == D("120.00")


def test_unknown_return_rejects_file(buyer, bill, mandate):
    # given one real and one unknown return in the same file
    invoice = bill(buyer, "100.00")
    payment = schedule(buyer, [invoice], "a")
    collection_file = collect(buyer.entity)
    content = pain002(
        collection_file.message_id, [(payment.reference, "AM04"), ("NOT-OURS-1", "AM04")]
    )

    # when it is loaded
    with pytest.raises(ImportRejected) as raised:
        import_returns(content, "status.xml")

    # then nothing is applied and the problem names the record
    problem = raised.value.problems[0]
    assert (problem.field, problem.message) == (
        "OrgnlEndToEndId",
        "'NOT-OURS-1' is not a direct debit o2c sent",
    )
    assert problem.line > 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUBMITTED
    assert ImportRun.objects.get().status == "rejected"


def test_group_rejection_returns_every_debit(buyer, other_buyer, bill, mandate):
    sepa.sign_mandate(other_buyer, debtor_name="Müller", iban="FR1420041010050500013M02606")
    first, second = bill(buyer, "10.00"), bill(other_buyer, "20.00")
    schedule(buyer, [first], "a")
    schedule(other_buyer, [second], "b")
    collection_file = collect(buyer.entity)
    content = pain002(collection_file.message_id, [], group_status="RJCT").replace(
        b"<GrpSts>RJCT</GrpSts>",
        b"<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>",
    )

    result = import_returns(content, "status.xml")

    assert result.counts["returned"] == 2
    assert open_amount(first.document) == D("12.00")
    assert open_amount(second.document) == D("24.00")


def test_file_of_another_kind_is_rejected():
    with pytest.raises(ImportRejected) as raised:
        import_returns(b"<Document xmlns='urn:other'/>", "other.xml")

    assert raised.value.problems[0].field == "Document"


# Booking on the collection date -----------------------------------------------------------


def test_debit_is_posted_and_receipted_on_collection_date(
    buyer, bill, mandate, smtp_server, django_capture_on_commit_callbacks
):
    # given a debit sent to the bank on Monday for collection on Wednesday
    from o2c.portal.models import PortalUser

    PortalUser.objects.create(customer=buyer, email="compta@boulangerie-martin.example")
    invoice = bill(buyer, "100.00")
    payment = schedule(buyer, [invoice], "a")
    with django_capture_on_commit_callbacks(execute=True):
        collect(buyer.entity)

    # when the scheduled booking runs before, and then on, the collection date
    with (
        time_machine.travel("2025-03-11 23:30:00+01:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        early = sepa.book_collected_debits()
    sent_before = len(smtp_server.messages)
    with (
        time_machine.travel("2025-03-12 00:30:00+01:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        on_the_day = sepa.book_collected_debits()
        again = sepa.book_collected_debits()

    # then nothing is posted or receipted before Wednesday, and then posted once, dated then
    assert early == 0
    assert sent_before == 0
    assert (on_the_day, again) == (1, 0)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.paid_on == COLLECTION_DAY
    assert payment.document.document_date == COLLECTION_DAY
    assert payment.debit.status == DirectDebitStatus.SUBMITTED
    assert open_amount(invoice.document) == D("0")
    assert len(smtp_server.to("compta@boulangerie-martin.example")) == 1


def test_rejected_debit_is_never_posted(buyer, bill, mandate):
    # given a debit that the bank rejects before its collection date
    invoice = bill(buyer, "100.00")
    payment = schedule(buyer, [invoice], "a")
    collection_file = collect(buyer.entity)
    import_returns(pain002(collection_file.message_id, [(payment.reference, "AC04")]), "s.xml")

    # when the collection date comes
    with time_machine.travel("2025-03-12 10:00:00+01:00", tick=False):
        booked = sepa.book_collected_debits()

    # then nothing reaches the ledger
    assert booked == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.RETURNED
    assert payment.document is None
    assert open_amount(invoice.document) == D("120.00")


def test_sent_debit_counts_as_in_flight(buyer, bill, mandate):
    # given a debit of the whole invoice, sent but not yet collected
    invoice = bill(buyer, "100.00")
    schedule(buyer, [invoice], "a")
    collect(buyer.entity)

    # when the customer tries to pay the same invoice again
    with pytest.raises(PaymentError) as raised:
        schedule(buyer, [invoice], "b")

    # then it is refused
    assert raised.value.code == "payment_in_flight"


# Sequence types within one file -----------------------------------------------------------


def sequence_types(collection_file) -> list[str]:
    document = parse(collection_file)
    return [
        block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)
        for block in document.findall("p:CstmrDrctDbtInitn/p:PmtInf", namespaces=NS)
        for _ in block.findall("p:DrctDbtTxInf", namespaces=NS)
    ]


def test_new_mandate_has_one_first_debit_per_file(buyer, bill, mandate):
    # given two debits scheduled under a mandate never collected from
    first = schedule(buyer, [bill(buyer, "100.00")], "a")
    second = schedule(buyer, [bill(buyer, "50.00")], "b")

    # when a collection file is made
    first_file = collect(buyer.entity)

    # then only the first debit is in it, as FRST, and the second waits
    assert sequence_types(first_file) == ["FRST"]
    assert first_file.transaction_count == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.debit.collection_file == first_file
    assert second.status == PaymentStatus.SCHEDULED
    assert second.debit.status == DirectDebitStatus.SCHEDULED

    # and another file for the same day leaves it for later still
    with pytest.raises(PaymentError) as raised:
        collect(buyer.entity)
    assert raised.value.code == "nothing_to_collect"

    # and a file for the next day collects it as RCUR
    second_file = collect(buyer.entity, dt.date(2025, 3, 13))
    assert sequence_types(second_file) == ["RCUR"]
    second.refresh_from_db()
    assert second.debit.sequence_type == SequenceType.RECURRING


def test_recurring_mandate_takes_every_debit(buyer, bill, mandate):
    mandate.next_sequence_type = SequenceType.RECURRING
    mandate.last_collected_on = dt.date(2025, 2, 12)
    mandate.save()
    schedule(buyer, [bill(buyer, "100.00")], "a")
    schedule(buyer, [bill(buyer, "50.00")], "b")

    collection_file = collect(buyer.entity)

    assert sequence_types(collection_file) == ["RCUR", "RCUR"]


def test_one_off_mandate_collects_once(buyer, bill):
    # given two debits under a one-off mandate
    sepa.sign_mandate(
        buyer, debtor_name="Boulangerie", iban="DE89370400440532013000", is_recurrent=False
    )
    schedule(buyer, [bill(buyer, "10.00")], "a")
    second = schedule(buyer, [bill(buyer, "20.00")], "b")

    # when files are made
    collection_file = collect(buyer.entity)

    # then only one OOFF is collected, and the next file cancels the other
    assert sequence_types(collection_file) == ["OOFF"]
    with pytest.raises(PaymentError) as raised:
        collect(buyer.entity, dt.date(2025, 3, 13))
    assert raised.value.code == "nothing_to_collect"
    second.refresh_from_db()
    assert second.status == PaymentStatus.CANCELED


# Mandate references and names -----------------------------------------------------------


def test_reference_names_the_entity_once(seller, make_customer):
    # given a customer whose number already starts with the entity code
    customer = make_customer(seller, number="FR1-C00001", name="Maple Retail")

    # when two mandates are signed
    first = sepa.sign_mandate(customer, debtor_name="Maple", iban="DE89370400440532013000")
    second = sepa.sign_mandate(customer, debtor_name="Maple", iban="DE89370400440532013000")

    # then the code appears once, and the sequence number differs
    assert first.reference == "FR1-C00001-001"
    assert second.reference == "FR1-C00001-002"


def test_reference_keeps_code_when_number_lacks_it(seller, make_customer):
    # a number that merely starts with the same letters does not carry the code
    customer = make_customer(seller, number="FR10042", name="Other")

    mandate = sepa.sign_mandate(customer, debtor_name="Other", iban="DE89370400440532013000")

    assert mandate.reference == "FR1-FR10042-001"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Müller & <Söhne> Ωmega Łódź", "Muller Sohne Omega Lodz"),
        ("Straße Øresund Æbeltoft", "Strasse Oresund Aebeltoft"),
        ("Αθήνα ΑΕ", "Athina AE"),
        ("ООО Щука", "OOO Shchuka"),
        ("Ｆｕｌｌｗｉｄｔｈ ﬁne", "Fullwidth fine"),
    ],
)
def test_names_are_transliterated_not_dropped(name, expected):
    assert sepa.sepa_text(name, 70) == expected


def test_debtor_name_in_the_file_is_transliterated(buyer, bill):
    sepa.sign_mandate(buyer, debtor_name="Łukasz Øster", iban="DE89370400440532013000")
    schedule(buyer, [bill(buyer, "10.00")], "a")

    document = parse(collect(buyer.entity))

    assert document.findtext(".//p:Dbtr/p:Nm", namespaces=NS) == "Lukasz Oster"
