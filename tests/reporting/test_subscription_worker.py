"""Monthly reports sent by a real Celery worker on the real Redis broker (CI); skipped where no
broker is configured, like tests/tjp/test_celery_worker.py. The job uses the real clock: the
subscriptions started two months ago, so last month is owed now."""

import socket
from datetime import timedelta

import pytest
from celery.signals import task_retry
from django.utils import timezone

from reporting import scheduled
from reporting.models import MonthlyReportSent, ReportSubscription
from tests.factories import UserFactory
from tests.hearings.test_worker import LOCMEM_EMAIL, _wait_for, finished, worker  # noqa: F401
from tjp.models import AuditEvent
from tjp.roles import Role

# `make test` runs these apart, in one process: they share the Redis queue.
pytestmark = pytest.mark.celery_worker
TASK = "reporting.tasks.send_monthly_reports"


@pytest.fixture
def subscribed(program, other_program, personas, settings):
    """The manager of `program` (English) and one of `other_program` (Spanish), subscribed
    since two months ago."""
    settings.EMAIL_BACKEND = LOCMEM_EMAIL
    settings.SITE_URL = "https://tjp.example.org"
    spanish = UserFactory(email="manager@pjt.test", role=Role.MANAGER, programs=[other_program])
    for user, p in ((personas[Role.MANAGER], program), (spanish, other_program)):
        scheduled.subscription_start(acting_user=user, program=p)
    ReportSubscription.objects.update(active_since=timezone.now() - timedelta(days=70))
    return [personas[Role.MANAGER].email, spanish.email]


def test_the_job_queued_twice_sends_each_report_once(
    worker,  # noqa: F811
    subscribed,
    mailoutbox,
    finished,  # noqa: F811
):
    from reporting.tasks import send_monthly_reports

    send_monthly_reports.delay()
    send_monthly_reports.delay()
    _wait_for(lambda: len(finished.get(TASK, [])) == 2, "run the job twice")
    assert sorted(finished[TASK]) == [0, 2]
    assert sorted(m.to[0] for m in mailoutbox) == sorted(subscribed)
    assert all(m.attachments[0][1].startswith(b"%PDF") for m in mailoutbox)
    assert MonthlyReportSent.objects.count() == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 2


def test_a_refused_connection_to_the_mail_server_is_retried_and_delivered_once(
    worker,  # noqa: F811
    subscribed,
    mailoutbox,
    finished,  # noqa: F811
    settings,
):
    """No mock: the first attempt really fails (the mail server refuses the connection),
    nothing is recorded, Celery retries through the broker, and the retry, with a working
    mail backend, delivers each report once."""
    from reporting.tasks import send_monthly_reports

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    failures = []

    def restore_the_mail_server(sender=None, reason=None, **kwargs):
        failures.append(repr(reason))
        settings.EMAIL_BACKEND = LOCMEM_EMAIL

    task_retry.connect(restore_the_mail_server, weak=False)
    try:
        send_monthly_reports.delay()
        _wait_for(lambda: finished.get(TASK), "retry the failed job")
    finally:
        task_retry.disconnect(restore_the_mail_server)
    assert len(failures) == 1, failures
    assert "Connection refused" in failures[0] or "ConnectionRefused" in failures[0]
    assert finished[TASK] == [2]
    assert sorted(m.to[0] for m in mailoutbox) == sorted(subscribed)
    assert MonthlyReportSent.objects.count() == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 2
