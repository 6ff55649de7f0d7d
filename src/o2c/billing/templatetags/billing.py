"""Billing templates use the shared money filters under their old library name."""

from django import template

from o2c.billing.documents.common import einvoice_problems
from o2c.core.templatetags.money import amount, number

register = template.Library()
register.filter("amount", amount)
register.filter("number", number)


@register.filter
def has_einvoice(document) -> bool:
    """Return whether a UBL and Factur-X e-invoice can be made of the document."""
    return not einvoice_problems(document)
