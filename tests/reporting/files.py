"""Where an export's file is kept, for tests that open it: the tests' default storage is the
filesystem (MEDIA_ROOT), as in development."""

from pathlib import Path

from django.core.files.storage import default_storage

from reporting.models import ReportExport


def stored(export: ReportExport) -> Path:
    return Path(default_storage.path(export.file))
