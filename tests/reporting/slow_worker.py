"""The project's Celery app for a worker whose CSV exports write slowly, so that a test can catch
a job in the middle (tests/reporting/test_worker_failure.py starts it as
`celery -A tests.reporting.slow_worker worker`). The slowing is patched in here, inside the
worker's own process, so that the application carries no test-only knob: every row gets a
progress save, then a pause of SLOW_EXPORT_SECONDS_PER_ROW.

With SLOW_EXPORT_IGNORES_SOFT_LIMIT=1 the pauses swallow the soft time limit, as code stuck in
a C call would: only the hard limit stops the job."""

import dataclasses
import os
import time

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_prerun

from tjp.celery import app

__all__ = ["app"]
PAUSE = float(os.environ.get("SLOW_EXPORT_SECONDS_PER_ROW", "0.1"))
IGNORE_SOFT_LIMIT = os.environ.get("SLOW_EXPORT_IGNORES_SOFT_LIMIT") == "1"


def _unless_ignored(exc: SoftTimeLimitExceeded) -> None:
    if not IGNORE_SOFT_LIMIT:
        raise exc


def _pause() -> None:
    deadline = time.monotonic() + PAUSE
    while (left := deadline - time.monotonic()) > 0:
        try:
            time.sleep(left)
        except SoftTimeLimitExceeded as exc:
            _unless_ignored(exc)


@task_prerun.connect
def slow_down_csv_exports(**kwargs) -> None:
    # In the process that runs the task (the solo worker itself, or a prefork child), after
    # Django is set up; once.
    from reporting import exports

    if getattr(exports, "_slowed_down_for_tests", False):
        return
    exports._slowed_down_for_tests = True
    exports.PROGRESS_EVERY = 1
    csv = exports.FORMATS["csv"]

    def write_slowly(path, sections, progress=None):
        def progress_then_pause(done: int) -> None:
            try:
                progress(done)
            except SoftTimeLimitExceeded as exc:
                _unless_ignored(exc)
            _pause()

        return csv.write(path, sections, progress_then_pause)

    exports.FORMATS["csv"] = dataclasses.replace(csv, write=write_slowly)
