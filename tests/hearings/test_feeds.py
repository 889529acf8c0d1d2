"""Calendar feeds: the secret address is created, shown once, rotated and stopped by its owner;
the feed (fetched without signing in) is valid iCalendar with the owner's sessions only, and
carries no participant names or treatment information."""

import hashlib
import re
from datetime import UTC, time, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from hearings import services as hearing_services
from hearings.models import CalendarFeed
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

TREATMENT_WORDS = ("treatment", "drug", "clinical", "consent", "tratamiento", "prueba")


def _feed_url(response) -> str:
    assert response.status_code == 200
    (url,) = re.findall(r'value="(http://testserver/hearings/feeds/[^"]+\.ics)"', response.text)
    return url.removeprefix("http://testserver")


@pytest.fixture
def subscribe(as_user):
    """subscribe(user) → the path of the user's new feed, created through the page."""

    def make(user):
        return _feed_url(as_user(user).post("/hearings/calendar-feed/"))

    return make


def _fetch(path):
    """As a calendar application does: no session, no cookies."""
    return Client().get(path)


def _events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    assert str(cal["VERSION"]) == "2.0" and cal.get("PRODID") and cal.get("X-WR-CALNAME")
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def _uid(session) -> str:
    return f"{session.uuid}@tjp"


@pytest.fixture
def docket(program, make_session, participant, personas):
    """Sessions of `program` 70 days ago (outside the feed), 14 days ago, in a week (with Ana on
    the docket), in three weeks (cancelled), and in 400 days (outside)."""
    coordinator = personas[Role.COORDINATOR]
    sessions = {
        "too_old": make_session(-70),
        "past": make_session(-14),
        "next": make_session(7),
        "cancelled": make_session(21),
        "too_far": make_session(400),
    }
    hearing_services.docket_add(
        acting_user=coordinator, session=sessions["next"], participant=participant
    )
    hearing_services.session_cancel(
        acting_user=coordinator, session=sessions["cancelled"], reason="Holiday."
    )
    return sessions


# --- the page --------------------------------------------------------------------------------
def test_create_shows_the_address_once_and_keeps_only_its_hash(as_user, personas):
    coordinator = personas[Role.COORDINATOR]
    client = as_user(coordinator)
    page = client.get("/hearings/calendar-feed/")
    assert page.status_code == 200 and "You have no calendar feed." in page.text
    response = client.post("/hearings/calendar-feed/")
    assert "no-store" in response["Cache-Control"]
    path = _feed_url(response)
    token = path.removeprefix("/hearings/feeds/").removesuffix(".ics")
    assert len(token) >= 43
    feed = CalendarFeed.objects.get(user=coordinator)
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    # Not shown again.
    page = client.get("/hearings/calendar-feed/")
    assert token not in page.text and 'data-testid="feed-stop"' in page.text
    assert AuditEvent.objects.filter(
        actor=coordinator, action=AuditEvent.Action.GRANT, detail__calendar_feed="created"
    ).exists()
    assert not AuditEvent.objects.filter(detail__icontains=token).exists()


@pytest.mark.parametrize(
    "role, status",
    [(role, 200) for role in Role if role != Role.ADMINISTRATOR] + [(Role.ADMINISTRATOR, 403)],
)
def test_who_may_have_a_feed(as_user, personas, role, status):
    client = as_user(personas[role])
    assert client.get("/hearings/calendar-feed/").status_code == status
    assert client.post("/hearings/calendar-feed/").status_code == status
    assert CalendarFeed.objects.filter(user=personas[role]).exists() == (status == 200)


def test_rotate_makes_the_old_address_stop_working(as_user, personas, subscribe, docket):
    coordinator = personas[Role.COORDINATOR]
    old = subscribe(coordinator)
    assert _fetch(old).status_code == 200
    new = subscribe(coordinator)
    assert new != old
    assert _fetch(old).status_code == 404
    assert _uid(docket["next"]) in _events(_fetch(new))
    assert CalendarFeed.objects.filter(user=coordinator).count() == 1
    assert AuditEvent.objects.filter(actor=coordinator, detail__calendar_feed="rotated").exists()


def test_stop_the_feed(as_user, personas, subscribe):
    coordinator = personas[Role.COORDINATOR]
    path = subscribe(coordinator)
    response = as_user(coordinator).post("/hearings/calendar-feed/stop/")
    assert response.status_code == 302 and response["Location"] == "/hearings/calendar-feed/"
    assert _fetch(path).status_code == 404
    assert not CalendarFeed.objects.filter(user=coordinator).exists()
    assert AuditEvent.objects.filter(
        actor=coordinator, action=AuditEvent.Action.REVOKE, detail__calendar_feed="stopped"
    ).exists()
    assert as_user(coordinator).get("/hearings/calendar-feed/stop/").status_code == 405


# --- the feed --------------------------------------------------------------------------------
def test_feed_is_valid_icalendar_of_the_users_sessions(
    program, personas, subscribe, docket, participant
):
    events = _events(_fetch(subscribe(personas[Role.JUDGE])))
    shown = ("past", "next", "cancelled")
    assert set(events) == {_uid(docket[k]) for k in shown}
    for key in shown:
        session, event = docket[key], events[_uid(docket[key])]
        assert event["DTSTART"].dt == session.starts_at.astimezone(UTC)
        assert event["DTEND"].dt == session.ends_at.astimezone(UTC)
        assert event["DTSTART"].dt.tzinfo is not None and event.get("DTSTAMP")
        assert str(event["LOCATION"]) == "3B"
        assert str(event["SUMMARY"]) == f"Status review hearing · {program.name}"
        assert f"Judge: {session.judge}" in str(event["DESCRIPTION"])
    assert str(events[_uid(docket["cancelled"])]["STATUS"]) == "CANCELLED"
    assert str(events[_uid(docket["next"])]["STATUS"]) == "CONFIRMED"
    assert "Participants on the docket: 1" in str(events[_uid(docket["next"])]["DESCRIPTION"])
    assert "Participants on the docket: 0" in str(events[_uid(docket["past"])]["DESCRIPTION"])


def test_feed_names_no_participant_and_says_nothing_of_treatment(
    program, personas, subscribe, docket, participant
):
    response = _fetch(subscribe(personas[Role.DEFENDER]))
    text = Calendar.from_ical(response.content).to_ical().decode().lower()
    person = participant.person
    for name in (person.first_name, person.last_name, person.full_name):
        assert name.lower() not in text
    rest = text.replace(program.name.lower(), "")
    assert not any(word in rest for word in TREATMENT_WORDS)


def test_feed_is_scoped_like_the_calendar(
    program, other_program, personas, subscribe, docket, participant, other_clinician
):
    judge = UserFactory(email="juez@pjt.test", role=Role.JUDGE, programs=[other_program])
    coordinator = UserFactory(
        email="coord@pjt.test", role=Role.COORDINATOR, programs=[other_program]
    )
    elsewhere = hearing_services.session_create(
        acting_user=coordinator,
        program=other_program,
        kind="status_review",
        judge=judge,
        courtroom="Sala 1",
        day=program_today(other_program) + timedelta(days=3),
        start=time(10),
        duration_minutes=60,
    )
    # Another program's sessions are not in this program's feeds, and the other way round.
    coordinators = _events(_fetch(subscribe(personas[Role.COORDINATOR])))
    assert _uid(elsewhere) not in coordinators and _uid(docket["next"]) in coordinators
    assert set(_events(_fetch(subscribe(coordinator)))) == {_uid(elsewhere)}
    # A clinician sees only the sessions where a participant of theirs appears.
    assert set(_events(_fetch(subscribe(personas[Role.CLINICIAN])))) == {_uid(docket["next"])}
    # A defender sees every session of their programs.
    assert _uid(docket["past"]) in _events(_fetch(subscribe(personas[Role.DEFENDER])))
    # A clinician with no participant on any docket: an empty, valid calendar.
    assert _events(_fetch(subscribe(other_clinician))) == {}


def test_a_clinicians_count_is_of_their_own_participants(
    program, personas, subscribe, docket, participant
):
    bruno = admit(ParticipantFactory(program=program), by=personas[Role.COORDINATOR])
    hearing_services.docket_add(
        acting_user=personas[Role.COORDINATOR], session=docket["next"], participant=bruno
    )
    uid = _uid(docket["next"])
    clinician = _events(_fetch(subscribe(personas[Role.CLINICIAN])))[uid]
    judge = _events(_fetch(subscribe(personas[Role.JUDGE])))[uid]
    assert "Participants on the docket: 1" in str(clinician["DESCRIPTION"])
    assert "Participants on the docket: 2" in str(judge["DESCRIPTION"])


def test_unknown_token_is_404(db):
    assert _fetch("/hearings/feeds/not-a-real-token.ics").status_code == 404
    assert _fetch("/hearings/feeds/.ics").status_code == 404


def test_deactivated_user_or_lost_permission_is_404(personas, subscribe):
    from django.contrib.auth.models import Group

    judge, prosecutor = personas[Role.JUDGE], personas[Role.PROSECUTOR]
    judge_feed, prosecutor_feed = subscribe(judge), subscribe(prosecutor)
    assert _fetch(judge_feed).status_code == 200 and _fetch(prosecutor_feed).status_code == 200
    judge.is_active = False
    judge.save(update_fields=["is_active"])
    assert _fetch(judge_feed).status_code == 404
    # The prosecutor becomes an administrator: no longer allowed to see sessions.
    prosecutor.groups.set([Group.objects.get(name=Role.ADMINISTRATOR)])
    assert _fetch(prosecutor_feed).status_code == 404


def test_feed_queries_do_not_grow_with_the_sessions(
    program, personas, subscribe, make_session, participant
):
    path = subscribe(personas[Role.COORDINATOR])
    for days in (1, 2):
        hearing_services.docket_add(
            acting_user=personas[Role.COORDINATOR],
            session=make_session(days),
            participant=participant,
        )
    with CaptureQueriesContext(connection) as few:
        assert len(_events(_fetch(path))) == 2
    for days in (3, 4, 5, 6):
        hearing_services.docket_add(
            acting_user=personas[Role.COORDINATOR],
            session=make_session(days),
            participant=participant,
        )
    with CaptureQueriesContext(connection) as many:
        assert len(_events(_fetch(path))) == 6
    assert len(many) == len(few)
