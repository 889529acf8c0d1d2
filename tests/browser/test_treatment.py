"""Treatment in a real browser: the clinician records, the judge sees only what a consent
covers (with the redisclosure notice), and never the clinical note."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tjp.clock import program_today
from tjp.roles import Role
from treatment import services

pytestmark = pytest.mark.browser

SUMMARY = "Attends every group; engaged and honest about cravings."
NOTE = "Talked about the loss of his brother; grief work next session."


@pytest.fixture
def assigned(participant, personas):
    provider = services.provider_create(
        acting_user=None, name="Recovery Clinic", programs=[participant.program]
    )
    services.provider_add_clinician(
        acting_user=None, provider=provider, user=personas[Role.CLINICIAN]
    )
    services.provider_assign(
        acting_user=personas[Role.COORDINATOR],
        participant=participant,
        provider=provider,
        assigned_on=participant.entry_date,
    )
    return participant


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def _open_treatment(page, participant):
    page.goto(f"/participants/{participant.uuid}/")
    page.get_by_role("link", name="Treatment and testing").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Treatment and testing")


def test_clinician_records_and_the_judge_sees_only_what_consent_covers(page, personas, assigned):
    program = assigned.program
    today = program_today(program).isoformat()
    collected = timezone.localtime(timezone.now(), ZoneInfo(program.time_zone)) - timedelta(hours=2)

    sign_in(page, personas[Role.CLINICIAN].email, PASSWORD)
    _open_treatment(page, assigned)
    page.get_by_role("link", name="Write a progress update").click()
    page.get_by_label("Period start").fill(today)
    page.get_by_label("Period end").fill(today)
    page.get_by_label("Engagement").select_option("good")
    page.get_by_label("Summary for the court team").fill(SUMMARY)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("progress")).to_contain_text(SUMMARY)

    page.get_by_role("link", name="Write a clinical note").click()
    page.get_by_label("Date", exact=True).fill(today)
    page.get_by_label("Clinical note (never shown to the court team)").fill(NOTE)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("clinical-notes")).to_contain_text(NOTE)

    page.get_by_role("link", name="Record a drug test").click()
    page.get_by_label("Collected at").fill(collected.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Method").select_option("oral_fluid")
    page.get_by_label("Observed collection").check()
    page.get_by_label("Laboratory").fill("Clinic point-of-care")
    page.get_by_label("Cocaine").select_option("negative")
    page.get_by_label("Fentanyl").select_option("positive")
    page.get_by_role("button", name="Save").click()
    tests = page.get_by_test_id("drug-tests")
    expect(tests).to_contain_text("Fentanyl: Positive")
    _sign_out(page)

    sign_in(page, personas[Role.JUDGE].email, PASSWORD)
    _open_treatment(page, assigned)
    expect(page.get_by_test_id("progress")).to_contain_text("Withheld")
    expect(page.get_by_test_id("drug-tests")).to_contain_text("Withheld")
    expect(page.get_by_text(SUMMARY)).to_have_count(0)
    expect(page.get_by_test_id("redisclosure-notice")).to_have_count(0)
    _sign_out(page)

    sign_in(page, personas[Role.COORDINATOR].email, PASSWORD)
    page.goto(f"/participants/{assigned.uuid}/")
    page.get_by_role("link", name="Record a consent").click()
    page.get_by_label("Who may disclose").fill("Recovery Clinic")
    page.get_by_label("Progress updates and recommendations").check()
    page.get_by_label("Drug and alcohol test results").check()
    page.get_by_label("Judge", exact=True).check()
    page.get_by_label("Purpose").fill("Monitor participation in the treatment court.")
    page.get_by_label("Signature date").fill(today)
    page.get_by_label("or expiry event").fill("Final disposition of the case")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("consent-coverage")).to_contain_text("✓ Progress updates")
    _sign_out(page)

    sign_in(page, personas[Role.JUDGE].email, PASSWORD)
    _open_treatment(page, assigned)
    expect(page.get_by_test_id("progress")).to_contain_text(SUMMARY)
    expect(page.get_by_test_id("drug-tests")).to_contain_text("Fentanyl: Positive")
    expect(page.get_by_test_id("redisclosure-notice")).to_contain_text("42 CFR part 2")
    expect(page.get_by_text(NOTE)).to_have_count(0)
    expect(page.get_by_test_id("clinical-notes")).to_have_count(0)
    # Attendance is not in this consent: still withheld.
    expect(page.get_by_test_id("sessions")).to_contain_text("Withheld")
    assert page.csp_violations == []


def test_coordinator_runs_todays_random_tests(page, personas, participant):
    participant.phase.tests_per_week = 7
    participant.phase.save(update_fields=["tests_per_week"])
    sign_in(page, personas[Role.COORDINATOR].email, PASSWORD)
    page.get_by_role("link", name="Random tests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today's random tests")
    page.get_by_role("button", name="Run today's selection now").click()
    expect(page.get_by_test_id("selections")).to_contain_text(participant.person.full_name)
    assert page.csp_violations == []
