"""Billing templates use the shared money filters under their old library name."""

from django import template

from o2c.core.templatetags.money import amount, number

register = template.Library()
register.filter("amount", amount)
register.filter("number", number)
