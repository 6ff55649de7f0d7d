"""Template tags of portal pages: amounts, dates and sentences in the reader's language.

Each tag reads the language from the page context (`lang`), set by every portal view.
"""

from django import template

from o2c.portal.formatting import amount_input, date_text, money_text, price_text
from o2c.portal.statement import line_label
from o2c.portal.texts import words

register = template.Library()


@register.simple_tag(takes_context=True)
def money(context, amount, currency):
    return money_text(amount, currency, context.get("lang", "en"))


@register.simple_tag(takes_context=True)
def price(context, amount, currency):
    """Write a unit price, keeping decimals beyond the currency's (0.333 EUR)."""
    return price_text(amount, currency, context.get("lang", "en"))


@register.simple_tag(takes_context=True)
def input_amount(context, amount, currency):
    """Write an amount as the value of a form field, in the form that the portal parses."""
    return amount_input(amount, currency, context.get("lang", "en"))


@register.simple_tag(takes_context=True)
def statement_label(context, line):
    return line_label(line, context.get("lang", "en"))


@register.simple_tag(takes_context=True)
def day(context, value):
    return date_text(value, context.get("lang", "en"))


@register.simple_tag(takes_context=True)
def say(context, key, **values):
    """Return the sentence `key` in the page's language with its placeholders filled."""
    return words(context.get("lang", "en"))[key].format(**values)


@register.filter
def lookup(mapping, key):
    return mapping.get(key, "") if mapping else ""
