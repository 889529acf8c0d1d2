"""Playwright driving Debian's Chromium against a live server.

`playwright install` cannot download browsers here; the tests use /usr/bin/chromium. Without it
they skip, unless TJP_REQUIRE_BROWSER is set (CI), where a missing browser is a failure.
"""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("TJP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and TJP_REQUIRE_BROWSER is set")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls the tests
    # make for their fixtures are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and page.csp_violations.append(msg.text),
    )
    yield page
    context.close()


def password_step(page, email, password):
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, email, password):
    """Both steps, as a person does: the password, then the code their authenticator app shows
    (the test plays the app: it computes the code from the account's device)."""
    from django_otp.oath import TOTP, totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tjp.models import User

    user = User.objects.get(email=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_step(page, email, password)
    device.refresh_from_db()
    # A code is accepted once: signing the same person in again within its 30 s uses the next
    # one (the app's clock may run ahead by one step).
    now = TOTP(device.bin_key, step=device.step, t0=device.t0).t()
    drift = 1 if device.last_t >= now else 0
    code = totp(device.bin_key, step=device.step, t0=device.t0, drift=drift)
    page.get_by_label("Code").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()
