"""Persona fixtures: one user per role in `program`, and an outsider working in `other_program`."""

import pytest

from tests.factories import PhaseFactory, ProgramFactory, UserFactory
from tjp.roles import Role, sync_roles


@pytest.fixture(autouse=True)
def _roles(db):
    sync_roles()


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
