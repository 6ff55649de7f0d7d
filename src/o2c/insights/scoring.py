"""Behavioural credit score: 0-1000 from the risk of the customer's next invoice.

score = 1000 × (1 − probability that a typical next invoice of the customer is paid
more than N days late), rounded. The probability comes from the late-risk model when
it beat its baselines, or else from the transparent rule (the customer's share of
invoices paid late, shrunk towards the entity's share while their history is short).

Grades: A 800-1000, B 650-799, C 500-649, D 350-499, E below 350.

Each score keeps the history figures behind it. When a score moves by at least
`NOTE_POINTS` or changes grade, a note names the figures that changed and the customer's
timeline records it; when it falls by at least `FALL_POINTS` or loses a grade, it is
flagged for a credit review, and a credit team of the entity gets a work item.
"""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from o2c.insights.models import CustomerScore, Method
from o2c.parties.models import Customer, TimelineEvent
from o2c.teams.models import OPEN_WORK_STATES, Team, TeamFunction, WorkItem, WorkKind
from o2c.teams.services import create_work_item

GRADES = [(800, "A"), (650, "B"), (500, "C"), (350, "D"), (0, "E")]
NOTE_POINTS = 50
FALL_POINTS = 100
FIGURES = [
    "history_count",
    "share_late",
    "recent_mean_days_late",
    "weighted_days_late",
    "open_past_due_count",
    "open_max_days_past_due",
    "open_disputes",
    "broken_promises",
    "days_since_payment",
    "recent_invoice_count",
]
# Figures that move with the calendar alone: named only when no history figure changed.
CALENDAR_FIGURES = [
    ("days_since_payment", "days since the last payment", 7),
    ("recent_invoice_count", "invoices in the last 90 days", 1),
]


def grade_of(score: int) -> str:
    for floor, grade in GRADES:
        if score >= floor:
            return grade
    return GRADES[-1][1]


def score_of(probability: float) -> int:
    return max(0, min(1000, round(1000 * (1 - probability))))


def _figure(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 3)


def what_changed(
    previous: CustomerScore, score: int, grade: str, figures: dict, version_id=None
) -> str:
    """Return a note naming the score move and the history figures that changed.

    When none changed, the note names what did: the model version (`version_id` is the
    current one), or figures that move with the calendar.
    """
    head = f"Score {previous.score} → {score}"
    if previous.grade != grade:
        head += f" (grade {previous.grade} → {grade})"
    old = previous.figures or {}
    changes = []
    settled = (figures.get("history_count") or 0) - (old.get("history_count") or 0)
    if settled > 0:
        changes.append(f"{round(settled)} more invoice{'s' if settled != 1 else ''} settled")
    pairs = [
        ("share_late", "share paid late", lambda v: f"{round(v * 100)} %", 0.02),
        ("recent_mean_days_late", "recent days late", lambda v: f"{v:.0f}", 1.0),
        ("open_past_due_count", "invoices past due", lambda v: f"{v:.0f}", 0.5),
        ("open_max_days_past_due", "oldest past due (days)", lambda v: f"{max(v, 0):.0f}", 1.0),
        ("open_disputes", "open disputes", lambda v: f"{v:.0f}", 0.5),
        ("broken_promises", "broken promises (90 days)", lambda v: f"{v:.0f}", 0.5),
    ]
    for key, label, shown, threshold in pairs:
        before, after = old.get(key), figures.get(key)
        if before is None and after is None:
            continue
        if before is None or after is None or abs(after - before) >= threshold:
            before_text = "none" if before is None else shown(before)
            after_text = "none" if after is None else shown(after)
            changes.append(f"{label} {before_text} → {after_text}")
    since = f" since {previous.scored_on:%Y-%m-%d}"
    if not changes:
        changes = _other_changes(previous, figures, version_id)
    return f"{head}{since}: " + "; ".join(changes) + "."


def _other_changes(previous: CustomerScore, figures: dict, version_id) -> list[str]:
    """Name what moved a score whose history figures stayed the same."""
    old = previous.figures or {}
    found = []
    if previous.model_version_id != version_id:
        found.append("scored by another model version")
    for key, label, threshold in CALENDAR_FIGURES:
        before, after = old.get(key), figures.get(key)
        if before is not None and after is not None and abs(after - before) >= threshold:
            found.append(f"{label} {before:.0f} → {after:.0f}")
    if not found:
        found.append(
            "no recorded figure changed; other inputs moved, such as how late all customers "
            "pay now and the time of year"
        )
    return found


def score_customers(entity, as_of: dt.date, planned, version, model) -> tuple[int, int]:
    """Store today's score of each customer predicted in `planned`; return (stored, flagged).

    Writes in bulk: one query for the previous scores, one delete and one insert for
    today's, one insert for the timeline notes, then one work item per newly flagged
    customer. Call inside a transaction.
    """
    customer_ids = [prediction.customer_id for prediction in planned]
    previous = {}
    for row in (
        CustomerScore.objects.filter(customer_id__in=customer_ids, scored_on__lt=as_of)
        .order_by("customer_id", "-scored_on")
        .only("customer_id", "score", "grade", "figures", "scored_on", "model_version")
    ):
        previous.setdefault(row.customer_id, row)

    method = (
        Method.MODEL if model.fitted is not None and model.use_late_risk else Method.TRANSPARENT
    )
    current_version = version.pk if version is not None and method == Method.MODEL else None
    scores, events, flagged_ids = [], [], []
    now = timezone.now()
    for prediction in planned:
        score = score_of(prediction.probability)
        grade = grade_of(score)
        figures = {name: _figure(prediction.values.get(name)) for name in FIGURES}
        before = previous.get(prediction.customer_id)
        note, flagged = "", False
        if before is not None:
            moved = abs(score - before.score) >= NOTE_POINTS or before.grade != grade
            if moved:
                note = what_changed(before, score, grade, figures, current_version)
            flagged = before.score - score >= FALL_POINTS or grade > before.grade
        scores.append(
            CustomerScore(
                entity=entity,
                customer_id=prediction.customer_id,
                scored_on=as_of,
                score=score,
                grade=grade,
                late_probability=round(prediction.probability, 4),
                method=method,
                model_version=version if method == Method.MODEL else None,
                reasons=prediction.reasons,
                figures=figures,
                previous_score=before.score if before else None,
                change_note=note,
                flagged=flagged,
            )
        )
        if note:
            events.append(
                TimelineEvent(
                    customer_id=prediction.customer_id,
                    occurred_at=now,
                    kind="score_changed",
                    summary=note[:500],
                    data={"score": score, "grade": grade, "previous": before.score},
                )
            )
        if flagged:
            flagged_ids.append(prediction.customer_id)
    CustomerScore.objects.filter(customer_id__in=customer_ids, scored_on=as_of).delete()
    CustomerScore.objects.bulk_create(scores, batch_size=1000)
    TimelineEvent.objects.bulk_create(events, batch_size=1000)
    _open_reviews(entity, flagged_ids, {score.customer_id: score for score in scores})
    return len(scores), len(flagged_ids)


def _open_reviews(entity, customer_ids: list[int], scores: dict) -> None:
    """Give a credit team of the entity a review item per flagged customer, once."""
    if not customer_ids:
        return
    team = Team.objects.filter(entity=entity, function=TeamFunction.CREDIT).order_by("pk").first()
    if team is None:
        return
    already = set(
        WorkItem.objects.filter(
            customer_id__in=customer_ids,
            kind=WorkKind.CREDIT_REVIEW,
            state__in=OPEN_WORK_STATES,
        ).values_list("customer_id", flat=True)
    )
    customers = Customer.objects.in_bulk([pk for pk in customer_ids if pk not in already])
    for customer in customers.values():
        score = scores[customer.pk]
        create_work_item(
            kind=WorkKind.CREDIT_REVIEW,
            title=f"Review credit of {customer.number}: score fell to {score.score}",
            team=team,
            customer=customer,
            priority=2,
            subject_type="insights.customerscore",
            subject_id=str(score.pk or ""),
            note=score.change_note,
        )


@dataclass
class LossEstimate:
    """The shape the collections worklist reads from a loss model."""

    probability: Decimal
    reasons: list[str]
    model: str
    measure: str = "probability of loss"


class LatePaymentRiskModel:
    """Rank the collections worklist by the chance that overdue money stays unpaid.

    The collections module looks for `loss_model()` here when insights is installed.
    For each customer, the probability is the amount-weighted share of their overdue
    invoices that the model expects to be still unpaid `UNPAID_HORIZON_DAYS` from now
    (from each invoice's predictive distribution given that it is open today). It is a
    risk of slow payment, not of loss. When the entity has no model that beat its
    baselines, the collections module's own transparent heuristic is used instead.
    """

    name = "insights payment model"

    def estimate(self, facts, as_of) -> dict:
        from o2c.collections.scoring import HeuristicLossModel
        from o2c.insights.models import ModelStatus, ModelVersion

        # One query finds which customers' entities have a days-late model in use.
        usable = {
            customer_id
            for customer_id, verdict in ModelVersion.objects.filter(
                status=ModelStatus.ACTIVE,
                entity__customers__in=[fact.customer_id for fact in facts],
            ).values_list("entity__customers", "verdict")
            if verdict.get("days_late")
        }
        modelled = [fact for fact in facts if fact.customer_id in usable]
        rest = [fact for fact in facts if fact.customer_id not in usable]
        estimates = HeuristicLossModel().estimate(rest, as_of) if rest else {}
        if modelled:
            customers = Customer.objects.in_bulk([fact.customer_id for fact in modelled])
            by_entity: dict[int, list] = {}
            for fact in modelled:
                by_entity.setdefault(customers[fact.customer_id].entity_id, []).append(fact)
            for entity_id, members in by_entity.items():
                estimates.update(self._estimate_entity(entity_id, members, as_of))
        return estimates

    def _estimate_entity(self, entity_id, facts, as_of) -> dict:
        from o2c.insights.reasons import sentence
        from o2c.insights.services import predict_entity
        from o2c.parties.models import LegalEntity

        entity = LegalEntity.objects.get(pk=entity_id)
        predicted = predict_entity(entity, as_of, [fact.customer_id for fact in facts])
        history = predicted.history
        weights: dict[int, list] = {}
        for prediction in predicted.invoices:
            if prediction.floor <= 1:
                continue  # not overdue yet
            unpaid = unpaid_share(prediction, UNPAID_HORIZON_DAYS)
            amount = float(history.amount[prediction.index])
            weights.setdefault(prediction.customer_id, []).append((amount, unpaid, prediction))
        estimates = {}
        for fact in facts:
            rows = weights.get(fact.customer_id)
            if not rows:
                continue
            total = sum(amount for amount, _, _ in rows) or 1.0
            probability = sum(amount * unpaid for amount, unpaid, _ in rows) / total
            largest = max(rows, key=lambda row: row[0])[2]
            reasons = [
                f"{round(probability * 100)} % of the overdue amount is expected to be still "
                f"unpaid in {UNPAID_HORIZON_DAYS} days"
            ] + [sentence(reason) for reason in largest.reasons]
            estimates[fact.customer_id] = LossEstimate(
                Decimal(str(round(probability, 3))),
                reasons,
                self.name,
                measure=f"probability of still being unpaid in {UNPAID_HORIZON_DAYS} days",
            )
        return estimates


UNPAID_HORIZON_DAYS = 30


def unpaid_share(prediction, days: int) -> float:
    """Return the chance that an open invoice is still unpaid `days` from the prediction."""
    import numpy as np

    if not len(prediction.residuals):
        return 1.0
    sample = prediction.raw_days_late + prediction.residuals
    alive = sample[sample >= prediction.floor]
    if not len(alive):
        return 1.0
    return float(np.mean(alive >= prediction.floor + days))


def loss_model() -> LatePaymentRiskModel:
    """Return the model the collections worklist uses when insights is installed."""
    return LatePaymentRiskModel()
