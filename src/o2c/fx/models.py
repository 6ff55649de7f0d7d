from django.db import models

from o2c.parties.models import validate_currency


class RateSource(models.TextChoices):
    ECB = "ECB", "European Central Bank reference rates"
    MANUAL = "manual", "Entered by a person"


class ExchangeRate(models.Model):
    """Units of `currency` for one euro on a date (the ECB's quotation convention).

    Rates are kept at the precision published; conversions divide and multiply at full
    precision and round once, on the final amount.
    """

    source = models.CharField(max_length=10, choices=RateSource.choices, default=RateSource.ECB)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    rate_on = models.DateField()
    units_per_euro = models.DecimalField(max_digits=24, decimal_places=10)

    class Meta:
        ordering = ["currency", "-rate_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "currency", "rate_on"], name="one_rate_per_source_currency_day"
            ),
            models.CheckConstraint(
                condition=models.Q(units_per_euro__gt=0), name="rate_is_positive"
            ),
        ]
        indexes = [models.Index(fields=["currency", "rate_on"])]

    def __str__(self):
        return f"1 EUR = {self.units_per_euro} {self.currency} on {self.rate_on}"
