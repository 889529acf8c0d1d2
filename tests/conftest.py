"""Persona fixtures: one user per role in `program`, and an outsider working in `other_program`."""

import pytest

from tests.factories import ParticipantFactory, PhaseFactory, ProgramFactory, UserFactory, admit
from tjp.roles import Role, sync_roles


@pytest.fixture(autouse=True)
def _roles(db):
    sync_roles()


@pytest.fixture(autouse=True)
def _own_cache_database(settings, request):
    """With a Redis cache (CI), each xdist worker uses its own database: tests that reset the
    throttle counters flush the cache, and must not flush another worker's mid-test."""
    worker_id = getattr(request.config, "workerinput", {}).get("workerid", "master")
    location = settings.CACHES["default"].get("LOCATION", "")
    if worker_id == "master" or "redis" not in settings.CACHES["default"]["BACKEND"]:
        return
    base, _, db = str(location).rpartition("/")
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": f"{base}/{int(db or 0) - int(worker_id[2:])}",
        }
    }


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_truncate_guard():
    """Transactional tests end with Django's flush, a TRUNCATE of every table, which the audit
    table refuses (its append-only guard). Test teardown alone switches that one trigger off
    around the TRUNCATE, inside the flush's own transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if "tjp_auditevent" not in tables:
            return statements
        guard = "TRIGGER tjp_auditevent_no_truncate"
        return [
            f"ALTER TABLE tjp_auditevent DISABLE {guard}",
            *statements,
            f"ALTER TABLE tjp_auditevent ENABLE {guard}",
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """`client.force_login(user)` stands for a person fully signed in: password and second
    factor (a confirmed authenticator device, verified in the session). The sign-in steps
    themselves are tested through the pages in tests/tjp/test_second_factor.py."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    password_only = Client._login

    def _login(self, user, backend=None):
        password_only(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing strength is not under test; PBKDF2's iterations would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def program(db):
    program = ProgramFactory(code="atc", name="Adult Treatment Court")
    for number in range(1, 4):
        PhaseFactory(program=program, number=number)
    return program


@pytest.fixture
def other_program(db):
    return ProgramFactory(
        code="pjt",
        name="Programa de Justicia Terapéutica",
        language="es",
        legal_track="mx_suspension",
        time_zone="America/Monterrey",
    )


@pytest.fixture
def personas(program):
    """{role: user} for every role; each program role works in `program`."""
    users = {}
    for role in Role:
        programs = [] if role == Role.ADMINISTRATOR else [program]
        users[role] = UserFactory(email=f"{role.value}@atc.test", role=role, programs=programs)
    return users


@pytest.fixture
def outsider(other_program):
    """A coordinator of another program: must never see `program`'s records."""
    return UserFactory(
        email="coordinator@pjt.test", role=Role.COORDINATOR, programs=[other_program]
    )


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def referral(program, personas):
    """A referral in `program`, in screening."""
    return ParticipantFactory(program=program, person__first_name="José", person__last_name="Pérez")


@pytest.fixture
def participant(program, personas):
    """An active participant of `program` (phase 1), with personas' defender and clinician
    granted on the record."""
    from participants import services

    p = ParticipantFactory(program=program, person__first_name="Ana", person__last_name="Núñez")
    admitted = admit(p, by=personas[Role.COORDINATOR])
    services.participant_assign(
        acting_user=personas[Role.COORDINATOR],
        participant=admitted,
        judge=personas[Role.JUDGE],
        defender=personas[Role.DEFENDER],
    )
    services.clinical_screening_request(
        acting_user=personas[Role.COORDINATOR],
        participant=admitted,
        clinician=personas[Role.CLINICIAN],
    )
    return admitted


@pytest.fixture
def other_participant(other_program):
    """An active participant of another program: invisible to every persona (404)."""
    from tests.factories import PhaseFactory

    PhaseFactory(program=other_program, number=1)
    coordinator = UserFactory(
        email="coord2@pjt.test", role=Role.COORDINATOR, programs=[other_program]
    )
    return admit(ParticipantFactory(program=other_program), by=coordinator)


@pytest.fixture
def other_defender(program):
    """A defender who is not this participant's lawyer."""
    return UserFactory(email="otherdefender@atc.test", role=Role.DEFENDER, programs=[program])


@pytest.fixture
def other_clinician():
    """A clinician nobody referred anyone to."""
    return UserFactory(email="otherclinician@atc.test", role=Role.CLINICIAN)
