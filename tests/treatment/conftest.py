import pytest

from participants import services as participant_services
from tests.factories import UserFactory
from tjp.roles import Role
from treatment import services


@pytest.fixture
def provider(program, personas):
    """A provider serving `program`, with the personas' clinician as its clinician, treating
    `participant`."""
    provider = services.provider_create(
        acting_user=None, name="Recovery Clinic", programs=[program]
    )
    services.provider_add_clinician(
        acting_user=None, provider=provider, user=personas[Role.CLINICIAN]
    )
    return provider


@pytest.fixture
def assigned(participant, provider, personas):
    """`participant`, assigned to `provider`."""
    services.provider_assign(
        acting_user=personas[Role.COORDINATOR],
        participant=participant,
        provider=provider,
        assigned_on=participant.entry_date,
    )
    return participant


@pytest.fixture
def other_provider(program):
    """Another provider of the same program, with its own clinician, treating nobody."""
    provider = services.provider_create(acting_user=None, name="Other Clinic", programs=[program])
    clinician = UserFactory(email="clin2@other.test", role=Role.CLINICIAN)
    services.provider_add_clinician(acting_user=None, provider=provider, user=clinician)
    provider.clinician = clinician
    return provider


@pytest.fixture
def consent(assigned, personas):
    """A live criminal-justice consent covering every category for every court role."""
    from participants.models import InformationCategory

    return participant_services.consent_record(
        acting_user=personas[Role.COORDINATOR],
        participant=assigned,
        data={
            "discloser": "Recovery Clinic",
            "categories": InformationCategory.values,
            "recipient_roles": ["judge", "prosecutor", "defender", "coordinator", "manager"],
            "purpose": "Monitor participation in the treatment court.",
            "criminal_justice": True,
            "signed_on": assigned.entry_date,
            "expires_on": None,
            "expiry_event": "Final disposition of the case",
        },
    )
