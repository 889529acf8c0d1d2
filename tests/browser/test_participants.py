"""The participant's path in a real browser: referral, screening, admission, status change."""

import pytest
from playwright.sync_api import expect

from participants.models import Participant
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tjp.clock import program_today
from tjp.roles import Role

pytestmark = pytest.mark.browser


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_referral_to_admission_to_warrant(page, personas, program):
    today = program_today(program).isoformat()
    sign_in(page, personas[Role.COORDINATOR].email, PASSWORD)
    page.get_by_role("link", name="Participants").click()
    page.get_by_role("link", name="Register a referral").click()
    page.get_by_label("Name (accents and capitals do not matter)").fill("jose perez")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("person-matches")).to_contain_text("Nobody found")

    page.get_by_label("First name(s)").fill("José")
    page.get_by_label("Last name", exact=True).fill("Pérez")
    page.get_by_label("Date of birth").fill("1991-03-04")
    page.get_by_label("Program", exact=True).select_option(label=program.name)
    page.get_by_label("Referral date").fill(today)
    page.get_by_label("Referral source").select_option("prosecutor")
    page.get_by_label("Case number").fill("CR-26-0042")
    page.locator("#id_charges-0-description").fill("Possession of a controlled substance")
    page.get_by_role("button", name="Register the referral").click()
    expect(page.get_by_role("heading", name="José Pérez")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Referred (in screening)")
    participant = Participant.objects.get(person__last_name="Pérez")

    page.get_by_role("link", name="Ask a clinician to screen").click()
    page.get_by_label("Clinician").select_option(label=str(personas[Role.CLINICIAN]))
    page.get_by_role("button", name="Save").click()
    _sign_out(page)

    sign_in(page, personas[Role.PROSECUTOR].email, PASSWORD)
    page.goto(f"/participants/{participant.uuid}/")
    page.get_by_role("link", name="Record legal eligibility").click()
    page.get_by_label("Eligible", exact=True).check()
    page.get_by_label("Reasons").fill("Possession only; no violence.")
    page.get_by_label("Decided on").fill(today)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Possession only; no violence.").first).to_be_visible()
    _sign_out(page)

    sign_in(page, personas[Role.CLINICIAN].email, PASSWORD)
    page.goto(f"/participants/{participant.uuid}/")
    page.get_by_role("link", name="Record an assessment").click()
    page.get_by_label("Instrument").select_option("rant")
    page.get_by_label("Score").fill("14")
    page.get_by_label("Risk level").select_option("high")
    page.get_by_label("Need level").select_option("high")
    page.get_by_label("Assessed on").fill(today)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Record clinical eligibility").click()
    page.get_by_label("Eligible", exact=True).check()
    page.get_by_label("Reasons").fill("Severe use disorder.")
    page.get_by_label("Decided on").fill(today)
    page.get_by_role("button", name="Save").click()
    _sign_out(page)

    sign_in(page, personas[Role.JUDGE].email, PASSWORD)
    page.goto(f"/participants/{participant.uuid}/")
    page.get_by_role("link", name="Decide admission").click()
    page.get_by_label("Admit to the program").check()
    page.get_by_label("Reasons").fill("Team recommends admission.")
    page.get_by_label("Decided on").fill(today)
    page.get_by_label("Program entry date (if admitted)").fill(today)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("status")).to_have_text("Active")
    expect(page.get_by_test_id("phase")).to_contain_text("Phase 1")

    page.get_by_role("link", name="Change status").click()
    page.get_by_label("New status").select_option("warrant")
    page.get_by_label("Effective date").fill(today)
    page.get_by_label("Reason").fill("Failed to appear.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("status")).to_have_text("Warrant / absconded")
    expect(page.get_by_test_id("timeline")).to_contain_text("Failed to appear.")

    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", name="Línea de tiempo")).to_be_visible()
    assert page.csp_violations == []
