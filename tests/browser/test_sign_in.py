import pytest
from playwright.sync_api import expect

from tests.browser.conftest import password_step, sign_in
from tests.factories import PASSWORD
from tjp.roles import Role

pytestmark = pytest.mark.browser


def test_sign_in_switch_language_sign_out(page, personas, program):
    sign_in(page, personas[Role.JUDGE].email, PASSWORD)
    expect(page.get_by_role("heading", name="Your programs")).to_be_visible()
    expect(page.get_by_test_id("program-card")).to_contain_text(program.name)
    expect(page.get_by_test_id("whoami")).to_contain_text("Judge")

    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", name="Sus programas")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_test_id("whoami")).to_contain_text("Juez")

    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(f"{page.url.split('/accounts')[0]}/accounts/login/?next=/")
    assert page.csp_violations == []


def test_wrong_password_shows_a_message(page, personas):
    password_step(page, personas[Role.JUDGE].email, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct")
    assert page.csp_violations == []


def test_keyboard_skip_link_reaches_main_content(page, personas):
    sign_in(page, personas[Role.COORDINATOR].email, PASSWORD)
    expect(page.get_by_test_id("role-panel")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
