"""Exports: a user asks (export_request), a Celery job builds the file (export_build), the same
user downloads it. Files stream to disk row by row, so memory stays flat whatever the size, and
are then kept in the default storage (MEDIA_ROOT, or the private S3 bucket: tjp/settings.py).

Each kind of export is a function from (user, params) to `Content`: a row count for the progress
bar and one or more `Section`s whose rows are iterated once (the roster's come from a database
cursor, never a list of every row). Access is decided when the job runs, not when it was asked
for: a manager who lost a program meanwhile exports none of it.

CSV is for machines: UTF-8 with a BOM (so Excel reads accents), ISO dates, dot decimals. XLSX is
for people: typed cells (dates are dates, numbers numbers) shown in the language's date format.
In both, headers and labels are in the language the user had when asking.
"""

import csv
import logging
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from participants.access import can_see_contact, participants_visible_to
from participants.models import Status
from reporting.models import ReportExport
from reporting.tables import Table
from tjp import audit
from tjp.access import can, programs_visible_to
from tjp.db_routers import reading_from_replica
from tjp.models import AuditEvent, Program

logger = logging.getLogger(__name__)

PERM = "reporting.export_reports"
# In the default storage (under MEDIA_ROOT, or in the bucket), outside the web root: served only
# by the owner's view.
EXPORT_DIR = "exports"
RETENTION_DAYS = 7
CHUNK_ROWS = 500  # rows fetched per round trip (server-side cursor): two chunks in memory at most
PROGRESS_EVERY = 1000  # rows between two progress saves
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet
# Cells starting with these are run as formulas by spreadsheets opening a CSV (CSV injection),
# unless they are plain numbers or phone numbers ("+52 81 1234 5678", "-3").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"[+-]?[\d\s().-]*\Z")


@dataclass
class Section:
    """One table of an export: a CSV block or an XLSX sheet."""

    columns: list[str]
    rows: Iterable[list[Any]]
    title: str = ""  # a row above the header (a measure table's title)
    definition: str = ""
    sheet: str = ""  # the XLSX sheet's name (default: the title)
    notes: list[str] = field(default_factory=list)


@dataclass
class Content:
    total: int  # data rows, counted before writing (the progress bar's maximum)
    sections: Iterable[Section]


@dataclass(frozen=True)
class ExportKind:
    key: str
    label: str
    build: Callable[[Any, dict], Content]


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str
    content_type: str
    write: Callable[..., int]


# --- Writers ------------------------------------------------------------------------------------

Progress = Callable[[int], None]


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return neutralise_formula(str(value))


def neutralise_formula(text: str) -> str:
    """Quote text a spreadsheet would run as a formula (CSV injection); numbers stay numbers."""
    if text.startswith(_FORMULA_START) and not _NUMBER_LIKE.match(text):
        return "'" + text
    return text


def write_csv(path: Path, sections: Iterable[Section], progress: Progress | None = None) -> int:
    """Sections one after the other, a blank line between two. Returns the data rows written."""
    done = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        for n, section in enumerate(sections):
            if n:
                writer.writerow([])
            if section.title:
                writer.writerow([_csv_value(section.title)])
            if section.definition:
                writer.writerow([_csv_value(section.definition)])
            writer.writerow([_csv_value(c) for c in section.columns])
            for row in section.rows:
                writer.writerow([_csv_value(v) for v in row])
                done += 1
                if progress and done % PROGRESS_EVERY == 0:
                    progress(done)
            for note in section.notes:
                writer.writerow([_csv_value(note)])
    return done


def _excel_date_format() -> str:
    """The active language's short date format, in Excel's notation (m/d/Y → mm/dd/yyyy)."""
    django_to_excel = {"d": "dd", "j": "d", "m": "mm", "n": "m", "Y": "yyyy", "y": "yy"}
    pattern = formats.get_format("SHORT_DATE_FORMAT")
    if any(c.isalpha() and c not in django_to_excel for c in pattern):
        return "yyyy-mm-dd"
    return "".join(django_to_excel.get(c, c) for c in pattern)


def _sheet_name(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique (case-insensitive)."""
    base = "".join(" " if c in "[]:*?/\\" else c for c in title).strip().strip("'")[:31]
    base = base or _("Sheet")
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def write_xlsx(path: Path, sections: Iterable[Section], progress: Progress | None = None) -> int:
    """One sheet per section, written row by row (xlsxwriter's constant_memory mode)."""
    done = 0
    taken: set[str] = set()
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False}
    )
    try:
        bold = workbook.add_format({"bold": True})
        dates = workbook.add_format({"num_format": _excel_date_format()})
        stamps = workbook.add_format({"num_format": _excel_date_format() + " hh:mm"})
        for section in sections:
            name = section.sheet or section.title or _("Export")
            sheet = workbook.add_worksheet(_sheet_name(name, taken))
            sheet.set_column(0, max(len(section.columns) - 1, 0), 18)
            r = 0
            for text in (section.title, section.definition):
                if text:
                    sheet.write_string(r, 0, str(text), bold if r == 0 else None)
                    r += 1
            if r:
                r += 1  # a blank row before the header
            header_row = r
            for c, column in enumerate(section.columns):
                sheet.write_string(r, c, str(column), bold)
            sheet.freeze_panes(header_row + 1, 0)
            for row in section.rows:
                r += 1
                if r >= XLSX_MAX_ROWS:
                    raise ValidationError(_("Too many rows for one spreadsheet."))
                for c, value in enumerate(row):
                    _xlsx_cell(sheet, r, c, value, dates, stamps)
                done += 1
                if progress and done % PROGRESS_EVERY == 0:
                    progress(done)
            r += 1  # a blank row before the notes
            for note in section.notes:
                r += 1
                sheet.write_string(r, 0, str(note))
    finally:
        workbook.close()
    return done


def _xlsx_cell(sheet, r: int, c: int, value: Any, dates, stamps) -> None:
    # Explicit write_* calls: sheet.write() would turn "=..." into a formula and URLs into links.
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_string(r, c, _("yes") if value else _("no"))
    elif isinstance(value, datetime):
        sheet.write_datetime(r, c, timezone.localtime(value).replace(tzinfo=None), stamps)
    elif isinstance(value, date):
        sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), dates)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(r, c, float(value))
    else:
        sheet.write_string(r, c, str(value))


FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("csv", "CSV", "text/csv; charset=utf-8", write_csv),
        ExportFormat(
            "xlsx",
            gettext_lazy("Excel (XLSX)"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            write_xlsx,
        ),
    )
}


# --- Kinds --------------------------------------------------------------------------------------


def export_programs(user, params: dict) -> list[Program]:
    """The programs asked for that the user works in now (all of them when none was named).
    `params` has the query-string shape of reporting.params: {"program": [uuid, ...], ...}."""
    visible = programs_visible_to(user).order_by("name")
    wanted = params.get("program") or []
    return list(visible.filter(uuid__in=wanted) if wanted else visible)


def _person_name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email or ""


_ROSTER_FIELDS = [
    "person__first_name",
    "person__last_name",
    "person__second_last_name",
    "program__name",
    "status",
    "phase__number",
    "phase__name",
    "entry_date",
    "exit_date",
    "judge__first_name",
    "judge__last_name",
    "judge__email",
    "defender__first_name",
    "defender__last_name",
    "defender__email",
    "primary_substance",
]
_CONTACT_FIELDS = ["person__phone", "person__email", "person__address"]


def roster_content(user, params: dict) -> Content:
    """The identified roster: exactly the participants the user may see, in the programs asked
    for. Names, status, phase, key dates, judge, defender, primary substance; contact details
    only for the roles that may see them; nothing from treatment records."""
    contact = can_see_contact(user)
    columns = [
        _("Name"),
        _("Program"),
        _("Status"),
        _("Phase"),
        _("Entry date"),
        _("Exit date"),
        _("Judge"),
        _("Defense attorney"),
        _("Primary substance"),
    ]
    if contact:
        columns += [_("Phone"), _("Email"), _("Address")]
    queryset = (
        participants_visible_to(user)
        .filter(program__in=export_programs(user, params))
        .order_by("program__name", "person__last_name", "person__first_name", "pk")
    )
    total = queryset.count()
    fields = _ROSTER_FIELDS + (_CONTACT_FIELDS if contact else [])
    statuses = {value: str(label) for value, label in Status.choices}

    def rows() -> Iterator[list[Any]]:
        for v in queryset.values_list(*fields, named=True).iterator(chunk_size=CHUNK_ROWS):
            row = [
                " ".join(
                    n
                    for n in (v.person__first_name, v.person__last_name, v.person__second_last_name)
                    if n
                ),
                v.program__name,
                statuses.get(v.status, v.status),
                f"{v.phase__number}. {v.phase__name}" if v.phase__number else "",
                v.entry_date,
                v.exit_date,
                _person_name(
                    v.judge__first_name or "", v.judge__last_name or "", v.judge__email or ""
                ),
                _person_name(
                    v.defender__first_name or "",
                    v.defender__last_name or "",
                    v.defender__email or "",
                ),
                v.primary_substance,
            ]
            if contact:
                row += [v.person__phone, v.person__email, v.person__address]
            yield row

    return Content(total=total, sections=[Section(columns=columns, rows=rows(), sheet=_("Roster"))])


def tables_content(tables: list[Table]) -> Content:
    """Report tables as they are shown on the pages: one section (CSV block, sheet) each."""
    return Content(
        total=sum(len(t.rows) for t in tables),
        sections=[
            Section(
                columns=list(t.columns),
                rows=t.rows,
                title=str(t.title),
                definition=str(t.definition),
                notes=[str(n) for n in t.notes],
            )
            for t in tables
        ],
    )


def _report_params(user, params: dict):
    """The ReportParams of a stored export request, rebuilt for the user as they are now."""
    from reporting.params import params_from_data

    data = {key: params[key] for key in ("from", "to") if params.get(key)}
    data["program"] = [str(p.uuid) for p in export_programs(user, params)]
    form, report_params = params_from_data(user, data)
    if report_params is None:
        raise ValidationError(form.errors.as_text())
    return report_params


# The report modules are the heavier half of reporting: each loads when its export runs.
def measure_tables_content(user, params: dict) -> Content:
    """Every measure table of the dashboard, for the programs and period asked for."""
    from reporting.measures import all_tables

    return tables_content(all_tables(_report_params(user, params)))


def equity_tables_content(user, params: dict) -> Content:
    """The equity tables (each dimension), with the programs' threshold and smallest group."""
    from reporting.equity import equity_tables

    return tables_content(equity_tables(_report_params(user, params)))


def standards_tables_content(user, params: dict) -> Content:
    """The standards-compliance tables: aggregate figures only, no participant named."""
    from reporting.standards import standards_tables

    return tables_content(standards_tables(_report_params(user, params)))


KINDS: dict[str, ExportKind] = {
    k.key: k
    for k in (
        ExportKind("roster", gettext_lazy("Program roster"), roster_content),
        ExportKind("tables", gettext_lazy("Measure tables"), measure_tables_content),
        ExportKind("equity", gettext_lazy("Equity tables"), equity_tables_content),
        ExportKind(
            "standards", gettext_lazy("Standards compliance tables"), standards_tables_content
        ),
    )
}


# --- The job ------------------------------------------------------------------------------------


def export_open(export: ReportExport) -> File:
    """The finished file, read from the storage; FileNotFoundError when it is not there."""
    return default_storage.open(export.file, "rb")


def scratch_path(name: str) -> Path:
    """Where a run writes its file before storing it: the writers need a local file (xlsxwriter
    a path), and an object store takes a file whole. In the worker's temporary directory
    (TMPDIR), named after the stored file, so that whoever discards the job's file on the same
    machine (a later delivery, the failure hook after a hard time limit) removes what a killed
    run left there too."""
    return Path(tempfile.gettempdir()) / f"tjp-exports-{os.getuid()}" / Path(name).name


def _scratch_folder(path: Path) -> None:
    """Create the scratch folder, private to this user, and refuse one someone else made: the
    files hold personal data."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    found = path.parent.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise PermissionError(f"{path.parent} is not a private folder of this user")


def _store(path: Path, name: str) -> None:
    with path.open("rb") as local:
        stored = default_storage.save(name, File(local))
    if stored != name:
        # The row names the file: one stored under another name would never be found or
        # deleted. (Names are random; this does not happen.)
        default_storage.delete(stored)
        raise OSError(f"the storage kept {name} as {stored}")


def export_request(
    *,
    user,
    kind: str,
    format: str,
    params: dict,
    request: HttpRequest | None = None,
) -> ReportExport:
    """Queue an export: the file is built by a worker once this transaction commits. `params`
    has the query-string shape of reporting.params ({"program": [uuid, ...], "from", "to"});
    the language of the request is added to it."""
    if not can(user, PERM):
        raise PermissionDenied
    if kind not in KINDS:
        raise ValidationError({"kind": _("Unknown report.")})
    if format not in FORMATS:
        raise ValidationError({"format": _("Unknown format.")})
    params = {**params}
    # The language the user reads now: the file's headers and labels are written in it.
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
    params.setdefault("language", language or settings.LANGUAGE_CODE)
    wanted = params.get("program") or []
    visible = {str(p.uuid): p for p in programs_visible_to(user)}
    single = visible.get(str(wanted[0])) if len(wanted) == 1 else None
    scope = single.code if single else "all"
    with transaction.atomic():
        export = ReportExport.objects.create(
            user=user,
            program=single,
            kind=kind,
            format=format,
            params=params,
            filename=f"{kind}-{scope}-{timezone.localdate():%Y-%m-%d}.{format}",
        )
        transaction.on_commit(lambda pk=export.pk: _queue_build(pk))
    return export


def _queue_build(export_pk: int) -> None:
    from reporting.tasks import build_export

    try:
        build_export.delay(export_pk)
    except Exception as exc:
        # No broker (or, eagerly, the last attempt failed): the job must still show as failed.
        logger.exception("export %s could not be queued or built", export_pk)
        export_fail(export_pk=export_pk, error=repr(exc))


def _discard_file(export: ReportExport) -> None:
    if export.file:
        # The local copy first, on its own: a failing storage must not leave it behind.
        try:
            scratch_path(export.file).unlink(missing_ok=True)
        except OSError:
            logger.warning("scratch file of %s could not be deleted", export.file, exc_info=True)
        try:
            default_storage.delete(export.file)
        except Exception:
            # The storage itself is failing (OSError on disk, botocore's errors from a
            # bucket): recording the job's state matters more.
            logger.warning("export file %s could not be deleted", export.file, exc_info=True)
        export.file = ""


def _fail(export: ReportExport, error: str) -> ReportExport:
    _discard_file(export)
    export.status = ReportExport.Status.FAILED
    export.error = error[:2000]
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at", "file"])
    return export


# Errors a retry cannot mend (the request itself, or what the user may do): the job fails at
# once rather than building the file three more times (a spreadsheet over Excel's row limit
# fails after a million rows).
PERMANENT_ERRORS = (ValidationError, PermissionDenied)


class _Superseded(Exception):
    """A later delivery of the same job has taken it over (see export_build)."""


def _lock_if_owned(export: ReportExport) -> bool:
    """Lock the job's row (in the caller's transaction) if this run still owns the job: it is
    running and names this run's file."""
    return (
        ReportExport.objects.select_for_update()
        .filter(pk=export.pk, status=ReportExport.Status.RUNNING, file=export.file)
        .exists()
    )


def export_build(*, export_pk: int, final_attempt: bool = True) -> ReportExport | None:
    """Build the file from scratch (a retry starts over). Progress is saved as rows are
    written, each save committed, so the page can show it. On the last attempt, or for an
    error no retry can mend, the job is marked failed; before that it goes back to the queue
    and the error propagates (Celery retries).

    The same job may be delivered twice: again after its worker died (the broker hands the
    message on once the visibility timeout has passed), or while a first run still goes. Each
    run names its own file in the row when it starts, under the row's lock, so a later run
    takes the job over; an earlier run that finds its file no longer named stops and deletes
    it. Only the run that owns the job marks it ready and records the export: one file and one
    audit event, however many deliveries. A finished job (ready or failed) is left as it is."""
    with transaction.atomic():
        export = (
            ReportExport.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=export_pk)
            .first()
        )
        if export is None:
            logger.warning("export %s no longer exists; nothing to build", export_pk)
            return None
        if export.status in (ReportExport.Status.READY, ReportExport.Status.FAILED):
            return export
        user, kind, fmt = export.user, KINDS.get(export.kind), FORMATS.get(export.format)
        if kind is None or fmt is None:
            return _fail(export, "unknown kind or format")
        if not can(user, PERM) or not user.is_active:
            return _fail(export, "the user may no longer export reports")
        # The partial file of a run that died, or of one still going (it stops at its next
        # progress save, finding its file no longer named).
        _discard_file(export)
        export.file = f"{EXPORT_DIR}/{secrets.token_urlsafe(18)}.{fmt.key}"
        export.status, export.rows_done, export.rows_total = ReportExport.Status.RUNNING, 0, None
        export.error = ""
        export.save(update_fields=["file", "status", "rows_done", "rows_total", "error"])

    def save_if_owned(*fields: str) -> None:
        with transaction.atomic():
            if not _lock_if_owned(export):
                raise _Superseded
            export.save(update_fields=fields)

    def progress(done: int) -> None:
        export.rows_done = done
        save_if_owned("rows_done")

    def taken_over() -> ReportExport:
        # This run's own file, if it got as far as storing it; the run that took over the job
        # writes its own.
        _discard_file(export)
        logger.warning("export %s: taken over by another delivery of the job", export_pk)
        return ReportExport.objects.get(pk=export_pk)

    language = export.params.get("language") or settings.LANGUAGE_CODE
    try:
        path = scratch_path(export.file)
        _scratch_folder(path)
        # The rows from the replica, when there is one (the progress saves go to the primary).
        with reading_from_replica(), translation.override(language):
            content = kind.build(user, export.params)
            export.rows_total = content.total
            save_if_owned("rows_total")
            rows = fmt.write(path, content.sections, progress)
        _store(path, export.file)
        path.unlink()
    except _Superseded:
        return taken_over()
    except Exception as exc:
        with transaction.atomic():
            if not _lock_if_owned(export):
                return taken_over()  # not this run's job any more: nothing to retry
            if final_attempt or isinstance(exc, PERMANENT_ERRORS):
                _fail(export, f"{type(exc).__name__}: {exc}")
            else:
                _discard_file(export)
                export.status, export.rows_done = ReportExport.Status.QUEUED, 0
                export.save(update_fields=["file", "status", "rows_done"])
        raise
    with transaction.atomic():
        if not _lock_if_owned(export):
            return taken_over()
        export.status = ReportExport.Status.READY
        export.rows_done = export.rows_total = rows  # the count may have moved meanwhile
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "rows_done", "rows_total", "finished_at"])
        audit.record(
            actor=user,
            action=AuditEvent.Action.EXPORT,
            obj=export,
            program=export.program,
            detail={
                "kind": export.kind,
                "format": export.format,
                "rows": rows,
                "programs": [p.code for p in export_programs(user, export.params)],
            },
        )
    return export


def export_fail(*, export_pk: int, error: str) -> bool:
    """Mark a job that has not finished as failed (its file deleted), for the ends its own run
    cannot record: it could not be queued, or its worker stopped it at the time limit. A
    finished job is left as it is. Returns whether the job was marked."""
    with transaction.atomic():
        export = (
            ReportExport.objects.select_for_update()
            .filter(
                pk=export_pk,
                status__in=[ReportExport.Status.QUEUED, ReportExport.Status.RUNNING],
            )
            .first()
        )
        if export is None:
            return False
        _fail(export, error)
    logger.error("export %s failed: %s", export_pk, error)
    return True


def export_downloaded(*, export: ReportExport, request: HttpRequest) -> None:
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=export,
        program=export.program,
        request=request,
        detail={"download": export.filename, "kind": export.kind, "format": export.format},
    )


def exports_cleanup(*, older_than_days: int = RETENTION_DAYS) -> int:
    """Delete exports (rows and files) asked for more than `older_than_days` days ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    for export in ReportExport.objects.filter(created_at__lt=cutoff).iterator(chunk_size=500):
        _discard_file(export)
        export.delete()
        deleted += 1
    return deleted
