"""Background exports: thin wrappers around reporting.exports."""

from celery import shared_task

from reporting import exports


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
