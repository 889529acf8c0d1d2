from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def clear_expired_sessions() -> int:
    """Delete sessions past their expiry (periodic; Celery beat)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task
def ping() -> str:
    """Round trip through the broker and a worker; used by the worker integration test."""
    return "pong"


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def disable_inactive_accounts() -> int:
    """Disable accounts unused for ACCOUNT_INACTIVE_DAYS (periodic; Celery beat)."""
    from tjp.services import accounts_disable_inactive

    return len(accounts_disable_inactive())
