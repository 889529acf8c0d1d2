"""Reporting keeps no aggregates: every figure is computed from the recorded facts. What it
stores is the exports people asked for (a background job, its progress and its file) and the
monthly reports people subscribed to (and which months were sent)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tjp.models import Program


class ReportExport(models.Model):
    """One export a user asked for: built in the background (Celery), streamed to a file,
    downloaded by the same user once ready."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports"
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("report"), max_length=40)
    format = models.CharField(_("format"), max_length=8)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    file = models.CharField(max_length=300, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report export")
        verbose_name_plural = _("report exports")
        ordering = ["-created_at"]
        permissions = [
            ("view_dashboard", _("See program performance and compliance")),
            ("export_reports", _("Export reports and case summaries")),
            ("export_evaluation", _("Export de-identified evaluation extracts")),
        ]

    def __str__(self) -> str:
        return f"{self.kind}.{self.format} ({self.status})"

    @property
    def progress_percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, round(100 * self.rows_done / self.rows_total))


class ReportSubscription(models.Model):
    """A manager's standing request for a program's monthly report by email
    (reporting.scheduled). Stopping keeps the row (and the record of what was sent)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    # When the subscription last started: the first report sent covers that month, so
    # subscribing (again) does not send a month that ended before it.
    active_since = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("monthly report subscription")
        verbose_name_plural = _("monthly report subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["user", "program"], name="report_subscription_once")
        ]

    def __str__(self) -> str:
        return f"{self.program_id}:{self.user_id} ({'active' if self.active else 'stopped'})"


class MonthlyReportSent(models.Model):
    """One month's report sent on one subscription: at most one, ever (idempotency). Written in
    the transaction of the send, under a lock on the subscription."""

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="sent"
    )
    month = models.DateField()  # the first day of the month reported
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "month"], name="monthly_report_once_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.month:%Y-%m}"
