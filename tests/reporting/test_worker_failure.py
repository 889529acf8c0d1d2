"""Background exports when workers fail, with real workers started as separate processes on
the real Redis broker (CI); skipped where no broker is configured, like the other worker tests.

A worker killed in the middle of an export (SIGKILL: no chance to clean up) leaves its message
unacknowledged; once the visibility timeout has passed another worker gets it and builds the
export once. The time limits stop a job that runs too long, and the job shows as failed. The
first worker runs `tests.reporting.slow_worker`, the project's app with CSV rows slowed down in
the worker's own process, so that the job can be caught in the middle."""

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path
from time import monotonic, sleep, time
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from reporting import exports
from reporting.models import ReportExport
from tests.factories import ParticipantFactory
from tests.reporting.files import stored
from tjp.models import AuditEvent
from tjp.roles import Role

# `make test` runs these apart, in one process: they share the Redis queue.
pytestmark = pytest.mark.celery_worker
CELERY = Path(sys.executable).with_name("celery")
BASE_DIR = Path(django_settings.BASE_DIR)
TIMEOUT = 30
ROWS = 30  # participants in the roster: three seconds of writing for the slowed-down worker
# Kombu's Redis transport keeps each message taken but not acknowledged in this hash (and its
# delivery time in a sorted set) until it is acknowledged or restored to the queue.
UNACKED, UNACKED_INDEX = "unacked", "unacked_index"


def _database_url() -> str:
    """The test database (pytest-django's `test_` copy), for the workers' DATABASE_URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


class Workers:
    """Celery workers as separate OS processes, each logging to a file; stopped at the end."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env, self.started = folder, env, []

    def start(self, name: str, *, app: str = "tjp", pool: str = "solo", **env: str):
        log = self.folder / f"{name}.log"
        command = [
            str(CELERY),
            "-A",
            app,
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname={name}@%h",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a prefork pool goes with it
            )
        process.log = log
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()  # warm shutdown
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@pytest.fixture
def broker(transactional_db):
    if not django_settings.CELERY_BROKER_URL:
        if os.environ.get("TJP_REQUIRE_BROKER"):
            pytest.fail("CELERY_BROKER_URL is unset and TJP_REQUIRE_BROKER is set")
        pytest.skip("no CELERY_BROKER_URL: tasks run eagerly; the worker test needs Redis")
    from tjp.celery import app

    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)

    def forget_everything() -> None:
        # Nothing an earlier, interrupted run left (queued, or taken by a worker that was
        # killed) may be delivered against this database.
        app.control.purge()
        client.delete(UNACKED, UNACKED_INDEX)

    app.conf.task_always_eager = False
    forget_everything()
    try:
        yield client
    finally:
        forget_everything()
        app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def workers(broker, media, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(media),
        "PYTHONPATH": str(BASE_DIR),  # `-A tests.reporting.slow_worker`
    }
    started = Workers(tmp_path, env)
    yield started
    started.stop_all()


@pytest.fixture
def roster(program, personas):
    """A manager's roster of ROWS participants."""
    for n in range(ROWS):
        ParticipantFactory(program=program, person__first_name=f"P{n:02d}")
    return personas[Role.MANAGER]


def _ask(manager) -> ReportExport:
    with transaction.atomic():  # queued once committed, as the page does it
        return exports.export_request(user=manager, kind="roster", format="csv", params={})


def _wait_for(condition, what: str, processes: list, timeout: float = TIMEOUT):
    """Wait for `condition`; on timeout, fail with the end of the workers' logs."""
    deadline = monotonic() + timeout
    while not (result := condition()):
        if monotonic() > deadline:
            logs = "\n".join(p.log.read_text()[-3000:] for p in processes)
            pytest.fail(f"timed out waiting until {what}\n{logs}")
        sleep(0.05)
    return result


def _state(export: ReportExport) -> ReportExport:
    export.refresh_from_db()
    return export


def _files(media: Path) -> list[str]:
    folder = media / exports.EXPORT_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_worker_killed_in_the_middle_of_an_export_the_job_is_redelivered_and_built_once(
    workers, broker, roster, media
):
    started = monotonic()
    export = _ask(roster)
    first = workers.start("first", app="tests.reporting.slow_worker")
    _wait_for(
        lambda: _state(export).status == ReportExport.Status.RUNNING and export.rows_done >= 5,
        "the first worker is in the middle of the export",
        [first],
    )
    # Killed without warning, in the middle: no clean-up, no acknowledgement.
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    before = _state(export)
    partial = before.file
    assert before.status == ReportExport.Status.RUNNING
    assert 5 <= before.rows_done < before.rows_total == ROWS
    # The partial file it was writing, in its scratch folder; nothing stored yet.
    assert exports.scratch_path(partial).is_file() and _files(media) == []
    assert broker.hlen(UNACKED) == 1  # its message, taken and never acknowledged
    print(
        f"\nkilled: status={before.status} rows_done={before.rows_done} "
        f"rows_total={before.rows_total} file={partial}"
    )

    # Redis hands the message to another worker once it has been unacknowledged for the
    # visibility timeout. The second worker's is short (5 s) so that this happens in seconds;
    # the settings refuse time limits longer than it, hence the matching ones (a solo pool
    # does not enforce them; the rebuild takes well under a second).
    visibility = 5
    ((_, delivered_at),) = broker.zrange(UNACKED_INDEX, 0, -1, withscores=True)
    # It checks for such messages as it starts, then every 100 s: start it once it is due.
    sleep(max(0.0, delivered_at + visibility + 0.5 - time()))
    second = workers.start(
        "second",
        CELERY_VISIBILITY_TIMEOUT=str(visibility),
        CELERY_TASK_SOFT_TIME_LIMIT="3",
        CELERY_TASK_TIME_LIMIT="4",
        CELERY_LONG_TASK_SOFT_TIME_LIMIT="3",
        CELERY_LONG_TASK_TIME_LIMIT="4",
    )
    _wait_for(
        lambda: _state(export).status in (ReportExport.Status.READY, ReportExport.Status.FAILED),
        "the second worker finishes the export",
        [second],
    )
    assert export.status == ReportExport.Status.READY, export.error
    assert export.rows_done == export.rows_total == ROWS and export.finished_at
    # One file: the one the second run wrote; the first run's partial file is gone.
    assert export.file != partial and _files(media) == [Path(export.file).name]
    assert not exports.scratch_path(partial).exists()
    assert not exports.scratch_path(export.file).exists()
    with stored(export).open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == ROWS == len({row[0] for row in rows})  # each participant once
    # One export in the audit trail, not two.
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_id=str(export.uuid))
    assert events.count() == 1 and events.get().detail["rows"] == ROWS
    # Its message was acknowledged this time: nothing left to deliver a third time.
    _wait_for(lambda: not broker.hlen(UNACKED) and not broker.llen("celery"), "the ack", [second])
    assert "delivered again" in second.log.read_text()
    print(
        f"after redelivery: status={export.status} rows_done={export.rows_done} "
        f"rows_total={export.rows_total} file={export.file} files={_files(media)} "
        f"audit events={events.count()} ({monotonic() - started:.1f} s)"
    )


@pytest.mark.parametrize(
    ("limit", "extra_env", "error"),
    [
        ("soft", {}, "SoftTimeLimitExceeded"),
        # The job swallows the soft limit (as code stuck in a C call would): the pool kills
        # its process at the hard limit, and Celery's failure hook marks it failed.
        ("hard", {"SLOW_EXPORT_IGNORES_SOFT_LIMIT": "1"}, "TimeLimitExceeded"),
    ],
)
def test_an_export_past_its_time_limit_is_stopped_and_shown_as_failed(
    workers, broker, roster, media, limit, extra_env, error, monkeypatch
):
    from reporting.tasks import build_export

    # Celery writes the task's time limits into each message as it is queued, so they are
    # those of the process that queues it (here this one; in production the web process):
    # a soft limit of 1 s and a hard one of 3 s catch this job (six seconds of rows, slowed
    # down) in the middle.
    monkeypatch.setattr(build_export, "soft_time_limit", 1)
    monkeypatch.setattr(build_export, "time_limit", 3)
    monkeypatch.setattr(build_export, "_exec_options", None)  # Celery's cache of them
    export = _ask(roster)
    # The prefork pool (production's) is the one that enforces time limits.
    worker = workers.start(
        "limited",
        app="tests.reporting.slow_worker",
        pool="prefork",
        SLOW_EXPORT_SECONDS_PER_ROW="0.2",
        **extra_env,
    )
    _wait_for(
        lambda: _state(export).status in (ReportExport.Status.READY, ReportExport.Status.FAILED),
        f"the {limit} time limit stops the export",
        [worker],
    )
    assert export.status == ReportExport.Status.FAILED
    assert export.error.startswith(f"{error}: the export ran past its time limit")
    assert export.rows_done < ROWS and export.file == "" and _files(media) == []
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
    # Not retried: a job past its time limit would take as long again.
    _wait_for(lambda: not broker.hlen(UNACKED) and not broker.llen("celery"), "the ack", [worker])
    assert _state(export).status == ReportExport.Status.FAILED
