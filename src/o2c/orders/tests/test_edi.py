"""X12 850 purchase orders in, 855 acknowledgments out, with real and hand-made files."""

from decimal import Decimal

import pytest
from x12 import parse_x12_interchange, tokenize_x12

from o2c.imports.models import ImportRun
from o2c.orders.edi import EdiError, receive_850
from o2c.orders.models import (
    CustomerProductCode,
    EdiInterchange,
    Order,
    OrderStatus,
    PriceList,
    PriceListItem,
    Product,
    TradingPartner,
)
from o2c.paths import SHIPPED_DATA_DIR

pytestmark = pytest.mark.django_db

EDI_DIR = SHIPPED_DATA_DIR / "edi"


def _read(name: str) -> bytes:
    return (EDI_DIR / name).read_bytes()


def _segments(acknowledgment: str) -> list[list[str]]:
    return [segment.strip().split("*") for segment in acknowledgment.split("~") if segment.strip()]


@pytest.fixture
def pgw(entity, make_customer, rates_today):
    """The buyer of the PGW Glass sample, with its part numbers mapped to our products."""
    customer = make_customer(entity, number="PGW", currency="USD")
    TradingPartner.objects.create(
        customer=customer,
        interchange_qualifier="01",
        interchange_id="828513080",
        our_qualifier="01",
        our_id="001903202U",
    )
    price_list = PriceList.objects.create(entity=entity, code="USD", name="USD", currency="USD")
    for code, name, price in [
        ("0459001004", "Fuse FNA-4/10", "5.09"),
        ("0650002027", "Lamp 200W", "63.11"),
        ("0670104514", "DIN rail 3 ft", "8.02"),
        ("0684202074", "Proximity switch", "85.25"),
    ]:
        product = Product.objects.create(entity=entity, code=f"P-{code}", name=name, unit="EA")
        CustomerProductCode.objects.create(customer=customer, code=code, product=product)
        PriceListItem.objects.create(
            price_list=price_list, product=product, unit_price=Decimal(price)
        )
    return customer


def test_real_850_creates_order_and_855(pgw):
    # when the PGW Glass purchase order S41000439 is received
    result = receive_850(_read("x12_850_Example1_PGWGlass.edi"), "pgw.edi")

    # then one order with its four lines exists, priced as the buyer expected
    assert result.accepted, result.problems
    assert result.created == 1
    order = result.orders[0]
    assert order.customer == pgw
    assert order.channel == "edi"
    assert order.customer_reference == "S41000439"
    assert str(order.order_date) == "2010-08-10"
    assert order.currency == "USD"
    assert order.net_amount == Decimal("884.06")
    lines = list(order.lines.order_by("line_number"))
    assert [line.quantity for line in lines] == [
        Decimal("5"),
        Decimal("12"),
        Decimal("2"),
        Decimal("1"),
    ]
    assert [line.buyer_line_reference for line in lines] == ["1", "2", "3", "4"]
    assert lines[0].description == "FUSE, BUSSMAN FNA-4/10"
    assert str(lines[0].requested_on) == "2010-08-20"
    assert order.status == OrderStatus.RELEASED

    # and the 855 is a well-formed interchange acknowledging each line
    parsed = parse_x12_interchange(tokenize_x12(result.acknowledgment.encode()))
    assert parsed.groups[0].transactions[0].transaction_set_code == b"855"
    segments = _segments(result.acknowledgment)
    bak = next(segment for segment in segments if segment[0] == "BAK")
    assert bak[1:5] == ["00", "AD", "S41000439", "20100810"]
    assert bak[8] == order.number
    acks = [segment for segment in segments if segment[0] == "ACK"]
    assert acks == [
        ["ACK", "IA", "5", "EA"],
        ["ACK", "IA", "12", "EA"],
        ["ACK", "IA", "2", "EA"],
        ["ACK", "IA", "1", "EA"],
    ]
    isa = segments[0]
    assert isa[6].strip() == "001903202U"
    assert isa[8].strip() == "828513080"


def test_same_interchange_twice_creates_nothing_more(pgw):
    first = receive_850(_read("x12_850_Example1_PGWGlass.edi"), "pgw.edi")

    second = receive_850(_read("x12_850_Example1_PGWGlass.edi"), "pgw-again.edi")

    assert Order.objects.count() == 1
    assert second.acknowledgment == first.acknowledgment
    assert [order.pk for order in second.orders] == [first.orders[0].pk]


def test_second_real_850_with_vendor_part_numbers(entity, make_customer, rates_today):
    # given the aojuk sample's buyer, whose lines name our item numbers (VP)
    customer = make_customer(entity, number="DEMO", currency="USD")
    TradingPartner.objects.create(
        customer=customer,
        interchange_qualifier="ZZ",
        interchange_id="SITESTUFFP2P",
        our_qualifier="ZZ",
        our_id="SUPPLIERID",
    )
    price_list = PriceList.objects.create(entity=entity, code="USD", name="USD", currency="USD")
    pack = Product.objects.create(entity=entity, code="123456", name="Pack", unit="XPK")
    each = Product.objects.create(entity=entity, code="654321", name="Unit", unit="EA")
    PriceListItem.objects.create(price_list=price_list, product=pack, unit_price=Decimal("10.98"))
    PriceListItem.objects.create(price_list=price_list, product=each, unit_price=Decimal("219"))

    result = receive_850(_read("x12_850_From_aojuk.edi"), "aojuk.edi")

    assert result.accepted, result.problems
    order = result.orders[0]
    assert order.customer_reference == "6190"
    assert order.net_amount == Decimal("229.98")
    assert [line.unit for line in order.lines.order_by("line_number")] == ["XPK", "EA"]


def test_real_850_wrong_total_rejected(entity, make_customer, rates_today):
    # given the Adobe sample, whose AMT*TT states 12 for a 665.00 order
    customer = make_customer(entity, number="ADOBE", currency="USD")
    TradingPartner.objects.create(
        customer=customer,
        interchange_qualifier="01",
        interchange_id="000000000",
        our_qualifier="16",
        our_id="102096559TEST",
    )
    product = Product.objects.create(entity=entity, code="64113730AD01A00", name="Licence")
    CustomerProductCode.objects.create(customer=customer, code="12345678", product=product)
    price_list = PriceList.objects.create(entity=entity, code="USD", name="USD", currency="USD")
    PriceListItem.objects.create(price_list=price_list, product=product, unit_price=Decimal("665"))

    result = receive_850(_read("x12_850_Example2_Adobe_TLP.edi"), "adobe.edi")

    assert not result.accepted
    assert [(problem.field, problem.message) for problem in result.problems] == [
        ("PO TLP-X12, AMT02", "order total 12 is not Σ quantity × price (665)")
    ]
    assert Order.objects.count() == 0
    bak = next(s for s in _segments(result.acknowledgment) if s[0] == "BAK")
    assert bak[2] == "RJ"


def test_malformed_real_interchange_gets_clear_error(pgw):
    # the Adobe CLP sample's ISA has a 14-character sender id, so ISA is not 106 bytes
    with pytest.raises(EdiError) as raised:
        receive_850(_read("x12_850_Example3_Adobe_CLP.edi"), "clp.edi")
    assert raised.value.code == "edi_unreadable"
    assert raised.value.message.startswith("clp.edi is not a valid X12 interchange: ISA segment")
    assert Order.objects.count() == 0


def _interchange(
    po1_lines: list[str], *, ctt: str | None = None, beg="BEG*00*SA*PO-77**20270301"
) -> bytes:
    body = [beg, "CUR*BY*USD", *po1_lines, f"CTT*{ctt if ctt is not None else len(po1_lines)}"]
    transaction = ["ST*850*0001", *body, f"SE*{len(body) + 2}*0001"]
    segments = [
        "ISA*00*          *00*          *01*828513080      *01*001903202U     "
        "*270301*1200*U*00401*000000001*0*T*>",
        "GS*PO*828513080*001903202U*20270301*1200*1*X*004010",
        *transaction,
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return "~\n".join(segments).encode() + b"~\n"


def test_bad_850_names_line_and_element(pgw):
    # given an 850 with an unknown part, an unknown unit and a wrong price
    data = _interchange(
        [
            "PO1*1*5*EA*5.09**BP*0459001004",
            "PO1*2*1*EA*1.00**BP*UNKNOWN",
            "PO1*3*2*ZZ*8.02**BP*0670104514",
            "PO1*4*1*EA*80.00**BP*0684202074",
        ]
    )

    result = receive_850(data, "bad.edi")

    # then every problem names the PO, the PO1 line, the element and the segment
    assert not result.accepted
    assert [(p.line, p.field) for p in result.problems] == [
        (7, "PO PO-77, PO1 line 2, PO106-PO107"),
        (8, "PO PO-77, PO1 line 3, PO103"),
        (9, "PO PO-77, PO1 line 4, PO104"),
    ]
    assert result.problems[1].message == "'ZZ' is not a UN/ECE Rec 20 unit code."
    assert Order.objects.count() == 0
    assert ImportRun.objects.get().status == "rejected"
    interchange = EdiInterchange.objects.get()
    assert not interchange.accepted
    # and the 855 rejects the PO with detail: bad lines IR, good ones IA
    segments = _segments(result.acknowledgment)
    assert next(s for s in segments if s[0] == "BAK")[2] == "RD"
    assert [s[1] for s in segments if s[0] == "ACK"] == ["IA", "IR", "IR", "IR"]


def test_wrong_line_count_is_reported(pgw):
    data = _interchange(["PO1*1*5*EA*5.09**BP*0459001004"], ctt="2")

    result = receive_850(data, "count.edi")

    assert not result.accepted
    assert [(p.field, p.message) for p in result.problems] == [
        ("PO PO-77, CTT01", "says 2 line(s) but the order has 1")
    ]


def test_change_order_purpose_is_rejected(pgw):
    data = _interchange(["PO1*1*5*EA*5.09**BP*0459001004"], beg="BEG*04*SA*PO-77**20270301")

    result = receive_850(data, "cancel.edi")

    assert not result.accepted
    assert result.problems[0].field == "BEG01"


def test_unknown_sender_is_rejected(db):
    with pytest.raises(EdiError) as raised:
        receive_850(_interchange(["PO1*1*5*EA*5.09**BP*0459001004"]), "who.edi")
    assert raised.value.code == "edi_unknown_partner"
    assert "828513080" in raised.value.message


def test_sender_outside_person_scope_looks_unknown(pgw, entity, make_customer, make_user):
    other = make_user("sam", entity=entity, role="member", customers=[make_customer(entity)])

    with pytest.raises(EdiError) as raised:
        receive_850(_read("x12_850_Example1_PGWGlass.edi"), "pgw.edi", actor=other)

    assert raised.value.code == "edi_unknown_partner"
    assert Order.objects.count() == 0


def test_invalid_order_date_is_reported_once_in_x12_terms(pgw):
    # given BEG05 with month 13, and lines that request delivery on a valid date
    data = _interchange(
        ["PO1*1*5*EA*5.09**BP*0459001004", "DTM*002*20100820"],
        ctt="1",
        beg="BEG*00*SA*PO-77**20101340",
    )

    result = receive_850(data, "date.edi")

    # then only the bad date is reported, at its BEG segment, as CCYYMMDD
    assert not result.accepted
    assert [(p.line, p.field, p.message) for p in result.problems] == [
        (4, "PO PO-77, BEG05", "'20101340' is not a date in the X12 form CCYYMMDD")
    ]


def test_invalid_line_date_names_its_dtm_segment(pgw):
    data = _interchange(["PO1*1*5*EA*5.09**BP*0459001004", "DTM*002*20270231"], ctt="1")

    result = receive_850(data, "date.edi")

    assert [(p.line, p.field, p.message) for p in result.problems] == [
        (7, "PO PO-77, PO1 line 1, DTM02", "'20270231' is not a date in the X12 form CCYYMMDD")
    ]
