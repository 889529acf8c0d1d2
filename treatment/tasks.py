"""Periodic jobs: thin wrappers around the services, retried on failure."""

from celery import shared_task

from tjp.clock import program_today
from tjp.models import Program
from treatment import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def run_random_selection() -> int:
    """Select today's random tests in every program (its own "today", its own time zone)."""
    return sum(
        len(services.selection_run(program=program, day=program_today(program)))
        for program in Program.objects.all()
    )


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def convert_missed_tests() -> int:
    return services.missed_tests_convert()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def send_selection_notice(selection_pk: int) -> bool:
    """Idempotent: a notice already sent is not sent again after a retry."""
    return services.selection_notify(selection_pk=selection_pk)
