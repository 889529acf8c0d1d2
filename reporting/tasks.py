"""Background jobs: thin wrappers around reporting.exports and reporting.scheduled."""

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from reporting import exports, scheduled


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def build_export(self, export_pk: int) -> str:
    """Build one export's file. Each retry starts the file over; the last failure marks the job
    failed (it stays listed, with the error)."""
    final = self.request.retries >= self.max_retries
    return exports.export_build(export_pk=export_pk, final_attempt=final).status


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def cleanup_exports() -> int:
    """Delete exports older than the retention period (periodic; Celery beat)."""
    return exports.exports_cleanup()


@shared_task(
    autoretry_for=(SMTPException, OSError, OperationalError),
    retry_backoff=True,
    max_retries=8,
)
def send_monthly_reports() -> int:
    """Send the monthly reports owed (periodic: hourly, Celery beat). Idempotent: a report
    already sent is not sent again by a second run or a retry. A mail server that refuses or
    drops the connection (or a database that does) is retried with backoff."""
    return scheduled.monthly_reports_send()
