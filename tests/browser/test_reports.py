"""The reporting pages in a real browser, as a program manager and a judge use them: the
dashboard's tables and Chart.js charts (no console errors, no CSP violations), a new period,
equity splits and a refused threshold, the standards, the PDF, the monthly email, an export
polled by htmx until it is ready, what a judge and a defender may reach, and Spanish."""

import io
import re
import zipfile

import pytest
from django.utils import formats, translation
from playwright.sync_api import expect

from reporting import exports
from reporting.models import ReportExport, ReportSubscription
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.reporting.test_measures import cohort  # noqa: F401  (the hand-built cohort)
from tjp.roles import Role

pytestmark = pytest.mark.browser

CHARTED = ["census_status", "census_phase", "admissions_exits", "testing_rates"]
STANDARDS = [
    "hearing_frequency",
    "judicial_minutes",
    "tests_per_week",
    "result_turnaround",
    "data_entry",
    "incentive_sanction_ratio",
    "jail_sanctions",
    "arrest_to_entry",
    "caseloads",
]


@pytest.fixture
def errors(page):
    """Every console error and uncaught exception of the page (CSP violations among them)."""
    found = []
    page.on("console", lambda msg: msg.type == "error" and found.append(msg.text))
    page.on("pageerror", lambda exc: found.append(str(exc)))
    return found


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _charts(page) -> dict:
    """{chart key: what Chart.js drew on its canvas} for every chart canvas of the page."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('canvas[data-chart]')].map(c => {
            const chart = window.Chart && window.Chart.getChart(c);
            return [c.dataset.chart, {
                width: c.width,
                height: c.height,
                drawn: !!chart,
                labels: chart ? chart.data.labels : [],
                data: chart ? chart.data.datasets.map(d => d.data) : [],
            }];
        }))"""
    )


def _row_headers(page, key: str) -> list[str]:
    return [
        text.strip()
        for text in page.get_by_test_id(f"table-{key}").locator("tbody th").all_inner_texts()
    ]


def _expect_drawn_charts(page):
    expect(page.locator("canvas[data-chart]")).to_have_count(len(CHARTED))
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => window.Chart && window.Chart.getChart(c))",
        timeout=5_000,
    )
    charts = _charts(page)
    assert sorted(charts) == sorted(CHARTED)
    for key, chart in charts.items():
        assert chart["drawn"] and chart["width"] > 0 and chart["height"] > 0, key
        assert chart["labels"], key
    # The chart shows the table next to it: the same rows, in the same order.
    assert charts["census_status"]["labels"] == _row_headers(page, "census_status")
    assert any(value for value in charts["census_status"]["data"][0])
    return charts


def _short(day, language="en") -> str:
    with translation.override(language):
        return formats.date_format(day, "SHORT_DATE_FORMAT")


def test_manager_uses_every_report(page, errors, personas, cohort, media, monkeypatch):  # noqa: F811
    program, manager = cohort.program, personas[Role.MANAGER]
    sign_in(page, manager.email, PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()

    # 1. The dashboard: every measure as a table, the charts drawn by Chart.js.
    expect(page.get_by_role("heading", level=1)).to_have_text("Program performance")
    census = page.get_by_test_id("measure-census_status")
    expect(census).to_be_visible()
    expect(census.get_by_role("heading", level=2)).to_have_text("Census by status")
    expect(page.get_by_test_id("table-census_status").locator("tbody tr")).not_to_have_count(0)
    for key in ("census_phase", "admissions_exits", "retention", "testing_rates", "responses"):
        expect(page.get_by_test_id(f"measure-{key}")).to_be_visible()
    expect(page.get_by_test_id("dashboard-scope")).to_contain_text(
        f"to {_short(cohort.today)}, in each program's own days"
    )
    _expect_drawn_charts(page)

    # A shorter period, through the form.
    start, end = cohort.day(60), cohort.day(10)
    page.get_by_label("From", exact=True).fill(start.isoformat())
    page.get_by_label("To", exact=True).fill(end.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(f"from={start.isoformat()}"))
    expect(page.get_by_test_id("dashboard-scope")).to_contain_text(
        f"From {_short(start)} to {_short(end)}"
    )
    expect(page.get_by_label("From", exact=True)).to_have_value(start.isoformat())
    charts = _expect_drawn_charts(page)
    dashboard = page.url
    # Months of the period only: two or three month labels, not a year's.
    assert 2 <= len(charts["admissions_exits"]["labels"]) <= 3

    # 2. Equity, for the same period: another split, then a refused threshold.
    page.get_by_test_id("equity-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Equity")
    expect(page.get_by_test_id("equity-scope")).to_contain_text(
        f"From {_short(start)} to {_short(end)}"
    )
    expect(page.get_by_test_id("table-equity_race_ethnicity")).to_be_visible()
    page.get_by_label("Sex", exact=True).check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("by=sex"))
    sex = page.get_by_test_id("table-equity_sex")
    expect(sex).to_be_visible()
    expect(sex.locator("thead th").first).to_have_text("Sex")
    expect(sex.locator("tbody th").first).to_contain_text("Whole program")
    expect(page.get_by_test_id("table-equity_race_ethnicity")).to_have_count(0)
    expect(page.get_by_test_id("definitions")).to_be_visible()

    # The browser refuses 500 itself (the field carries the program setting's bounds) ...
    threshold = page.get_by_label("Flag a difference from the whole program above (%)")
    shown = page.url
    threshold.fill("500")
    page.get_by_role("button", name="Show").click()
    assert threshold.evaluate("input => !input.validity.valid")
    assert threshold.evaluate("input => input.validationMessage")
    assert page.url == shown
    # ... and the server answers a link that carries 0 with the field's message (a 400).
    assert errors == []
    response = page.goto(shown.replace("threshold=&", "threshold=0&"))
    assert response.status == 400
    expect(page.get_by_test_id("error-threshold")).to_have_text(
        "Ensure this value is greater than or equal to 1."
    )
    expect(page.get_by_test_id("table-equity_sex")).to_have_count(0)
    errors.remove(
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    )

    # 3. Standards compliance.
    page.goto(dashboard)  # back to the dashboard, with its period
    expect(page.get_by_role("heading", level=1)).to_have_text("Program performance")
    page.get_by_test_id("standards-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Standards compliance")
    for key in STANDARDS:
        expect(page.get_by_test_id(f"standard-{key}")).to_be_visible()
    expect(
        page.get_by_test_id("standard-tests_per_week").get_by_role("heading", level=2)
    ).to_have_text("Drug tests per week")
    expect(page.get_by_test_id("standards-scope")).to_contain_text(f"to {_short(end)}")

    # 4. The dashboard as a PDF, downloaded.
    page.get_by_role("link", name="Program performance").click()
    expect(page.get_by_test_id("measure-census_status")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("dashboard-pdf-link").click()
    pdf = download.value
    assert pdf.suggested_filename.startswith("program-performance-atc-")
    with open(pdf.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"

    # 5. The monthly email: subscribe, then stop.
    page.get_by_test_id("subscriptions-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly reports by email")
    row = page.get_by_test_id("subscription-atc")
    expect(row).to_have_attribute("data-subscribed", "no")
    row.get_by_role("button", name=f"Subscribe to {program.name}").click()
    expect(
        page.get_by_text(f"You will receive the monthly report of {program.name} by email.")
    ).to_be_visible()
    expect(row).to_have_attribute("data-subscribed", "yes")
    unsubscribe = row.get_by_test_id("unsubscribe")
    expect(unsubscribe).to_be_visible()
    assert ReportSubscription.objects.get(user=manager, program=program).active
    unsubscribe.click()
    expect(
        page.get_by_text(f"You will no longer receive the monthly report of {program.name}.")
    ).to_be_visible()
    expect(row).to_have_attribute("data-subscribed", "no")
    expect(row.get_by_test_id("subscribe")).to_be_visible()
    assert not ReportSubscription.objects.get(user=manager, program=program).active

    # 6. An XLSX export of the equity tables. The worker is this test: the request only queues
    # the job, the page polls the row (htmx) until the file built here is ready.
    queued = []
    monkeypatch.setattr(exports, "_queue_build", queued.append)
    page.goto(dashboard)
    expect(page.get_by_role("heading", level=1)).to_have_text("Program performance")
    page.get_by_test_id("exports-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    page.get_by_label("Report", exact=True).select_option(label="Equity tables")
    page.get_by_label("Excel (XLSX)").check()
    page.get_by_label(program.name).check()
    page.get_by_role("button", name="Request the export").click()
    expect(page.get_by_text("Export requested.")).to_be_visible()
    row = page.get_by_test_id("export-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "queued")
    expect(row).to_contain_text("Equity tables")
    expect(row.locator("progress")).to_be_visible()
    assert len(queued) == 1
    export = ReportExport.objects.get(pk=queued[0])
    assert (export.kind, export.format, export.params["program"]) == (
        "equity",
        "xlsx",
        [str(program.uuid)],
    )
    exports.export_build(export_pk=export.pk, final_attempt=True)
    link = page.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=10_000)  # polled every 2 s
    expect(row).to_have_attribute("data-status", "ready")
    expect(link).to_contain_text("equity-atc-")
    with page.expect_download() as download:
        link.click()
    xlsx = download.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    with open(xlsx.path(), "rb") as f:
        content = f.read()
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        strings = "".join(
            book.read(name).decode() for name in book.namelist() if name.startswith("xl/")
        )
    assert "Whole program" in strings and "Sex" in strings

    assert errors == []
    assert page.csp_violations == []


def test_judge_sees_the_reports_but_not_exports_or_email(page, errors, personas, cohort):  # noqa: F811
    sign_in(page, personas[Role.JUDGE].email, PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_test_id("measure-census_status")).to_be_visible()
    _expect_drawn_charts(page)
    expect(page.get_by_test_id("dashboard-pdf-link")).to_be_visible()
    expect(page.get_by_test_id("exports-link")).to_have_count(0)
    expect(page.get_by_test_id("subscriptions-link")).to_have_count(0)
    expect(page.get_by_test_id("evaluation-link")).to_have_count(0)

    page.get_by_test_id("equity-link").click()
    expect(page.get_by_test_id("table-equity_race_ethnicity")).to_be_visible()
    page.get_by_role("link", name="Program performance").click()
    page.get_by_test_id("standards-link").click()
    for key in STANDARDS:
        expect(page.get_by_test_id(f"standard-{key}")).to_be_visible()
    assert errors == []
    assert page.csp_violations == []

    for url in ("/reports/exports/", "/reports/subscriptions/"):
        assert page.goto(url).status == 403


def test_defender_is_refused_the_reports(page, personas, program):
    sign_in(page, personas[Role.DEFENDER].email, PASSWORD)
    expect(page.get_by_role("link", name="Reports", exact=True)).to_have_count(0)
    response = page.goto("/reports/")
    assert response.status == 403
    expect(page.get_by_test_id("measure-census_status")).to_have_count(0)
    expect(page.get_by_role("heading", name="Program performance")).to_have_count(0)


def test_the_dashboard_in_spanish(page, errors, personas, cohort):  # noqa: F811
    sign_in(page, personas[Role.MANAGER].email, PASSWORD)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_test_id("measure-census_status")).to_be_visible()
    page.get_by_role("button", name="Español").click()

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Desempeño del programa")
    expect(
        page.get_by_test_id("measure-census_status").get_by_role("heading", level=2)
    ).to_have_text("Población por estatus")
    expect(page.get_by_test_id("measure-retention").get_by_role("heading", level=2)).to_have_text(
        "Retención"
    )
    expect(page.get_by_role("button", name="Mostrar")).to_be_visible()
    expect(page.get_by_test_id("exports-link")).to_have_text("Exportaciones")
    expect(page.get_by_test_id("dashboard-scope")).to_contain_text(_short(cohort.today, "es"))
    _expect_drawn_charts(page)
    assert errors == []
    assert page.csp_violations == []

    # A refused threshold, answered in Spanish.
    page.goto(page.get_by_test_id("equity-link").get_attribute("href") + "&threshold=500")
    expect(page.get_by_test_id("error-threshold")).to_have_text(
        "Asegúrese de que este valor es menor o igual a 100."
    )
