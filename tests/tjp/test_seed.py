import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tjp.access import programs_visible_to
from tjp.models import Phase, Program, User
from tjp.roles import Role, role_of


def _counts():
    return Program.objects.count(), Phase.objects.count(), User.objects.count()


def test_seed_demo_is_idempotent_and_complete(db, settings, client):
    settings.DEBUG = True
    call_command("seed_demo", apps="none")
    first = _counts()
    call_command("seed_demo", apps="none")
    # Six roles in each program, a second provider's clinician in each, and the administrator.
    assert _counts() == first == (2, 9, 15)
    pjt = Program.objects.get(code="pjt")
    assert (pjt.language, pjt.legal_track, pjt.time_zone) == (
        "es",
        "mx_suspension",
        "America/Monterrey",
    )
    for code in ("atc", "pjt"):
        for role in Role:
            if role == Role.ADMINISTRATOR:
                continue
            email = f"{role.value}@{code}.example"
            response = client.post(
                reverse("login"), {"username": email, "password": "tjp-demo-2026"}
            )
            assert response.status_code == 302, email
            user = User.objects.get(email=email)
            assert role_of(user) == role
            assert [p.code for p in programs_visible_to(user)] == [code]
    admin = User.objects.get(email="admin@tjp.example")
    assert role_of(admin) == Role.ADMINISTRATOR and admin.is_staff and not admin.is_superuser


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo", apps="none")
    assert _counts() == (0, 0, 0)
    call_command("seed_demo", "--force", apps="none")
    assert Program.objects.count() == 2
