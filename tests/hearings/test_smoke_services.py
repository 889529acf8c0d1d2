from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError

from hearings import services
from hearings.models import Attendance
from participants.models import program_today
from tjp.roles import Role


def test_core_flow(entry, personas, catalog, make_session, participant):
    coord = personas[Role.COORDINATOR]
    e = services.entry_update(
        acting_user=coord, entry=entry, field="attendance", value="present", expected=""
    )
    assert e.attendance == Attendance.PRESENT
    with pytest.raises(ValidationError):
        services.entry_update(
            acting_user=coord, entry=entry, field="attendance", value="absent", expected=""
        )
    r = services.response_add(
        acting_user=personas[Role.JUDGE],
        entry=entry,
        response_type=catalog["Jail"],
        behavior_on=program_today(entry.session.program) - timedelta(days=2),
        magnitude="2",
    )
    assert r.magnitude == 2
    with pytest.raises(ValidationError) as exc:
        make_session(0, hour=10, courtroom="4A")
    assert "already sits" in str(exc.value)
    nxt = make_session(14, courtroom="3B")
    services.entry_update(
        acting_user=coord,
        entry=entry,
        field="next_appearance",
        value=str(program_today(entry.session.program) + timedelta(days=14)),
        expected="",
    )
    assert nxt.entries.filter(participant=participant).exists()
    due = services.hearing_due([participant], today=program_today(participant.program))[0]
    assert due.last_appearance == program_today(participant.program)
    assert due.next_scheduled is not None


def test_series(program, personas):
    today = program_today(program)
    s = services.series_create(
        acting_user=personas[Role.COORDINATOR],
        program=program,
        kind="status_review",
        judge=personas[Role.JUDGE],
        courtroom="3B",
        weekday=1,
        start=time(9),
        duration_minutes=180,
        starts_on=today,
        ends_on=today + timedelta(days=27),
    )
    assert s.sessions.count() == 4
    with pytest.raises(ValidationError) as exc:
        services.series_create(
            acting_user=personas[Role.COORDINATOR],
            program=program,
            kind="status_review",
            judge=personas[Role.JUDGE],
            courtroom="9Z",
            weekday=1,
            start=time(11),
            duration_minutes=60,
            starts_on=today,
            ends_on=today + timedelta(days=13),
        )
    assert len(exc.value.messages) == 2
