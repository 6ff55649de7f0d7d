"""Trained model versions, and the predictions and scores made with them.

Predictions and scores are derived data: a rescore replaces an invoice's prediction,
while each customer score is kept per day so a fall can be seen and explained.
"""

from django.conf import settings
from django.db import models

from o2c.ledger.models import Document
from o2c.parties.models import Customer, LegalEntity


class PredictionPoint(models.TextChoices):
    ISSUE = "issue", "On the invoice date"
    BEFORE_DUE = "before_due", "A fixed number of days before the due date"


class InsightsSettings(models.Model):
    """How an entity's predictions are made: when, and what counts as late."""

    entity = models.OneToOneField(
        LegalEntity, on_delete=models.CASCADE, related_name="insights_settings"
    )
    prediction_point = models.CharField(
        max_length=12,
        choices=PredictionPoint.choices,
        default=PredictionPoint.ISSUE,
        help_text="Use 'before due' when invoice dates were derived from payments and must "
        "not be read.",
    )
    days_before_due = models.PositiveSmallIntegerField(
        default=30, help_text="Days before the due date at which 'before due' predicts."
    )
    late_after_days = models.PositiveSmallIntegerField(
        default=0, help_text="An invoice is late when settled more than this many days after due."
    )

    class Meta:
        verbose_name_plural = "insights settings"

    def __str__(self):
        return f"Insights settings of {self.entity.code}"


class ModelStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected: did not beat its baselines"
    RETIRED = "retired", "Retired: replaced by a newer version"


class ModelVersion(models.Model):
    """One training of an entity's models, with its backtest and a safe serialization.

    `artifact` holds the fitted estimators in the skops format, read back only with an
    explicit list of trusted types (never with pickle). `residuals` are out-of-sample
    errors of the days-late model from the backtest; they calibrate the intervals.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ModelStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    trained_until = models.DateField(help_text="Outcomes known on this day were used.")
    training_count = models.PositiveIntegerField()
    policy = models.JSONField()
    feature_names = models.JSONField()
    reference = models.JSONField(help_text="Typical value of each feature, for reasons.")
    residuals = models.JSONField()
    metrics = models.JSONField(help_text="Backtest metrics of the models and baselines.")
    verdict = models.JSONField(help_text="Whether each model beat every baseline.")
    forecast_metrics = models.JSONField(default=dict, blank=True)
    library_versions = models.JSONField(default=dict)
    artifact = models.BinaryField()
    artifact_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["entity", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "version"], name="model_version_per_entity")
        ]

    def __str__(self):
        return f"{self.entity.code} model v{self.version} ({self.status})"


class Method(models.TextChoices):
    MODEL = "model", "Model"
    TRANSPARENT = "transparent", "Transparent rule (customer history)"


class InvoicePrediction(models.Model):
    """The predicted settlement of an open invoice, as of a day, with its reasons."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="prediction")
    as_of = models.DateField()
    method = models.CharField(max_length=12, choices=Method.choices)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    days_late = models.FloatField(help_text="Predicted settlement date minus due date.")
    days_late_low = models.FloatField(null=True)
    days_late_high = models.FloatField(null=True)
    pay_on = models.DateField()
    pay_low_on = models.DateField(null=True)
    pay_high_on = models.DateField(null=True)
    late_probability = models.FloatField()
    late_after_days = models.PositiveSmallIntegerField(default=0)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["entity", "pay_on"])]

    def __str__(self):
        return f"Prediction for {self.document_id} as of {self.as_of}"

    @property
    def overdue_beyond_history(self) -> bool:
        """Whether the invoice is overdue longer than almost every invoice paid so far.

        Such a prediction has a lower bound only, and `pay_on` is that bound, not a date.
        """
        return self.pay_low_on is not None and self.pay_high_on is None


class Grade(models.TextChoices):
    A = "A", "A: pays on time"
    B = "B", "B: mostly on time"
    C = "C", "C: often late"
    D = "D", "D: usually late"
    E = "E", "E: high risk"


class CustomerScore(models.Model):
    """A customer's behavioural credit score (0-1000) on a day, with its reasons.

    `flagged` marks a score that fell enough to need a credit review; `change_note`
    says in words what changed since the previous score.
    """

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="scores")
    scored_on = models.DateField()
    score = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=1, choices=Grade.choices)
    late_probability = models.FloatField()
    method = models.CharField(max_length=12, choices=Method.choices)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reasons = models.JSONField(default=list)
    figures = models.JSONField(default=dict, help_text="Key history figures behind the score.")
    previous_score = models.PositiveSmallIntegerField(null=True, blank=True)
    change_note = models.TextField(blank=True)
    flagged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer", "-scored_on"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "scored_on"], name="one_score_per_day")
        ]
        indexes = [models.Index(fields=["entity", "scored_on", "flagged"])]

    def __str__(self):
        return f"{self.customer} {self.score} ({self.grade}) on {self.scored_on}"


class ForecastSnapshot(models.Model):
    """A cash forecast as made on a day, kept to compare with the receipts that came."""

    entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    made_on = models.DateField()
    method = models.CharField(max_length=12, choices=Method.choices)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    weeks = models.JSONField(help_text="Per week: start, expected, low, high, parts.")
    days = models.JSONField(help_text="Per day: date and expected receipts.")
    includes_orders = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "currency", "-made_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "currency", "made_on"], name="one_forecast_per_day"
            )
        ]

    def __str__(self):
        return f"Forecast {self.entity.code} {self.currency} made {self.made_on}"
