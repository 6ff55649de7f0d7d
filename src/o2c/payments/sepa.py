"""SEPA direct debit: mandates, scheduled debits, pain.008 collection files, returns.

A customer signs a mandate online, in the portal. Debits are scheduled under it for
chosen invoices, and the customer receives the amount and date beforehand. A collection
file (pain.008.001.02, checked against the ISO 20022 schema before it is stored) sends
the debits to the bank, and each debit's payment is posted to the ledger on its
collection date. A return or rejection reported by the bank (pain.002 status report or
camt.054 notification) reverses that payment, which reopens its invoices.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from lxml import etree
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumError

from o2c.core import dates, money
from o2c.core.errors import O2CError
from o2c.parties.services import record_event
from o2c.payments import signals
from o2c.payments.errors import PaymentError
from o2c.payments.gateways.base import PaymentMethodAdapter
from o2c.payments.models import (
    CollectionFile,
    DirectDebit,
    DirectDebitStatus,
    Gateway,
    Mandate,
    MandateStatus,
    Payment,
    PaymentMethod,
    PaymentSettings,
    PaymentStatus,
    SequenceType,
)
from o2c.payments.services import (
    _create_items,
    lock_customer,
    new_reference,
    plan_items,
    settle_payment,
)
from o2c.payments.transfer import payment_reference

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
PAIN_008 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "pain.008.001.02.xsd"
# A mandate unused for 36 months lapses (SEPA Core rulebook).
MANDATE_LAPSE_MONTHS = 36
# Countries and territories of the SEPA schemes, by the IBAN's country code.
SEPA_COUNTRIES = frozenset(
    [
        "AD",
        "AT",
        "BE",
        "BG",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GB",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "SM",
        "VA",
        "AX",
        "BL",
        "GF",
        "GP",
        "MF",
        "MQ",
        "NC",
        "PF",
        "PM",
        "RE",
        "TF",
        "WF",
        "YT",
        "GG",
        "IM",
        "JE",
    ]
)
# Characters the SEPA schemes carry; anything else is transliterated or replaced.
_SEPA_TEXT = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


class DirectDebitMethod(PaymentMethodAdapter):
    method = "sepa_dd"
    label = "SEPA direct debit"

    def is_available(self, customer, currency: str) -> bool:
        return currency == "EUR" and bool(creditor_id(customer.entity))

    def active_mandate(self, customer) -> Mandate | None:
        return active_mandates(customer).first()


def creditor_id(entity) -> str:
    settings_row = PaymentSettings.objects.filter(entity=entity).first()
    return settings_row.sepa_creditor_id if settings_row else ""


# Letters that Unicode does not decompose into a Latin letter and accents, with a common
# Latin spelling of each in lower case. Capitals take the capitalized spelling. The
# spellings are for reading names, and cannot be converted back.
_LATIN_OF = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
    "ŀ": "l",
    "ŋ": "n",
    "ŧ": "t",
    "ĸ": "k",
    # Greek
    "α": "a",
    "β": "v",
    "γ": "g",
    "δ": "d",
    "ε": "e",
    "ζ": "z",
    "η": "i",
    "θ": "th",
    "ι": "i",
    "κ": "k",
    "λ": "l",
    "μ": "m",
    "ν": "n",
    "ξ": "x",
    "ο": "o",
    "π": "p",
    "ρ": "r",
    "σ": "s",
    "ς": "s",
    "τ": "t",
    "υ": "y",
    "φ": "f",
    "χ": "ch",
    "ψ": "ps",
    "ω": "o",
    # Cyrillic
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ґ": "g",
    "д": "d",
    "ђ": "dj",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "ѕ": "dz",
    "и": "i",
    "і": "i",
    "ј": "j",
    "к": "k",
    "л": "l",
    "љ": "lj",
    "м": "m",
    "н": "n",
    "њ": "nj",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "ћ": "c",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "џ": "dz",
    "ш": "sh",
    "щ": "shch",
    "ъ": "ie",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
}


def _latin(char: str) -> str:
    spelled = _LATIN_OF.get(char.lower())
    if spelled is None:
        return char
    return spelled.capitalize() if char.isupper() else spelled


def sepa_text(text: str, length: int) -> str:
    """Return text in the SEPA character set, at most `length` characters long.

    Accents are dropped, letters of other alphabets are written in Latin letters, and
    any other sign becomes a space.
    """
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(_latin(char) for char in plain if not unicodedata.combining(char))
    plain = unicodedata.normalize("NFKD", plain)
    return " ".join(_SEPA_TEXT.sub(" ", plain).split())[:length]


# Business days of the TARGET2 calendar, on which SEPA debits settle -----------------------


def _easter(year: int) -> dt.date:
    """Return Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def is_target_day(day: dt.date) -> bool:
    """Return whether TARGET2 settles on the day: weekdays but 1 January, Good Friday,
    Easter Monday, 1 May, 25 and 26 December."""
    if day.weekday() >= 5:
        return False
    easter = _easter(day.year)
    closed = {
        dt.date(day.year, 1, 1),
        easter - dt.timedelta(days=2),
        easter + dt.timedelta(days=1),
        dt.date(day.year, 5, 1),
        dt.date(day.year, 12, 25),
        dt.date(day.year, 12, 26),
    }
    return day not in closed


def add_target_days(day: dt.date, count: int) -> dt.date:
    while count > 0:
        day += dt.timedelta(days=1)
        if is_target_day(day):
            count -= 1
    while not is_target_day(day):
        day += dt.timedelta(days=1)
    return day


def earliest_collection_date(entity, today: dt.date | None = None) -> dt.date:
    settings_row = PaymentSettings.objects.filter(entity=entity).first()
    lead_days = settings_row.sepa_lead_days if settings_row else 2
    return add_target_days(today or entity.today(), max(lead_days, 1))


# Mandates ------------------------------------------------------------------------------


def active_mandates(customer):
    return Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE)


def check_account(iban: str, bic: str = "") -> tuple[str, str]:
    """Return the IBAN and BIC in compact form, or raise naming the field that is wrong."""
    try:
        iban = stdnum_iban.validate(iban)
    except StdnumError:
        raise PaymentError(
            "invalid_iban",
            "{iban!r} is not a valid IBAN; check it against your bank details.",
            iban=iban,
        ) from None
    if iban[:2] not in SEPA_COUNTRIES:
        raise PaymentError(
            "iban_outside_sepa",
            "A SEPA direct debit needs an account in the SEPA area; {country} is not in it.",
            country=iban[:2],
        )
    if bic:
        try:
            bic = stdnum_bic.validate(bic)
        except StdnumError:
            raise PaymentError("invalid_bic", "{bic!r} is not a valid BIC.", bic=bic) from None
    return iban, bic


@transaction.atomic
def sign_mandate(
    customer,
    *,
    debtor_name: str,
    iban: str,
    bic: str = "",
    is_recurrent: bool = True,
    portal_user=None,
    ip_address: str | None = None,
    signed_on: dt.date | None = None,
) -> Mandate:
    """Record a mandate the customer signed online, with a new unique mandate reference."""
    entity = customer.entity
    if not creditor_id(entity):
        raise PaymentError(
            "no_creditor_id",
            "{entity} has no SEPA creditor identifier, so it cannot collect by direct debit.",
            entity=entity.name,
        )
    iban, bic = check_account(iban, bic)
    name = sepa_text(debtor_name, 70)
    if not name:
        raise PaymentError("debtor_name", "Enter the name of the account holder.")

    # The reference (UMR) must be unique for the creditor; a clash takes a random suffix.
    # It names the entity once: customer numbers such as DE01-C00001 already carry it.
    # Mandates signed before keep their reference, because the debtor's bank stores it.
    count = Mandate.objects.filter(entity=entity, customer=customer).count()
    if _starts_with_code(customer.number, entity.code):
        stem = sepa_text(customer.number, 28).replace(" ", "")
    else:
        stem = sepa_text(f"{entity.code}-{customer.number}", 28).replace(" ", "")
    reference = f"{stem}-{count + 1:03d}"
    while Mandate.objects.filter(entity=entity, reference=reference).exists():
        reference = f"{stem}-{secrets.token_hex(3).upper()}"

    mandate = Mandate.objects.create(
        entity=entity,
        customer=customer,
        reference=reference,
        debtor_name=name,
        iban=iban,
        bic=bic,
        signed_on=signed_on or entity.today(),
        is_recurrent=is_recurrent,
        next_sequence_type=SequenceType.FIRST if is_recurrent else SequenceType.ONE_OFF,
        signed_ip=ip_address,
        portal_user=portal_user,
    )
    record_event(
        customer,
        "mandate_signed",
        f"SEPA mandate {reference} signed for account ending {iban[-4:]}"
        + (" (recurrent)" if is_recurrent else " (one-off)"),
    )
    return mandate


def _starts_with_code(number: str, code: str) -> bool:
    """Return whether a customer number begins with the entity code, as in DE01-C00001."""
    rest = number[len(code) :]
    return number.upper().startswith(code.upper()) and (not rest or not rest[0].isalnum())


@transaction.atomic
def revoke_mandate(mandate: Mandate, *, reason: str, on: dt.date | None = None) -> Mandate:
    """End a mandate: no further debit is collected under it; scheduled ones are canceled."""
    mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.status != MandateStatus.ACTIVE:
        return mandate
    mandate.status = MandateStatus.REVOKED
    mandate.revoked_on = on or mandate.entity.today()
    mandate.revoked_reason = reason[:200]
    mandate.save(update_fields=["status", "revoked_on", "revoked_reason"])
    for debit in mandate.debits.filter(status=DirectDebitStatus.SCHEDULED).select_related(
        "payment"
    ):
        _cancel_debit(debit, f"mandate {mandate.reference} revoked")
    record_event(
        mandate.customer, "mandate_revoked", f"Mandate {mandate.reference} ended: {reason}"
    )
    return mandate


def _cancel_debit(debit: DirectDebit, reason: str) -> None:
    debit.status = DirectDebitStatus.CANCELED
    debit.save(update_fields=["status"])
    Payment.objects.filter(pk=debit.payment_id).update(
        status=PaymentStatus.CANCELED, failure_reason=reason[:300]
    )


def _is_lapsed(mandate: Mandate, on: dt.date) -> bool:
    from o2c.core.dates import add_months

    last_use = mandate.last_collected_on or mandate.signed_on
    return mandate.last_collected_on is not None and on > add_months(last_use, MANDATE_LAPSE_MONTHS)


# Scheduling debits ---------------------------------------------------------------------


def schedule_debit(
    customer,
    requested,
    *,
    mandate: Mandate | None = None,
    idempotency_key: str,
    portal_user=None,
    actor=None,
    collection_date: dt.date | None = None,
) -> Payment:
    """Schedule a direct debit of the chosen invoices under the customer's active mandate."""
    with transaction.atomic():
        lock_customer(customer)
        existing = Payment.objects.filter(
            customer=customer, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing
        entity = customer.entity
        mandate = mandate or active_mandates(customer).first()
        if mandate is None or mandate.customer_id != customer.pk:
            raise PaymentError(
                "no_mandate", "Sign a SEPA direct debit mandate first to pay by direct debit."
            )
        if mandate.status != MandateStatus.ACTIVE:
            raise PaymentError(
                "mandate_inactive",
                "Mandate {reference} is no longer active.",
                reference=mandate.reference,
            )
        items = plan_items(customer, requested, on=entity.today())
        if items[0].invoice.currency != "EUR":
            raise PaymentError("not_euro", "A SEPA direct debit collects euro amounts only.")
        earliest = earliest_collection_date(entity)
        collection_date = max(collection_date or earliest, earliest)

        payment = Payment.objects.create(
            entity=entity,
            customer=customer,
            reference=new_reference("DD"),
            method=PaymentMethod.DIRECT_DEBIT,
            gateway=Gateway.SEPA,
            amount=sum((item.amount for item in items), ZERO),
            currency="EUR",
            idempotency_key=idempotency_key,
            portal_user=portal_user,
            created_by=actor,
            status=PaymentStatus.SCHEDULED,
        )
        _create_items(payment, items)
        DirectDebit.objects.create(
            payment=payment,
            mandate=mandate,
            collection_date=collection_date,
            end_to_end_id=payment.reference,
        )
        record_event(
            customer,
            "debit_scheduled",
            f"Direct debit {payment.reference} of {money.as_text(payment.amount, 'EUR')} EUR on "
            f"{collection_date} "
            f"under mandate {mandate.reference} for "
            + ", ".join(item.invoice.number for item in items),
            actor=actor,
        )
        transaction.on_commit(
            lambda: signals.debit_scheduled.send(sender=Payment, payment=payment), robust=True
        )
    return payment


# Collection files ----------------------------------------------------------------------


@cache
def pain008_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate_pain008(content: bytes) -> None:
    """Raise PaymentError listing the schema errors of a pain.008.001.02 document."""
    schema = pain008_schema()
    document = etree.fromstring(content)
    if not schema.validate(document):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        raise PaymentError(
            "invalid_pain008",
            "The collection file does not match the schema: {errors}",
            errors=errors,
        )


def create_collection_file(entity, *, collection_date: dt.date, actor=None) -> CollectionFile:
    """Put the scheduled debits due by `collection_date` in one pain.008 file.

    Each debit is collected on the file's date, grouped by sequence type. Its payment
    is marked as sent, and `book_collected_debits` posts it to the ledger on that date.
    A debit whose mandate lapsed or was revoked is canceled instead. A mandate whose
    first (or only) collection is in this file gets no second debit in it: the others
    stay scheduled for the next file. Raises when nothing is due or the date is too
    early for the bank.
    """
    settings_row = PaymentSettings.objects.filter(entity=entity).first()
    if settings_row is None or not settings_row.sepa_creditor_id:
        raise PaymentError(
            "no_creditor_id",
            "Set the SEPA creditor identifier of {entity} first.",
            entity=entity.code,
        )
    if not entity.iban:
        raise PaymentError(
            "no_bank_account",
            "Set the IBAN of {entity} to collect direct debits.",
            entity=entity.code,
        )
    earliest = earliest_collection_date(entity)
    if collection_date < earliest or not is_target_day(collection_date):
        raise PaymentError(
            "collection_date",
            "Direct debits can be collected on a TARGET business day from {earliest} on, "
            "not on {date}.",
            earliest=earliest,
            date=collection_date,
        )
    with transaction.atomic():
        debits = list(
            DirectDebit.objects.select_for_update(of=("self",))
            .filter(
                payment__entity=entity,
                status=DirectDebitStatus.SCHEDULED,
                collection_date__lte=collection_date,
            )
            .select_related("payment", "mandate", "payment__customer")
            .order_by("collection_date", "id")
        )
        collectable = []
        # Mandates already in this file, by the sequence type of their first debit here.
        in_file: dict[int, str] = {}
        for debit in debits:
            mandate = debit.mandate
            if mandate.status != MandateStatus.ACTIVE:
                _cancel_debit(debit, f"mandate {mandate.reference} is {mandate.status}")
            elif _is_lapsed(mandate, collection_date):
                mandate.status = MandateStatus.EXPIRED
                mandate.save(update_fields=["status"])
                _cancel_debit(debit, f"mandate {mandate.reference} unused for 36 months")
            elif _must_wait(mandate, in_file.get(mandate.pk), collection_date):
                # A FRST must be the first collection of its mandate, so a second debit
                # cannot be FRST too. Nor can it be RCUR on or before the FRST's date:
                # banks reject a RCUR whose FRST has not been collected yet. It waits for
                # a file with a later date, where it goes as RCUR. After an OOFF or FNAL
                # the mandate is used up, and the next file cancels the debit.
                logger.info(
                    "Direct debit %s: kept for a later file, after the first collection "
                    "under mandate %s",
                    debit.end_to_end_id,
                    mandate.reference,
                )
            else:
                in_file.setdefault(mandate.pk, _sequence_type(mandate))
                collectable.append(debit)
        if collectable:
            collection_file = _write_file(entity, settings_row, collection_date, collectable, actor)
    # Raised after the transaction, so that the debits canceled above stay canceled.
    if not collectable:
        raise PaymentError(
            "nothing_to_collect",
            "No direct debit of {entity} is scheduled by {date}.",
            entity=entity.code,
            date=collection_date,
        )
    logger.info(
        "Collection file %s: %d debits, %s EUR on %s",
        collection_file.message_id,
        len(collectable),
        collection_file.total_amount,
        collection_date,
    )
    return collection_file


def _must_wait(mandate: Mandate, type_in_file: str | None, collection_date: dt.date) -> bool:
    """Return whether another debit of the mandate must wait for a later file.

    `type_in_file` is the sequence type of the mandate's first debit in this file, if any.
    """
    if type_in_file is not None and type_in_file != SequenceType.RECURRING:
        return True
    return mandate.debits.filter(
        status=DirectDebitStatus.SUBMITTED,
        sequence_type=SequenceType.FIRST,
        collection_date__gte=collection_date,
    ).exists()


def _write_file(entity, settings_row, collection_date, collectable, actor) -> CollectionFile:
    """Write, check and store the pain.008 file of the debits, and mark them sent."""
    message_id = f"{sepa_text(entity.code, 10)}-{timezone.now():%Y%m%d%H%M%S}-" + (
        secrets.token_hex(3).upper()
    )
    message_id = message_id.replace(" ", "")[:35]
    sequences = {}
    for debit in collectable:
        debit.sequence_type = _sequence_type(debit.mandate)
        debit.collection_date = collection_date
        sequences.setdefault(debit.sequence_type, []).append(debit)
    content = _pain008(entity, settings_row, message_id, collection_date, sequences)
    validate_pain008(content)

    total = sum((debit.payment.amount for debit in collectable), ZERO)
    collection_file = CollectionFile.objects.create(
        entity=entity,
        message_id=message_id,
        collection_date=collection_date,
        transaction_count=len(collectable),
        total_amount=total,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=actor,
    )
    for debit in collectable:
        _submit(debit, collection_file, actor)
    return collection_file


def _sequence_type(mandate: Mandate) -> str:
    if not mandate.is_recurrent:
        return SequenceType.ONE_OFF
    if mandate.is_final:
        return SequenceType.FINAL
    return mandate.next_sequence_type


def _submit(debit: DirectDebit, collection_file: CollectionFile, actor) -> None:
    debit.collection_file = collection_file
    debit.status = DirectDebitStatus.SUBMITTED
    debit.payment_information_id = _payment_information_id(
        collection_file.message_id, debit.sequence_type
    )
    debit.save(
        update_fields=[
            "collection_file",
            "status",
            "sequence_type",
            "collection_date",
            "payment_information_id",
        ]
    )
    mandate = debit.mandate
    mandate.last_collected_on = debit.collection_date
    mandate.original_iban = ""
    if debit.sequence_type == SequenceType.ONE_OFF or debit.sequence_type == SequenceType.FINAL:
        mandate.status = MandateStatus.USED
    else:
        mandate.next_sequence_type = SequenceType.RECURRING
    mandate.save(
        update_fields=["last_collected_on", "original_iban", "status", "next_sequence_type"]
    )
    payment = debit.payment
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.SUBMITTED, updated_at=timezone.now()
    )
    record_event(
        payment.customer,
        "debit_submitted",
        f"Direct debit {payment.reference} of {money.as_text(payment.amount, 'EUR')} EUR "
        f"sent to the bank for collection on {debit.collection_date} ({debit.sequence_type})",
        actor=actor,
    )


def book_collected_debits(now: dt.datetime | None = None) -> int:
    """Post the direct debits sent to the bank whose collection date has come.

    Each payment is posted on its collection date, in its entity's calendar, which is
    when the money reaches the creditor. Posting sends the customer's receipt, so no
    receipt goes out before the money is collected. A debit rejected or returned before
    then is not posted at all. Returns how many payments were posted.
    """
    now = now or timezone.now()
    # No entity's calendar is more than a day ahead of UTC, so later dates need no look.
    latest = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    due = (
        DirectDebit.objects.filter(
            status=DirectDebitStatus.SUBMITTED,
            payment__status=PaymentStatus.SUBMITTED,
            payment__document__isnull=True,
            collection_date__lte=latest,
        )
        .select_related("payment__entity")
        .order_by("collection_date", "id")
    )
    booked = 0
    for debit in due:
        entity = debit.payment.entity
        if debit.collection_date > dates.local_date(entity.time_zone, now):
            continue
        try:
            with transaction.atomic():
                locked = (
                    DirectDebit.objects.select_for_update(of=("self",))
                    .select_related("payment")
                    .get(pk=debit.pk)
                )
                if locked.status != DirectDebitStatus.SUBMITTED:
                    continue
                settle_payment(locked.payment, paid_on=locked.collection_date)
        except O2CError as error:
            # The next run tries again; the other debits are posted meanwhile.
            logger.error(
                "Direct debit %s: not posted on %s: %s",
                debit.end_to_end_id,
                debit.collection_date,
                error.message,
            )
            continue
        booked += 1
    if booked:
        logger.info("Direct debits: %d collected payments posted", booked)
    return booked


def _payment_information_id(message_id: str, sequence_type: str) -> str:
    return f"{message_id[:30]}-{sequence_type}"


def _element(parent, tag: str, text=None, **attributes):
    node = etree.SubElement(parent, f"{{{PAIN_008}}}{tag}", **attributes)
    if text is not None:
        node.text = str(text)
    return node


def _path(parent, tags: str, text=None):
    """Create nested elements "A/B/C" under parent and set the text of the last one."""
    node = parent
    for tag in tags.split("/"):
        node = _element(node, tag)
    if text is not None:
        node.text = str(text)
    return node


def _agent(parent, tag: str, bic: str) -> None:
    institution = _path(parent, f"{tag}/FinInstnId")
    if bic:
        _element(institution, "BIC", bic)
    else:
        _path(institution, "Othr/Id", "NOTPROVIDED")


def _pain008(entity, settings_row, message_id, collection_date, sequences) -> bytes:
    root = etree.Element(f"{{{PAIN_008}}}Document", nsmap={None: PAIN_008})
    initiation = _element(root, "CstmrDrctDbtInitn")
    all_debits = [debit for debits in sequences.values() for debit in debits]
    header = _element(initiation, "GrpHdr")
    _element(header, "MsgId", message_id)
    _element(header, "CreDtTm", timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    _element(header, "NbOfTxs", len(all_debits))
    _element(
        header, "CtrlSum", money.as_text(sum((d.payment.amount for d in all_debits), ZERO), "EUR")
    )
    _path(header, "InitgPty/Nm", sepa_text(entity.name, 70))

    for sequence_type, debits in sequences.items():
        block = _element(initiation, "PmtInf")
        _element(block, "PmtInfId", _payment_information_id(message_id, sequence_type))
        _element(block, "PmtMtd", "DD")
        _element(block, "BtchBookg", "true")
        _element(block, "NbOfTxs", len(debits))
        _element(
            block, "CtrlSum", money.as_text(sum((d.payment.amount for d in debits), ZERO), "EUR")
        )
        payment_type = _element(block, "PmtTpInf")
        _path(payment_type, "SvcLvl/Cd", "SEPA")
        _path(payment_type, "LclInstrm/Cd", settings_row.sepa_local_instrument)
        _element(payment_type, "SeqTp", sequence_type)
        _element(block, "ReqdColltnDt", collection_date.isoformat())
        _path(block, "Cdtr/Nm", sepa_text(entity.name, 70))
        _path(block, "CdtrAcct/Id/IBAN", stdnum_iban.compact(entity.iban))
        _agent(block, "CdtrAgt", stdnum_bic.compact(entity.bic) if entity.bic else "")
        _element(block, "ChrgBr", "SLEV")
        scheme = _path(block, "CdtrSchmeId/Id/PrvtId/Othr")
        _element(scheme, "Id", at_02.compact(settings_row.sepa_creditor_id))
        _path(scheme, "SchmeNm/Prtry", "SEPA")
        for debit in debits:
            _transaction(block, debit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _transaction(block, debit: DirectDebit) -> None:
    payment, mandate = debit.payment, debit.mandate
    node = _element(block, "DrctDbtTxInf")
    _path(node, "PmtId/EndToEndId", debit.end_to_end_id)
    _element(node, "InstdAmt", money.as_text(payment.amount, "EUR"), Ccy="EUR")
    mandate_info = _path(node, "DrctDbtTx/MndtRltdInf")
    _element(mandate_info, "MndtId", mandate.reference)
    _element(mandate_info, "DtOfSgntr", mandate.signed_on.isoformat())
    _element(mandate_info, "AmdmntInd", "true" if mandate.original_iban else "false")
    if mandate.original_iban:
        _path(mandate_info, "AmdmntInfDtls/OrgnlDbtrAcct/Id/IBAN", mandate.original_iban)
    _agent(node, "DbtrAgt", mandate.bic)
    _path(node, "Dbtr/Nm", mandate.debtor_name)
    _path(node, "DbtrAcct/Id/IBAN", mandate.iban)
    items = list(payment.items.select_related("invoice"))
    remittance = _element(node, "RmtInf")
    reference, structured = (
        payment_reference(items[0].invoice.number) if len(items) == 1 else ("", False)
    )
    if structured:
        creditor_reference = _path(remittance, "Strd/CdtrRefInf")
        kind = _path(creditor_reference, "Tp/CdOrPrtry/Cd", "SCOR")
        _element(kind.getparent().getparent(), "Issr", "ISO")
        _element(creditor_reference, "Ref", reference)
    else:
        numbers = ", ".join(item.invoice.number for item in items)
        _element(remittance, "Ustrd", sepa_text(f"{payment.reference} {numbers}", 140))


def change_mandate_account(mandate: Mandate, *, iban: str, bic: str = "") -> Mandate:
    """Move a mandate to another account of the debtor; the next debit reports the change."""
    iban, bic = check_account(iban, bic)
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if iban == mandate.iban:
            return mandate
        if not mandate.original_iban:
            mandate.original_iban = mandate.iban
        mandate.iban, mandate.bic = iban, bic
        mandate.save(update_fields=["iban", "bic", "original_iban"])
        record_event(
            mandate.customer,
            "mandate_changed",
            f"Mandate {mandate.reference} moved to the account ending {iban[-4:]}",
        )
    return mandate
