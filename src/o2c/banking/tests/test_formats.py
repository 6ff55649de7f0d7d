"""Statement formats on small files with known results, and the import's guarantees."""

from decimal import Decimal

import pytest

from o2c.banking.errors import BankingError, StatementFileRejected
from o2c.banking.models import Statement, StatementLine
from o2c.banking.parsers import bai2, camt, detect_format, swift
from o2c.banking.parsers.base import ParseError, check_balances
from o2c.banking.services import (
    add_bank_account,
    bank_code_text,
    check_bank_code,
    import_statement_file,
)

D = Decimal

CAMT053 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2027-03-02T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-2027-03-01</Id>
   <CreDtTm>2027-03-02T06:00:00</CreDtTm>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2027-02-28</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2027-03-01</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="EUR">1250.40</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2027-03-01</Dt></BookgDt><ValDt><Dt>2027-03-01</Dt></ValDt>
    <AcctSvcrRef>BATCH-77</AcctSvcrRef>
    <NtryDtls>
     <Btch><NbOfTxs>3</NbOfTxs></Btch>
     {details}
    </NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def detail(name, reference, amount=None):
    amount_xml = (
        f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>' if amount else ""
    )
    return (
        f"<TxDtls><Refs><EndToEndId>E2E-{reference}</EndToEndId></Refs>{amount_xml}"
        f"<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{reference}</Ustrd></RmtInf></TxDtls>"
    )


def camt_file(details, closing="1350.40") -> bytes:
    return CAMT053.format(details="".join(details), closing=closing).encode()


def test_camt_batch_splits_into_details():
    # T10: one entry of 1,250.40 holding 800.00, 400.40 and 50.00
    data = camt_file(
        [
            detail("Alpha AG", "INV-1", "800.00"),
            detail("Beta BV", "INV-2", "400.40"),
            detail("Gamma SA", "INV-3", "50.00"),
        ]
    )

    (statement,) = camt.parse(data, "batch.xml")

    assert [line.amount for line in statement.lines] == [D("800.00"), D("400.40"), D("50.00")]
    assert [line.counterparty_name for line in statement.lines] == [
        "Alpha AG",
        "Beta BV",
        "Gamma SA",
    ]
    assert [line.remittance_info for line in statement.lines] == ["INV-1", "INV-2", "INV-3"]
    assert check_balances(statement) == ("balanced", D("0"), "")


def test_camt_batch_without_amounts_stays_whole():
    data = camt_file(
        [detail("Alpha AG", "INV-1"), detail("Beta BV", "INV-2"), detail("Gamma SA", "INV-3")]
    )

    (statement,) = camt.parse(data, "batch.xml")

    (line,) = statement.lines
    assert line.amount == D("1250.40")
    for reference in ("INV-1", "INV-2", "INV-3", "Beta BV"):
        assert reference in line.remittance_info
    assert check_balances(statement)[0] == "balanced"


def test_camt_batch_missing_some_amounts_stays_whole():
    data = camt_file(
        [
            detail("Alpha AG", "INV-1", "800.00"),
            detail("Beta BV", "INV-2"),
            detail("Gamma SA", "INV-3", "50.00"),
        ]
    )

    (statement,) = camt.parse(data, "batch.xml")

    assert [line.amount for line in statement.lines] == [D("1250.40")]


def test_camt_single_detail_takes_entry_amount():
    data = camt_file([detail("Alpha AG", "INV-1")])

    (statement,) = camt.parse(data, "batch.xml")

    (line,) = statement.lines
    assert line.amount == D("1250.40")
    assert line.counterparty_name == "Alpha AG"
    assert line.end_to_end_id == "E2E-INV-1"


def test_camt_batch_not_adding_up_stays_whole():
    data = camt_file([detail("Alpha AG", "INV-1", "800.00"), detail("Beta BV", "INV-2", "400.00")])

    (statement,) = camt.parse(data, "batch.xml")

    assert [line.amount for line in statement.lines] == [D("1250.40")]


T13_LINES = [
    "01,SENDER,RECEIVER,270301,0800,1,,,2/",
    "02,RECEIVER,BANK,1,270301,0800,USD,2/",
    "03,ACCT7788,USD,010,500000,,,015,480000,,,040,470000,,,045/",
    "88,475000,,,072,0,,,400,25000,2,/",
    "16,175,125000,,BANKREF1,CUSTREF1,PAYMENT ACME INV",
    "88,/2027-0042",
    "49,2075000,5/",
    "98,2075000,1,7/",
    "99,2075000,1,9/",
]


def t13_file(account_lines=None) -> bytes:
    lines = list(T13_LINES)
    if account_lines is not None:
        lines[2:4] = account_lines
        count = 3 + len(account_lines)  # account records: 03 and its 88s, 16, 88, 49
        lines[-3:] = [
            f"49,2075000,{count}/",
            f"98,2075000,1,{count + 2}/",
            f"99,2075000,1,{count + 4}/",
        ]
    return "\n".join(lines).encode()


def _summary(data: bytes) -> dict:
    from bai2 import bai2 as bai2_package

    text, _ = bai2.join_account_records(data.decode())
    document = bai2_package.parse_from_string(text, check_integrity=False)
    account = document.children[0].children[0]
    return {
        item.type_code.code: (bai2.scaled(item.amount, "USD"), item.item_count)
        for item in account.header.summary_items
    }


@pytest.mark.parametrize(
    "account_lines",
    [
        None,
        [
            "03,ACCT7788,USD,010,500000,,,015,480000,,,040,470000,,,045,475000,,,072,0,,,400,25000,2,/"
        ],
        [
            "03,ACCT7788,USD,010,500000,,,015/",
            "88,480000,,,040,470000,,,045/",
            "88,475000,,,072,0,,,400/",
            "88,25000,2,/",
        ],
    ],
    ids=["one continuation", "no continuation", "three continuations"],
)
def test_bai2_continuation_starts_a_new_field(account_lines):
    # T13: "045/" then "88,475000": the 88 record starts the amount of type 045
    summary = _summary(t13_file(account_lines))

    assert summary == {
        "010": (D("5000.00"), None),
        "015": (D("4800.00"), None),
        "040": (D("4700.00"), None),
        "045": (D("4750.00"), None),
        "072": (D("0.00"), None),
        "400": (D("250.00"), 2),
    }


def test_bai2_text_continuation_keeps_its_slash():
    (statement,) = bai2.parse(t13_file(), "t13.bai2")

    (line,) = statement.lines
    assert line.amount == D("1250.00")
    assert line.remittance_info.startswith("PAYMENT ACME INV")
    assert line.remittance_info.endswith("/2027-0042")
    assert line.bank_reference == "BANKREF1"
    # the file's own totals state 2 debits of 250.00, which the detail records do not contain
    assert check_balances(statement)[0] == "mismatch"


def test_bai2_amounts_take_the_currency_decimals():
    data = (
        b"01,S,R,270301,0800,1,,,2/\n02,R,B,1,270301,0800,JPY,2/\n"
        b"03,ACCT1,JPY,010,100000,,,015,112345,,/\n16,175,12345,,REF1,,PAYMENT/\n"
        b"49,224690,3/\n98,224690,1,5/\n99,224690,1,7/\n"
    )

    (statement,) = bai2.parse(data, "jpy.bai2")

    assert statement.opening_balance == D("100000")
    assert statement.lines[0].amount == D("12345")
    assert check_balances(statement)[0] == "balanced"


def test_bai2_wrong_control_total_is_rejected():
    from o2c.banking.parsers.base import ParseError

    data = t13_file().replace(b"49,2075000,5/", b"49,2075001,5/")

    with pytest.raises(ParseError) as raised:
        bai2.parse(data, "t13.bai2")
    assert "states a control total of 2075001, its records add up to 2075000" in str(raised.value)


MT940_REVERSAL = """:20:STMT-T19
:25:NL91ABNA0417164300
:28C:1/1
:60F:C270301EUR1000,00
:61:2703010301C350,25NTRFINV-2027-0042
:86:/EREF/E2E-42//CNTP/DE89370400440532013000/COBADEFF/ACME GMBH///REMI/USTD//INV-2027-0042/
:61:2703010301RC350,25NTRFINV-2027-0042
:86:STORNO /EREF/E2E-42//CNTP/DE89370400440532013000/COBADEFF/ACME GMBH///REMI/USTD//INV-2027-0042/
:61:2703010301D100,00NTRFNONREF
:86:RENT
:62F:C270301EUR900,00
"""
MT940_DEBIT_REVERSAL = """:20:STMT-T19B
:25:NL91ABNA0417164300
:28C:2/1
:60F:C270302EUR900,00
:61:2703020302D80,00NTRFNONREF
:86:DIRECT DEBIT
:61:2703020302RDR80,00NTRFNONREF
:86:DIRECT DEBIT RETURNED
:62F:C270302EUR900,00
"""


def test_mt940_reversal_marks_turn_the_sign():
    # T19: RC takes money out, RD (here with the third currency letter "R") puts it back
    (statement,) = swift.parse(MT940_REVERSAL.encode(), "t19.sta")
    (debits,) = swift.parse(MT940_DEBIT_REVERSAL.encode(), "t19b.sta")

    assert [line.amount for line in statement.lines] == [D("350.25"), D("-350.25"), D("-100.00")]
    assert [line.is_reversal for line in statement.lines] == [False, True, False]
    assert check_balances(statement) == ("balanced", D("0"), "")
    assert [line.amount for line in debits.lines] == [D("-80.00"), D("80.00")]
    assert check_balances(debits) == ("balanced", D("0"), "")


def test_mt940_dutch_structured_details_are_read():
    (statement,) = swift.parse(MT940_REVERSAL.encode(), "t19.sta")

    line = statement.lines[0]
    assert line.counterparty_account == "DE89370400440532013000"
    assert line.counterparty_bic == "COBADEFF"
    assert line.counterparty_name == "ACME GMBH"
    assert line.end_to_end_id == "E2E-42"
    assert "INV-2027-0042" in line.remittance_info


@pytest.mark.django_db
def test_reversal_line_points_at_the_line_it_reverses(entity, tmp_path):
    path = tmp_path / "t19.sta"
    path.write_text(MT940_REVERSAL)

    import_statement_file(path, entity=entity, create_accounts=True)

    original, reversal, _ = StatementLine.objects.order_by("position")
    assert reversal.reverses == original


def test_format_detection():
    assert detect_format(MT940_REVERSAL.encode()) == "mt940"
    assert detect_format(t13_file()) == "bai2"
    assert detect_format(camt_file([detail("A", "B", None)])) == "camt"
    assert detect_format(b"Date,Amount\n2027-01-01,10.00\n") is None


@pytest.mark.django_db
def test_reimport_and_overlap_add_no_lines(entity, tmp_path):
    # given two daily statements, then a weekly statement covering both days again
    day_one = (
        ":20:D1\n:25:NL91ABNA0417164300\n:28C:1\n:60F:C270301EUR0,00\n"
        ":61:2703010301C10,00NTRFNONREF\n:86:A\n:61:2703010301C10,00NTRFNONREF\n:86:A\n"
        ":62F:C270301EUR20,00\n"
    )
    day_two = (
        ":20:D2\n:25:NL91ABNA0417164300\n:28C:2\n:60F:C270301EUR20,00\n"
        ":61:2703020302C5,00NTRFNONREF\n:86:B\n:62F:C270302EUR25,00\n"
    )
    both = (
        ":20:W1\n:25:NL91ABNA0417164300\n:28C:3\n:60F:C270228EUR0,00\n"
        ":61:2703010301C10,00NTRFNONREF\n:86:A\n:61:2703010301C10,00NTRFNONREF\n:86:A\n"
        ":61:2703020302C5,00NTRFNONREF\n:86:B\n:61:2703030303C7,00NTRFNONREF\n:86:C\n"
        ":62F:C270303EUR32,00\n"
    )
    add_bank_account(entity=entity, identifier="NL91ABNA0417164300", currency="EUR")
    paths = []
    for name, text in (("d1.sta", day_one), ("d2.sta", day_two), ("w1.sta", both)):
        paths.append(tmp_path / name)
        paths[-1].write_text(text)

    import_statement_file(paths[0])
    again = import_statement_file(paths[0])
    import_statement_file(paths[1])
    weekly = import_statement_file(paths[2])

    # then the two identical receipts of day one stay two, and only day three is new
    assert again.statements_already_imported == 1
    assert again.lines_created == 0
    assert weekly.lines_created == 1
    assert weekly.lines_already_imported == 3
    assert sorted(StatementLine.objects.values_list("amount", flat=True)) == [
        D("5"),
        D("7"),
        D("10"),
        D("10"),
    ]


@pytest.mark.django_db
def test_unknown_account_rejects_whole_file(entity, tmp_path):
    path = tmp_path / "t19.sta"
    path.write_text(MT940_REVERSAL)

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(path, entity=entity)

    assert raised.value.code == "statement_rejected"
    assert "account NL91ABNA0417164300 (EUR) is not registered" in raised.value.message
    assert not Statement.objects.exists()


@pytest.mark.django_db
def test_one_mismatch_rejects_whole_file(entity, tmp_path):
    good = (
        ":20:G\n:25:ACC1\n:28C:1\n:60F:C270301EUR0,00\n"
        ":61:2703010301C10,00NTRFNONREF\n:62F:C270301EUR10,00\n"
    )
    bad = (
        ":20:B\n:25:ACC1\n:28C:2\n:60F:C270302EUR10,00\n"
        ":61:2703020302C10,00NTRFNONREF\n:62F:C270302EUR25,00\n"
    )
    path = tmp_path / "two.sta"
    path.write_text(good + bad)

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(path, entity=entity, create_accounts=True)

    assert "statement B 2 of account ACC1 does not add up" in raised.value.message
    assert "(difference 5.00)" in raised.value.message
    assert not Statement.objects.exists()
    from o2c.banking.models import BankAccount

    assert not BankAccount.objects.exists()


@pytest.mark.django_db
def test_invalid_iban_is_rejected(entity):
    from o2c.banking.errors import BankingError

    with pytest.raises(BankingError) as raised:
        add_bank_account(entity=entity, identifier="DE89370400440532013001", currency="EUR")

    assert raised.value.code == "invalid_iban"


@pytest.mark.django_db
def test_csv_row_errors_name_line_and_column(entity, tmp_path):
    from o2c.banking.services import save_csv_mapping

    save_csv_mapping(
        "plain",
        {
            "date_format": "%Y-%m-%d",
            "columns": {"booking_date": "Date", "amount": "Amount", "remittance": ["Text"]},
        },
    )
    add_bank_account(entity=entity, identifier="LOCAL-1", currency="EUR")
    path = tmp_path / "export.csv"
    path.write_text("Date,Amount,Text\n2027-01-05,10.00,A\n05/01/2027,x,B\n")

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(path, account="LOCAL-1", mapping="plain")

    assert "export.csv line 3, field Date: '05/01/2027' is not a date" in raised.value.message
    assert not StatementLine.objects.exists()


MT940_QA1 = """:20:QA1
:25:QA-ACC-1
:28C:1
:60F:C260101EUR100,00
:61:2601020102C{first},00NTRFNONREF//B1
:86:INV-1 payment C1{text}
:61:2601030103D{second},00NTRFNONREF//B2
:86:fee
:62F:C260103EUR140,00
-
"""


@pytest.mark.django_db
def test_same_statement_with_changed_lines_is_rejected(entity, tmp_path):
    add_bank_account(entity=entity, identifier="QA-ACC-1", currency="EUR")
    good = tmp_path / "mt_good.sta"
    good.write_text(MT940_QA1.format(first=50, second=10, text=""))
    changed = tmp_path / "mt_dup_changed.sta"
    changed.write_text(MT940_QA1.format(first=60, second=20, text=" changed"))
    import_statement_file(good)

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(changed)

    message = raised.value.message
    assert "mt_dup_changed.sta line 1, field statement: statement QA1 1 of account " in message
    assert "QA-ACC-1 was already imported with different content (imported " in message
    assert "file mt_good.sta)" in message
    assert Statement.objects.count() == 1
    assert sorted(StatementLine.objects.values_list("amount", flat=True)) == [D("-10"), D("50")]


@pytest.mark.django_db
def test_resent_statement_and_new_day_under_same_reference_import(entity, tmp_path):
    # Some banks send every day's statement under one constant :20: and :28C:.
    add_bank_account(entity=entity, identifier="QA-ACC-1", currency="EUR")
    day = ":20:STARTUMS\n:25:QA-ACC-1\n:28C:0\n:60F:C27030{day}EUR{opening},00\n"
    day += ":61:27030{day}030{day}C5,00NTRFNONREF\n:86:A\n:62F:C27030{day}EUR{closing},00\n"
    paths = []
    for number, (opening, closing) in enumerate([(0, 5), (5, 10)], start=1):
        paths.append(tmp_path / f"day{number}.sta")
        paths[-1].write_text(day.format(day=number, opening=opening, closing=closing))

    first = import_statement_file(paths[0])
    resent = import_statement_file(paths[0])
    second = import_statement_file(paths[1])

    assert first.statements_created == 1
    assert resent.statements_already_imported == 1
    assert second.statements_created == 1
    assert StatementLine.objects.count() == 2


@pytest.mark.django_db
def test_interim_report_under_same_reference_adds_new_lines(entity, tmp_path):
    # MT942 reports of one day share their reference and grow with each booking.
    add_bank_account(entity=entity, identifier="QA-ACC-1", currency="EUR")
    head = ":20:INTRADAY\n:25:QA-ACC-1\n:28C:1\n:34F:EUR0,\n:13D:2703011200+0100\n"
    morning = ":61:2703010301C5,00NTRFNONREF\n:86:A\n"
    afternoon = ":61:2703010301C7,00NTRFNONREF\n:86:B\n"
    first = tmp_path / "morning.sta"
    first.write_text(head + morning + ":90C:1EUR5,00\n")
    second = tmp_path / "afternoon.sta"
    second.write_text(head + morning + afternoon + ":90C:2EUR12,00\n")

    import_statement_file(first)
    later = import_statement_file(second)

    assert later.lines_created == 1
    assert later.lines_already_imported == 1
    assert sorted(StatementLine.objects.values_list("amount", flat=True)) == [D("5"), D("7")]


def test_mt940_minus_sign_in_balance_names_line_and_tag():
    text = MT940_QA1.format(first=50, second=10, text="").replace("EUR100,00", "EUR-150,00")

    with pytest.raises(ParseError) as raised:
        swift.parse(text.encode(), "mt_negbal.sta")

    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (4, ":60F:")
    assert "'C260101EUR-150,00'" in problem.message
    assert "an amount is not a number" in problem.message


def test_mt940_bad_date_in_second_statement_names_its_line():
    first = ":20:QA3\n:25:QA-ACC-1\n:28C:3\n:60F:C260106EUR140,00\n"
    first += ":61:2601060106C5,00NTRFNONREF//B4\n:86:ok one\n:62F:C260106EUR145,00\n-\n"
    second = ":20:QA4\n:25:QA-ACC-1\n:28C:4\n:60F:C260107EUR145,00\n"
    second += ":61:2613070107C5,00NTRFNONREF//B5\n:86:bad date\n:62F:C260107EUR150,00\n-\n"

    with pytest.raises(ParseError) as raised:
        swift.parse((first + second).encode(), "two.sta")

    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (13, ":61:")
    assert "month must be in 1..12" in problem.message


def test_mt940_lines_carry_their_file_line():
    (statement,) = swift.parse(MT940_QA1.format(first=50, second=10, text="").encode(), "a.sta")

    assert [line.source_line for line in statement.lines] == [5, 7]


def test_camt_invalid_date_names_the_date_element():
    data = camt_file([detail("A", "INV-1", None)]).decode()
    data = data.replace("<BookgDt><Dt>2027-03-01</Dt>", "<BookgDt><Dt>2027-02-30</Dt>")
    line = data[: data.index("2027-02-30")].count("\n") + 1

    with pytest.raises(ParseError) as raised:
        camt.parse(data.encode(), "camt_baddate.xml")

    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (line, "Ntry/BookgDt/Dt")
    assert "'2027-02-30' is not a valid ISO 8601 date" in problem.message


@pytest.mark.parametrize("text", ["1e3", "NaN", "Infinity"])
def test_camt_non_plain_amount_is_rejected(text):
    data = camt_file([detail("A", "INV-1", None)]).decode()
    data = data.replace('<Amt Ccy="EUR">1250.40</Amt>', f'<Amt Ccy="EUR">{text}</Amt>')

    with pytest.raises(ParseError) as raised:
        camt.parse(data.encode(), "camt.xml")

    (problem,) = raised.value.problems
    assert problem.field == "Ntry/Amt"
    assert f"{text!r} is not a plain number" in problem.message


@pytest.mark.django_db
def test_statement_amount_beyond_storage_is_rejected(entity, tmp_path):
    data = camt_file([detail("A", "INV-1", None)], closing="1000000000000100.00").decode()
    data = data.replace(">1250.40<", ">1000000000000000.00<")
    path = tmp_path / "huge.xml"
    path.write_text(data)

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(path, entity=entity, create_accounts=True)

    assert "larger than the maximum 999,999,999,999,999.9999" in raised.value.message
    assert not StatementLine.objects.exists()


@pytest.fixture
def plain_mapping(entity):
    from o2c.banking.services import save_csv_mapping

    save_csv_mapping(
        "plain",
        {
            "date_format": "%Y-%m-%d",
            "columns": {"booking_date": "Date", "amount": "Amount", "remittance": ["Text"]},
        },
    )
    add_bank_account(entity=entity, identifier="LOCAL-1", currency="EUR")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2027-01-06,5.00", "line 3, field row: 2 fields, the header has 3"),
        ("2027-01-06,5.00,B,extra", "line 3, field row: 4 fields, the header has 3"),
        ("2027-01-06,1e3,B", "line 3, field Amount: '1e3' is not a plain number"),
        ("2027-01-06,NaN,B", "line 3, field Amount: 'NaN' is not a plain number"),
    ],
)
def test_csv_statement_bad_row_is_rejected(plain_mapping, tmp_path, row, message):
    path = tmp_path / "export.csv"
    path.write_text(f"Date,Amount,Text\n2027-01-05,10.00,A\n{row}\n")

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(path, account="LOCAL-1", mapping="plain")

    assert f"export.csv {message}" in raised.value.message
    assert not StatementLine.objects.exists()


@pytest.mark.django_db
def test_csv_statement_undecodable_byte_names_its_line(plain_mapping, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "Date,Amount,Text\n2027-01-05,10.00,A\n2027-01-06,5.00,Caf\u00e9\n".encode("latin-1")
    )

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(path, account="LOCAL-1", mapping="plain")

    assert "export.csv line 3, field encoding: byte(s) e9 are not valid utf-8-sig" in (
        raised.value.message
    )


BAI2_QA = """01,SENDER,RECEIVER,261201,0700,FILE1,,,2/
02,RECEIVER,SENDER,1,261130,2400,GBP,{modifier}/
03,QA-BAI-1,GBP,010,1000000,,,015,1050000,,,/
16,195,50000,V,261130,,{reference},CUST1/
88,PY:INV-1
49,2100000,4/
98,2100000,1,6/
99,2100000,1,8/
"""


@pytest.mark.django_db
def test_final_bai2_with_changed_lines_is_rejected(entity, tmp_path):
    add_bank_account(entity=entity, identifier="QA-BAI-1", currency="GBP")
    good = tmp_path / "final.bai2"
    good.write_text(BAI2_QA.format(modifier="2", reference="BANK1"))
    changed = tmp_path / "final_changed.bai2"
    changed.write_text(BAI2_QA.format(modifier="2", reference="BANK2"))
    import_statement_file(good)

    with pytest.raises(StatementFileRejected) as raised:
        import_statement_file(changed)

    assert "already imported with different content" in raised.value.message
    assert "file final.bai2)" in raised.value.message
    assert StatementLine.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("modifier", ["1", "3", ""])
def test_interim_bai2_adds_changed_lines(entity, tmp_path, modifier):
    add_bank_account(entity=entity, identifier="QA-BAI-1", currency="GBP")
    first = tmp_path / "interim.bai2"
    first.write_text(BAI2_QA.format(modifier=modifier, reference="BANK1"))
    later = tmp_path / "interim_later.bai2"
    later.write_text(BAI2_QA.format(modifier=modifier, reference="BANK2"))

    import_statement_file(first)
    result = import_statement_file(later)

    assert result.lines_created == 1
    assert StatementLine.objects.count() == 2


@pytest.mark.parametrize(
    ("country", "given", "kept"),
    [
        ("US", "500000102", "500000102"),
        ("GB", "20-00-00", "200000"),
        ("JP", "0001-123", "0001123"),
        ("FR", "30006", "30006"),
        ("US", "", ""),
    ],
)
def test_bank_code_kept_compact(country, given, kept):
    assert check_bank_code(country, given) == kept


@pytest.mark.parametrize(
    ("country", "given", "name"),
    [
        ("US", "500000103", "routing number"),
        ("US", "12345678", "routing number"),
        ("GB", "20-00-0", "sort code"),
        ("JP", "00011234", "bank and branch code"),
        ("FR", "30006/1", "bank code"),
        ("US", "000000000", "routing number"),
    ],
)
def test_invalid_bank_code_is_rejected(country, given, name):
    with pytest.raises(BankingError) as raised:
        check_bank_code(country, given)

    assert raised.value.code == "invalid_bank_code"
    assert f"{given} is not a valid {name} for {country}" in raised.value.message


@pytest.mark.django_db
def test_account_keeps_its_routing_number(make_entity):
    entity = make_entity(code="US1", base_currency="USD", country="US")

    account = add_bank_account(
        entity=entity, identifier="0026009593", currency="USD", bank_code="5000-0010-2"
    )

    account.refresh_from_db()
    assert account.bank_code == "500000102"


@pytest.mark.django_db
def test_final_bai2_after_interim_of_same_day_imports(entity, tmp_path):
    # the day's interim report, then the final report with one more booking
    add_bank_account(entity=entity, identifier="QA-BAI-1", currency="GBP")
    interim = tmp_path / "interim.bai2"
    interim.write_text(BAI2_QA.format(modifier="3", reference="BANK1"))
    final = tmp_path / "final.bai2"
    final.write_text(BAI2_QA.format(modifier="2", reference="BANK2"))

    import_statement_file(interim)
    result = import_statement_file(final)

    assert result.statements_created == 1
    assert list(Statement.objects.order_by("pk").values_list("final", flat=True)) == [
        False,
        True,
    ]


def test_bai2_errors_name_the_file_line():
    data = BAI2_QA.format(modifier="2", reference="BANK1").encode()

    with pytest.raises(ParseError) as total:
        bai2.parse(data.replace(b"49,2100000,4/", b"49,2100001,4/"), "total.bai2")
    with pytest.raises(ParseError) as code:
        bai2.parse(data.replace(b"88,PY:INV-1", b",1PY:INV-1"), "code.bai2")
    with pytest.raises(ParseError) as kind:
        bai2.parse(data.replace(b"16,195,", b"16,010,"), "kind.bai2")

    assert (total.value.problems[0].line, total.value.problems[0].field) == (6, "49 control total")
    assert (code.value.problems[0].line, code.value.problems[0].field) == (5, "record code")
    assert "',1PY:INV-1' does not start with a BAI2 record code" in code.value.problems[0].message
    assert kind.value.problems[0].line == 4


def test_bai2_lines_carry_their_file_line():
    (statement,) = bai2.parse(BAI2_QA.format(modifier="2", reference="B").encode(), "qa.bai2")

    assert statement.source_line == 3
    assert [line.source_line for line in statement.lines] == [4]


@pytest.mark.django_db
def test_account_again_with_other_bank_code_is_rejected(make_entity):
    entity = make_entity(code="US1", base_currency="USD", country="US")
    add_bank_account(entity=entity, identifier="0026009593", currency="USD", bank_code="500000102")

    again = add_bank_account(entity=entity, identifier="0026009593", currency="USD")
    with pytest.raises(BankingError) as raised:
        add_bank_account(
            entity=entity, identifier="0026009593", currency="USD", bank_code="071000013"
        )

    assert again.bank_code == "500000102"
    assert raised.value.code == "account_bank_code_differs"
    assert "registered with bank code 500000102, not 071000013" in raised.value.message


def test_bank_code_written_as_people_do():
    assert bank_code_text("GB", "200000") == "20-00-00"
    assert bank_code_text("JP", "0001123") == "0001-123"
    assert bank_code_text("US", "500000102") == "500000102"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("900", "type code 900 is not a BAI2 standard detail code"),
        ("100", "type code 100 (Total Credits) is a summary code"),
    ],
)
def test_bai2_detail_with_other_type_code_is_rejected(code, words):
    data = BAI2_QA.format(modifier="2", reference="B").replace("16,195,", f"16,{code},")

    with pytest.raises(ParseError) as raised:
        bai2.parse(data.encode(), "codes.bai2")

    problem = raised.value.problems[0]
    assert (problem.line, problem.field) == (4, "16 type code")
    assert words in problem.message
