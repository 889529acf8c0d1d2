"""Background jobs: thin wrappers around reporting.exports and reporting.scheduled."""

import logging
from smtplib import SMTPException

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from reporting import exports, scheduled

logger = logging.getLogger(__name__)


class ExportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """The job shows as failed however the task ended: also when its run could not say so
        itself (stopped at the soft time limit, or killed at the hard one: Celery 5.7 calls
        this in the worker's main process then; tests/reporting/test_worker_failure.py checks
        it). A job its run already marked is left as it is."""
        export_pk = kwargs.get("export_pk", args[0] if args else None)
        if isinstance(exc, SoftTimeLimitExceeded | TimeLimitExceeded):
            error = f"{type(exc).__name__}: the export ran past its time limit"
        else:
            error = f"{type(exc).__name__}: {exc}"
        exports.export_fail(export_pk=export_pk, error=error)


@shared_task(
    bind=True,
    base=ExportTask,
    autoretry_for=(Exception,),
    # Retrying cannot mend these; a job past its time limit would take as long again.
    dont_autoretry_for=(SoftTimeLimitExceeded, *exports.PERMANENT_ERRORS),
    retry_backoff=True,
    max_retries=3,
    # A large export legitimately runs for minutes (rows are streamed to disk).
    soft_time_limit=settings.LONG_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.LONG_TASK_TIME_LIMIT,
)
def build_export(self, export_pk: int) -> str:
    """Build one export's file. Each retry starts the file over; the last failure marks the job
    failed (it stays listed, with the error). Safe to deliver twice (exports.export_build)."""
    if self.request.delivery_info and self.request.delivery_info.get("redelivered"):
        logger.warning("export %s delivered again (its first worker stopped)", export_pk)
    final = self.request.retries >= self.max_retries
    export = exports.export_build(export_pk=export_pk, final_attempt=final)
    return export.status if export else "gone"


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def cleanup_exports() -> int:
    """Delete exports older than the retention period (periodic; Celery beat)."""
    return exports.exports_cleanup()


@shared_task(
    autoretry_for=(SMTPException, OSError, OperationalError),
    retry_backoff=True,
    max_retries=8,
    # One dashboard PDF per program and month owed: minutes when many programs are due.
    soft_time_limit=settings.LONG_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.LONG_TASK_TIME_LIMIT,
)
def send_monthly_reports() -> int:
    """Send the monthly reports owed (periodic: hourly, Celery beat). Idempotent: a report
    already sent is not sent again by a second run or a retry. A mail server that refuses or
    drops the connection (or a database that does) is retried with backoff. Stopped at the
    soft time limit, the send under way rolls back (its email goes again if the mail server
    had already taken it) and the next hourly run sends the rest."""
    return scheduled.monthly_reports_send()
