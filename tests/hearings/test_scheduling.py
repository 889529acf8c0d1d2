"""Scheduling through the browser: one session, a recurring series, a move and a cancellation.
Conflicts come back as form errors and nothing is saved."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse

from hearings import services
from hearings.models import HearingSeries, HearingSession
from participants import services as participant_services
from participants.models import Status
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

R = Role


@pytest.fixture
def second_judge(program):
    return UserFactory(email="judge2@atc.test", role=R.JUDGE, programs=[program])


def _session_data(program, judge, *, day, start="09:00", courtroom="3B", minutes=120, **extra):
    return {
        "program": str(program.uuid),
        "kind": "status_review",
        "judge": str(judge.uuid),
        "courtroom": courtroom,
        "day": day.isoformat(),
        "start": start,
        "duration_minutes": str(minutes),
        "notes": "",
        **extra,
    }


def _series_data(program, judge, **overrides):
    data = {
        "program": str(program.uuid),
        "kind": "status_review",
        "judge": str(judge.uuid),
        "courtroom": "3B",
        "weekday": "1",  # Tuesday
        "start": "09:00",
        "duration_minutes": "180",
        "interval_weeks": "2",
        "starts_on": "2031-01-01",
        "ends_on": "2031-02-28",
    }
    return {**data, **overrides}


# --- one session -----------------------------------------------------------------------------
def test_coordinator_schedules_a_session(as_user, personas, program):
    client = as_user(personas[R.COORDINATOR])
    day = program_today(program) + timedelta(days=3)
    page = client.get(reverse("session_new"))
    assert page.status_code == 200
    assert str(personas[R.JUDGE].uuid) in page.content.decode()
    response = client.post(
        reverse("session_new"), _session_data(program, personas[R.JUDGE], day=day, start="14:30")
    )
    session = HearingSession.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("session_detail", args=[session.uuid])
    assert session.program == program and session.judge == personas[R.JUDGE]
    assert session.courtroom == "3B" and session.ends_at - session.starts_at == timedelta(hours=2)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_id=str(session.uuid)
    ).exists()


def test_session_time_is_the_programs_local_time(as_user, personas, program):
    """9:00 in Chicago in winter is 15:00 UTC."""
    client = as_user(personas[R.COORDINATOR])
    client.post(
        reverse("session_new"),
        _session_data(program, personas[R.JUDGE], day=date(2031, 1, 14), start="09:00"),
    )
    session = HearingSession.objects.get()
    assert session.starts_at == datetime(2031, 1, 14, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("role", [r for r in Role if r != R.COORDINATOR])
def test_only_coordinators_schedule(as_user, personas, program, role):
    client = as_user(personas[role])
    day = program_today(program) + timedelta(days=3)
    assert client.get(reverse("session_new")).status_code == 403
    assert client.get(reverse("series_new")).status_code == 403
    response = client.post(
        reverse("session_new"), _session_data(program, personas[R.JUDGE], day=day)
    )
    assert response.status_code == 403
    assert not HearingSession.objects.exists()


def test_another_programs_program_is_404(as_user, personas, other_program):
    client = as_user(personas[R.COORDINATOR])
    url = reverse("session_new") + f"?program={other_program.uuid}"
    assert client.get(url).status_code == 404


def test_programs_and_judges_offered_are_the_users_own(as_user, personas, program, other_program):
    other_judge = UserFactory(email="judge@pjt.test", role=R.JUDGE, programs=[other_program])
    page = as_user(personas[R.COORDINATOR]).get(reverse("session_new")).content.decode()
    assert str(program.uuid) in page
    assert str(personas[R.JUDGE].uuid) in page
    # Another program is not offered, nor is a judge who does not sit in this program, nor a
    # non-judge of the program.
    assert "Programa de Justicia" not in page
    assert str(other_judge.uuid) not in page
    assert str(personas[R.PROSECUTOR].uuid) not in page


def test_judge_of_another_program_is_refused(as_user, personas, program, other_program):
    foreign_judge = UserFactory(email="judge@pjt.test", role=R.JUDGE, programs=[other_program])
    client = as_user(personas[R.COORDINATOR])
    day = program_today(program) + timedelta(days=3)
    response = client.post(reverse("session_new"), _session_data(program, foreign_judge, day=day))
    assert response.status_code == 400
    assert not HearingSession.objects.exists()


def test_judge_double_booked_is_a_form_error(as_user, personas, program, make_session):
    make_session(3, hour=9, courtroom="3B")
    client = as_user(personas[R.COORDINATOR])
    day = program_today(program) + timedelta(days=3)
    response = client.post(
        reverse("session_new"),
        _session_data(program, personas[R.JUDGE], day=day, start="10:00", courtroom="4A"),
    )
    assert response.status_code == 400
    assert "already sits" in response.content.decode()
    assert HearingSession.objects.count() == 1


def test_courtroom_double_booked_is_a_form_error(
    as_user, personas, program, make_session, second_judge
):
    make_session(3, hour=9, courtroom="3B")
    client = as_user(personas[R.COORDINATOR])
    day = program_today(program) + timedelta(days=3)
    response = client.post(
        reverse("session_new"),
        _session_data(program, second_judge, day=day, start="10:00", courtroom="3b"),
    )
    assert response.status_code == 400
    assert "Courtroom 3b is already booked" in response.content.decode()
    assert HearingSession.objects.count() == 1


def test_invalid_form_saves_nothing(as_user, personas, program):
    client = as_user(personas[R.COORDINATOR])
    day = program_today(program) + timedelta(days=3)
    data = _session_data(program, personas[R.JUDGE], day=day, minutes=2, courtroom="")
    response = client.post(reverse("session_new"), data)
    assert response.status_code == 400
    assert not HearingSession.objects.exists()


# --- series ----------------------------------------------------------------------------------
def test_series_every_two_weeks_in_the_programs_time_zone(as_user, personas, program):
    client = as_user(personas[R.COORDINATOR])
    response = client.post(reverse("series_new"), _series_data(program, personas[R.JUDGE]))
    assert response.status_code == 302
    series = HearingSeries.objects.get()
    starts = [s.starts_at for s in series.sessions.order_by("starts_at")]
    # Tuesdays, every other week, from the first Tuesday on or after the first date; 9:00 in
    # Chicago (winter, UTC-6) is 15:00 UTC.
    assert starts == [
        datetime(2031, 1, 7, 15, tzinfo=UTC),
        datetime(2031, 1, 21, 15, tzinfo=UTC),
        datetime(2031, 2, 4, 15, tzinfo=UTC),
        datetime(2031, 2, 18, 15, tzinfo=UTC),
    ]
    assert all(s.ends_at - s.starts_at == timedelta(hours=3) for s in series.sessions.all())


def test_series_across_daylight_saving_keeps_the_local_hour(as_user, personas, program):
    client = as_user(personas[R.COORDINATOR])
    data = _series_data(
        program, personas[R.JUDGE], interval_weeks="1", starts_on="2031-03-01", ends_on="2031-03-14"
    )
    assert client.post(reverse("series_new"), data).status_code == 302
    starts = [s.starts_at for s in HearingSession.objects.order_by("starts_at")]
    # Daylight saving starts on 9 March 2031 in the US: 9:00 CDT is 14:00 UTC.
    assert starts == [
        datetime(2031, 3, 4, 15, tzinfo=UTC),
        datetime(2031, 3, 11, 14, tzinfo=UTC),
    ]


def test_conflicting_series_is_refused_entirely_with_every_date(as_user, personas, program):
    coordinator = personas[R.COORDINATOR]
    for day in (date(2031, 1, 21), date(2031, 2, 4)):
        services.session_create(
            acting_user=coordinator,
            program=program,
            kind="status_review",
            judge=personas[R.JUDGE],
            courtroom="7C",
            day=day,
            start=time(10),
            duration_minutes=60,
        )
    client = as_user(coordinator)
    response = client.post(reverse("series_new"), _series_data(program, personas[R.JUDGE]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "01/21/2031" in page and "02/04/2031" in page
    assert "01/07/2031" not in page and "02/18/2031" not in page
    assert page.count("already sits") == 2
    assert not HearingSeries.objects.exists()
    assert HearingSession.objects.count() == 2


# --- change and cancel -----------------------------------------------------------------------
def test_move_a_session(as_user, personas, program, make_session):
    session = make_session(5)
    client = as_user(personas[R.COORDINATOR])
    page = client.get(reverse("session_edit", args=[session.uuid]))
    assert page.status_code == 200
    assert 'value="09:00"' in page.content.decode()
    day = program_today(program) + timedelta(days=6)
    data = _session_data(program, personas[R.JUDGE], day=day, start="13:00", minutes=90)
    data["version"] = str(session.version)
    response = client.post(reverse("session_edit", args=[session.uuid]), data)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.version == 2
    assert session.ends_at - session.starts_at == timedelta(minutes=90)


def test_stale_edit_is_refused_with_a_message(as_user, personas, program, make_session):
    session = make_session(5)
    client = as_user(personas[R.COORDINATOR])
    day = program_today(program) + timedelta(days=6)
    stale = _session_data(program, personas[R.JUDGE], day=day, courtroom="9Z")
    stale["version"] = str(session.version)
    # Someone else moves the session first.
    fresh = {**stale, "courtroom": "4A", "start": "11:00"}
    assert client.post(reverse("session_edit", args=[session.uuid]), fresh).status_code == 302
    response = client.post(reverse("session_edit", args=[session.uuid]), stale, follow=True)
    assert "Someone else changed this session" in response.content.decode()
    session.refresh_from_db()
    assert session.courtroom == "4A"


def test_moving_onto_a_participants_other_session_is_refused(
    as_user, personas, program, make_session, participant, second_judge
):
    coordinator = personas[R.COORDINATOR]
    first = make_session(5, hour=9)
    second = make_session(6, hour=9, courtroom="4A", judge=second_judge)
    for session in (first, second):
        services.docket_add(acting_user=coordinator, session=session, participant=participant)
    client = as_user(coordinator)
    data = _session_data(
        program, second_judge, day=program_today(program) + timedelta(days=5), start="10:00"
    )
    data["courtroom"], data["version"] = "4A", str(second.version)
    response = client.post(reverse("session_edit", args=[second.uuid]), data)
    assert response.status_code == 400
    assert "already on the docket of another session" in response.content.decode()
    second.refresh_from_db()
    assert second.version == 1


def test_judge_may_not_change_or_cancel(as_user, personas, make_session):
    session = make_session(5)
    client = as_user(personas[R.JUDGE])
    assert client.get(reverse("session_edit", args=[session.uuid])).status_code == 403
    assert (
        client.post(reverse("session_cancel", args=[session.uuid]), {"reason": "x"}).status_code
        == 403
    )


def test_outsider_and_administrator_get_404(as_user, personas, outsider, make_session):
    session = make_session(5)
    for user in (outsider, personas[R.ADMINISTRATOR]):
        client = as_user(user)
        assert client.get(reverse("session_edit", args=[session.uuid])).status_code == 404
        assert client.get(reverse("session_cancel", args=[session.uuid])).status_code == 404


def test_cancel_a_session(as_user, personas, make_session):
    session = make_session(5)
    client = as_user(personas[R.COORDINATOR])
    empty = client.post(reverse("session_cancel", args=[session.uuid]), {"reason": " "})
    assert empty.status_code == 400
    session.refresh_from_db()
    assert not session.cancelled
    response = client.post(
        reverse("session_cancel", args=[session.uuid]), {"reason": "Judge at a conference"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.cancelled and session.cancel_reason == "Judge at a conference"
    detail = client.get(reverse("session_detail", args=[session.uuid])).content.decode()
    assert "Judge at a conference" in detail and 'data-testid="cancelled"' in detail
    # A cancelled session can no longer be changed or docketed.
    assert client.get(reverse("session_edit", args=[session.uuid])).status_code == 302


def test_participant_on_two_overlapping_sessions_is_refused(
    as_user, personas, make_session, participant, second_judge
):
    coordinator = personas[R.COORDINATOR]
    first = make_session(5, hour=9)
    second = make_session(5, hour=10, courtroom="4A", judge=second_judge)
    services.docket_add(acting_user=coordinator, session=first, participant=participant)
    client = as_user(coordinator)
    response = client.post(
        reverse("docket_add", args=[second.uuid]), {"participant": str(participant.uuid)}
    )
    assert response.status_code == 400
    assert "already on the docket of another session" in response.content.decode()
    assert not second.entries.exists()


def test_referral_may_be_put_on_an_intake_docket(as_user, personas, program, make_session):
    """Open statuses include referrals (intake hearings); exited participants are not offered."""
    session = make_session(5, kind="intake")
    referral = ParticipantFactory(program=program)
    exited = admit(ParticipantFactory(program=program), by=personas[R.COORDINATOR])
    participant_services.status_change(
        acting_user=personas[R.COORDINATOR],
        participant=exited,
        to_status=Status.VOLUNTARY_WITHDRAWAL,
        effective_on=program_today(program),
        reason="Left the program.",
        expected_status=exited.status,
    )
    client = as_user(personas[R.COORDINATOR])
    page = client.get(reverse("session_detail", args=[session.uuid])).content.decode()
    assert str(referral.uuid) in page and str(exited.uuid) not in page
    response = client.post(
        reverse("docket_add", args=[session.uuid]), {"participant": str(referral.uuid)}
    )
    assert response.status_code == 302
    assert session.entries.get().participant == referral
