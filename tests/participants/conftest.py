import pytest

from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.roles import Role


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
