"""Hearing reminders on a real Celery worker and the real Redis broker (CI); skipped where no
broker is configured, like tests/tjp/test_celery_worker.py."""

import os
import socket
from datetime import timedelta
from time import monotonic, sleep
from zoneinfo import ZoneInfo

import pytest
import sms
from celery.signals import task_postrun, task_retry
from django.conf import settings as django_settings
from django.utils import timezone

from hearings import services as hearing_services
from hearings.models import Reminder
from tests.factories import ParticipantFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

# `make test` runs these apart, in one process: they share the Redis queue, and under xdist a
# worker was seen picking tasks up late (or in another process, against its test database).
pytestmark = pytest.mark.celery_worker
TIMEOUT = 20
LOCMEM_EMAIL = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def worker(transactional_db):
    if not django_settings.CELERY_BROKER_URL:
        if os.environ.get("TJP_REQUIRE_BROKER"):
            pytest.fail("CELERY_BROKER_URL is unset and TJP_REQUIRE_BROKER is set")
        pytest.skip("no CELERY_BROKER_URL: tasks run eagerly; the worker test needs Redis")
    from celery.contrib.testing.worker import start_worker

    from tjp.celery import app

    app.conf.task_always_eager = False
    # Nothing left in the queue by an earlier, interrupted run may run against this database.
    app.control.purge()
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield app
    finally:
        app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER


def _wait_for(condition, what: str) -> None:
    deadline = monotonic() + TIMEOUT
    while not condition():
        assert monotonic() < deadline, f"the worker did not {what}"
        sleep(0.05)


@pytest.fixture
def finished():
    """{task name: [return values]} of the tasks the worker finished (Celery's own signal)."""
    done: dict[str, list] = {}

    def record(sender=None, retval=None, state=None, **kwargs):
        if state == "SUCCESS":
            done.setdefault(sender.name, []).append(retval)

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


@pytest.fixture
def docket_soon(program, make_session, participant, personas, settings):
    """Ana and Bruno, both with an email address and a phone, on a session starting two to
    three hours from now (real time: the worker's jobs use the clock)."""
    settings.EMAIL_BACKEND = LOCMEM_EMAIL
    settings.SMS_BACKEND = "sms.backends.locmem.SmsBackend"
    sms.outbox = []
    coordinator = personas[Role.COORDINATOR]
    bruno = admit(ParticipantFactory(program=program), by=coordinator)
    local = timezone.localtime(timezone.now() + timedelta(hours=3), ZoneInfo(program.time_zone))
    session = make_session((local.date() - program_today(program)).days, hour=local.hour)
    entries = []
    for n, p in enumerate((participant, bruno)):
        p.person.email, p.person.phone = f"p{n}@example.org", f"+1555010{n}"
        p.person.save(update_fields=["email", "phone"])
        entries.append(
            hearing_services.docket_add(acting_user=coordinator, session=session, participant=p)
        )
    return entries


def test_reminders_queued_twice_are_sent_once_on_a_worker(
    worker, docket_soon, mailoutbox, finished
):
    from hearings.tasks import queue_hearing_reminders

    # Twice in a row: the second run finds nothing sent yet and queues every send again.
    queue_hearing_reminders.delay()
    queue_hearing_reminders.delay()
    queued = "hearings.tasks.queue_hearing_reminders"
    sent = "hearings.tasks.send_hearing_reminder"
    _wait_for(lambda: len(finished.get(queued, [])) == 2, "run the queue twice")
    _wait_for(
        lambda: len(finished.get(sent, [])) == sum(finished[queued]),
        "run every queued send",
    )
    assert sum(finished[queued]) >= 4  # two people, two channels, at least once each
    assert finished[sent].count(True) == 4
    assert sorted(m.to[0] for m in mailoutbox) == ["p0@example.org", "p1@example.org"]
    assert sorted(m.recipients[0] for m in sms.outbox) == ["+15550100", "+15550101"]
    for entry in docket_soon:
        assert set(entry.reminders.values_list("channel", flat=True)) == {"email", "sms"}
    assert AuditEvent.objects.filter(detail__notice="hearing reminder").count() == 4


def test_a_failed_send_is_retried_and_delivered_once(
    worker, docket_soon, mailoutbox, finished, settings
):
    """No mock: the first send really fails (the mail server refuses the connection), nothing
    is recorded, Celery retries through the broker, and the retry, with a working mail
    backend, delivers the reminder once."""
    from hearings.tasks import queue_hearing_reminders

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.SMS_BACKEND = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    failures = []

    def restore_the_mail_server(sender=None, reason=None, **kwargs):
        failures.append(repr(reason))
        settings.EMAIL_BACKEND = LOCMEM_EMAIL

    task_retry.connect(restore_the_mail_server, weak=False)
    try:
        queue_hearing_reminders.delay()
        sent = "hearings.tasks.send_hearing_reminder"
        _wait_for(lambda: finished.get(sent, []).count(True) == 2, "retry the failed send")
    finally:
        task_retry.disconnect(restore_the_mail_server)
    assert failures and all("Connection refused" in f or "ConnectionRefused" in f for f in failures)
    assert sorted(m.to[0] for m in mailoutbox) == ["p0@example.org", "p1@example.org"]
    assert Reminder.objects.filter(channel="email").count() == 2
    assert not Reminder.objects.filter(channel="sms").exists()
    assert AuditEvent.objects.filter(detail__notice="hearing reminder").count() == 2
