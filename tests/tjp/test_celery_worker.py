"""A real Celery worker on the real Redis broker (CI); skipped where no broker is configured."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

# `make test` runs these apart, in one process: they share the Redis queue, and under xdist a
# worker was seen picking tasks up late (or in another process, against its test database).
pytestmark = pytest.mark.celery_worker


@pytest.fixture
def worker(transactional_db):
    if not settings.CELERY_BROKER_URL:
        if os.environ.get("TJP_REQUIRE_BROKER"):
            pytest.fail("CELERY_BROKER_URL is unset and TJP_REQUIRE_BROKER is set")
        pytest.skip("no CELERY_BROKER_URL: tasks run eagerly; the worker test needs Redis")
    from celery.contrib.testing.worker import start_worker

    from tjp.celery import app

    app.conf.task_always_eager = False
    app.control.purge()  # nothing an interrupted earlier run left may run against this database
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield app
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def test_periodic_session_cleanup_runs_on_a_worker(worker):
    from tjp.tasks import clear_expired_sessions

    past = timezone.now() - timedelta(days=1)
    Session.objects.create(session_key="expired", session_data="", expire_date=past)
    Session.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + timedelta(hours=1)
    )
    clear_expired_sessions.delay()
    deadline = timezone.now() + timedelta(seconds=20)
    while Session.objects.filter(session_key="expired").exists():
        assert timezone.now() < deadline, "the worker did not run the task"
    assert Session.objects.filter(session_key="live").exists()
