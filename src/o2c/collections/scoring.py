"""Probability of loss for the collector's worklist, from a pluggable model.

The worklist asks a loss model for each customer's probability of not paying what is
overdue. The model is, in order: the class named by the O2C_LOSS_MODEL setting; the
`loss_model()` factory of `o2c.insights.scoring` when the insights app is installed;
else the transparent heuristic below. A model returns a probability and the reasons
behind it, which the worklist shows.
"""

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
from typing import Protocol

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Probability of loss by the age of the oldest overdue item (days past due, at most).
AGE_PROBABILITIES = [
    (30, Decimal("0.05")),
    (60, Decimal("0.10")),
    (90, Decimal("0.20")),
    (120, Decimal("0.35")),
]
OVER_120_PROBABILITY = Decimal("0.50")
BEHAVIOUR_FACTORS = {
    "good": Decimal("0.6"),
    "regular": Decimal("1.0"),
    "late": Decimal("1.5"),
    "new": Decimal("1.2"),
}
MAX_PROBABILITY = Decimal("0.95")


LOSS_MEASURE = "probability of loss"


@dataclass
class CustomerFacts:
    """What the worklist knows of a customer, for a loss model to read."""

    customer_id: int
    oldest_days_past_due: int
    overdue_base: Decimal
    behaviour: dict = field(default_factory=dict)


@dataclass
class LossEstimate:
    probability: Decimal
    reasons: list[str]
    model: str
    # The event the probability is of, in words, because a model may estimate a nearer one.
    measure: str = LOSS_MEASURE


class LossModel(Protocol):
    name: str

    def estimate(self, facts: list[CustomerFacts], as_of) -> dict[int, LossEstimate]: ...


class HeuristicLossModel:
    """Age of the oldest overdue item, scaled by the customer's payment behaviour."""

    name = "heuristic"

    def estimate(self, facts: list[CustomerFacts], as_of) -> dict[int, LossEstimate]:
        return {fact.customer_id: self._one(fact) for fact in facts}

    def _one(self, fact: CustomerFacts) -> LossEstimate:
        base = next(
            (p for limit, p in AGE_PROBABILITIES if fact.oldest_days_past_due <= limit),
            OVER_120_PROBABILITY,
        )
        behaviour = fact.behaviour.get("class", "new")
        factor = BEHAVIOUR_FACTORS.get(behaviour, Decimal(1))
        probability = min(base * factor, MAX_PROBABILITY).quantize(Decimal("0.001"))
        reasons = [
            f"oldest item {fact.oldest_days_past_due} days past due: base {base}",
            f"{behaviour} payer"
            + (
                f" ({fact.behaviour.get('late', 0)} of {fact.behaviour.get('settled', 0)} "
                "paid late in the last year)"
                if fact.behaviour.get("settled")
                else ""
            )
            + f": × {factor}",
        ]
        return LossEstimate(probability, reasons, self.name)


def loss_model() -> LossModel:
    """Return the loss model in force (see the module docstring for the order)."""
    configured = getattr(settings, "O2C_LOSS_MODEL", "")
    if configured:
        return import_string(configured)()
    if apps.is_installed("o2c.insights"):
        try:
            factory = getattr(import_module("o2c.insights.scoring"), "loss_model", None)
        except ImportError:
            factory = None
        if factory is not None:
            return factory()
        logger.warning("Insights is installed but has no o2c.insights.scoring.loss_model")
    return HeuristicLossModel()
