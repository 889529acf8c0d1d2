"""An export built by a real Celery worker on the real Redis broker (CI); skipped where no
broker is configured, like tests/tjp/test_celery_worker.py."""

import csv
import os
from time import monotonic, sleep

import pytest
from celery.signals import task_retry
from django.conf import settings as django_settings
from django.db import transaction
from django.urls import reverse

from reporting import exports
from reporting.models import ReportExport
from tests.factories import ParticipantFactory
from tests.reporting.files import stored
from tjp.models import AuditEvent
from tjp.roles import Role

# `make test` runs these apart, in one process: they share the Redis queue, and under xdist a
# worker was seen picking tasks up late (or in another process, against its test database).
pytestmark = pytest.mark.celery_worker
TIMEOUT = 30


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


def _wait_for_status(export: ReportExport, *statuses: str) -> ReportExport:
    deadline = monotonic() + TIMEOUT
    while True:
        export.refresh_from_db()
        if export.status in statuses:
            return export
        assert monotonic() < deadline, f"the worker left the export {export.status}"
        sleep(0.1)


def test_an_export_asked_in_a_committed_transaction_is_built_by_the_worker(
    worker, program, personas, participant, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ParticipantFactory(program=program, person__first_name="Íñigo", person__last_name="Peña")
    manager = personas[Role.MANAGER]
    with transaction.atomic():
        export = exports.export_request(user=manager, kind="roster", format="csv", params={})
        # Queued on commit: nothing reaches the broker before the row exists for the worker.
        assert export.status == ReportExport.Status.QUEUED
    export = _wait_for_status(export, ReportExport.Status.READY, ReportExport.Status.FAILED)
    assert export.status == ReportExport.Status.READY, export.error
    assert export.rows_done == export.rows_total == 2 and export.finished_at is not None
    with stored(export).open(encoding="utf-8-sig") as f:
        names = {row[0] for row in list(csv.reader(f))[1:]}
    assert names == {"Ana Núñez", "Íñigo Peña"}
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == manager and event.detail["rows"] == 2


@pytest.fixture
def retries():
    """repr() of the reason of each retry the worker makes (Celery's own signal)."""
    seen = []

    def record(sender=None, reason=None, **kwargs):
        seen.append(repr(reason))

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


def test_an_export_no_retry_can_mend_is_shown_as_failed_at_once(
    worker, personas, settings, tmp_path, retries
):
    settings.MEDIA_ROOT = tmp_path
    with transaction.atomic():
        export = exports.export_request(
            user=personas[Role.MANAGER],
            kind="roster",
            format="xlsx",
            params={"program": ["not-a-uuid", "nor-this"]},
        )
    export = _wait_for_status(export, ReportExport.Status.READY, ReportExport.Status.FAILED)
    assert export.status == ReportExport.Status.FAILED and retries == []
    assert "not a valid UUID" in export.error and export.file == ""
    assert not any((tmp_path / "exports").glob("*"))


def test_an_export_whose_storage_fails_is_retried_then_shown_as_failed(
    worker, program, personas, participant, settings, tmp_path, as_user, retries
):
    """No mock: the export volume is broken (a file stands where the folder should be), every
    attempt really fails, Celery retries through the broker with backoff, and the last
    failure leaves the job failed, on the manager's exports page."""
    broken = tmp_path / "media"
    broken.write_text("")
    settings.MEDIA_ROOT = broken
    manager = personas[Role.MANAGER]
    with transaction.atomic():
        export = exports.export_request(user=manager, kind="roster", format="csv", params={})
    # Three retries with exponential backoff (jittered, at most 1 + 2 + 4 seconds).
    export = _wait_for_status(export, ReportExport.Status.READY, ReportExport.Status.FAILED)
    assert export.status == ReportExport.Status.FAILED
    assert len(retries) == 3 and all("NotADirectoryError" in r for r in retries)
    assert export.error.startswith("NotADirectoryError") and export.file == ""
    assert export.finished_at is not None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
    page = as_user(manager).get(reverse("report_exports")).content.decode()
    assert 'data-status="failed"' in page and "The export could not be built" in page
