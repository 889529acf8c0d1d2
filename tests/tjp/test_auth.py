"""Sign-in by email, the audit trail of sign-ins, account lockout, session limits."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from tjp.models import AuditEvent
from tjp.roles import Role
from tjp.signals import SESSION_STARTED_KEY


def _login(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_by_email_case_insensitive_and_audited(client, personas):
    judge = personas[Role.JUDGE]
    response = _login(client, judge.email.upper(), PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert event.actor == judge and event.ip_address == "127.0.0.1"


def test_failed_login_is_refused_and_audited(client, personas):
    response = _login(client, personas[Role.JUDGE].email, "wrong-password")
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.actor is None and event.actor_label == personas[Role.JUDGE].email


def test_logout_is_audited_and_needs_post(client, personas):
    client.force_login(personas[Role.JUDGE])
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT).count() == 1
    assert client.get(reverse("home")).status_code == 302


def test_fifth_failure_locks_the_account_not_the_address(client, personas):
    judge, prosecutor = personas[Role.JUDGE], personas[Role.PROSECUTOR]
    for _ in range(5):
        _login(client, judge.email, "wrong-password")
    locked = _login(client, judge.email, PASSWORD)
    assert locked.status_code == 429
    assert "locked" in locked.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOCKOUT).exists()
    # Same address, another account: unaffected.
    assert _login(client, prosecutor.email, PASSWORD).status_code == 302


def test_failures_count_per_account_whatever_the_spelling(client, personas):
    """Five failures under five spellings lock the one account: every spelling is refused."""
    assert personas[Role.JUDGE].email == "judge@atc.test"
    tries = ["JUDGE@atc.test", " judge@atc.test", "Judge@ATC.test ", "jUdGe@atc.test"]
    for typed in tries:
        assert _login(client, typed, "wrong-password").status_code == 200
    assert _login(client, "\tjudge@atc.TEST", "wrong-password").status_code == 429  # the fifth
    for typed in ["judge@atc.test", "JUDGE@atc.test", " judge@atc.test "]:
        locked = _login(client, typed, PASSWORD)
        assert locked.status_code == 429, typed
    labels = set(
        AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).values_list(
            "actor_label", flat=True
        )
    )
    assert labels == {"judge@atc.test"}


def test_the_lockout_threshold_is_five():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]


def test_four_failures_then_success_resets_the_count(client, personas):
    judge = personas[Role.JUDGE]
    for _ in range(4):
        _login(client, judge.email, "wrong-password")
    assert _login(client, judge.email, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        _login(client, judge.email, "wrong-password")
    assert _login(client, judge.email, PASSWORD).status_code == 302


def test_administrator_releases_a_locked_account(client, personas):
    judge, admin = personas[Role.JUDGE], personas[Role.ADMINISTRATOR]
    for _ in range(5):
        _login(client, judge.email, "wrong-password")
    # A coordinator may not release accounts.
    client.force_login(personas[Role.COORDINATOR])
    assert client.get(reverse("locked_accounts")).status_code == 403
    client.force_login(admin)
    page = client.get(reverse("locked_accounts")).content.decode()
    assert judge.email in page
    client.post(reverse("locked_accounts"), {"email": judge.email})
    assert AuditEvent.objects.filter(actor=admin, detail__unlocked=judge.email).exists()
    client.post(reverse("logout"))
    assert _login(client, judge.email, PASSWORD).status_code == 302


def test_idle_timeout_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_absolute_session_limit_signs_out(client, personas):
    client.force_login(personas[Role.JUDGE])
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[SESSION_STARTED_KEY] = (
        timezone.now().timestamp() - settings.SESSION_ABSOLUTE_SECONDS - 1
    )
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("role", list(Role))
def test_home_fits_the_role(client, personas, role):
    client.force_login(personas[role])
    page = client.get(reverse("home")).content.decode()
    assert f'data-role="{role.value}"' in page
    assert (reverse("admin:index") in page) == (role == Role.ADMINISTRATOR)
    assert (reverse("audit_log") in page) == (role in (Role.MANAGER, Role.ADMINISTRATOR))


def test_user_without_role_is_told_so(client, program):
    client.force_login(UserFactory(programs=[program]))
    assert "no role yet" in client.get(reverse("home")).content.decode()
