"""`manage.py backup`: the database and the uploaded documents into a new folder of BACKUP_DIR."""

import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tjp.backup import BackupError, backup_create


class Command(BaseCommand):
    help = gettext_lazy(
        "Back up the database (pg_dump, custom format) and the uploaded documents into a new "
        "folder of BACKUP_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--backup-dir",
            type=Path,
            default=None,
            help=gettext_lazy("Where to write the backup (default: the BACKUP_DIR setting)."),
        )

    def handle(self, *args, backup_dir: Path | None, **options):
        started = time.monotonic()
        try:
            backup = backup_create(
                backup_dir=backup_dir or settings.BACKUP_DIR, media_root=settings.MEDIA_ROOT
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if not isinstance(default_storage, FileSystemStorage):
            # A backup that silently holds no documents would pass every drill and restore
            # none: say where they are and what keeps them.
            self.stderr.write(
                _(
                    "Documents and export files are kept in the object storage bucket, not in "
                    "this backup: keep that bucket versioned and replicated "
                    "(docs/operations.md)."
                )
            )
        tables = backup.manifest["tables"]
        size = sum(f["bytes"] for f in backup.manifest["files"].values())
        self.stdout.write(
            _(
                "Backup written to %(path)s: %(tables)s tables, %(rows)s rows, %(audit)s audit "
                "events, %(files)s documents, %(mb).1f MB in %(seconds).1f s."
            )
            % {
                "path": backup.path,
                "tables": len(tables),
                "rows": sum(tables.values()),
                "audit": backup.manifest["audit"]["rows"],
                "files": backup.manifest["media_files"],
                "mb": size / (1024 * 1024),
                "seconds": time.monotonic() - started,
            }
        )
