"""The dashboard as a PDF report: who may download it, the tables and their numbers, the charts
(vector drawings with translated axes), Spanish, the audit row, and a query count that does not
grow with the program."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from reporting.dashboard_pdf import render_dashboard_pdf
from reporting.measures import all_tables
from reporting.params import ReportParams
from tests.factories import ParticipantFactory, UserFactory, admit
from tests.hearings.test_packet import _pdf_text
from tests.reporting.test_measures import cohort  # noqa: F401  (the hand-built cohort)
from tjp.access import grant_program_staff
from tjp.models import AuditEvent
from tjp.roles import Role

URL = reverse("reporting_dashboard_pdf")
CHARTED = ["census_status", "census_phase", "admissions_exits", "testing_rates"]


@pytest.fixture
def params(cohort, program):  # noqa: F811
    return ReportParams(programs=(program,), start=cohort.day(364), end=cohort.today)


def _lines(content: bytes) -> list[str]:
    return _pdf_text(content).split("\n")


def _flat(content: bytes) -> str:
    """The PDF's text on one line (a cell that wraps reads as its words)."""
    return " ".join(_lines(content))


def _expected(value) -> str:
    """A table value as an English reader expects it, worked out apart from the code under
    test: the measures round, so Python's own formatting gives the digits (and English groups
    thousands with commas)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if hasattr(value, "year"):
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    return f"{value:,}"


def _download(client, params: ReportParams, **headers):
    response = client.get(URL, params.as_query(), **headers)
    assert response.status_code == 200
    return response


# --- who may download it ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "role, status",
    [
        (Role.JUDGE, 200),
        (Role.PROSECUTOR, 200),
        (Role.COORDINATOR, 200),
        (Role.MANAGER, 200),
        (Role.DEFENDER, 403),
        (Role.CLINICIAN, 403),
        (Role.ADMINISTRATOR, 403),
    ],
)
def test_who_may_download_it(personas, participant, program, as_user, role, status):
    response = as_user(personas[role]).get(URL, {"program": str(program.uuid)})
    assert response.status_code == status
    assert response.content.startswith(b"%PDF") is (status == 200)
    exported = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
    assert exported is (status == 200)


def test_another_programs_uuid_is_not_found(personas, other_program, program, as_user):
    client = as_user(personas[Role.MANAGER])
    assert client.get(URL, {"program": str(other_program.uuid)}).status_code == 404
    assert client.get(URL, {"program": "not-a-uuid"}).status_code == 404
    both = {"program": [str(program.uuid), str(other_program.uuid)]}
    assert client.get(URL, both).status_code == 404
    stranger = UserFactory(role=Role.MANAGER, programs=[other_program])
    assert as_user(stranger).get(URL, {"program": str(program.uuid)}).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_bad_dates_are_refused_with_the_forms_message(personas, as_user):
    client = as_user(personas[Role.MANAGER])
    backwards = client.get(URL, {"from": "2026-03-01", "to": "2026-02-01"})
    assert backwards.status_code == 400
    assert "The start of the period cannot follow its end." in backwards.content.decode()
    garbage = client.get(URL, {"from": "yesterday"})
    assert garbage.status_code == 400 and "Enter a valid date." in garbage.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


# --- what it holds ---------------------------------------------------------------------------
def test_a_confidential_attachment_with_every_table_and_its_numbers(
    params, personas, as_user, program
):
    response = _download(as_user(personas[Role.JUDGE]), params)
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="program-performance-atc-{params.start:%Y-%m-%d}-'
        f'{params.end:%Y-%m-%d}.pdf"'
    )
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    lines, flat = _lines(response.content), _flat(response.content)
    assert "Program performance" in lines and "CONFIDENTIAL" in lines
    assert "Page 1 of" in flat and "Adult Treatment Court" in flat
    tables = all_tables(params)
    assert len(tables) == 14
    for table in tables:
        assert table.title in lines, table.key
        assert " ".join(table.columns) in flat, table.key
        for row in table.rows:
            # The cells of a row, in order, one after another.
            assert " ".join(_expected(value) for value in row) in flat, (table.key, row)
        for note in table.notes:
            assert note in flat
    # The definitions are there (a long paragraph: its opening words).
    assert tables[0].definition.split(",")[0] in flat
    # The headline figures, spelled out (as on the dashboard page).
    assert "Retention" in lines and "6 1 2 50.0" in flat
    assert "1 1 1 3 33.3 1" in flat


def test_the_charts_are_vector_drawings_with_axes_and_legend(params, personas, as_user):
    content = _download(as_user(personas[Role.MANAGER]), params).content
    lines = _lines(content)
    assert b"/Subtype /Image" not in content  # drawn, not pictures
    tables = {t.key: t for t in all_tables(params)}
    flat = " ".join(lines)
    for key, table in tables.items():
        caption = f"Chart: {table.title}. The same numbers are in the table."
        assert (caption in flat) is (key in CHARTED), key
    for key in CHARTED:
        for row in tables[key].rows:
            # Once in the table, once more beside its bar.
            label = _expected(row[0])
            assert lines.count(label) >= 2, (key, label)
    # Percents run from 0 to 100 along their axis, titled by the column.
    assert "100" in lines and lines.count("Percent") >= 2
    # Admissions and exits: two series, a legend naming them, a value axis title.
    assert lines.count("Admissions") >= 2 and lines.count("Exits") >= 2
    assert "Number" in lines


def test_a_chart_only_for_the_tables_the_dashboard_charts(params, personas, as_user):
    tables = {t.key: t for t in all_tables(params)}
    with translation.override("en"):
        lines = _lines(
            render_dashboard_pdf(params, [tables["retention"], tables["admissions_exits"]])
        )
        retention = render_dashboard_pdf(params, [tables["retention"]])
    assert "Retention" in lines and "Census by status" not in lines
    assert "Number" in lines  # the chart of admissions and exits
    assert "Number" not in _lines(retention) and "Exits" not in _lines(retention)


def test_spanish(params, personas, as_user, client):
    as_user(personas[Role.COORDINATOR])
    client.cookies["django_language"] = "es"
    lines = _lines(_download(client, params, HTTP_ACCEPT_LANGUAGE="es").content)
    flat = " ".join(lines)
    assert "Desempeño del programa" in lines and "CONFIDENCIAL" in lines
    assert "Página 1 de" in flat and "Program performance" not in lines
    with translation.override("es"):
        titles = [t.title for t in all_tables(params)]
        month = formats.date_format(params.end.replace(day=1), "YEAR_MONTH_FORMAT")
        status = all_tables(params)[0].columns[0]
    assert "Población por estatus" in titles
    for title in titles:
        assert title in lines
    # Decimal commas, Spanish month names, in the tables and along the chart's axis.
    assert "6 1 2 50,0" in flat and "66,7" in lines
    assert lines.count(month) >= 2
    assert lines.count(status) >= 2  # the table header and the chart's axis title


def test_the_monthly_email_can_build_it_in_the_programs_language(params):
    with translation.override("es"):
        spanish = _lines(render_dashboard_pdf(params))
    with translation.override("en"):
        english = _lines(render_dashboard_pdf(params))
    assert "Desempeño del programa" in spanish and "Program performance" in english


def test_the_page_is_letter_for_us_programs_and_a4_elsewhere(
    params, personas, as_user, other_participant
):
    letter = _download(as_user(personas[Role.MANAGER]), params).content
    assert re.search(rb"/MediaBox \[\s*0 0 612 792\s*\]", letter)
    other = ReportParams(programs=(other_participant.program,), start=params.start, end=params.end)
    with translation.override("es"):
        a4 = render_dashboard_pdf(other)
    assert re.search(rb"/MediaBox \[\s*0 0 595\.2756 841\.8898\s*\]", a4)


def test_several_programs_together(params, personas, as_user, other_participant):
    manager = personas[Role.MANAGER]
    grant_program_staff(manager, other_participant.program)
    query = {"from": params.start.isoformat(), "to": params.end.isoformat()}
    response = as_user(manager).get(URL, query)
    assert response.status_code == 200
    assert "program-performance-atc-pjt-" in response["Content-Disposition"] or (
        "program-performance-pjt-atc-" in response["Content-Disposition"]
    )
    flat = _flat(response.content)
    assert "Adult Treatment Court" in flat and "Programa de Justicia Terapéutica" in flat
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.program is None and len(event.detail["dashboard_pdf"]["program"]) == 2


def test_a_manager_without_programs_gets_a_pdf_saying_so(as_user):
    response = as_user(UserFactory(role=Role.MANAGER)).get(URL)
    assert response.status_code == 200
    assert "You do not work in any program yet." in _flat(response.content)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_every_download_is_an_export_in_the_audit_trail(params, personas, as_user, program):
    client = as_user(personas[Role.PROSECUTOR])
    _download(client, params)
    _download(client, params)
    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.EXPORT, actor=personas[Role.PROSECUTOR]
    )
    assert events.count() == 2
    event = events.first()
    assert event.program == program
    assert event.participant_uuid is None
    assert event.detail == {"dashboard_pdf": params.as_query()}


def test_the_number_of_queries_does_not_grow_with_the_program(
    cohort,  # noqa: F811
    params,
    personas,
    as_user,
    program,
):
    client = as_user(personas[Role.MANAGER])
    _download(client, params)  # warm up (session, permissions caches)
    with CaptureQueriesContext(connection) as small:
        _download(client, params)
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[program])
    for _ in range(4):
        p = admit(ParticipantFactory(program=program), by=coordinator, entry_days_ago=20)
        cohort.test(p, cohort.day(3), missed=True)
        cohort.session(p, 2, "attended", "1")
    with CaptureQueriesContext(connection) as large:
        content = _download(client, params).content
    assert "Active 6" in _flat(content)
    assert len(large) == len(small)
