"""The dashboard page: who may see it, the numbers it shows (those of the measures), charts,
Spanish, the audit row, and a query count that does not grow with the program."""

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from reporting.measures import all_tables
from reporting.params import ReportParams, params_from_data, year_ending
from tests.factories import ParticipantFactory, UserFactory, admit
from tests.reporting.test_measures import cohort  # noqa: F401  (the hand-built cohort)
from tjp.access import grant_program_staff
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

URL = reverse("reporting_dashboard")


class Tables(HTMLParser):
    """{data-testid of each <table>: [[cell text, ...] per body row]}."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.current = self.tables.setdefault(attrs.get("data-testid"), [])
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.current is not None and getattr(self, "in_body", False):
            self.row = []
            self.current.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def parse_tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def _number(text: str, language: str) -> float:
    with translation.override(language):
        group, decimal = (
            formats.get_format("THOUSAND_SEPARATOR"),
            formats.get_format("DECIMAL_SEPARATOR"),
        )
    return float(text.replace("\xa0", "").replace(group, "").replace(decimal, "."))


def _query(params: ReportParams) -> dict:
    return params.as_query()


@pytest.fixture
def params(cohort, program):  # noqa: F811
    return ReportParams(programs=(program,), start=cohort.day(364), end=cohort.today)


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
def test_who_may_see_the_dashboard(personas, participant, as_user, role, status):
    response = as_user(personas[role]).get(URL)
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="table-census_status"' in response.content.decode()


def test_another_programs_uuid_is_not_found(personas, other_program, program, as_user):
    client = as_user(personas[Role.MANAGER])
    assert client.get(URL, {"program": str(other_program.uuid)}).status_code == 404
    assert client.get(URL, {"program": "not-a-uuid"}).status_code == 404
    both = {"program": [str(program.uuid), str(other_program.uuid)]}
    assert client.get(URL, both).status_code == 404
    assert client.get(URL, {"program": str(program.uuid)}).status_code == 200


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_period_ending_before_it_starts_is_refused(personas, as_user):
    response = as_user(personas[Role.MANAGER]).get(URL, {"from": "2026-03-01", "to": "2026-02-01"})
    assert response.status_code == 400
    assert "The start of the period cannot follow its end." in response.content.decode()


def test_the_page_shows_the_numbers_of_the_measures(params, personas, as_user):
    response = as_user(personas[Role.JUDGE]).get(URL, _query(params))
    assert response.status_code == 200
    shown = parse_tables(response.content.decode())
    tables = all_tables(params)
    assert len(tables) == 14
    for table in tables:
        rows = shown[f"table-{table.key}"]
        assert len(rows) == len(table.rows), table.key
        for page_row, row in zip(rows, table.rows, strict=True):
            for text, value in zip(page_row, row, strict=True):
                if value is None:
                    assert text == "—"
                elif isinstance(value, str):
                    assert text == value
                elif hasattr(value, "year"):
                    assert text == formats.date_format(value, "YEAR_MONTH_FORMAT")
                else:
                    assert _number(text, "en") == pytest.approx(float(value)), (table.key, row)
    # The headline figures, spelled out.
    assert shown["table-retention"] == [["6", "1", "2", "50.0"]]
    assert shown["table-graduation"] == [["1", "1", "1", "3", "33.3", "1"]]


def test_charts_read_the_same_numbers_from_the_page(params, personas, as_user):
    html = as_user(personas[Role.MANAGER]).get(URL, _query(params)).content.decode()
    data = json.loads(
        re.search(
            r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert set(data) == {"census_status", "census_phase", "admissions_exits", "testing_rates"}
    tables = {t.key: t for t in all_tables(params)}
    assert data["census_status"]["datasets"][0]["data"] == [
        float(r[1]) for r in tables["census_status"].rows
    ]
    assert [d["data"] for d in data["admissions_exits"]["datasets"]] == [
        [float(r[1]) for r in tables["admissions_exits"].rows],
        [float(r[2]) for r in tables["admissions_exits"].rows],
    ]
    assert data["testing_rates"]["datasets"][0]["data"] == [
        r[3] for r in tables["testing_rates"].rows
    ]
    for key in data:
        assert f'<canvas data-chart="{key}"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "reporting/dashboard.js" in html


def test_spanish(params, personas, as_user, client):
    as_user(personas[Role.COORDINATOR])
    client.cookies["django_language"] = "es"
    response = client.get(URL, _query(params), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    shown = parse_tables(html)
    # Decimal commas, Spanish month names.
    assert shown["table-retention"] == [["6", "1", "2", "50,0"]]
    assert shown["table-testing_rates"][3][3] == "66,7"
    with translation.override("es"):
        month = formats.date_format(params.end.replace(day=1), "YEAR_MONTH_FORMAT")
    assert shown["table-admissions_exits"][-1][0] == month


def test_viewing_the_dashboard_is_audited(params, personas, as_user, program):
    as_user(personas[Role.PROSECUTOR]).get(URL, _query(params))
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, actor=personas[Role.PROSECUTOR])
    assert event.program == program
    assert event.detail == {"dashboard": _query(params)}


def test_a_manager_of_several_programs_sees_them_together(
    cohort,  # noqa: F811
    params,
    personas,
    as_user,
    other_participant,
):
    manager = personas[Role.MANAGER]
    grant_program_staff(manager, other_participant.program)
    html = as_user(manager).get(URL, {"from": params.start.isoformat()}).content.decode()
    assert "Programa de Justicia Terapéutica" in html and "Adult Treatment Court" in html
    # A and B2 of the cohort, and the other program's participant.
    assert parse_tables(html)["table-census_status"][0] == ["Active", "3"]
    only_one = as_user(manager).get(URL, {"program": str(other_participant.program.uuid)})
    assert parse_tables(only_one.content.decode())["table-census_status"][0] == ["Active", "1"]


def test_the_number_of_queries_does_not_grow_with_the_program(
    cohort,  # noqa: F811
    params,
    personas,
    as_user,
    program,
):
    client = as_user(personas[Role.MANAGER])
    client.get(URL, _query(params))  # warm up (session, permissions caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, _query(params)).status_code == 200
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[program])
    for _ in range(4):
        p = admit(ParticipantFactory(program=program), by=coordinator, entry_days_ago=20)
        cohort.test(p, cohort.day(3), missed=True)
        cohort.session(p, 2, "attended", "1")
    with CaptureQueriesContext(connection) as large:
        page = client.get(URL, _query(params))
    assert parse_tables(page.content.decode())["table-census_status"][0] == ["Active", "6"]
    assert len(large) == len(small)


def test_the_nav_links_the_dashboard_for_those_who_may_see_it(personas, as_user):
    link = f'href="{URL}"'
    assert link in as_user(personas[Role.JUDGE]).get(reverse("home")).content.decode()
    assert link not in as_user(personas[Role.DEFENDER]).get(reverse("home")).content.decode()


def test_a_manager_without_programs_sees_no_tables(as_user):
    manager = UserFactory(role=Role.MANAGER)
    html = as_user(manager).get(URL).content.decode()
    assert 'data-testid="no-programs"' in html and "<table" not in html


def test_params_default_to_every_program_and_the_last_12_months(personas, program):
    manager = personas[Role.MANAGER]
    today = program_today(program)
    form, params = params_from_data(manager, {})
    assert params == ReportParams(programs=(program,), start=year_ending(today), end=today)
    assert form["program"].value() == [str(program.uuid)]  # shown ticked
    # What an export stores, read back: the same params.
    assert params_from_data(manager, params.as_query())[1] == params
    _form, only_to = params_from_data(manager, {"to": "2026-02-28"})
    assert (only_to.start, only_to.end) == (date(2025, 3, 1), date(2026, 2, 28))
