"""Accounts unused for 90 days are disabled (CJIS IA-4), an API token's use counts as use; and
no signed-in response may be cached."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from tests.factories import UserFactory
from tjp import tasks
from tjp.models import AuditEvent, User
from tjp.roles import Role

R = Role


def _aged(email, *, last_login_days=None, joined_days=0, role=R.JUDGE):
    user = UserFactory(email=email, role=role)
    now = timezone.now()
    user.date_joined = now - timedelta(days=joined_days)
    user.last_login = now - timedelta(days=last_login_days) if last_login_days is not None else None
    user.save(update_fields=["date_joined", "last_login"])
    return user


def test_accounts_unused_for_90_days_are_disabled_and_audited(db):
    stale = _aged("stale@x.test", last_login_days=91, joined_days=400)
    fresh = _aged("fresh@x.test", last_login_days=89, joined_days=400)
    never_old = _aged("never-old@x.test", joined_days=91)
    never_new = _aged("never-new@x.test", joined_days=10)
    assert tasks.disable_inactive_accounts() == 2
    active = dict(User.objects.values_list("email", "is_active"))
    assert (active[stale.email], active[never_old.email]) == (False, False)
    assert (active[fresh.email], active[never_new.email]) == (True, True)
    events = AuditEvent.objects.filter(detail__account="disabled")
    assert {e.object_id for e in events} == {str(stale.uuid), str(never_old.uuid)}
    assert all(e.actor is None for e in events)
    # Idempotent: a second run disables nobody new.
    assert tasks.disable_inactive_accounts() == 0


def test_an_integration_using_its_token_stays_enabled(db, client):
    lab = _aged("lab@x.test", last_login_days=80, joined_days=400, role=R.COORDINATOR)
    _, token = AuthToken.objects.create(lab)
    assert client.get("/api/v1/programs/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=85)):
        assert tasks.disable_inactive_accounts() == 0
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert tasks.disable_inactive_accounts() == 1


def test_an_enabled_account_gets_a_fresh_90_days(as_user, personas):
    stale = _aged("stale@x.test", last_login_days=200, joined_days=400)
    tasks.disable_inactive_accounts()
    client = as_user(personas[R.ADMINISTRATOR])
    client.post(reverse("account_action", args=[stale.uuid]), {"action": "enable"})
    stale.refresh_from_db()
    assert stale.is_active
    assert tasks.disable_inactive_accounts() == 0


def test_signed_in_responses_are_never_stored(as_user, personas, participant, client):
    coordinator = as_user(personas[R.COORDINATOR])
    for url in (
        reverse("home"),
        reverse("participant_detail", args=[participant.uuid]),
        "/api/v1/participants/",
        reverse("participant_disclosures_pdf", args=[participant.uuid]),
    ):
        response = coordinator.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    _, token = AuthToken.objects.create(personas[R.COORDINATOR])
    client.logout()
    api = client.get("/api/v1/programs/", HTTP_AUTHORIZATION=f"Token {token}")
    assert "no-store" in api["Cache-Control"]
