"""In court: the docket where outcomes are recorded cell by cell (htmx), and the entry page with
responses, phase and status changes and staffing notes. Every write goes through the services."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hearings import services
from hearings.models import Attendance, DocketEntry, Response
from participants.models import PhaseChange, Status, StatusChange
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

R = Role
HTMX = {"HTTP_HX_REQUEST": "true"}
RECORDERS = {R.COORDINATOR, R.JUDGE}
PROGRAM_ROLES = {R.JUDGE, R.PROSECUTOR, R.DEFENDER, R.CLINICIAN, R.COORDINATOR, R.MANAGER}


def _field_url(entry):
    return reverse("entry_field", args=[entry.uuid])


def _post_field(client, entry, field, value, expected="", htmx=True, **extra):
    data = {"field": field, "value": value, "expected": expected, **extra}
    return client.post(_field_url(entry), data, **(HTMX if htmx else {}))


def _day(entry, days=0):
    return program_today(entry.session.program) + timedelta(days=days)


@pytest.fixture
def stranger(program, personas):
    """A second participant of the program, neither the defender's client nor the clinician's."""
    p = ParticipantFactory(program=program, person__first_name="Zoe", person__last_name="Quiroga")
    return admit(p, by=personas[R.COORDINATOR])


@pytest.fixture
def stranger_entry(session_today, stranger, personas):
    return services.docket_add(
        acting_user=personas[R.COORDINATOR], session=session_today, participant=stranger
    )


@pytest.fixture
def other_entry(other_participant, other_program):
    """An entry on a session of another program."""
    coordinator = UserFactory(role=R.COORDINATOR, programs=[other_program])
    judge = UserFactory(role=R.JUDGE, programs=[other_program])
    session = services.session_create(
        acting_user=coordinator,
        program=other_program,
        kind="status_review",
        judge=judge,
        courtroom="1",
        day=program_today(other_program),
        start=time(9),
        duration_minutes=60,
    )
    return services.docket_add(
        acting_user=coordinator, session=session, participant=other_participant
    )


# --- who may record ------------------------------------------------------------------------
FIELD_VALUES = [
    ("attendance", "present", Attendance.PRESENT),
    ("judicial_minutes", "4", 4),
    ("judge_notes", "Doing well at work.", "Doing well at work."),
    ("next_appearance", "+14", "+14"),
]


def _value(entry, raw):
    return str(_day(entry, 14)) if raw == "+14" else raw


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("field", "raw", "stored"), FIELD_VALUES)
def test_who_records_each_field(client, personas, entry, role, field, raw, stored):
    client.force_login(personas[role])
    response = _post_field(client, entry, field, _value(entry, raw))
    entry.refresh_from_db()
    if role in RECORDERS:
        assert response.status_code == 200, response.content
        expected = _day(entry, 14) if raw == "+14" else stored
        assert getattr(entry, field) == expected
        event = AuditEvent.objects.filter(
            object_id=str(entry.uuid), action=AuditEvent.Action.UPDATE
        ).get()
        assert event.actor == personas[role] and event.detail["field"] == field
        assert "Saved" in response.content.decode()
    else:
        # Roles that see the entry but may not record: 403; the administrator sees nothing: 404.
        assert response.status_code == (404 if role == R.ADMINISTRATOR else 403)
        assert getattr(entry, field) in ("", None)


def test_outsider_and_another_programs_entry_are_404(
    client, personas, outsider, entry, other_entry
):
    client.force_login(outsider)
    assert _post_field(client, entry, "attendance", "present").status_code == 404
    client.force_login(personas[R.COORDINATOR])
    assert _post_field(client, other_entry, "attendance", "present").status_code == 404
    other_entry.refresh_from_db()
    assert other_entry.attendance == ""
    for name in ("entry_detail", "entry_warrant", "entry_response_add", "entry_phase"):
        method = client.get if name == "entry_detail" else client.post
        assert method(reverse(name, args=[other_entry.uuid])).status_code == 404
    url = reverse("court_docket", args=[other_entry.session.uuid])
    assert client.get(url).status_code == 404


# --- the court page --------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
def test_court_page_access(client, personas, entry, role):
    client.force_login(personas[role])
    response = client.get(reverse("court_docket", args=[entry.session.uuid]))
    if role == R.ADMINISTRATOR:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ana Núñez" in page
    editable = _field_url(entry) in page
    assert editable == (role in RECORDERS)


def test_outsider_cannot_open_the_court_page(client, outsider, session_today):
    client.force_login(outsider)
    assert client.get(reverse("court_docket", args=[session_today.uuid])).status_code == 404


def test_defender_sees_only_names_of_others_and_clinician_only_their_entries(
    client, personas, entry, stranger_entry
):
    url = reverse("court_docket", args=[entry.session.uuid])
    services.entry_update(
        acting_user=personas[R.COORDINATOR],
        entry=stranger_entry,
        field="judge_notes",
        value="Stranger's private note",
        expected="",
    )
    client.force_login(personas[R.DEFENDER])
    page = client.get(url).content.decode()
    assert "Zoe Quiroga" in page and "Ana Núñez" in page
    assert reverse("entry_detail", args=[entry.uuid]) in page
    assert reverse("entry_detail", args=[stranger_entry.uuid]) not in page
    assert "Stranger&#x27;s private note" not in page and "Not your client" in page
    assert client.get(reverse("entry_detail", args=[stranger_entry.uuid])).status_code == 404

    client.force_login(personas[R.CLINICIAN])
    page = client.get(url).content.decode()
    assert "Ana Núñez" in page and "Zoe Quiroga" not in page

    client.force_login(personas[R.PROSECUTOR])
    page = client.get(url).content.decode()
    assert "Stranger&#x27;s private note" in page
    assert _field_url(stranger_entry) not in page


def test_court_page_is_audited(client, personas, entry):
    client.force_login(personas[R.JUDGE])
    client.get(reverse("court_docket", args=[entry.session.uuid]))
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(entry.session.uuid))
    assert event.detail["court"] == [str(entry.participant.uuid)]


def test_court_page_queries_do_not_grow_with_the_docket(
    client, personas, program, session_today, catalog
):
    coordinator = personas[R.COORDINATOR]
    url = reverse("court_docket", args=[session_today.uuid])
    client.force_login(coordinator)

    def fill(n):
        for _ in range(n):
            p = admit(ParticipantFactory(program=program), by=coordinator)
            e = services.docket_add(acting_user=coordinator, session=session_today, participant=p)
            services.entry_update(
                acting_user=coordinator, entry=e, field="attendance", value="absent", expected=""
            )
            services.response_add(
                acting_user=coordinator,
                entry=e,
                response_type=catalog["Verbal admonishment"],
                behavior_on=program_today(program),
            )

    def count():
        client.get(url)  # warm caches (session, permissions) as a real user's second page would
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    fill(2)
    small, page = count()
    assert page.count('data-testid="court-row"') == 2
    fill(8)
    large, page = count()
    assert page.count('data-testid="court-row"') == 10
    assert page.count('data-testid="warrant"') == 10
    assert small == large


# --- recording -------------------------------------------------------------------------------
def test_stale_expected_is_refused_and_says_what_the_value_now_is(client, personas, entry):
    services.entry_update(
        acting_user=personas[R.JUDGE], entry=entry, field="attendance", value="remote", expected=""
    )
    client.force_login(personas[R.COORDINATOR])
    response = _post_field(client, entry, "attendance", "present", expected="")
    assert response.status_code == 409
    page = response.content.decode()
    assert "Present remotely" in page and "now reads" in page
    # The cell now starts from the stored value: saving again is a deliberate overwrite.
    assert 'name="expected" value="remote"' in page
    entry.refresh_from_db()
    assert entry.attendance == Attendance.REMOTE
    assert _post_field(client, entry, "attendance", "present", expected="remote").status_code == 200
    entry.refresh_from_db()
    assert entry.attendance == Attendance.PRESENT


def test_invalid_value_is_400_with_the_message_in_the_cell(client, personas, entry):
    client.force_login(personas[R.COORDINATOR])
    response = _post_field(client, entry, "judicial_minutes", "500")
    assert response.status_code == 400
    assert "between 0 and 240" in response.content.decode()
    entry.refresh_from_db()
    assert entry.judicial_minutes is None
    assert not AuditEvent.objects.filter(
        object_id=str(entry.uuid), action=AuditEvent.Action.UPDATE
    ).exists()


def test_two_users_editing_different_fields_are_both_kept(client, personas, entry):
    # Both pages were loaded before either saved: each posts the blank it started from.
    client.force_login(personas[R.COORDINATOR])
    assert _post_field(client, entry, "attendance", "present").status_code == 200
    client.force_login(personas[R.JUDGE])
    assert _post_field(client, entry, "judicial_minutes", "5").status_code == 200
    client.force_login(personas[R.COORDINATOR])
    assert _post_field(client, entry, "judge_notes", "Keep it up").status_code == 200
    entry.refresh_from_db()
    assert (entry.attendance, entry.judicial_minutes, entry.judge_notes) == (
        Attendance.PRESENT,
        5,
        "Keep it up",
    )


def test_judge_notes_keep_their_line_breaks_and_compare_as_expected(client, personas, entry):
    client.force_login(personas[R.JUDGE])
    assert _post_field(client, entry, "judge_notes", "One\r\nTwo").status_code == 200
    entry.refresh_from_db()
    assert entry.judge_notes == "One\nTwo"
    # The browser sends the expected copy back with CRLF: still the same value.
    response = _post_field(
        client, entry, "judge_notes", "One\r\nTwo\r\nThree", expected="One\r\nTwo"
    )
    assert response.status_code == 200


def test_attendance_on_a_future_session_is_refused(client, personas, participant, future_session):
    coordinator = personas[R.COORDINATOR]
    entry = services.docket_add(
        acting_user=coordinator, session=future_session, participant=participant
    )
    client.force_login(coordinator)
    response = _post_field(client, entry, "attendance", "present")
    assert response.status_code == 400
    assert "not been held yet" in response.content.decode()
    entry.refresh_from_db()
    assert entry.attendance == ""
    page = client.get(reverse("court_docket", args=[future_session.uuid])).content.decode()
    assert "has not been held yet" in page
    assert f'id="attendance-{entry.uuid}" name="value" disabled' in page


def test_next_appearance_on_a_day_with_one_session_puts_the_participant_on_it(
    client, personas, entry, make_session, participant
):
    later = make_session(21, courtroom="5C")
    client.force_login(personas[R.COORDINATOR])
    response = _post_field(client, entry, "next_appearance", str(_day(entry, 21)))
    assert response.status_code == 200
    assert later.entries.filter(participant=participant).exists()
    # Before the session itself: refused, nothing saved.
    response = _post_field(
        client, entry, "next_appearance", str(_day(entry)), expected=str(_day(entry, 21))
    )
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.next_appearance == _day(entry, 21)


def test_plain_post_redirects_back_with_a_message(client, personas, entry):
    client.force_login(personas[R.COORDINATOR])
    response = _post_field(client, entry, "attendance", "excused", htmx=False)
    court = reverse("court_docket", args=[entry.session.uuid])
    assert response.status_code == 302 and response["Location"] == f"{court}#entry-{entry.uuid}"
    page = client.get(court).content.decode()
    assert "Saved: Attendance of Ana Núñez." in page
    response = _post_field(client, entry, "attendance", "present", htmx=False, back="entry")
    assert response["Location"] == reverse("entry_detail", args=[entry.uuid])
    page = client.get(response["Location"]).content.decode()
    assert "Someone else changed this" in page
    entry.refresh_from_db()
    assert entry.attendance == Attendance.EXCUSED


def test_cancelled_session_is_read_only(client, personas, entry):
    services.session_cancel(
        acting_user=personas[R.COORDINATOR], session=entry.session, reason="Judge ill"
    )
    client.force_login(personas[R.COORDINATOR])
    page = client.get(reverse("court_docket", args=[entry.session.uuid])).content.decode()
    assert "cancelled" in page and _field_url(entry) not in page
    assert _post_field(client, entry, "attendance", "present").status_code == 400


# --- bench warrant ---------------------------------------------------------------------------
def test_bench_warrant_after_an_absence(client, personas, entry, participant):
    client.force_login(personas[R.COORDINATOR])
    court = reverse("court_docket", args=[entry.session.uuid])
    assert 'data-testid="warrant"' not in client.get(court).content.decode()
    response = _post_field(client, entry, "attendance", "absent")
    # The cell's answer also brings the warrant button beside it (out-of-band swap).
    assert 'hx-swap-oob="true"' in response.content.decode()
    assert 'data-testid="warrant"' in response.content.decode()
    assert 'data-testid="warrant"' in client.get(court).content.decode()

    client.force_login(personas[R.PROSECUTOR])
    assert 'data-testid="warrant"' not in client.get(court).content.decode()
    assert client.post(reverse("entry_warrant", args=[entry.uuid])).status_code == 403

    client.force_login(personas[R.JUDGE])
    response = client.post(reverse("entry_warrant", args=[entry.uuid]))
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.WARRANT
    change = StatusChange.objects.get(participant=participant, to_status=Status.WARRANT)
    assert change.effective_on == _day(entry) and "Bench warrant" in change.reason
    assert AuditEvent.objects.filter(
        actor=personas[R.JUDGE], object_id=str(participant.uuid), detail__status=Status.WARRANT
    ).exists()
    # Already on warrant: no button, and a second post is refused with a message.
    assert 'data-testid="warrant"' not in client.get(court).content.decode()
    client.post(reverse("entry_warrant", args=[entry.uuid]))
    assert (
        StatusChange.objects.filter(participant=participant, to_status=Status.WARRANT).count() == 1
    )


def test_no_warrant_without_an_absence(client, personas, entry, participant):
    client.force_login(personas[R.JUDGE])
    response = client.post(reverse("entry_warrant", args=[entry.uuid]), follow=True)
    assert "follows an absence" in response.content.decode()
    participant.refresh_from_db()
    assert participant.status == Status.ACTIVE


# --- the entry page: responses, phase and status, staffing notes -----------------------------
@pytest.mark.parametrize("role", list(Role))
def test_entry_page_access(client, personas, entry, catalog, role):
    client.force_login(personas[role])
    response = client.get(reverse("entry_detail", args=[entry.uuid]))
    if role == R.ADMINISTRATOR:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert ('data-testid="response-form"' in page) == (role in RECORDERS)
    assert ('data-testid="phase-form"' in page) == (role in RECORDERS)
    assert ('data-testid="note-form"' in page) == (role != R.MANAGER)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_id=str(entry.uuid), actor=personas[role]
    ).exists()


def _response(client, entry, catalog, name, magnitude="", behavior_on=None, notes=""):
    return client.post(
        reverse("entry_response_add", args=[entry.uuid]),
        {
            "response-response_type": str(catalog[name].uuid),
            "response-magnitude": magnitude,
            "response-behavior_on": str(behavior_on or _day(entry, -3)),
            "response-notes": notes,
        },
    )


@pytest.mark.parametrize(
    ("name", "magnitude", "days", "message"),
    [
        ("Jail", "2.5", -3, "whole days"),
        ("Community service", "", -3, "Enter how much (hours of community service)"),
        ("Jail", "0", -3, "Enter how much"),
        ("Verbal admonishment", "", 1, "before or on the day of the hearing"),
        ("Verbal admonishment", "", -400, "precede the participant"),
    ],
)
def test_response_validation(client, personas, entry, catalog, name, magnitude, days, message):
    client.force_login(personas[R.COORDINATOR])
    response = _response(client, entry, catalog, name, magnitude, _day(entry, days))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Response.objects.exists()


def test_responses_recorded_and_shown(client, personas, entry, catalog, program):
    client.force_login(personas[R.JUDGE])
    assert _response(client, entry, catalog, "Jail", "8").status_code == 302
    assert _response(client, entry, catalog, "Verbal praise from the judge").status_code == 302
    assert _response(client, entry, catalog, "Community service", "10").status_code == 302
    jail = Response.objects.get(response_type=catalog["Jail"])
    assert jail.magnitude == 8 and jail.responded_on == _day(entry) and jail.entry == entry
    assert AuditEvent.objects.filter(object_id=str(jail.uuid), action="create").exists()
    page = client.get(reverse("entry_detail", args=[entry.uuid])).content.decode()
    # 8 jail days is over the program's standard (6 by default): flagged.
    assert page.count('data-testid="jail-warning"') == 1
    assert "8 days in jail" in page and "10 hours of community service" in page
    court = client.get(reverse("court_docket", args=[entry.session.uuid])).content.decode()
    assert "3: Incentive 1, Sanction 2" in court


def test_inactive_or_foreign_response_types_are_not_offered(
    client, personas, entry, catalog, other_program
):
    jail = catalog["Jail"]
    jail.active = False
    jail.save(update_fields=["active"])
    services.catalog_ensure(other_program)
    foreign = other_program.response_types.first()
    client.force_login(personas[R.COORDINATOR])
    page = client.get(reverse("entry_detail", args=[entry.uuid])).content.decode()
    assert str(jail.uuid) not in page and str(foreign.uuid) not in page
    assert _response(client, entry, catalog, "Jail", "2").status_code == 400
    response = client.post(
        reverse("entry_response_add", args=[entry.uuid]),
        {"response-response_type": str(foreign.uuid), "response-behavior_on": str(_day(entry))},
    )
    assert response.status_code == 400 and not Response.objects.exists()


def test_entry_page_without_a_catalog_says_so(client, personas, entry):
    client.force_login(personas[R.COORDINATOR])
    page = client.get(reverse("entry_detail", args=[entry.uuid])).content.decode()
    assert "no response catalog" in page and 'data-testid="response-form"' not in page


def test_phase_change_in_court(client, personas, entry, participant, program):
    phase_two = program.phases.get(number=2)
    client.force_login(personas[R.COORDINATOR])
    page = client.get(reverse("entry_detail", args=[entry.uuid])).content.decode()
    assert f'name="phase-effective_on" value="{_day(entry)}"' in page  # defaults to the hearing
    data = {
        "phase-to_phase": phase_two.pk,
        "phase-effective_on": str(_day(entry)),
        "phase-reason": "Ninety days clean, all groups attended.",
        "phase-expected_phase": participant.phase_id,
    }
    response = client.post(reverse("entry_phase", args=[entry.uuid]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("entry_detail", args=[entry.uuid])
    participant.refresh_from_db()
    assert participant.phase == phase_two
    change = PhaseChange.objects.get(participant=participant, to_phase=phase_two)
    assert change.effective_on == _day(entry) and change.created_by == personas[R.COORDINATOR]
    assert AuditEvent.objects.filter(object_id=str(participant.uuid), detail__phase=2).exists()
    # The same form again: the phase it expected is gone, nothing half-saved.
    response = client.post(reverse("entry_phase", args=[entry.uuid]), data)
    assert response.status_code == 400
    assert PhaseChange.objects.filter(participant=participant, to_phase=phase_two).count() == 1


def test_status_change_in_court(client, personas, entry, participant):
    client.force_login(personas[R.JUDGE])
    data = {
        "status-to_status": Status.IN_CUSTODY,
        "status-effective_on": str(_day(entry)),
        "status-reason": "Remanded at the hearing.",
        "status-expected_status": Status.ACTIVE,
    }
    assert client.post(reverse("entry_status", args=[entry.uuid]), data).status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.IN_CUSTODY
    assert StatusChange.objects.filter(
        participant=participant, to_status=Status.IN_CUSTODY
    ).exists()
    bad = {**data, "status-expected_status": Status.IN_CUSTODY, "status-reason": ""}
    response = client.post(reverse("entry_status", args=[entry.uuid]), bad)
    assert response.status_code == 400 and "This field is required" in response.content.decode()


@pytest.mark.parametrize("role", [R.PROSECUTOR, R.DEFENDER, R.CLINICIAN, R.MANAGER])
def test_phase_and_status_need_both_permissions(client, personas, entry, program, role):
    client.force_login(personas[role])
    for name in ("entry_phase", "entry_status", "entry_response_add"):
        assert client.post(reverse(name, args=[entry.uuid]), {}).status_code == 403


def test_staffing_notes(client, personas, entry):
    url = reverse("entry_note_add", args=[entry.uuid])
    client.force_login(personas[R.PROSECUTOR])
    response = client.post(url, {"note-recommendation": "sanction", "note-text": "Missed 2 tests."})
    assert response.status_code == 302
    note = entry.staffing_notes.get()
    assert note.author_role == "prosecutor" and note.recommendation == "sanction"
    assert AuditEvent.objects.filter(object_id=str(note.uuid), action="create").exists()
    assert client.post(url, {"note-text": "  "}).status_code == 400
    client.force_login(personas[R.JUDGE])
    page = client.get(reverse("entry_detail", args=[entry.uuid])).content.decode()
    assert "Missed 2 tests." in page and "Prosecutor" in page
    client.force_login(personas[R.MANAGER])
    assert client.post(url, {"note-text": "x"}).status_code == 403
    assert DocketEntry.objects.get(pk=entry.pk).staffing_notes.count() == 1


@pytest.mark.parametrize("page", ["court", "entry"])
def test_the_site_navigation_is_intact_on_the_court_pages(client, personas, entry, page):
    """The pages' own permission summary must not hide the site's `perms` (the nav uses it)."""
    client.force_login(personas[Role.COORDINATOR])
    url = (
        reverse("court_docket", args=[entry.session.uuid])
        if page == "court"
        else reverse("entry_detail", args=[entry.uuid])
    )
    body = client.get(url).content.decode()
    assert f'href="{reverse("roster")}"' in body
    assert f'href="{reverse("hearing_calendar")}"' in body
