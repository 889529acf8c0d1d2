"""A participant's hearings: the panel hearings serves, and the participant's page loading it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, translation

from hearings import services
from hearings.views.participant import PAST_SHOWN
from participants.models import Participant
from tests.factories import ParticipantFactory, admit
from tjp import clock
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role as R
from tjp.roles import role_of


def _url(participant, **query):
    url = reverse("participant_hearings", args=[participant.uuid])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _record(entry, coordinator, *, attendance="present", minutes=None):
    services.entry_update(
        acting_user=coordinator, entry=entry, field="attendance", value=attendance, expected=""
    )
    if minutes is not None:
        services.entry_update(
            acting_user=coordinator,
            entry=entry,
            field="judicial_minutes",
            value=str(minutes),
            expected="",
        )


def _without_view_permission(role):
    """A user of `role` in the program, whose role has every permission but the one under test."""
    group = Group.objects.get(name=role.value)
    group.permissions.remove(
        Permission.objects.get(content_type__app_label="hearings", codename="view_hearingsession")
    )


@pytest.fixture
def hearings(program, personas, participant, make_session, catalog):
    """`participant` heard 14 days ago (present, 6 minutes, a sanction and an incentive) and
    7 days ago (absent), with a cancelled session 3 days ago; coming: in 7 days, and in 10 days
    (cancelled)."""
    coordinator = personas[R.COORDINATOR]
    today = program_today(program)

    def add(days):
        session = make_session(days)
        entry = services.docket_add(
            acting_user=coordinator, session=session, participant=participant
        )
        return session, entry

    held, held_entry = add(-14)
    _record(held_entry, coordinator, attendance="present", minutes=6)
    services.response_add(
        acting_user=coordinator,
        entry=held_entry,
        response_type=catalog["Community service"],
        behavior_on=today - timedelta(days=20),
        magnitude="8",
    )
    services.response_add(
        acting_user=coordinator,
        entry=held_entry,
        response_type=catalog["Verbal praise from the judge"],
        behavior_on=today - timedelta(days=15),
    )
    services.staffing_note_add(
        acting_user=personas[R.PROSECUTOR], entry=held_entry, text="Staffing secret 4711"
    )
    missed, missed_entry = add(-7)
    _record(missed_entry, coordinator, attendance="absent")
    dropped, _ = add(-3)
    services.session_cancel(acting_user=coordinator, session=dropped, reason="Judge ill")
    coming, _ = add(7)
    called_off, _ = add(10)
    services.session_cancel(acting_user=coordinator, session=called_off, reason="Holiday")
    return {
        "held": held,
        "missed": missed,
        "dropped": dropped,
        "coming": coming,
        "called_off": called_off,
    }


def _rows(page: str, testid: str) -> list[str]:
    return page.split(f'data-testid="{testid}"')[1:]


# --- who gets the panel ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (R.JUDGE, 200),
        (R.PROSECUTOR, 200),
        (R.COORDINATOR, 200),
        (R.MANAGER, 200),
        (R.DEFENDER, 200),  # the participant's own lawyer
        (R.CLINICIAN, 200),  # referred to them: hearings.access shows a clinician their entries
        (R.ADMINISTRATOR, 404),  # sees no participant at all
    ],
)
def test_roles(as_user, personas, participant, hearings, role, status):
    response = as_user(personas[role]).get(_url(participant))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert len(_rows(page, "hearing-upcoming")) == 2
        assert len(_rows(page, "hearing-past")) == 3
        assert "<html" not in page  # a fragment, not a page


@pytest.mark.parametrize("who", ["other_defender", "other_clinician", "outsider"])
def test_outside_scope_is_404(request, as_user, participant, hearings, who):
    user = request.getfixturevalue(who)
    assert as_user(user).get(_url(participant)).status_code == 404


def test_another_programs_participant_is_404(as_user, personas, other_participant):
    for role in (R.JUDGE, R.COORDINATOR, R.MANAGER):
        assert as_user(personas[role]).get(_url(other_participant)).status_code == 404


def test_in_scope_without_the_permission_is_403(as_user, personas, participant, hearings):
    client = as_user(personas[R.JUDGE])
    assert client.get(_url(participant)).status_code == 200
    _without_view_permission(R.JUDGE)
    assert client.get(_url(participant)).status_code == 403


def test_the_panel_is_audited(as_user, personas, participant, hearings):
    as_user(personas[R.DEFENDER]).get(_url(participant))
    event = AuditEvent.objects.filter(
        actor=personas[R.DEFENDER], action=AuditEvent.Action.VIEW, participant_uuid=participant.uuid
    ).get()
    assert len(event.detail["hearings"]) == 5


# --- what it shows ---------------------------------------------------------------------------
def test_upcoming_and_past_newest_first(as_user, personas, participant, hearings):
    page = as_user(personas[R.JUDGE]).get(_url(participant)).content.decode()
    upcoming, past = _rows(page, "hearing-upcoming"), _rows(page, "hearing-past")
    session = reverse("session_detail", args=[hearings["coming"].uuid])
    assert session in upcoming[0] and "3B" in upcoming[0]
    assert str(personas[R.JUDGE]) in upcoming[0]
    assert "Cancelled" in upcoming[1] and "<del>" in upcoming[1]
    assert "Cancelled" not in upcoming[0]
    # newest first: cancelled (3 days ago), absent (7 days), present (14 days)
    assert reverse("session_detail", args=[hearings["dropped"].uuid]) in past[0]
    assert "Cancelled" in past[0]
    assert reverse("session_detail", args=[hearings["missed"].uuid]) in past[1]
    assert "Absent" in past[1]
    held = past[2]
    assert reverse("session_detail", args=[hearings["held"].uuid]) in held
    assert "Present" in held and ">6<" in held
    responses = _rows(held, "hearing-response")
    assert len(responses) == 2
    assert any("Sanction: Community service · 8 hours of community service" in r for r in responses)
    assert any("Incentive: Verbal praise from the judge" in r for r in responses)
    assert "Staffing secret 4711" not in page
    assert "Judge ill" not in page  # the reason is the session page's business


def test_phase_at_the_hearing_not_today(as_user, personas, program, participant, hearings):
    phase_one = str(participant.phase)
    later = program.phases.get(number=2)
    Participant.objects.filter(pk=participant.pk).update(phase=later)
    page = as_user(personas[R.JUDGE]).get(_url(participant)).content.decode()
    held = _rows(page, "hearing-past")[2]
    assert phase_one in held and str(later) not in held


def test_defender_sees_only_their_clients_entries_and_no_one_elses(
    as_user, personas, program, participant, hearings
):
    """Someone else on the same dockets never shows on this participant's panel."""
    coordinator = personas[R.COORDINATOR]
    other = admit(ParticipantFactory(program=program, person__last_name="Zzyzx"), by=coordinator)
    services.docket_add(acting_user=coordinator, session=hearings["coming"], participant=other)
    page = as_user(personas[R.DEFENDER]).get(_url(participant)).content.decode()
    assert len(_rows(page, "hearing-upcoming")) == 2
    assert "Zzyzx" not in page


def test_times_in_the_programs_time_zone(as_user, personas, participant, hearings):
    """Sessions sit at 9:00 in Chicago: 14:00 or 15:00 UTC, never shown as such."""
    page = as_user(personas[R.JUDGE]).get(_url(participant)).content.decode()
    upcoming = _rows(page, "hearing-upcoming")[0]
    assert "9 a.m." in upcoming
    assert "2 p.m." not in upcoming and "3 p.m." not in upcoming
    assert "America/Chicago" in page


def test_spanish_dates(as_user, personas, program, participant, hearings):
    day = clock.local_date(hearings["coming"].starts_at, program)
    with translation.override("es"):
        spanish = formats.date_format(day, "DATE_FORMAT")
    with translation.override("en"):
        english = formats.date_format(day, "DATE_FORMAT")
    assert spanish != english
    page = (
        as_user(personas[R.JUDGE])
        .get(_url(participant), HTTP_ACCEPT_LANGUAGE="es")
        .content.decode()
    )
    upcoming = _rows(page, "hearing-upcoming")[0]
    assert spanish in upcoming and english not in upcoming
    assert "09:00" in upcoming


def test_empty(as_user, personas, participant):
    page = as_user(personas[R.JUDGE]).get(_url(participant)).content.decode()
    assert "No hearing scheduled." in page and "No hearing held yet." in page


def test_past_hearings_are_capped_with_a_see_all(
    as_user, personas, program, participant, make_session
):
    coordinator = personas[R.COORDINATOR]
    for days in range(1, PAST_SHOWN + 3):
        session = make_session(-days)
        services.docket_add(acting_user=coordinator, session=session, participant=participant)
    client = as_user(personas[R.JUDGE])
    page = client.get(_url(participant)).content.decode()
    assert len(_rows(page, "hearing-past")) == PAST_SHOWN
    assert 'data-testid="hearings-more"' in page
    assert f"{_url(participant)}?past=all" in page
    everything = client.get(_url(participant, past="all")).content.decode()
    assert len(_rows(everything, "hearing-past")) == PAST_SHOWN + 2
    assert 'data-testid="hearings-more"' not in everything


# --- a fixed number of queries ---------------------------------------------------------------
@pytest.mark.parametrize("role", [R.JUDGE, R.DEFENDER, R.CLINICIAN])
def test_queries_do_not_grow_with_the_hearings(
    client, personas, program, participant, make_session, catalog, role
):
    coordinator = personas[R.COORDINATOR]
    today = program_today(program)
    made = []

    def hold(up_to):
        # alternate past (held, with a response) and upcoming sessions
        while len(made) < up_to:
            n = len(made) // 2 + 1
            days = -n if len(made) % 2 == 0 else n
            session = make_session(days)
            entry = services.docket_add(
                acting_user=coordinator, session=session, participant=participant
            )
            if days < 0:
                _record(entry, coordinator, minutes=5)
                services.response_add(
                    acting_user=coordinator,
                    entry=entry,
                    response_type=catalog["Jail"],
                    behavior_on=today - timedelta(days=30),
                    magnitude="1",
                )
            made.append(session)

    client.force_login(personas[role])
    url = _url(participant)

    def count():
        client.get(url)  # warm the session and permission caches, as a second page would
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(url).content.decode()
        return len(ctx), page

    hold(2)
    two, page = count()
    assert len(_rows(page, "hearing-past")) + len(_rows(page, "hearing-upcoming")) == 2
    hold(10)
    ten, page = count()
    assert len(_rows(page, "hearing-past")) + len(_rows(page, "hearing-upcoming")) == 10
    assert len(_rows(page, "hearing-response")) == 5
    assert ten == two


# --- the participant's page ------------------------------------------------------------------
def test_participant_page_loads_the_panel_for_court_roles(as_user, personas, participant):
    page = (
        as_user(personas[R.JUDGE])
        .get(reverse("participant_detail", args=[participant.uuid]))
        .content.decode()
    )
    url = _url(participant)
    assert f'hx-get="{url}"' in page
    assert 'hx-trigger="load"' in page
    assert f'href="{url}"' in page  # without JavaScript, a plain link to the same panel


def test_participant_page_without_the_permission_has_no_panel(as_user, personas, participant):
    judge = personas[R.JUDGE]
    _without_view_permission(R.JUDGE)
    judge = type(judge).objects.get(pk=judge.pk)  # a fresh permission cache
    assert role_of(judge) == R.JUDGE
    response = as_user(judge).get(reverse("participant_detail", args=[participant.uuid]))
    assert response.status_code == 200
    page = response.content.decode()
    assert _url(participant) not in page
    assert 'data-testid="hearings"' not in page


def test_defender_of_the_client_gets_the_panel_on_the_page(as_user, personas, participant):
    page = (
        as_user(personas[R.DEFENDER])
        .get(reverse("participant_detail", args=[participant.uuid]))
        .content.decode()
    )
    assert f'hx-get="{_url(participant)}"' in page
