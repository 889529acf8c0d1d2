"""The treatment periodic jobs on a real Celery worker and the real Redis broker (CI); skipped
where no broker is configured, like tests/tjp/test_celery_worker.py."""

import os
from datetime import timedelta
from time import monotonic, sleep

import pytest
from celery.signals import task_retry
from django.conf import settings as django_settings

from participants.models import Status
from tests.factories import ParticipantFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from treatment import services
from treatment.models import DrugTest, Source, TestSelection

# `make test` runs these apart, in one process: they share the Redis queue, and under xdist a
# worker was seen picking tasks up late (or in another process, against its test database).
pytestmark = pytest.mark.celery_worker
TIMEOUT = 20


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
def tested_daily(program):
    """An active participant whose phase tests every day: every run selects them."""
    phase = program.phases.get(number=1)
    phase.tests_per_week = 7
    phase.save(update_fields=["tests_per_week"])
    entered = program_today(program) - timedelta(days=40)
    return ParticipantFactory(
        program=program,
        status=Status.ACTIVE,
        phase=phase,
        referred_on=entered - timedelta(days=7),
        entry_date=entered,
    )


def test_selection_and_missed_conversion_run_on_a_worker(worker, program, tested_daily):
    from treatment.tasks import convert_missed_tests, run_random_selection

    today = program_today(program)
    # Yesterday's selection, long overdue: the conversion job must turn it into a missed test.
    (overdue,) = services.selection_run(program=program, day=today - timedelta(days=1))

    run_random_selection.delay()
    _wait_for(
        lambda: TestSelection.objects.filter(participant=tested_daily, day=today).exists(),
        "select today's tests",
    )
    convert_missed_tests.delay()
    _wait_for(
        lambda: TestSelection.objects.filter(pk=overdue.pk, test__isnull=False).exists(),
        "convert the overdue selection",
    )
    missed = DrugTest.objects.get(selection__pk=overdue.pk)
    assert missed.missed and missed.random and missed.source == Source.SYSTEM
    assert missed.collected_at == overdue.deadline
    # The job runs hourly: running it again the same day selects nobody new.
    runs = AuditEvent.objects.filter(program=program, actor_label="random selection")
    assert runs.count() == 2  # yesterday's, run above, and today's
    run_random_selection.delay()
    _wait_for(lambda: runs.count() == 3, "run the selection again")
    assert runs.order_by("-pk").first().detail["selected"] == {}
    assert TestSelection.objects.filter(participant=tested_daily, day=today).count() == 1
    assert DrugTest.objects.filter(selection__pk=overdue.pk).count() == 1


def test_a_failing_selection_is_retried(worker, program, tested_daily, settings):
    """No mock: the job really fails once (an empty secret is refused, nothing is written),
    Celery retries it through the broker, and the retry, with the secret back, selects."""
    from treatment.tasks import run_random_selection

    retries = []

    def restore_the_secret(sender=None, reason=None, **kwargs):
        retries.append(repr(reason))
        settings.TESTING_SELECTION_SECRET = "secret-restored"

    settings.TESTING_SELECTION_SECRET = ""
    task_retry.connect(restore_the_secret, weak=False)
    try:
        run_random_selection.delay()
        today = program_today(program)
        _wait_for(
            lambda: TestSelection.objects.filter(participant=tested_daily, day=today).exists(),
            "retry the failed selection",
        )
    finally:
        task_retry.disconnect(restore_the_secret)
    assert len(retries) == 1 and "secret" in retries[0]
    assert TestSelection.objects.filter(participant=tested_daily).count() == 1
