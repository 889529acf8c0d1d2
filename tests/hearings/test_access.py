"""Who sees which sessions and docket entries, as a table over every role (hearings.access),
including another program's session and a participant who is not the defender's client."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from hearings import services
from hearings.access import (
    entries_visible_to,
    full_entries_visible_to,
    get_entry_for_user,
    get_session_for_user,
    sessions_visible_to,
)
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.roles import Role


@pytest.fixture
def dockets(program, other_program, personas, participant, make_session, other_participant):
    """Today's session with `participant` (the personas' defender's client, the personas'
    clinician's patient) and a stranger to both; a session where neither appears; and another
    program's session with its own participant."""
    coordinator = personas[Role.COORDINATOR]
    stranger = admit(ParticipantFactory(program=program), by=coordinator)
    shared = make_session(0)
    mine = services.docket_add(acting_user=coordinator, session=shared, participant=participant)
    theirs = services.docket_add(acting_user=coordinator, session=shared, participant=stranger)
    empty = make_session(1)
    other_coordinator = UserFactory(role=Role.COORDINATOR, programs=[other_program])
    other_judge = UserFactory(role=Role.JUDGE, programs=[other_program])
    from datetime import time

    foreign = services.session_create(
        acting_user=other_coordinator,
        program=other_program,
        kind="status_review",
        judge=other_judge,
        courtroom="Sala 2",
        day=program_today(other_program),
        start=time(10),
        duration_minutes=60,
    )
    foreign_entry = services.docket_add(
        acting_user=other_coordinator, session=foreign, participant=other_participant
    )
    return {
        "shared": shared,
        "empty": empty,
        "foreign": foreign,
        "mine": mine,
        "theirs": theirs,
        "foreign_entry": foreign_entry,
    }


# role → (sessions seen, entries seen by name, entries seen in full)
TABLE = {
    Role.JUDGE: ({"shared", "empty"}, {"mine", "theirs"}, {"mine", "theirs"}),
    Role.PROSECUTOR: ({"shared", "empty"}, {"mine", "theirs"}, {"mine", "theirs"}),
    Role.COORDINATOR: ({"shared", "empty"}, {"mine", "theirs"}, {"mine", "theirs"}),
    Role.MANAGER: ({"shared", "empty"}, {"mine", "theirs"}, {"mine", "theirs"}),
    Role.DEFENDER: ({"shared", "empty"}, {"mine", "theirs"}, {"mine"}),
    Role.CLINICIAN: ({"shared"}, {"mine"}, {"mine"}),
    Role.ADMINISTRATOR: (set(), set(), set()),
}


@pytest.mark.parametrize("role", list(Role))
def test_scope_table(role, personas, dockets):
    user = personas[role]
    sessions, named, full = TABLE[role]
    session_names = {dockets[k].pk: k for k in ("shared", "empty", "foreign")}
    entry_names = {dockets[k].pk: k for k in ("mine", "theirs", "foreign_entry")}
    assert {session_names[s.pk] for s in sessions_visible_to(user)} == sessions
    assert {entry_names[e.pk] for e in entries_visible_to(user)} == named
    assert {entry_names[e.pk] for e in full_entries_visible_to(user)} == full
    with pytest.raises(Http404):
        get_session_for_user(user, dockets["foreign"].uuid)
    with pytest.raises(Http404):
        get_entry_for_user(user, dockets["foreign_entry"].uuid)
    for key in ("mine", "theirs"):
        if key in full:
            assert get_entry_for_user(user, dockets[key].uuid) == dockets[key]
        else:
            with pytest.raises(Http404):
                get_entry_for_user(user, dockets[key].uuid)


def test_outsider_and_other_clinicians_see_nothing(
    dockets, outsider, other_clinician, other_defender
):
    assert set(sessions_visible_to(outsider)) == {dockets["foreign"]}
    assert not sessions_visible_to(other_clinician).exists()
    assert not entries_visible_to(other_clinician).exists()
    # A defender of the program sees the docket's names, but none of the entries in full.
    assert set(entries_visible_to(other_defender)) == {dockets["mine"], dockets["theirs"]}
    assert not full_entries_visible_to(other_defender).exists()


@pytest.mark.parametrize(
    ("role", "perm", "allowed"),
    [
        (Role.COORDINATOR, "hearings.record_outcome", True),
        (Role.JUDGE, "hearings.record_outcome", True),
        (Role.PROSECUTOR, "hearings.record_outcome", False),
        (Role.DEFENDER, "hearings.record_outcome", False),
        (Role.CLINICIAN, "hearings.record_outcome", False),
        (Role.MANAGER, "hearings.record_outcome", False),
        (Role.COORDINATOR, "hearings.schedule_docket", True),
        (Role.JUDGE, "hearings.schedule_docket", False),
    ],
)
def test_in_scope_without_the_permission_is_403(role, perm, allowed, personas, dockets):
    user = personas[role]
    if allowed:
        assert get_entry_for_user(user, dockets["mine"].uuid, perm=perm)
    else:
        with pytest.raises(PermissionDenied):
            get_entry_for_user(user, dockets["mine"].uuid, perm=perm)


def test_inactive_users_see_nothing(personas, dockets):
    judge = personas[Role.JUDGE]
    judge.is_active = False
    judge.save()
    assert not sessions_visible_to(judge).exists()
    assert not entries_visible_to(judge).exists()
