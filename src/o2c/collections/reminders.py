"""Reminder texts: one template per language, personalised for each customer.

The shipped templates (templates/collections/reminders/<language>.txt) cover English,
French, German and Spanish; their first line is the subject. An entity may replace the
text of one tone and language with a `ReminderTemplate`. Other languages fall back to
English. Amounts are formatted for the language with Babel; dates are printed as
ISO 8601 calendar dates, exactly as stored, so a due date never shifts by a time zone.
"""

import datetime as dt
from decimal import Decimal

from babel.numbers import format_currency
from django.template import Context, Engine
from django.template.loader import get_template

from o2c.collections.models import SUPPORTED_LANGUAGES, ReminderTemplate
from o2c.core.errors import O2CError
from o2c.ledger.references import creditor_reference

SUBJECT_PREFIX = "Subject:"


def reminder_language(*candidates: str) -> str:
    """Return the first supported language among the candidates, else English."""
    for candidate in candidates:
        code = (candidate or "").strip().lower()[:2]
        if code in SUPPORTED_LANGUAGES:
            return code
    return "en"


def money_text(amount: Decimal, currency: str, language: str) -> str:
    return format_currency(amount, currency, locale=language, currency_digits=True)


def pay_reference(number: str) -> str:
    """Return the RF creditor reference of an invoice number, or the number itself."""
    try:
        return creditor_reference(number)
    except O2CError:
        return number


def item_lines(items, currency: str, language: str) -> list[dict]:
    return [
        {
            "number": item["number"],
            "document_date": item["document_date"].isoformat(),
            "due_date": item["due_date"].isoformat(),
            "days_past_due": item["days_past_due"],
            "open_amount": money_text(item["amount"], currency, language),
            "reference": pay_reference(item["number"]),
        }
        for item in items
    ]


def template_overrides(entity) -> dict[tuple[str, str], ReminderTemplate]:
    return {
        (template.tone, template.language): template
        for template in ReminderTemplate.objects.filter(entity=entity)
    }


def render_reminder(
    *,
    entity,
    tone: str,
    language: str,
    customer_name: str,
    contact_name: str,
    items: list[dict],
    currency: str,
    total_due: Decimal,
    fee: Decimal,
    interest: Decimal,
    behaviour: str,
    as_of: dt.date,
    overrides: dict | None = None,
) -> tuple[str, str]:
    """Return (subject, body) of a reminder.

    `overrides` maps (tone, language) to the entity's templates, when the caller has
    loaded them once for many reminders; otherwise they are looked up here.
    """
    lines = item_lines(items, currency, language)
    context = {
        "tone": tone,
        "behaviour": behaviour,
        "entity_name": entity.name,
        "customer_name": customer_name,
        "contact_name": contact_name or customer_name,
        "items": lines,
        "currency": currency,
        "total_due": money_text(total_due, currency, language),
        "fee": money_text(fee, currency, language) if fee else "",
        "interest": money_text(interest, currency, language) if interest else "",
        "pay_reference": lines[0]["reference"] if lines else "",
        "as_of": as_of.isoformat(),
    }
    if overrides is None:
        overrides = template_overrides(entity)
    override = overrides.get((tone, language))
    if override is not None:
        engine = Engine.get_default()
        subject = engine.from_string(override.subject).render(Context(context, autoescape=False))
        body = engine.from_string(override.body).render(Context(context, autoescape=False))
        return subject.strip(), body.strip() + "\n"
    text = get_template(f"collections/reminders/{language}.txt").render(context)
    first, _, body = text.lstrip().partition("\n")
    subject = first.removeprefix(SUBJECT_PREFIX).strip()
    return subject, body.strip() + "\n"
