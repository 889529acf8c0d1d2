from participants.access import participants_visible_to
from tjp.roles import Role


def test_fixtures_build_a_visible_participant(
    personas, participant, other_participant, other_defender, other_clinician, outsider
):
    for role in (
        Role.JUDGE,
        Role.PROSECUTOR,
        Role.COORDINATOR,
        Role.MANAGER,
        Role.DEFENDER,
        Role.CLINICIAN,
    ):
        assert list(participants_visible_to(personas[role])) == [participant], role
    for user in (personas[Role.ADMINISTRATOR], other_defender, other_clinician):
        assert not participants_visible_to(user).exists()
    assert participant.status == "active" and participant.phase.number == 1
