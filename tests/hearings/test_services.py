"""The calendar and docket rules, through the services (the views and API only call these)."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hearings import services
from hearings.models import Attendance, DocketEntry, HearingSession, Response
from participants import services as participant_services
from participants.models import Status, StatusChange
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role


def _coordinator(personas):
    return personas[Role.COORDINATOR]


# --- conflicts -------------------------------------------------------------------------------
def test_a_judge_cannot_sit_twice_at_once(make_session):
    make_session(1, hour=9, courtroom="3B", minutes=120)
    with pytest.raises(ValidationError) as exc:
        make_session(1, hour=10, courtroom="4A")
    assert "already sits" in exc.value.messages[0]
    assert HearingSession.objects.count() == 1


def test_a_courtroom_cannot_hold_two_sessions_at_once(make_session, program):
    other_judge = UserFactory(role=Role.JUDGE, programs=[program])
    make_session(1, hour=9, courtroom="3B")
    with pytest.raises(ValidationError) as exc:
        make_session(1, hour=10, courtroom=" 3b ", judge=other_judge)
    assert "Courtroom 3b is already booked" in exc.value.messages[0]


def test_back_to_back_sessions_and_other_courthouses_do_not_conflict(
    make_session, program, other_program
):
    make_session(1, hour=9, minutes=60)
    make_session(1, hour=10, minutes=60)  # starts when the first ends
    other_program.jurisdiction = "Guadalupe, Nuevo León"
    other_program.save()
    judge = UserFactory(role=Role.JUDGE, programs=[other_program])
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[other_program])
    # "3B" in another program's courthouse (another jurisdiction) is another room.
    services.session_create(
        acting_user=coordinator,
        program=other_program,
        kind="status_review",
        judge=judge,
        courtroom="3B",
        day=program_today(program) + timedelta(days=1),
        start=time(9),
        duration_minutes=60,
    )
    assert HearingSession.objects.count() == 3


def test_a_cancelled_session_frees_its_slot(make_session, personas):
    session = make_session(1)
    services.session_cancel(acting_user=_coordinator(personas), session=session, reason="Holiday")
    make_session(1)
    assert HearingSession.objects.filter(cancelled=False).count() == 1


def test_the_database_refuses_double_booking_that_skips_the_service(make_session):
    """The exclusion constraints hold even when two coordinators pass the check together."""
    session = make_session(1)
    twin = HearingSession.objects.get(pk=session.pk)
    twin.pk, twin.uuid = None, None
    twin.courtroom = twin.venue = "elsewhere"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_only_a_judge_of_the_program_can_preside(program, other_program, personas):
    outsider_judge = UserFactory(role=Role.JUDGE, programs=[other_program])
    for judge in (personas[Role.PROSECUTOR], outsider_judge):
        with pytest.raises(ValidationError) as exc:
            services.session_create(
                acting_user=_coordinator(personas),
                program=program,
                kind="status_review",
                judge=judge,
                courtroom="3B",
                day=program_today(program),
                start=time(9),
                duration_minutes=60,
            )
        assert "judge" in exc.value.error_dict


def test_times_are_the_programs_wall_clock(program, personas):
    """9:00 in Chicago is 15:00 UTC in winter and 14:00 UTC in summer."""
    for day, utc_hour in ((date(2027, 1, 12), 15), (date(2027, 7, 13), 14)):
        session = services.session_create(
            acting_user=_coordinator(personas),
            program=program,
            kind="status_review",
            judge=personas[Role.JUDGE],
            courtroom="3B",
            day=day,
            start=time(9),
            duration_minutes=60,
        )
        assert session.starts_at.astimezone(ZoneInfo("UTC")).hour == utc_hour


# --- recurring series ------------------------------------------------------------------------
def _series(personas, program, **kw):
    defaults = {
        "acting_user": _coordinator(personas),
        "program": program,
        "kind": "status_review",
        "judge": personas[Role.JUDGE],
        "courtroom": "3B",
        "weekday": 1,  # Tuesday
        "start": time(9),
        "duration_minutes": 180,
        "starts_on": date(2027, 3, 1),
        "ends_on": date(2027, 3, 31),
    }
    return services.series_create(**{**defaults, **kw})


def test_a_weekly_series_keeps_its_local_time_across_daylight_saving(program, personas):
    series = _series(personas, program)
    tz = ZoneInfo(program.time_zone)
    starts = [s.starts_at.astimezone(tz) for s in series.sessions.order_by("starts_at")]
    assert [s.date() for s in starts] == [date(2027, 3, d) for d in (2, 9, 16, 23, 30)]
    assert {(s.hour, s.minute) for s in starts} == {(9, 0)}  # DST began on 14 March


def test_every_other_week(program, personas):
    series = _series(personas, program, interval_weeks=2)
    days = [
        s.starts_at.astimezone(ZoneInfo(program.time_zone)).date() for s in series.sessions.all()
    ]
    assert sorted(days) == [date(2027, 3, 2), date(2027, 3, 16), date(2027, 3, 30)]


def test_a_series_with_a_conflict_is_refused_whole_with_every_date(program, personas):
    services.session_create(
        acting_user=_coordinator(personas),
        program=program,
        kind="status_review",
        judge=personas[Role.JUDGE],
        courtroom="1A",
        day=date(2027, 3, 9),
        start=time(10),
        duration_minutes=60,
    )
    other_judge = UserFactory(role=Role.JUDGE, programs=[program])
    services.session_create(
        acting_user=_coordinator(personas),
        program=program,
        kind="status_review",
        judge=other_judge,
        courtroom="3B",
        day=date(2027, 3, 23),
        start=time(11),
        duration_minutes=60,
    )
    before = HearingSession.objects.count()
    with pytest.raises(ValidationError) as exc:
        _series(personas, program)
    assert len(exc.value.messages) == 2
    assert HearingSession.objects.count() == before  # nothing half-saved


def test_a_series_is_bounded(program, personas):
    with pytest.raises(ValidationError):
        _series(personas, program, ends_on=date(2031, 1, 1))
    with pytest.raises(ValidationError):
        _series(personas, program, ends_on=date(2027, 2, 1))


# --- dockets ---------------------------------------------------------------------------------
def test_a_participant_cannot_be_on_two_sessions_at_once(make_session, participant, personas):
    other_judge = UserFactory(role=Role.JUDGE, programs=[participant.program])
    first = make_session(1, hour=9)
    second = make_session(1, hour=10, courtroom="4A", judge=other_judge)
    services.docket_add(acting_user=_coordinator(personas), session=first, participant=participant)
    with pytest.raises(ValidationError) as exc:
        services.docket_add(
            acting_user=_coordinator(personas), session=second, participant=participant
        )
    assert "already on the docket of another session" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.docket_add(
            acting_user=_coordinator(personas), session=first, participant=participant
        )


def test_moving_a_session_onto_a_participants_other_hearing_is_refused(
    make_session, participant, personas
):
    other_judge = UserFactory(role=Role.JUDGE, programs=[participant.program])
    first = make_session(1, hour=9, minutes=60)
    second = make_session(1, hour=13, courtroom="4A", judge=other_judge, minutes=60)
    for s in (first, second):
        services.docket_add(acting_user=_coordinator(personas), session=s, participant=participant)
    with pytest.raises(ValidationError) as exc:
        services.session_update(
            acting_user=_coordinator(personas),
            session=second,
            expected_version=second.version,
            judge=other_judge,
            courtroom="4A",
            day=program_today(participant.program) + timedelta(days=1),
            start=time(9, 30),
            duration_minutes=60,
        )
    assert "Núñez" in " ".join(exc.value.messages)


def test_a_stale_session_edit_is_refused(make_session, personas, program):
    session = make_session(1)
    kwargs = {
        "acting_user": _coordinator(personas),
        "session": session,
        "expected_version": session.version,
        "judge": personas[Role.JUDGE],
        "courtroom": "5C",
        "day": program_today(program) + timedelta(days=2),
        "start": time(9),
        "duration_minutes": 60,
    }
    services.session_update(**kwargs)
    with pytest.raises(ValidationError) as exc:
        services.session_update(**kwargs)
    assert exc.value.code == "stale"


def test_other_programs_and_exited_participants_stay_off_the_docket(
    session_today, other_participant, participant, personas
):
    with pytest.raises(ValidationError):
        services.docket_add(
            acting_user=_coordinator(personas), session=session_today, participant=other_participant
        )
    participant_services.status_change(
        acting_user=_coordinator(personas),
        participant=participant,
        to_status=Status.GRADUATED,
        effective_on=program_today(participant.program),
        reason="Completed",
        expected_status=participant.status,
    )
    with pytest.raises(ValidationError):
        services.docket_add(
            acting_user=_coordinator(personas), session=session_today, participant=participant
        )
    assert not DocketEntry.objects.exists()


def test_an_entry_with_outcomes_cannot_be_removed_nor_its_session_cancelled(entry, personas):
    services.entry_update(
        acting_user=_coordinator(personas),
        entry=entry,
        field="attendance",
        value="present",
        expected="",
    )
    with pytest.raises(ValidationError):
        services.docket_remove(acting_user=_coordinator(personas), entry=entry)
    with pytest.raises(ValidationError):
        services.session_cancel(
            acting_user=_coordinator(personas), session=entry.session, reason="x"
        )


# --- due and overdue -------------------------------------------------------------------------
def _appear(session, participant, personas, attendance="present"):
    e = services.docket_add(
        acting_user=_coordinator(personas), session=session, participant=participant
    )
    services.entry_update(
        acting_user=_coordinator(personas),
        entry=e,
        field="attendance",
        value=attendance,
        expected="",
    )
    return e


def test_due_date_is_last_appearance_plus_the_phase_interval(participant, make_session, personas):
    today = program_today(participant.program)
    interval = participant.phase.hearing_interval_days
    (due,) = services.hearing_due([participant], today=today)
    assert due.last_appearance is None
    assert due.due_on == participant.entry_date + timedelta(days=interval)
    assert due.overdue_on(today)  # admitted 50 days ago, never heard

    _appear(make_session(-20), participant, personas, attendance="absent")
    (due,) = services.hearing_due([participant], today=today)
    assert due.last_appearance is None  # an absence is not an appearance

    _appear(make_session(-3, hour=14), participant, personas)
    future = make_session(9)
    services.docket_add(acting_user=_coordinator(personas), session=future, participant=participant)
    (due,) = services.hearing_due([participant], today=today)
    assert due.last_appearance == today - timedelta(days=3)
    assert due.due_on == today - timedelta(days=3) + timedelta(days=interval)
    assert due.next_scheduled == today + timedelta(days=9)
    assert not due.overdue_on(today)


def test_schedule_everyone_due(program, personas, participant, make_session):
    coordinator = _coordinator(personas)
    recent = admit(ParticipantFactory(program=program), by=coordinator, entry_days_ago=2)
    phase2 = program.phases.get(number=2)
    in_phase2 = admit(ParticipantFactory(program=program), by=coordinator)
    participant_services.phase_change(
        acting_user=coordinator,
        participant=in_phase2,
        to_phase=phase2,
        effective_on=program_today(program),
        reason="Ready",
        expected_phase=in_phase2.phase,
    )
    session = make_session(3)
    added, skipped = services.docket_add_due(
        acting_user=coordinator, session=session, phase=program.phases.get(number=1)
    )
    assert [e.participant for e in added] == [participant]  # `recent` is not due yet
    assert skipped == []
    added, _ = services.docket_add_due(acting_user=coordinator, session=session)
    assert [e.participant for e in added] == [in_phase2]
    later = make_session(10)
    added, _ = services.docket_add_due(acting_user=coordinator, session=later)
    # Already scheduled on the earlier session: not scheduled twice; `recent` is due by day 14.
    assert [e.participant for e in added] == ([recent] if 2 + 10 >= 14 else [])
    assert recent.pk


# --- in court --------------------------------------------------------------------------------
def test_each_field_saves_alone_and_a_stale_value_is_refused(entry, personas):
    judge, coordinator = personas[Role.JUDGE], _coordinator(personas)
    services.entry_update(
        acting_user=coordinator, entry=entry, field="attendance", value="present", expected=""
    )
    services.entry_update(
        acting_user=judge, entry=entry, field="judicial_minutes", value="4", expected=""
    )
    with pytest.raises(ValidationError) as exc:
        services.entry_update(
            acting_user=judge, entry=entry, field="attendance", value="absent", expected=""
        )
    assert "Present" in exc.value.messages[0]
    entry.refresh_from_db()
    assert (entry.attendance, entry.judicial_minutes) == (Attendance.PRESENT, 4)
    assert entry.phase == entry.participant.phase
    assert AuditEvent.objects.filter(object_id=str(entry.uuid), action="update").count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("attendance", "maybe"),
        ("judicial_minutes", "-1"),
        ("judicial_minutes", "500"),
        ("next_appearance", "soon"),
        ("next_appearance", "2001-01-01"),
        ("participant", "x"),
    ],
)
def test_bad_values_are_refused(entry, personas, field, value):
    with pytest.raises(ValidationError):
        services.entry_update(
            acting_user=_coordinator(personas), entry=entry, field=field, value=value, expected=""
        )


def test_no_attendance_before_the_session_is_held(future_session, participant, personas):
    e = services.docket_add(
        acting_user=_coordinator(personas), session=future_session, participant=participant
    )
    with pytest.raises(ValidationError):
        services.entry_update(
            acting_user=_coordinator(personas),
            entry=e,
            field="attendance",
            value="present",
            expected="",
        )


def test_a_bench_warrant_follows_an_absence(entry, personas):
    with pytest.raises(ValidationError):
        services.bench_warrant(acting_user=personas[Role.JUDGE], entry=entry)
    entry = services.entry_update(
        acting_user=_coordinator(personas),
        entry=entry,
        field="attendance",
        value="absent",
        expected="",
    )
    participant = services.bench_warrant(acting_user=personas[Role.JUDGE], entry=entry)
    assert participant.status == Status.WARRANT
    change = StatusChange.objects.get(participant=participant, to_status=Status.WARRANT)
    assert change.effective_on == program_today(participant.program)
    assert "failed to appear" in change.reason


def test_responses_follow_the_catalog_and_the_calendar(entry, personas, catalog, other_program):
    judge = personas[Role.JUDGE]
    today = program_today(entry.session.program)
    jail = catalog["Jail"]
    for bad in (None, "", "0", "1.5", "abc"):
        with pytest.raises(ValidationError):
            services.response_add(
                acting_user=judge,
                entry=entry,
                response_type=jail,
                behavior_on=today,
                magnitude=bad,
            )
    with pytest.raises(ValidationError):  # behaviour after the hearing
        services.response_add(
            acting_user=judge,
            entry=entry,
            response_type=catalog["Applause in court"],
            behavior_on=today + timedelta(days=1),
        )
    services.catalog_ensure(other_program)
    foreign = other_program.response_types.first()
    with pytest.raises(ValidationError):
        services.response_add(
            acting_user=judge, entry=entry, response_type=foreign, behavior_on=today
        )
    response = services.response_add(
        acting_user=judge,
        entry=entry,
        response_type=jail,
        behavior_on=today - timedelta(days=4),
        magnitude="8",
    )
    assert (response.kind, response.responded_on, response.participant) == (
        "sanction",
        today,
        entry.participant,
    )
    assert services.exceeds_jail_standard(response, entry.session.program)  # standard: 6 days
    assert Response.objects.count() == 1


def test_the_default_catalog_is_in_the_programs_language(program, other_program):
    assert services.catalog_ensure(other_program) > 0
    assert other_program.response_types.filter(name="Arresto", unit="jail_days").exists()
    assert services.catalog_ensure(other_program) == 0


def test_catalog_names_are_unique_per_program(program, personas):
    services.catalog_ensure(program)
    with pytest.raises(ValidationError):
        services.response_type_save(
            acting_user=personas[Role.MANAGER],
            program=program,
            kind="incentive",
            name="  jail ",
            unit="",
        )


def test_sessions_are_audited(make_session):
    session = make_session(2)
    assert AuditEvent.objects.filter(object_id=str(session.uuid), action="create").exists()
