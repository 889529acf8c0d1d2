"""In court, in a real browser: the coordinator records with the keyboard, each cell saving as
it is left (htmx), and the judge, in another browser, sees the values after a reload."""

from datetime import time

import pytest
from playwright.sync_api import expect

from hearings import services
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tjp.clock import program_today
from tjp.roles import Role

pytestmark = pytest.mark.browser

NAME = "Ana Núñez"


@pytest.fixture
def entry(participant, personas):
    """`participant` on the docket of a session held today."""
    program, coordinator = participant.program, personas[Role.COORDINATOR]
    session = services.session_create(
        acting_user=coordinator,
        program=program,
        kind="status_review",
        judge=personas[Role.JUDGE],
        courtroom="3B",
        day=program_today(program),
        start=time(0, 5),
        duration_minutes=120,
    )
    return services.docket_add(acting_user=coordinator, session=session, participant=participant)


def _watch_csp(page):
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and page.csp_violations.append(msg.text),
    )


def test_coordinator_records_with_the_keyboard_and_the_judge_sees_it(
    page, browser, live_server, personas, entry
):
    court = f"/hearings/sessions/{entry.session.uuid}/court/"
    sign_in(page, personas[Role.COORDINATOR].email, PASSWORD)
    page.goto(court)
    expect(page.get_by_role("heading", level=1)).to_contain_text("In court")

    attendance = page.get_by_label(f"Attendance of {NAME}")
    minutes = page.get_by_label(f"Minutes with the judge, {NAME}")
    attendance.focus()
    page.keyboard.press("ArrowDown")  # "Not recorded" → "Present"
    expect(attendance).to_have_value("present")
    page.keyboard.press("Tab")
    expect(minutes).to_be_focused()
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    expect(page.get_by_label(f"Judge's notes on {NAME}")).to_be_focused()
    expect(page.get_by_test_id("cell-attendance")).to_contain_text("Saved")
    expect(page.get_by_test_id("cell-judicial_minutes")).to_contain_text("Saved")

    page.reload()
    expect(attendance).to_have_value("present")
    expect(minutes).to_have_value("4")
    entry.refresh_from_db()
    assert (entry.attendance, entry.judicial_minutes) == ("present", 4)

    # A refused value answers in the cell itself (htmx swaps the 400 answer in place).
    minutes.fill("500")
    minutes.press("Enter")
    expect(page.get_by_test_id("cell-judicial_minutes")).to_contain_text("between 0 and 240")
    assert page.csp_violations == []

    judge_context = browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        judge = judge_context.new_page()
        _watch_csp(judge)
        sign_in(judge, personas[Role.JUDGE].email, PASSWORD)
        judge.goto(court)
        expect(judge.get_by_label(f"Attendance of {NAME}")).to_have_value("present")
        expect(judge.get_by_label(f"Minutes with the judge, {NAME}")).to_have_value("4")
        assert judge.csp_violations == []
    finally:
        judge_context.close()
