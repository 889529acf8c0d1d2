"""Two coordinators at the same moment, each on their own connection (real PostgreSQL)."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError

from hearings import services
from hearings.models import DocketEntry, HearingSession
from participants.models import Participant
from tests.factories import UserFactory
from tests.participants.test_concurrency import _race, _split
from tjp.clock import program_today
from tjp.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _book(program, coordinator, judge, courtroom, day):
    return lambda: services.session_create(
        acting_user=coordinator,
        program=program,
        kind="status_review",
        judge=judge,
        courtroom=courtroom,
        day=day,
        start=time(9),
        duration_minutes=60,
    )


def test_booking_the_same_judge_at_once_leaves_one_session(program, personas):
    day = program_today(program) + timedelta(days=3)
    coordinator, judge = personas[Role.COORDINATOR], personas[Role.JUDGE]
    # The main thread's booking is not yet committed when both others check: they pass the
    # check, and the database's exclusion constraint makes them wait, then refuses them.
    results = _race(
        [
            _book(program, coordinator, judge, "4A", day),
            _book(program, coordinator, judge, "5C", day),
        ],
        hold=_book(program, coordinator, judge, "3B", day),
    )
    assert all(isinstance(r, ValidationError) for r in results), results
    assert "just booked by someone else" in results[0].messages[0]
    assert HearingSession.objects.count() == 1


def test_one_participant_on_two_overlapping_sessions_at_once(program, personas, participant):
    coordinator = personas[Role.COORDINATOR]
    other_judge = UserFactory(role=Role.JUDGE, programs=[program])
    day = program_today(program) + timedelta(days=3)
    first = _book(program, coordinator, personas[Role.JUDGE], "3B", day)()
    second = _book(program, coordinator, other_judge, "4A", day)()
    results = _race(
        [
            lambda s=s: services.docket_add(
                acting_user=coordinator, session=s, participant=participant
            )
            for s in (first, second)
        ],
        hold=lambda: Participant.objects.select_for_update().get(pk=participant.pk),
    )
    _split(results, DocketEntry)
    assert DocketEntry.objects.filter(participant=participant).count() == 1


def test_two_people_recording_the_same_field_lose_nothing(program, personas, participant):
    coordinator = personas[Role.COORDINATOR]
    session = _book(program, coordinator, personas[Role.JUDGE], "3B", program_today(program))()
    entry = services.docket_add(acting_user=coordinator, session=session, participant=participant)
    results = _race(
        [
            lambda user=user, value=value: services.entry_update(
                acting_user=user, entry=entry, field="attendance", value=value, expected=""
            )
            for user, value in ((coordinator, "present"), (personas[Role.JUDGE], "remote"))
        ],
        hold=lambda: DocketEntry.objects.select_for_update().get(pk=entry.pk),
    )
    win, loss = _split(results, DocketEntry)
    assert "Someone else changed this" in loss.messages[0]
    entry.refresh_from_db()
    assert entry.attendance == win.attendance
