"""Periodic jobs: thin wrappers around hearings.notify, retried on failure. The queueing jobs
run often and find what is owed; each send is its own job, idempotent under retries."""

from datetime import date

from celery import shared_task

from hearings import notify


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def queue_hearing_reminders() -> int:
    return notify.reminders_queue()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def send_hearing_reminder(entry_pk: int, channel: str) -> bool:
    """Idempotent: a reminder already sent is not sent again after a retry."""
    return notify.reminder_send(entry_pk=entry_pk, channel=channel)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def queue_docket_digests() -> int:
    return notify.digests_queue()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def send_docket_digest(user_pk: int, program_pk: int, day_iso: str) -> bool:
    """Idempotent: one digest per person, program and day, whatever the retries."""
    return notify.digest_send(
        user_pk=user_pk, program_pk=program_pk, day=date.fromisoformat(day_iso)
    )
