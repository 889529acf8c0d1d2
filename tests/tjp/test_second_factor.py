"""The second factor for every person (CJIS IA-2), walked through the pages as people use them:
a session that passed only the password step reaches the enrolment or verification page and
nothing else; enrolment with an authenticator app and recovery codes; an administrator's reset;
API tokens stay the machine credential."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from tests.factories import PASSWORD, UserFactory
from tests.tjp.test_anonymous import PUBLIC, ROUTES, SECRET_ADDRESSES
from tjp.models import AuditEvent
from tjp.roles import Role

R = Role
VERIFY = "/accounts/verify/"
# What a password-only session may open: the two steps, sign-out, the public pages.
REACHABLE = {VERIFY, "/accounts/verify/enrol/", "/accounts/logout/", *PUBLIC}


def _password_step(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _code(device, *, drift=0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=drift):06d}"


def _enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.fixture
def coordinator(personas):
    user = personas[R.COORDINATOR]
    _enrolled(user)
    return user


# --- a password-only session reaches nothing else --------------------------------------------
WALKED = [r for r in ROUTES if r not in REACHABLE | SECRET_ADDRESSES]


@pytest.mark.parametrize("path", WALKED)
def test_password_only_session_reaches_nothing_but_the_second_step(client, coordinator, path):
    _password_step(client, coordinator)
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "second_factor_required"
    else:
        assert response.status_code == 302, path
        assert response["Location"].startswith(VERIFY), path


def test_the_walk_covers_pages_partials_downloads_admin_and_api():
    walked = set(WALKED)
    assert {"/", "/participants/", "/admin/", "/api/v1/participants/", "/api/schema/"} <= walked
    assert any(p.endswith(".pdf") for p in walked)  # downloads
    assert any("/hearings/" in p for p in walked)
    assert len(walked) > 60


def test_htmx_fragment_with_a_password_only_session_is_sent_to_the_second_step(client, coordinator):
    _password_step(client, coordinator)
    response = client.get(reverse("roster"), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response["HX-Redirect"].startswith(VERIFY)


def test_posts_are_refused_too(client, coordinator, participant):
    _password_step(client, coordinator)
    response = client.post(reverse("participant_action", args=[participant.uuid, "goal"]))
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


# --- verification ----------------------------------------------------------------------------
def test_the_right_code_signs_in_and_goes_where_the_person_was_going(client, coordinator):
    device = TOTPDevice.objects.get(user=coordinator)
    _password_step(client, coordinator)
    roster = reverse("roster")
    sent = client.get(roster)
    assert sent["Location"] == f"{VERIFY}?next=%2Fparticipants%2F"
    page = client.get(sent["Location"])
    assert 'name="otp_token"' in page.content.decode()
    before = client.session.session_key
    response = client.post(VERIFY, {"otp_token": _code(device), "next": roster})
    assert response.status_code == 302 and response["Location"] == roster
    assert client.session.session_key != before  # a new session key once fully signed in
    assert client.get(roster).status_code == 200
    login = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN, actor=coordinator)
    assert [e.detail for e in login.order_by("pk")] == [{}, {"second_factor": "TOTPDevice"}]


def test_a_wrong_code_is_refused_audited_and_slows_the_next_try(client, coordinator):
    device = TOTPDevice.objects.get(user=coordinator)
    _password_step(client, coordinator)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        wrong = client.post(VERIFY, {"otp_token": "000000"})
        assert wrong.status_code == 400 and "That code is not right." in wrong.content.decode()
        denied = AuditEvent.objects.get(action=AuditEvent.Action.DENIED, actor=coordinator)
        assert denied.detail == {"reason": "second_factor_failed"}
        # At once, even the right code waits: django-otp's throttle (1 s, doubling).
        waiting = client.post(VERIFY, {"otp_token": _code(device)})
        assert "Too many wrong codes" in waiting.content.decode()
        clock.shift(2)
        assert client.post(VERIFY, {"otp_token": _code(device)}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_an_external_next_is_not_followed(client, coordinator):
    device = TOTPDevice.objects.get(user=coordinator)
    _password_step(client, coordinator)
    response = client.post(VERIFY, {"otp_token": _code(device), "next": "https://evil.test/"})
    assert response["Location"] == reverse("home")


# --- enrolment at first sign-in, recovery codes ---------------------------------------------
def test_first_sign_in_enrols_an_authenticator_and_shows_recovery_codes_once(client, personas):
    judge = personas[R.JUDGE]
    assert not TOTPDevice.objects.filter(user=judge).exists()
    _password_step(client, judge)
    assert client.get(VERIFY)["Location"].startswith(reverse("second_factor_enrol"))
    page = client.get(reverse("second_factor_enrol")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code, allowed by the CSP
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(user=judge, confirmed=False)
    assert secret.replace(" ", "") == __import__("base64").b32encode(device.bin_key).decode()
    # Reloading shows the same secret (no new device per visit).
    assert secret in client.get(reverse("second_factor_enrol")).content.decode()

    assert client.post(reverse("second_factor_enrol"), {"otp_token": "123456"}).status_code == 400
    done = client.post(reverse("second_factor_enrol"), {"otp_token": _code(device)})
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.filter(actor=judge, detail__second_factor="enrolled").exists()

    # A recovery code works once, in place of the app.
    client.post(reverse("logout"))
    _password_step(client, judge)
    assert client.post(VERIFY, {"otp_token": codes[0].upper()}).status_code == 302
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    client.post(reverse("logout"))
    _password_step(client, judge)
    with time_machine.travel(timezone.now()):
        assert client.post(VERIFY, {"otp_token": codes[0]}).status_code == 400


def test_new_recovery_codes_replace_the_old_ones(as_user, personas):
    client = as_user(personas[R.PROSECUTOR])
    first = client.post(reverse("recovery_codes")).content.decode()
    second = client.post(reverse("recovery_codes")).content.decode()
    old = set(re.findall(r"<li>([a-z0-9]{8})</li>", first))
    new = set(re.findall(r"<li>([a-z0-9]{8})</li>", second))
    assert len(old) == len(new) == 10 and not old & new
    assert set(StaticToken.objects.values_list("token", flat=True)) == new


# --- an administrator's reset ----------------------------------------------------------------
def test_an_administrator_resets_a_lost_second_factor(client, personas, coordinator):
    admin = personas[R.ADMINISTRATOR]
    client.force_login(admin)
    page = client.get(reverse("accounts")).content.decode()
    assert coordinator.email in page
    url = reverse("account_action", args=[coordinator.uuid])
    client.post(url, {"action": "reset_second_factor"})
    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    event = AuditEvent.objects.get(actor=admin, detail__second_factor="reset")
    assert event.object_id == str(coordinator.uuid)
    client.post(reverse("logout"))
    _password_step(client, coordinator)
    assert client.get(VERIFY)["Location"].startswith(reverse("second_factor_enrol"))


@pytest.mark.parametrize("role", [r for r in Role if r != R.ADMINISTRATOR])
def test_only_administrators_manage_accounts(as_user, personas, coordinator, role):
    client = as_user(personas[role])
    assert client.get(reverse("accounts")).status_code == 403
    url = reverse("account_action", args=[coordinator.uuid])
    assert client.post(url, {"action": "reset_second_factor"}).status_code == 403
    assert TOTPDevice.objects.filter(user=coordinator, name="phone").exists()


def test_a_disabled_account_cannot_sign_in_and_its_token_stops(client, personas, coordinator):
    admin = personas[R.ADMINISTRATOR]
    _, token = AuthToken.objects.create(coordinator)
    client.force_login(admin)
    client.post(reverse("account_action", args=[coordinator.uuid]), {"action": "disable"})
    assert AuditEvent.objects.filter(actor=admin, detail__account="disabled").exists()
    client.post(reverse("logout"))
    refused = client.post(reverse("login"), {"username": coordinator.email, "password": PASSWORD})
    assert refused.status_code == 200
    api = client.get("/api/v1/programs/", HTTP_AUTHORIZATION=f"Token {token}")
    assert api.status_code == 401
    client.force_login(admin)
    client.post(reverse("account_action", args=[coordinator.uuid]), {"action": "enable"})
    client.post(reverse("logout"))
    assert _password_step(client, coordinator)


# --- /admin/ and the API ---------------------------------------------------------------------
def test_admin_site_needs_the_second_factor(client, personas):
    admin = personas[R.ADMINISTRATOR]
    _enrolled(admin)
    assert client.get("/admin/login/")["Location"].startswith(reverse("login"))
    _password_step(client, admin)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


def test_api_through_a_session_needs_the_second_factor_and_tokens_do_not(
    client, coordinator, program
):
    _password_step(client, coordinator)
    refused = client.get("/api/v1/programs/")
    assert refused.status_code == 403
    client.force_login(coordinator)
    assert client.get("/api/v1/programs/").json()["count"] == 1
    client.logout()
    _, token = AuthToken.objects.create(coordinator)
    assert client.get("/api/v1/programs/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


# --- password reset --------------------------------------------------------------------------
def test_password_reset_by_email_still_asks_for_the_second_factor(client, coordinator):
    response = client.post(reverse("password_reset"), {"email": coordinator.email.upper()})
    assert response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    new = "a-new-long-password-2026"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("password_reset_complete")
    signed = client.post(reverse("login"), {"username": coordinator.email, "password": new})
    assert signed.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(VERIFY)
    details = AuditEvent.objects.filter(detail__has_key="password_reset").values_list(
        "detail", flat=True
    )
    assert sorted(d["password_reset"] for d in details) == ["done", "requested"]


def test_password_reset_does_not_tell_whether_an_account_exists(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.test"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


# --- the demo -------------------------------------------------------------------------------
def test_sign_in_through_both_steps_as_a_newcomer_would(client, db, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", apps="none")
    judge = UserFactory._meta.model.objects.get(email="judge@atc.example")
    device = TOTPDevice.objects.get(user=judge)
    client.post(reverse("login"), {"username": "judge@atc.example", "password": "tjp-demo-2026"})
    assert client.post(VERIFY, {"otp_token": _code(device)}).status_code == 302
    assert client.get(reverse("home")).status_code == 200
