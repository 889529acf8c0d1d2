"""The court calendar and a session's page, per role; dockets through the browser; the overdue
panel; and constant queries however many sessions the calendar shows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from hearings import services
from hearings.models import DocketEntry
from participants import services as participant_services
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp import clock
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

R = Role
WIDE = {R.JUDGE, R.PROSECUTOR, R.COORDINATOR, R.MANAGER}


@pytest.fixture
def bystander(program, personas):
    """An active participant of `program` who is neither the persona defender's client nor
    referred to the persona clinician."""
    p = ParticipantFactory(program=program, person__first_name="Berta", person__last_name="Ortiz")
    return admit(p, by=personas[R.COORDINATOR])


@pytest.fixture
def docket(future_session, participant, bystander, personas):
    """`future_session` (a week ahead) with `participant` and `bystander` on it."""
    for p in (participant, bystander):
        services.docket_add(
            acting_user=personas[R.COORDINATOR], session=future_session, participant=p
        )
    return future_session


def _calendar(client, session=None, view="week", **params):
    if session is not None:
        params["date"] = clock.local_date(session.starts_at, session.program).isoformat()
    return client.get(reverse("hearing_calendar"), {"view": view, **params})


def _detail_url(session):
    return reverse("session_detail", args=[session.uuid])


def _participant_url(p):
    return reverse("participant_detail", args=[p.uuid])


# --- the calendar ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", [r for r in Role if r != R.ADMINISTRATOR])
def test_calendar_shows_the_sessions_each_role_may_see(
    as_user, personas, docket, make_session, role
):
    """Clinicians see only the sessions where a participant of theirs is on the docket."""
    # The same day as the docket (a week ahead): both fall in the week shown, whatever today is.
    empty_session = make_session(7, hour=14, courtroom="4A")
    page = _calendar(as_user(personas[role]), docket).content.decode()
    assert _detail_url(docket) in page
    assert (_detail_url(empty_session) in page) == (role != R.CLINICIAN)


def test_administrator_has_no_calendar(as_user, personas, docket):
    assert _calendar(as_user(personas[R.ADMINISTRATOR]), docket).status_code == 403


def test_outsider_does_not_see_the_programs_sessions(as_user, outsider, docket):
    response = _calendar(as_user(outsider), docket)
    assert response.status_code == 200
    assert _detail_url(docket) not in response.content.decode()
    assert "3B" not in response.content.decode()  # not even among the courtroom choices


def test_nav_item_follows_the_view_permission(as_user, personas):
    url = reverse("hearing_calendar")
    assert url in as_user(personas[R.JUDGE]).get(reverse("home")).content.decode()
    assert url not in as_user(personas[R.ADMINISTRATOR]).get(reverse("home")).content.decode()


def test_session_shows_kind_time_room_judge_program_and_docket_size(as_user, personas, docket):
    page = _calendar(as_user(personas[R.COORDINATOR]), docket).content.decode()
    assert "Status review hearing" in page
    # The program's local time (Chicago), not UTC.
    assert "9 a.m.\N{EN DASH}11 a.m. CST" in strip_tags(page)
    assert "Courtroom: 3B" in page
    assert str(personas[R.JUDGE]) in page
    assert "Adult Treatment Court" in page
    assert "2 participants on the docket" in page


def test_docket_size_counts_only_the_entries_the_user_sees(as_user, personas, docket):
    page = _calendar(as_user(personas[R.CLINICIAN]), docket).content.decode()
    assert "1 participant on the docket" in page


def test_times_in_the_users_language(as_user, personas, docket):
    client = as_user(personas[R.COORDINATOR])
    date = clock.local_date(docket.starts_at, docket.program).isoformat()
    page = client.get(
        reverse("hearing_calendar"), {"date": date}, HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "09:00\N{EN DASH}11:00" in strip_tags(page)


@pytest.mark.parametrize(
    ("view", "offset", "shown"),
    [
        ("day", 0, True),
        ("day", 1, False),
        ("week", 0, True),
        ("week", 7, False),
        ("month", 0, True),
        ("month", 40, False),
    ],
)
def test_day_week_and_month(as_user, personas, docket, view, offset, shown):
    day = clock.local_date(docket.starts_at, docket.program) + timedelta(days=offset)
    page = _calendar(as_user(personas[R.JUDGE]), view=view, date=day.isoformat()).content.decode()
    assert (_detail_url(docket) in page) == shown
    assert ('data-testid="calendar-empty"' in page) == (not shown)


def test_navigation_links_keep_the_filters(as_user, personas, docket):
    day = clock.local_date(docket.starts_at, docket.program)
    page = _calendar(
        as_user(personas[R.JUDGE]), view="day", date=day.isoformat(), courtroom="3B"
    ).content.decode()
    following = (day + timedelta(days=1)).isoformat()
    assert f"courtroom=3B&amp;date={following}" in page or f"date={following}" in page
    assert "courtroom=3B" in page
    assert 'data-testid="today"' in page


def test_default_is_the_week_containing_today(as_user, personas, session_today):
    page = as_user(personas[R.JUDGE]).get(reverse("hearing_calendar")).content.decode()
    assert _detail_url(session_today) in page
    assert "Week of" in page


@pytest.mark.parametrize("date", ["2020-13-45", "0001-01-01", "9999-12-31", "x"])
def test_bad_parameters_fall_back_to_defaults(as_user, personas, session_today, date):
    client = as_user(personas[R.JUDGE])
    for view in ("year", "day", "month"):
        response = client.get(reverse("hearing_calendar"), {"view": view, "date": date})
        assert response.status_code == 200
        assert _detail_url(session_today) in response.content.decode()


def test_filters(as_user, personas, program, make_session):
    other_judge = UserFactory(email="judge2@atc.test", role=R.JUDGE, programs=[program])
    # One day, two rooms and judges: both sessions are in the week shown, whatever today is.
    in_3b = make_session(1, courtroom="3B")
    in_4a = make_session(1, hour=14, courtroom="4A", judge=other_judge)
    client = as_user(personas[R.COORDINATOR])
    date = (program_today(program) + timedelta(days=1)).isoformat()
    by_room = client.get(reverse("hearing_calendar"), {"date": date, "courtroom": "4A"})
    by_judge = client.get(
        reverse("hearing_calendar"), {"date": date, "judge": str(personas[R.JUDGE].uuid)}
    )
    by_program = client.get(reverse("hearing_calendar"), {"date": date, "program": program.code})
    assert _detail_url(in_4a) in by_room.content.decode()
    assert _detail_url(in_3b) not in by_room.content.decode()
    assert _detail_url(in_3b) in by_judge.content.decode()
    assert _detail_url(in_4a) not in by_judge.content.decode()
    assert _detail_url(in_3b) in by_program.content.decode()
    assert _detail_url(in_4a) in by_program.content.decode()


def test_filter_choices_are_limited_to_what_the_user_sees(
    as_user, personas, docket, outsider, other_program
):
    """Another program's judge and courtroom are not offered."""
    other = services.session_create(
        acting_user=outsider,
        program=other_program,
        kind="status_review",
        judge=UserFactory(email="juez@pjt.test", role=R.JUDGE, programs=[other_program]),
        courtroom="Sala 9",
        day=program_today(docket.program) + timedelta(days=7),
        start=docket.starts_at.time(),
        duration_minutes=60,
    )
    page = _calendar(as_user(personas[R.COORDINATOR]), docket).content.decode()
    assert "Sala 9" not in page
    assert str(other.judge.uuid) not in page
    assert str(personas[R.JUDGE].uuid) in page


def test_cancelled_session_is_labelled(as_user, personas, docket, future_session):
    services.docket_remove(
        acting_user=personas[R.COORDINATOR], entry=future_session.entries.first()
    )
    services.docket_remove(
        acting_user=personas[R.COORDINATOR], entry=future_session.entries.first()
    )
    services.session_cancel(
        acting_user=personas[R.COORDINATOR], session=future_session, reason="Holiday"
    )
    page = _calendar(as_user(personas[R.JUDGE]), future_session).content.decode()
    assert _detail_url(future_session) in page
    assert "Cancelled" in page and "text-decoration-line-through" in page


def test_new_session_links_only_for_schedulers(as_user, personas, session_today):
    coordinator = as_user(personas[R.COORDINATOR]).get(reverse("hearing_calendar")).content
    assert reverse("session_new").encode() in coordinator
    assert reverse("series_new").encode() in coordinator
    judge = as_user(personas[R.JUDGE]).get(reverse("hearing_calendar")).content
    assert reverse("session_new").encode() not in judge


def test_calendar_queries_do_not_grow_with_sessions(as_user, personas, program, make_session):
    participants = [
        admit(ParticipantFactory(program=program), by=personas[R.COORDINATOR]) for _ in range(2)
    ]
    coordinator = personas[R.COORDINATOR]

    def add_sessions(hours):
        for hour in hours:
            session = make_session(1, hour=hour, minutes=30)
            for p in participants:
                services.docket_add(acting_user=coordinator, session=session, participant=p)

    client = as_user(coordinator)
    day = (program_today(program) + timedelta(days=1)).isoformat()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("hearing_calendar"), {"view": "day", "date": day})
        assert response.status_code == 200
        return len(ctx), response.content.decode()

    add_sessions([7, 8])
    client.get(reverse("hearing_calendar"))  # warm caches (content types, permissions)
    two, page = count()
    assert page.count('data-testid="session"') == 2
    add_sessions(range(9, 19))
    twelve, page = count()
    assert page.count('data-testid="session"') == 12
    assert page.count("2 participants on the docket") == 12
    assert twelve == two


# --- overdue for a hearing -------------------------------------------------------------------
@pytest.fixture
def seen_recently(program, personas, make_session):
    """A participant who appeared at a hearing 3 days ago (phase 1: due again in 14 days)."""
    p = admit(
        ParticipantFactory(program=program, person__first_name="Carla", person__last_name="Sosa"),
        by=personas[R.COORDINATOR],
    )
    past = make_session(-3)
    entry = services.docket_add(acting_user=personas[R.COORDINATOR], session=past, participant=p)
    services.entry_update(
        acting_user=personas[R.COORDINATOR],
        entry=entry,
        field="attendance",
        value="present",
        expected="",
    )
    return p


def _overdue_panel(page: str) -> str:
    start = page.index('data-testid="overdue"')
    return page[start : page.index("</table>", start)]


def test_overdue_panel(as_user, personas, participant, seen_recently):
    """Admitted 50 days ago with no hearing, phase interval 14 days: overdue. Seen 3 days ago:
    not."""
    page = as_user(personas[R.COORDINATOR]).get(reverse("hearing_calendar")).content.decode()
    panel = _overdue_panel(page)
    assert _participant_url(participant) in panel
    assert _participant_url(seen_recently) not in panel
    due = participant.entry_date + timedelta(days=participant.phase.hearing_interval_days)
    assert due.strftime("%m/%d/%Y") in panel
    assert "none yet" in panel
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW,
        actor=personas[R.COORDINATOR],
        detail__overdue=[str(participant.uuid)],
    ).exists()


def test_overdue_panel_shows_the_next_scheduled_date(as_user, personas, participant, make_session):
    later = make_session(10)
    services.docket_add(acting_user=personas[R.COORDINATOR], session=later, participant=participant)
    page = as_user(personas[R.JUDGE]).get(reverse("hearing_calendar")).content.decode()
    panel = _overdue_panel(page)
    assert _participant_url(participant) in panel  # still overdue: the hearing is late
    day = clock.local_date(later.starts_at, later.program)
    assert day.strftime("%m/%d/%Y") in panel


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        (R.JUDGE, True),
        (R.PROSECUTOR, True),
        (R.MANAGER, True),
        (R.DEFENDER, True),  # their client
        (R.CLINICIAN, True),  # referred to them
        ("other_defender", False),
        ("other_clinician", False),
    ],
)
def test_overdue_panel_is_scoped(as_user, personas, participant, bystander, request, who, sees):
    user = personas[who] if isinstance(who, Role) else request.getfixturevalue(who)
    page = as_user(user).get(reverse("hearing_calendar"))
    assert page.status_code == 200
    panel = _overdue_panel(page.content.decode())
    assert (_participant_url(participant) in panel) == sees
    assert (_participant_url(bystander) in panel) == (who in WIDE)


# --- a session's page ------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_session_page_per_role(as_user, personas, docket, participant, bystander, role):
    response = as_user(personas[role]).get(_detail_url(docket))
    if role == R.ADMINISTRATOR:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ana Núñez" in page and _participant_url(participant) in page
    # Defenders see the names of others on the docket, without a link or details; clinicians
    # see only their own participants' entries.
    assert ("Berta Ortiz" in page) == (role != R.CLINICIAN)
    assert (_participant_url(bystander) in page) == (role in WIDE)


def test_defender_sees_no_outcome_of_a_non_client(
    as_user, personas, make_session, participant, bystander
):
    coordinator = personas[R.COORDINATOR]
    past = make_session(-3)
    for p, attendance in ((participant, "present"), (bystander, "absent")):
        entry = services.docket_add(acting_user=coordinator, session=past, participant=p)
        services.entry_update(
            acting_user=coordinator, entry=entry, field="attendance", value=attendance, expected=""
        )
    defender = as_user(personas[R.DEFENDER]).get(_detail_url(past)).content.decode()
    assert "Berta Ortiz" in defender and "Present" in defender
    assert "Absent" not in defender
    judge = as_user(personas[R.JUDGE]).get(_detail_url(past)).content.decode()
    assert "Absent" in judge and "Present" in judge


def test_clinician_gets_404_for_sessions_without_their_participants(
    as_user, personas, make_session, bystander
):
    session = make_session(3)
    services.docket_add(acting_user=personas[R.COORDINATOR], session=session, participant=bystander)
    assert as_user(personas[R.CLINICIAN]).get(_detail_url(session)).status_code == 404


def test_outsider_gets_404(as_user, outsider, docket):
    assert as_user(outsider).get(_detail_url(docket)).status_code == 404


def test_session_page_is_audited_with_the_participants_shown(
    as_user, personas, docket, participant, bystander
):
    as_user(personas[R.CLINICIAN]).get(_detail_url(docket))
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.VIEW, actor=personas[R.CLINICIAN], object_id=str(docket.uuid)
    )
    assert event.detail == {"participants": [str(participant.uuid)]}
    assert event.program == docket.program


def test_scheduling_tools_only_for_coordinators(as_user, personas, docket):
    coordinator = as_user(personas[R.COORDINATOR]).get(_detail_url(docket)).content.decode()
    assert 'data-testid="docket-add"' in coordinator and 'data-testid="docket-due"' in coordinator
    assert reverse("session_edit", args=[docket.uuid]) in coordinator
    judge = as_user(personas[R.JUDGE]).get(_detail_url(docket)).content.decode()
    assert 'data-testid="docket-add"' not in judge
    assert reverse("session_edit", args=[docket.uuid]) not in judge


# --- dockets ---------------------------------------------------------------------------------
def test_coordinator_puts_a_participant_on_the_docket(
    as_user, personas, future_session, participant
):
    client = as_user(personas[R.COORDINATOR])
    page = client.get(_detail_url(future_session)).content.decode()
    assert str(participant.uuid) in page  # offered in the select
    response = client.post(
        reverse("docket_add", args=[future_session.uuid]), {"participant": str(participant.uuid)}
    )
    assert response.status_code == 302
    entry = future_session.entries.get()
    assert entry.participant == participant
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE,
        object_id=str(entry.uuid),
        participant_uuid=participant.uuid,
    ).exists()


def test_another_programs_participant_cannot_be_added(
    as_user, personas, future_session, other_participant
):
    response = as_user(personas[R.COORDINATOR]).post(
        reverse("docket_add", args=[future_session.uuid]),
        {"participant": str(other_participant.uuid)},
    )
    assert response.status_code == 400
    assert not future_session.entries.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [(R.JUDGE, 403), (R.DEFENDER, 403), (R.CLINICIAN, 403), (R.ADMINISTRATOR, 404)],
)
def test_only_coordinators_change_dockets(as_user, personas, docket, participant, role, status):
    client = as_user(personas[role])
    entry = docket.entries.get(participant=participant)
    assert (
        client.post(
            reverse("docket_add", args=[docket.uuid]), {"participant": str(participant.uuid)}
        ).status_code
        == status
    )
    assert client.post(reverse("docket_add_due", args=[docket.uuid])).status_code == status
    remove = reverse("docket_remove", args=[docket.uuid, entry.uuid])
    assert client.post(remove).status_code == status
    assert docket.entries.count() == 2


def test_outsider_cannot_touch_the_docket(as_user, outsider, docket, participant):
    client = as_user(outsider)
    entry = docket.entries.get(participant=participant)
    assert client.post(reverse("docket_add_due", args=[docket.uuid])).status_code == 404
    remove = reverse("docket_remove", args=[docket.uuid, entry.uuid])
    assert client.post(remove).status_code == 404


def test_remove_from_the_docket(as_user, personas, docket, participant):
    entry = docket.entries.get(participant=participant)
    client = as_user(personas[R.COORDINATOR])
    response = client.post(reverse("docket_remove", args=[docket.uuid, entry.uuid]))
    assert response.status_code == 302
    assert not DocketEntry.objects.filter(pk=entry.pk).exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DELETE, object_id=str(entry.uuid)
    ).exists()


def test_remove_needs_the_entry_of_that_session(
    as_user, personas, docket, participant, make_session
):
    other = make_session(3)
    entry = docket.entries.get(participant=participant)
    client = as_user(personas[R.COORDINATOR])
    assert client.post(reverse("docket_remove", args=[other.uuid, entry.uuid])).status_code == 404
    assert DocketEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_with_an_outcome_is_not_removed(as_user, personas, entry):
    services.entry_update(
        acting_user=personas[R.COORDINATOR],
        entry=entry,
        field="attendance",
        value="present",
        expected="",
    )
    client = as_user(personas[R.COORDINATOR])
    response = client.post(
        reverse("docket_remove", args=[entry.session.uuid, entry.uuid]), follow=True
    )
    assert "cannot be removed" in response.content.decode()
    assert DocketEntry.objects.filter(pk=entry.pk).exists()


@pytest.fixture
def in_phase_two(program, personas):
    p = admit(
        ParticipantFactory(program=program, person__first_name="Dora", person__last_name="Vega"),
        by=personas[R.COORDINATOR],
    )
    return participant_services.phase_change(
        acting_user=personas[R.COORDINATOR],
        participant=p,
        to_phase=program.phases.get(number=2),
        effective_on=program_today(program) - timedelta(days=20),
        reason="Met phase 1 requirements.",
        expected_phase=p.phase,
    )


def test_schedule_everyone_due_in_phase_one(
    as_user, personas, program, make_session, participant, bystander, in_phase_two
):
    coordinator = personas[R.COORDINATOR]
    session = make_session(7)
    # The bystander is already scheduled before this session: not due by then.
    earlier = make_session(2)
    services.docket_add(acting_user=coordinator, session=earlier, participant=bystander)
    client = as_user(coordinator)
    phase_one = program.phases.get(number=1)
    response = client.post(
        reverse("docket_add_due", args=[session.uuid]), {"phase": str(phase_one.uuid)}, follow=True
    )
    assert set(session.entries.values_list("participant", flat=True)) == {participant.pk}
    assert "1 participant due for a hearing was put on the docket" in response.content.decode()
    # Again: nobody is due any more (everyone is scheduled), nothing is added twice.
    again = client.post(
        reverse("docket_add_due", args=[session.uuid]), {"phase": str(phase_one.uuid)}, follow=True
    )
    assert "0 participants due for a hearing were put on the docket" in again.content.decode()
    assert session.entries.count() == 1
    # Every phase: the phase 2 participant is due as well.
    client.post(reverse("docket_add_due", args=[session.uuid]), {"phase": ""})
    assert set(session.entries.values_list("participant", flat=True)) == {
        participant.pk,
        in_phase_two.pk,
    }


def test_schedule_due_lists_those_skipped_with_the_reason(
    as_user, personas, make_session, participant
):
    session = make_session(7)
    services.session_cancel(acting_user=personas[R.COORDINATOR], session=session, reason="Closed")
    response = as_user(personas[R.COORDINATOR]).post(
        reverse("docket_add_due", args=[session.uuid]), {"phase": ""}, follow=True
    )
    page = response.content.decode()
    assert "Not added: This session is cancelled." in page
    assert not session.entries.exists()


def test_schedule_due_refuses_another_programs_phase(
    as_user, personas, make_session, other_participant
):
    session = make_session(7)
    response = as_user(personas[R.COORDINATOR]).post(
        reverse("docket_add_due", args=[session.uuid]),
        {"phase": str(other_participant.phase.uuid)},
    )
    assert response.status_code == 400
    assert not session.entries.exists()
