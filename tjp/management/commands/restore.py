"""`manage.py restore <backup folder>`: into an empty database (or, with --force, over one),
then the row counts of every table and the audit trail compared with the backup's manifest."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tjp.backup import (
    BackupError,
    RestoreResult,
    backup_restore,
    database_ensure,
    database_settings,
)


class Command(BaseCommand):
    help = gettext_lazy(
        "Restore a backup made by `manage.py backup` into the database of the current settings "
        "(or another one), and compare what arrived with the backup's manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help=gettext_lazy("The backup's folder."))
        target = parser.add_mutually_exclusive_group()
        target.add_argument(
            "--database-url",
            help=gettext_lazy("Restore into this database instead of the current one."),
        )
        target.add_argument(
            "--database",
            dest="database_name",
            help=gettext_lazy(
                "Restore into this database on the current server, with the current "
                "credentials; it is created if missing (a restore drill)."
            ),
        )
        parser.add_argument(
            "--media-root",
            type=Path,
            default=None,
            help=gettext_lazy("Where to restore the documents (default: the MEDIA_ROOT setting)."),
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=gettext_lazy(
                "Replace the contents of a database that is not empty, and add the documents "
                "to a folder that already holds files."
            ),
        )

    def handle(self, *args, backup, database_url, database_name, media_root, force, **options):
        started = time.monotonic()
        try:
            database = database_settings(url=database_url, name=database_name)
            if database_name and database_ensure(database=database):
                self.stdout.write(_("Created the database %(name)s.") % {"name": database_name})
            result = backup_restore(
                path=backup,
                database=database,
                media_root=media_root or settings.MEDIA_ROOT,
                force=force,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self._report(result, verbosity=options["verbosity"])
        if not result.ok:
            raise CommandError(_("The restored data does not match the backup (see above)."))
        self.stdout.write(
            self.style.SUCCESS(
                _("Restored %(path)s into %(name)s in %(seconds).1f s; everything matches.")
                % {
                    "path": backup,
                    "name": result.database,
                    "seconds": time.monotonic() - started,
                }
            )
        )

    def _report(self, result: RestoreResult, *, verbosity: int) -> None:
        empty = 0
        headers = (_("table"), _("in the backup"), _("restored"))
        self.stdout.write(f"{headers[0]:<48} {headers[1]:>14} {headers[2]:>10}")
        for row in result.tables:
            if row.matches and not row.backup and verbosity < 2:
                empty += 1
                continue
            line = f"{row.table:<48} {_count(row.backup):>14} {_count(row.restored):>10}"
            self.stdout.write(line if row.matches else self.style.ERROR(f"{line}  ≠"))
        if empty:
            self.stdout.write(_("… and %(count)s tables empty in both.") % {"count": empty})
        self.stdout.write(
            (
                _("Audit trail: %(rows)s events, identical.")
                if result.audit_matches
                else _("Audit trail: %(rows)s events, NOT identical to the backup.")
            )
            % {"rows": result.audit_rows}
        )
        self.stdout.write(
            _("Documents: %(restored)s restored of %(expected)s in the backup.")
            % {"restored": result.media_files, "expected": result.media_expected}
        )


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)
