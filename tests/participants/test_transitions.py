"""The status transition table, pair by pair, through the real services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from participants import services, transitions
from participants.models import EXIT_STATUSES, Status, StatusChange
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

S = Status
# Statuses reached from `active` in more than one step; every other one is a single move.
PATHS = {S.ACTIVE: [], S.TERMINATED: [S.PENDING_TERMINATION, S.TERMINATED]}


@pytest.fixture
def coordinator(program):
    return UserFactory(role=Role.COORDINATOR, programs=[program])


def walk_to(status, *, program, by):
    """A participant of `program` in `status`, reached only through the services."""
    participant = ParticipantFactory(program=program)
    if status == S.REFERRED:
        return participant
    if status == S.DECLINED:
        return services.admission_decide(
            acting_user=by,
            participant=participant,
            admit=False,
            reasons="Does not meet the criteria.",
            decided_on=participant.referred_on + timedelta(days=5),
        )
    participant = admit(participant, by=by)
    for step in PATHS.get(status, [status]):
        participant = services.status_change(
            acting_user=by,
            participant=participant,
            to_status=step,
            effective_on=participant.entry_date + timedelta(days=10),
            reason=f"On the way to {step}.",
            expected_status=participant.status,
        )
    return participant


def _may_change(from_status, to_status) -> bool:
    return (
        transitions.is_allowed(from_status, to_status)
        and (from_status, to_status) not in transitions.ADMISSION_MOVES
    )


@pytest.mark.parametrize("from_status", list(S), ids=str)
def test_walk_to_reaches_every_status(program, coordinator, from_status):
    participant = walk_to(from_status, program=program, by=coordinator)
    participant.refresh_from_db()
    assert participant.status == from_status


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(f, t) for f in S for t in S],
    ids=lambda s: str(s),
)
def test_status_change_follows_the_table(program, coordinator, from_status, to_status):
    participant = walk_to(from_status, program=program, by=coordinator)
    today = program_today(program)
    changes_before = StatusChange.objects.filter(participant=participant).count()
    exit_before = participant.exit_date

    if _may_change(from_status, to_status):
        changed = services.status_change(
            acting_user=coordinator,
            participant=participant,
            to_status=to_status,
            effective_on=today,
            reason="Team decision at staffing.",
            expected_status=from_status,
        )
        changed.refresh_from_db()
        assert changed.status == to_status
        rows = StatusChange.objects.filter(participant=participant)
        assert rows.count() == changes_before + 1
        row = rows.latest("created_at")
        assert (row.from_status, row.to_status) == (from_status, to_status)
        assert row.created_by == coordinator
        assert row.effective_on == today
        assert row.reason == "Team decision at staffing."
        assert row.created_at is not None
        if to_status in EXIT_STATUSES:
            assert changed.exit_date == today
            assert changed.exit_reason == "Team decision at staffing."
        else:
            assert changed.exit_date is None
        assert AuditEvent.objects.filter(
            participant_uuid=participant.uuid,
            action=AuditEvent.Action.UPDATE,
            detail__status=to_status,
        ).exists()
    else:
        with pytest.raises(ValidationError) as refused:
            services.status_change(
                acting_user=coordinator,
                participant=participant,
                to_status=to_status,
                effective_on=today,
                reason="Team decision at staffing.",
                expected_status=from_status,
            )
        assert refused.value.code == "forbidden_transition"
        participant.refresh_from_db()
        assert participant.status == from_status
        assert participant.exit_date == exit_before
        assert StatusChange.objects.filter(participant=participant).count() == changes_before


def test_every_status_has_a_row_in_the_table():
    assert set(transitions.TRANSITIONS) == set(S)
    for targets in transitions.TRANSITIONS.values():
        assert targets <= set(S)


def test_exits_and_declined_are_ends_of_the_episode():
    for status in [*EXIT_STATUSES, S.DECLINED]:
        assert transitions.TRANSITIONS[status] == set()
        assert transitions.allowed_moves(status) == []


@pytest.mark.parametrize("from_status", list(S), ids=str)
def test_allowed_moves_never_offers_admission_moves(from_status):
    moves = transitions.allowed_moves(from_status)
    assert all((from_status, to) not in transitions.ADMISSION_MOVES for to in moves)
    assert set(moves) == {to for to in S if _may_change(from_status, to)}


def test_a_referral_has_no_status_change_to_offer():
    # Referral outcomes belong to the admission decision alone.
    assert transitions.allowed_moves(S.REFERRED) == []
    assert transitions.is_allowed(S.REFERRED, S.ACTIVE)
    assert transitions.is_allowed(S.REFERRED, S.DECLINED)
