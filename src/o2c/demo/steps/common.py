"""Helpers of the demo steps: the generated entities, their people, seeded randomness."""

import datetime as dt
import random
from contextlib import contextmanager
from unittest import mock

from django.contrib.auth import get_user_model

from o2c.demo.generator import ENTITY_TEMPLATES
from o2c.parties.models import Customer, LegalEntity

GENERATED_CODES = [template.code for template in ENTITY_TEMPLATES]


def demo_entities() -> list[LegalEntity]:
    """Return the entities of the generated ledger (not the imported IBM history)."""
    return list(LegalEntity.objects.filter(code__in=GENERATED_CODES).order_by("pk"))


def person(entity: LegalEntity, role: str):
    """Return a demo person of the entity, e.g. person(entity, "credit") is credit.de01."""
    return get_user_model().objects.get(username=f"{role}.{entity.code.lower()}")


def randomness(entity: LegalEntity, purpose: str) -> random.Random:
    """Return a random generator seeded by entity and purpose, so each run picks alike."""
    return random.Random(f"{entity.code}:{purpose}")


def home_customers(entity: LegalEntity):
    """Return the entity's customers billed in its base currency, by number.

    The shipped ECB rates end in the past, and o2c refuses rates older than ten days,
    so today's steps use base-currency customers, whose amounts need no conversion.
    """
    return Customer.objects.filter(entity=entity, currency=entity.base_currency).order_by("number")


@contextmanager
def clock_at(instant: dt.datetime):
    """Run services as if it were `instant`, to record what a person did on a past day.

    Every service reads the time through django.utils.timezone.now, so their checks
    (a promise may not be dated before today, for instance) apply to that day.
    """
    with mock.patch("django.utils.timezone.now", return_value=instant):
        yield
