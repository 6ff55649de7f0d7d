from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    QUARANTINED = "quarantined", "Succeeded without the quarantined records"
    REJECTED = "rejected", "Rejected, nothing imported"


class ImportRun(models.Model):
    """One attempt to load a file, kept whether it succeeded or was rejected."""

    kind = models.CharField(max_length=30)
    profile = models.CharField(max_length=30)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    entity = models.ForeignKey(
        "parties.LegalEntity", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=ImportStatus.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    problems = models.JSONField(
        default=list, help_text="Rejected or quarantined records: line, field and message."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.kind} import of {self.file_name} ({self.status})"
