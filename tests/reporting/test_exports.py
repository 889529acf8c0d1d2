"""Exports: the streamed CSV/XLSX writers, the roster export and its access rules, the job's
life (queued → running → ready, or failed after its retries; delivered twice, built once), the
page, the owner-only download, the cleanup, and memory that stays flat as the roster grows."""

import csv
import dataclasses
import io
import re
import tracemalloc
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone, translation

from participants.access import participants_visible_to
from participants.models import Participant, Person, Status
from reporting import exports
from reporting.models import ReportExport
from reporting.tables import Table
from tests.factories import ParticipantFactory, UserFactory
from tests.reporting.files import stored
from tjp.models import AuditEvent
from tjp.roles import Role

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
ROSTER_HEADER = [
    "Name",
    "Program",
    "Status",
    "Phase",
    "Entry date",
    "Exit date",
    "Judge",
    "Defense attorney",
    "Primary substance",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run inline here even where a broker is configured (CI): the real worker has its
    own test file."""
    from tjp.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def manager(personas):
    return personas[Role.MANAGER]


@pytest.fixture
def run_export(django_capture_on_commit_callbacks):
    """Ask for an export as the service does and let the commit queue (and, eagerly, run) it."""

    def run(user, kind="roster", fmt="csv", params=None) -> ReportExport:
        with django_capture_on_commit_callbacks(execute=True):
            export = exports.export_request(user=user, kind=kind, format=fmt, params=params or {})
        export.refresh_from_db()
        return export

    return run


@pytest.fixture
def saves():
    """Every state of every ReportExport save, in order, as the database got it."""
    seen = []

    def record(sender, instance, **kwargs):
        seen.append(
            {
                "status": instance.status,
                "rows_done": instance.rows_done,
                "rows_total": instance.rows_total,
                "file": instance.file,
            }
        )

    post_save.connect(record, sender=ReportExport, weak=False)
    yield seen
    post_save.disconnect(record, sender=ReportExport)


def read_csv(export: ReportExport) -> list[list[str]]:
    raw = stored(export).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads the accents"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(path) -> dict[str, list[list]]:
    """{sheet name: rows}, read back from the file's XML (strings as str, numbers as float)."""
    with zipfile.ZipFile(path) as book:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))  # noqa: S314
        names = [s.get("name") for s in workbook.iterfind("m:sheets/m:sheet", NS)]
        sheets = {}
        for n, name in enumerate(names, start=1):
            xml = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{n}.xml"))  # noqa: S314
            rows = []
            for row in xml.iterfind("m:sheetData/m:row", NS):
                index = int(row.get("r")) - 1
                rows.extend([] for _ in range(index + 1 - len(rows)))
                for cell in row.iterfind("m:c", NS):
                    column = _column(cell.get("r"))
                    rows[index].extend(None for _ in range(column + 1 - len(rows[index])))
                    if cell.get("t") == "inlineStr":
                        value = "".join(t.text or "" for t in cell.iterfind(".//m:t", NS))
                    elif cell.get("t") == "s":
                        raise AssertionError("shared strings: not constant-memory mode")
                    else:
                        value = float(cell.find("m:v", NS).text)
                    assert cell.find("m:f", NS) is None, "no cell is a formula"
                    rows[index][column] = value
            sheets[name] = rows
        return sheets


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group()
    n = 0
    for letter in letters:
        n = n * 26 + ord(letter) - ord("A") + 1
    return n - 1


def excel_serial(day: date) -> float:
    return float((day - date(1899, 12, 30)).days)


# --- The roster ---------------------------------------------------------------------------------


def test_roster_csv_holds_exactly_the_participants_the_manager_may_see(
    run_export, manager, participant, referral, other_participant, personas
):
    participant.primary_substance = "Metanfetamina"
    participant.save(update_fields=["primary_substance"])
    export = run_export(manager)
    assert export.status == ReportExport.Status.READY
    assert export.filename == f"roster-all-{timezone.localdate():%Y-%m-%d}.csv"
    header, *rows = read_csv(export)
    assert header == ROSTER_HEADER  # no contact details for a manager, no treatment data
    expected = {p.person.full_name for p in participants_visible_to(manager)}
    assert {r[0] for r in rows} == expected == {"Ana Núñez", "José Pérez"}
    assert other_participant.person.full_name not in {r[0] for r in rows}
    ana = next(r for r in rows if r[0] == "Ana Núñez")
    assert ana == [
        "Ana Núñez",
        "Adult Treatment Court",
        "Active",
        str(participant.phase),
        participant.entry_date.isoformat(),
        "",
        str(personas[Role.JUDGE]),
        str(personas[Role.DEFENDER]),
        "Metanfetamina",
    ]
    assert export.rows_done == export.rows_total == 2


def test_roster_of_one_program_leaves_the_others_out(
    run_export, program, other_program, participant, other_participant
):
    both = UserFactory(role=Role.MANAGER, programs=[program, other_program])
    everything = read_csv(run_export(both))
    assert {r[1] for r in everything[1:]} == {program.name, other_program.name}
    export = run_export(both, params={"program": [str(other_program.uuid)]})
    assert export.program == other_program and "roster-pjt-" in export.filename
    assert [r[0] for r in read_csv(export)[1:]] == [other_participant.person.full_name]


def test_roster_xlsx_has_typed_cells_in_one_sheet(run_export, manager, participant):
    export = run_export(manager, fmt="xlsx")
    assert export.status == ReportExport.Status.READY and export.filename.endswith(".xlsx")
    sheets = read_xlsx(stored(export))
    assert list(sheets) == ["Roster"]
    header, ana = sheets["Roster"]
    assert header == ROSTER_HEADER
    assert ana[:4] == ["Ana Núñez", "Adult Treatment Court", "Active", str(participant.phase)]
    assert ana[4] == excel_serial(participant.entry_date)  # a date cell, not text


def test_headers_and_labels_are_in_the_language_of_the_request(run_export, manager, participant):
    with translation.override("es"):
        export = run_export(manager)
    assert export.params["language"] == "es"
    header, row = read_csv(export)
    assert header[:3] == ["Nombre", "Programa", "Estatus"]
    assert row[2] == "Activo(a)"
    with translation.override("es"):
        export = run_export(manager, fmt="xlsx")
    with zipfile.ZipFile(stored(export)) as book:
        assert 'formatCode="dd/mm/yyyy"' in book.read("xl/styles.xml").decode()  # d/m/Y
    ((header, row),) = read_xlsx(stored(export)).values()
    assert header[0] == "Nombre" and row[4] == excel_serial(participant.entry_date)


def test_contact_columns_only_for_roles_that_may_see_contacts(participant, personas, tmp_path):
    participant.person.phone, participant.person.email = "+1 555 0100", "ana@example.org"
    participant.person.save(update_fields=["phone", "email"])
    for role, contact in [(Role.COORDINATOR, True), (Role.MANAGER, False), (Role.JUDGE, False)]:
        content = exports.roster_content(personas[role], {})
        exports.write_csv(tmp_path / "r.csv", content.sections)
        header, row = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8-sig")))
        assert ("Phone" in header) is contact, role
        assert ("+1 555 0100" in row) is contact, role
        assert ("ana@example.org" in row) is contact, role


def test_the_roster_is_decided_when_the_job_runs_not_when_asked(
    manager, participant, program, django_capture_on_commit_callbacks
):
    from tjp.access import revoke_program_staff

    with django_capture_on_commit_callbacks(execute=False) as queued:
        export = exports.export_request(user=manager, kind="roster", format="csv", params={})
    revoke_program_staff(manager, program)  # the manager leaves the program meanwhile
    for callback in queued:
        callback()
    export.refresh_from_db()
    assert export.status == ReportExport.Status.READY
    assert read_csv(export)[1:] == []


def test_a_cell_that_looks_like_a_formula_stays_text(run_export, manager, program, personas):
    person = Person.objects.create(
        first_name='=HYPERLINK("http://evil.example")',
        last_name="X",
        date_of_birth=date(1990, 1, 1),
    )
    ParticipantFactory(program=program, person=person)
    row = read_csv(run_export(manager))[1]
    assert row[0].startswith("'=HYPERLINK")
    sheet = read_xlsx(stored(run_export(manager, fmt="xlsx")))["Roster"]
    assert sheet[1][0].startswith("=HYPERLINK")  # an inline string; read_xlsx refuses formulas


# --- Measure tables -----------------------------------------------------------------------------


@pytest.fixture
def tables():
    return [
        Table(
            key="retention",
            title="Retention",
            definition="(Graduates + still active) / admitted.",
            columns=["Program", "Admitted", "Retention"],
            rows=[["Adult Treatment Court", 40, Decimal("0.75")], ["Programa", 12, 0.5]],
            notes=["2 groups suppressed (< 5 people)"],
        ),
        Table(
            key="census",
            title="Census by phase: 1/2 [all]",
            definition="Participants in each phase on the last day.",
            columns=["Phase", "Participants"],
            rows=[["1", 7], ["2", 3]],
        ),
    ]


def test_tables_as_one_csv_with_a_blank_line_between(tables, tmp_path):
    path = tmp_path / "t.csv"
    written = exports.write_csv(path, exports.tables_content(tables).sections)
    assert written == 4
    assert list(csv.reader(path.open(encoding="utf-8-sig"))) == [
        ["Retention"],
        ["(Graduates + still active) / admitted."],
        ["Program", "Admitted", "Retention"],
        ["Adult Treatment Court", "40", "0.75"],
        ["Programa", "12", "0.5"],
        ["2 groups suppressed (< 5 people)"],
        [],
        ["Census by phase: 1/2 [all]"],
        ["Participants in each phase on the last day."],
        ["Phase", "Participants"],
        ["1", "7"],
        ["2", "3"],
    ]


def test_tables_as_one_xlsx_sheet_each(tables, tmp_path):
    path = tmp_path / "t.xlsx"
    content = exports.tables_content(tables)
    assert content.total == 4
    assert exports.write_xlsx(path, content.sections) == 4
    sheets = read_xlsx(path)
    assert list(sheets) == ["Retention", "Census by phase  1 2  all"]
    retention = sheets["Retention"]
    assert retention[0] == ["Retention"] and retention[3] == ["Program", "Admitted", "Retention"]
    assert retention[4] == ["Adult Treatment Court", 40.0, 0.75]  # numbers stay numbers
    assert retention[5] == ["Programa", 12.0, 0.5]
    assert retention[7] == ["2 groups suppressed (< 5 people)"]
    assert sheets["Census by phase  1 2  all"][5] == ["2", 3.0]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_measure_tables_export_end_to_end(fmt, run_export, manager, participant, program):
    from reporting.measures import MEASURES

    today = timezone.localdate()
    params = {
        "program": [str(program.uuid)],
        "from": (today - timedelta(days=90)).isoformat(),
        "to": today.isoformat(),
    }
    export = run_export(manager, kind="tables", fmt=fmt, params=params)
    assert export.status == ReportExport.Status.READY, export.error
    assert export.filename.startswith("tables-atc-")
    if fmt == "xlsx":
        assert len(read_xlsx(stored(export))) == len(MEASURES)
    else:
        with stored(export).open(encoding="utf-8-sig", newline="") as f:
            blank_lines = sum(1 for row in csv.reader(f) if not row)
        assert blank_lines + 1 == len(MEASURES)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("equity", "reporting.equity.equity_tables"),
        ("standards", "reporting.standards.standards_tables"),
    ],
)
def test_equity_and_standards_tables_export_as_the_pages_compute_them(
    kind, expected, run_export, manager, participant, program
):
    from importlib import import_module

    from reporting.params import ReportParams

    module, name = expected.rsplit(".", 1)
    today = timezone.localdate()
    start = today - timedelta(days=90)
    params = {"program": [str(program.uuid)], "from": start.isoformat(), "to": today.isoformat()}
    export = run_export(manager, kind=kind, fmt="xlsx", params=params)
    assert export.status == ReportExport.Status.READY, export.error
    tables = getattr(import_module(module), name)(ReportParams((program,), start, today))
    sheets = read_xlsx(stored(export))
    assert len(sheets) == len(tables) > 1
    for sheet, table in zip(sheets.values(), tables, strict=True):
        assert sheet[0] == [table.title]
        assert table.columns in sheet  # the header row, then the table's rows
        assert len(sheet) >= len(table.rows) + 3
    # Aggregates only: nobody's name is in the file.
    names = {participant.person.first_name, participant.person.last_name}
    assert not names & {str(v) for rows in sheets.values() for row in rows for v in row}


def test_measure_tables_refuse_a_period_that_ends_before_it_starts(
    run_export, manager, participant
):
    export = run_export(manager, kind="tables", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert export.status == ReportExport.Status.FAILED and "start of the period" in export.error


# --- The job ------------------------------------------------------------------------------------


def test_progress_is_saved_while_the_rows_are_written(
    run_export, manager, program, participant, saves, monkeypatch
):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    for _ in range(4):
        ParticipantFactory(program=program)
    export = run_export(manager)
    states = [(s["status"], s["rows_done"], s["rows_total"]) for s in saves]
    assert states == [
        ("queued", 0, None),
        ("running", 0, None),
        ("running", 0, 5),
        ("running", 2, 5),
        ("running", 4, 5),
        ("ready", 5, 5),
    ]
    assert export.finished_at is not None and export.progress_percent == 100


def test_the_export_is_audited_when_the_file_is_ready(run_export, manager, participant, program):
    export = run_export(manager, fmt="xlsx", params={"program": [str(program.uuid)]})
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == manager and event.program == program
    assert event.object_id == str(export.uuid)
    assert event.detail == {"kind": "roster", "format": "xlsx", "rows": 1, "programs": ["atc"]}


@pytest.fixture
def retries_run_eagerly():
    """Eager tasks retry inline only when their errors do not propagate (as on a worker)."""
    from tjp.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_a_job_whose_storage_fails_is_retried_from_scratch_then_marked_failed(
    run_export, manager, participant, saves, media, settings, retries_run_eagerly
):
    # The export volume is broken (a file where the folder should be): every attempt fails.
    broken = media / "not-a-folder"
    broken.write_text("")
    settings.MEDIA_ROOT = broken
    export = run_export(manager)
    assert export.status == ReportExport.Status.FAILED
    assert export.error.startswith("NotADirectoryError")
    assert export.finished_at is not None
    attempts = [s for s in saves if s["status"] == "running" and s["rows_total"] is None]
    assert len(attempts) == 4  # the first run and three retries
    assert len({a["file"] for a in attempts}) == 4  # each retry starts a new file
    assert not any(exports.scratch_path(a["file"]).exists() for a in attempts)  # none left
    assert export.file == "" and list(media.iterdir()) == [broken]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
    assert ReportExport.objects.filter(pk=export.pk).exists()  # never vanishes


def test_a_job_no_retry_can_mend_fails_at_once(
    run_export, manager, participant, saves, media, retries_run_eagerly
):
    # Bad params (not program ids): the query would raise the same on every attempt.
    export = run_export(manager, params={"program": ["not-a-uuid", "nor-this"]})
    assert export.status == ReportExport.Status.FAILED and "ValidationError" in export.error
    assert [s["status"] for s in saves] == ["queued", "running", "failed"]
    assert export.file == "" and not any((media / "exports").glob("*"))


def _asked(manager) -> ReportExport:
    """A roster export asked for, its job not run yet (as if in the broker's queue)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exports, "_queue_build", lambda pk: None)
        return exports.export_request(user=manager, kind="roster", format="csv", params={})


def test_a_job_delivered_again_after_its_worker_died_is_built_once(
    manager, program, participant, media
):
    for _ in range(2):
        ParticipantFactory(program=program)
    export = _asked(manager)
    # What a worker killed in the middle leaves: the job running, a partial file, progress.
    partial = media / "exports" / "partial.csv"
    partial.parent.mkdir()
    partial.write_text("Name\nAna\n")
    ReportExport.objects.filter(pk=export.pk).update(
        status=ReportExport.Status.RUNNING, file="exports/partial.csv", rows_done=1, rows_total=3
    )
    exports.export_build(export_pk=export.pk, final_attempt=False)  # the redelivery
    export.refresh_from_db()
    assert export.status == ReportExport.Status.READY
    assert export.rows_done == export.rows_total == 3
    assert [p.name for p in (media / "exports").iterdir()] == [export.file.split("/")[1]]
    assert len(read_csv(export)) == 4  # the header and three rows
    # Delivered once more (the first worker's message came back late): nothing changes.
    exports.export_build(export_pk=export.pk)
    assert ReportExport.objects.get(pk=export.pk).file == export.file
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_a_run_taken_over_by_a_second_delivery_stops_and_leaves_nothing(
    manager, program, participant, media, monkeypatch
):
    """Two deliveries of one job at once (a visibility timeout set too short): the later run
    takes the job over; the earlier one stops at its next progress save and deletes its
    file. One file, one audit event."""
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    for _ in range(3):
        ParticipantFactory(program=program)
    export = _asked(manager)
    write_csv = exports.write_csv
    files = []

    def write_while_a_second_delivery_runs(path, sections, progress=None):
        files.append(path.name)
        if len(files) == 1:
            exports.export_build(export_pk=export.pk)  # the second delivery, start to end
        return write_csv(path, sections, progress)

    monkeypatch.setitem(
        exports.FORMATS,
        "csv",
        dataclasses.replace(exports.FORMATS["csv"], write=write_while_a_second_delivery_runs),
    )
    exports.export_build(export_pk=export.pk)
    export.refresh_from_db()
    assert len(files) == 2 and export.file.endswith(files[1])
    assert export.status == ReportExport.Status.READY and export.rows_done == 4
    assert [p.name for p in (media / "exports").iterdir()] == [files[1]]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_a_failed_job_shows_as_failed_when_errors_propagate(run_export, manager, media):
    # The project's eager setting (no broker, errors propagate): no retry, but no lost job.
    export = run_export(manager, params={"program": ["not-a-uuid", "nor-this"]})
    assert export.status == ReportExport.Status.FAILED and "not a valid UUID" in export.error
    assert export.file == "" and not any((media / "exports").glob("*"))


def test_a_user_who_lost_the_permission_gets_no_file(run_export, manager, participant):
    from django.contrib.auth.models import Group

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exports, "_queue_build", lambda pk: None)
        export = exports.export_request(user=manager, kind="roster", format="csv", params={})
    manager.groups.set([Group.objects.get(name=Role.COORDINATOR.value)])
    exports.export_build(export_pk=export.pk)
    export.refresh_from_db()
    assert export.status == ReportExport.Status.FAILED and not export.file


def test_only_managers_may_ask_for_an_export(personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        exports.export_request(
            user=personas[Role.COORDINATOR], kind="roster", format="csv", params={}
        )
    assert not ReportExport.objects.exists()


def test_cleanup_deletes_week_old_exports_and_their_files(run_export, manager, participant):
    old, recent = run_export(manager), run_export(manager)
    ReportExport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=exports.RETENTION_DAYS, minutes=1)
    )
    from reporting.tasks import cleanup_exports

    assert cleanup_exports.delay().get() == 1
    assert not stored(old).exists()
    assert list(ReportExport.objects.all()) == [recent]
    assert stored(recent).is_file()


# --- Pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_who_may_open_the_exports_page(role, personas, as_user, participant):
    client = as_user(personas[role])
    page = client.get(reverse("report_exports"))
    asked = client.post(reverse("report_exports"), {"kind": "roster", "format": "csv"})
    allowed = role == Role.MANAGER
    assert page.status_code == (200 if allowed else 403)
    assert asked.status_code == (302 if allowed else 403)
    assert ReportExport.objects.exists() is allowed


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(reverse("report_exports"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_form_offers_only_the_managers_programs(
    as_user, manager, program, other_program, participant
):
    client = as_user(manager)
    page = client.get(reverse("report_exports")).content.decode()
    assert program.name in page and other_program.name not in page
    response = client.post(
        reverse("report_exports"),
        {"kind": "roster", "format": "csv", "program": [str(other_program.uuid)]},
    )
    assert response.status_code == 200 and not ReportExport.objects.exists()


def test_ask_watch_and_download_through_the_pages(
    as_user, manager, participant, program, django_capture_on_commit_callbacks
):
    client = as_user(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("report_exports"),
            {"kind": "roster", "format": "csv", "program": [str(program.uuid)]},
        )
    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert export.status == ReportExport.Status.READY  # eager: built on commit
    assert export.params == {"program": [str(program.uuid)], "language": "en"}
    page = client.get(response["Location"]).content.decode()
    download = reverse("report_export_download", args=[export.uuid])
    assert download in page and "Program roster" in page and program.name in page
    row = client.get(reverse("report_export_status", args=[export.uuid])).content.decode()
    assert download in row and "hx-trigger" not in row  # ready: the polling stops
    file = client.get(download)
    assert file.status_code == 200
    assert file["Content-Disposition"] == f'attachment; filename="{export.filename}"'
    assert "Ana Núñez" in b"".join(file.streaming_content).decode("utf-8-sig")
    seen = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(export.uuid))
    assert seen.detail["download"] == export.filename and seen.actor == manager


def test_a_running_export_polls_and_shows_its_progress(as_user, manager):
    export = ReportExport.objects.create(
        user=manager, kind="roster", format="xlsx", status="running", rows_done=30, rows_total=120
    )
    client = as_user(manager)
    row = client.get(reverse("report_export_status", args=[export.uuid])).content.decode()
    status_url = reverse("report_export_status", args=[export.uuid])
    assert f'hx-get="{status_url}"' in row and 'hx-trigger="every 2s"' in row
    assert '<progress class="w-100" value="30" max="120"' in row
    assert "30 of 120 rows" in row
    assert reverse("report_export_download", args=[export.uuid]) not in row
    assert client.get(reverse("report_export_download", args=[export.uuid])).status_code == 404


def test_a_failed_export_is_listed_as_failed(as_user, manager):
    ReportExport.objects.create(
        user=manager, kind="roster", format="csv", status="failed", error="boom"
    )
    page = as_user(manager).get(reverse("report_exports")).content.decode()
    assert 'data-status="failed"' in page and "could not be built" in page


def test_another_users_export_is_not_found(run_export, manager, program, participant, as_user):
    export = run_export(manager)
    colleague = UserFactory(role=Role.MANAGER, programs=[program])
    client = as_user(colleague)
    assert client.get(reverse("report_export_download", args=[export.uuid])).status_code == 404
    assert client.get(reverse("report_export_status", args=[export.uuid])).status_code == 404
    assert str(export.uuid) not in client.get(reverse("report_exports")).content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_an_export_kept_in_object_storage_is_streamed_to_its_owner(
    run_export, manager, participant, as_user, media, settings
):
    """With a storage that is not the filesystem (as with the S3 bucket: settings), the file is
    kept there and nowhere under MEDIA_ROOT, the download streams it through the owner's view
    (never a redirect to the storage), and the cleanup deletes it there."""
    from django.core.files.storage import default_storage

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    export = run_export(manager)
    assert export.status == ReportExport.Status.READY
    assert list(media.rglob("*")) == []
    assert not exports.scratch_path(export.file).exists()
    file = as_user(manager).get(reverse("report_export_download", args=[export.uuid]))
    assert file.status_code == 200 and "Location" not in file
    assert "Ana Núñez" in b"".join(file.streaming_content).decode("utf-8-sig")
    ReportExport.objects.filter(pk=export.pk).update(
        created_at=timezone.now() - timedelta(days=exports.RETENTION_DAYS, minutes=1)
    )
    assert exports.exports_cleanup() == 1
    assert not default_storage.exists(export.file)


# --- Memory -------------------------------------------------------------------------------------


def _add_participants(program, count: int) -> None:
    phase = program.phases.get(number=1)
    people = Person.objects.bulk_create(
        Person(
            first_name=f"Nombre{n:05d}",
            last_name="Apellido Largo de Prueba",
            second_last_name="Segundo Apellido",
            date_of_birth=date(1990, 1, 1),
        )
        for n in range(count)
    )
    today = timezone.localdate()
    Participant.objects.bulk_create(
        Participant(
            person=person,
            program=program,
            status=Status.ACTIVE,
            phase=phase,
            referred_on=today - timedelta(days=40),
            referral_source="prosecutor",
            entry_date=today - timedelta(days=30),
            primary_substance="Metanfetamina",
        )
        for person in people
    )


def _peak(manager, fmt: str) -> tuple[int, ReportExport]:
    export = ReportExport.objects.create(
        user=manager, kind="roster", format=fmt, params={"language": "en"}
    )
    tracemalloc.start()
    try:
        exports.export_build(export_pk=export.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    export.refresh_from_db()
    return peak, export


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_memory_stays_flat_as_the_roster_grows(fmt, manager, program, monkeypatch):
    _add_participants(program, 1000)
    small, export = _peak(manager, fmt)
    assert export.rows_done == 1000
    _add_participants(program, 4000)
    large, export = _peak(manager, fmt)
    assert export.status == ReportExport.Status.READY and export.rows_done == 5000
    # Holding every row would make the peak grow about 5x from 1,000 to 5,000 rows.
    assert large < 1.5 * small, (small, large)
    if fmt == "csv":
        # The bound catches it: fetched in one piece, the 5,000 rows exceed it.
        monkeypatch.setattr(exports, "CHUNK_ROWS", 10_000)
        whole, _ = _peak(manager, fmt)
        assert whole > 3 * small, (small, whole)
