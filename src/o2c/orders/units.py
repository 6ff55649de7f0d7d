"""Units of measure: UN/ECE Recommendation 20 codes, and the X12 codes that map to them.

Products, order lines and invoices carry Rec 20 codes, the ones EN 16931 e-invoices
require (BT-130). The table lists the codes a seller of goods and services commonly
uses, including the "X"-prefixed package codes that Rec 20 takes over from Rec 21.
Extend it when a product needs another code from the published list.
"""

REC20_UNITS = {
    "C62": "one",
    "H87": "piece",
    "EA": "each",
    "PR": "pair",
    "SET": "set",
    "DZN": "dozen",
    "XPK": "package",
    "XBX": "box",
    "XCT": "carton",
    "XCS": "case",
    "XPA": "packet",
    "XRO": "roll",
    "LS": "lump sum",
    "E48": "service unit",
    "MIN": "minute",
    "HUR": "hour",
    "DAY": "day",
    "WEE": "week",
    "MON": "month",
    "ANN": "year",
    "GRM": "gram",
    "KGM": "kilogram",
    "TNE": "tonne",
    "LBR": "pound",
    "MMT": "millimetre",
    "CMT": "centimetre",
    "MTR": "metre",
    "KMT": "kilometre",
    "FOT": "foot",
    "MTK": "square metre",
    "MTQ": "cubic metre",
    "MLT": "millilitre",
    "LTR": "litre",
    "GLL": "gallon (US)",
    "KWH": "kilowatt hour",
}

# Units counted in whole numbers: an order for 2.5 "each" is a typing error.
COUNT_UNITS = frozenset(
    {"C62", "H87", "EA", "PR", "SET", "DZN", "XPK", "XBX", "XCT", "XCS", "XPA", "XRO"}
)

# X12 data element 355 (unit or basis for measurement code) to Rec 20.
X12_TO_REC20 = {
    "EA": "EA",
    "PC": "H87",
    "UN": "C62",
    "PR": "PR",
    "ST": "SET",
    "DZ": "DZN",
    "PK": "XPK",
    "BX": "XBX",
    "CT": "XCT",
    "CA": "XCS",
    "RL": "XRO",
    "LS": "LS",
    "MJ": "MIN",
    "HR": "HUR",
    "DA": "DAY",
    "WK": "WEE",
    "MO": "MON",
    "YR": "ANN",
    "GR": "GRM",
    "KG": "KGM",
    "LB": "LBR",
    "MM": "MMT",
    "CM": "CMT",
    "MR": "MTR",
    "FT": "FOT",
    "ML": "MLT",
    "LT": "LTR",
    "GA": "GLL",
    "KH": "KWH",
}
REC20_TO_X12 = {rec20: x12 for x12, rec20 in X12_TO_REC20.items()}

UNIT_CHOICES = sorted(((code, f"{code} – {name}") for code, name in REC20_UNITS.items()))


def is_known_unit(code: str) -> bool:
    return code in REC20_UNITS
