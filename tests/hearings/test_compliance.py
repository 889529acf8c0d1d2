"""Hearing-frequency compliance: known answers on a hand-built cohort, the page, who may see it,
and a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hearings import services
from hearings.compliance import hearing_compliance
from participants import services as participant_services
from tests.factories import ParticipantFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

URL = "/hearings/compliance/"
SEES_COMPLIANCE = {Role.JUDGE, Role.PROSECUTOR, Role.COORDINATOR, Role.MANAGER}


@pytest.fixture
def phases(program):
    """Phase 1 sees the judge every 14 days, phase 2 every 28."""
    one, two = program.phases.get(number=1), program.phases.get(number=2)
    one.hearing_interval_days, two.hearing_interval_days = 14, 28
    one.save(update_fields=["hearing_interval_days"])
    two.save(update_fields=["hearing_interval_days"])
    return one, two


@pytest.fixture
def cohort(program, personas, make_session, phases):
    """`cohort.add(name, entry_days_ago)` admits a participant; `cohort.hear(p, days_ago,
    minutes=None, attendance="present")` records an outcome on that day's session (through the
    services, as the court would)."""
    coordinator = personas[Role.COORDINATOR]
    sessions = {}

    class Cohort:
        def add(self, name: str, entry_days_ago: int):
            first, last = name.split()
            today = program_today(program)
            p = ParticipantFactory(
                program=program,
                person__first_name=first,
                person__last_name=last,
                referred_on=today - timedelta(days=entry_days_ago + 10),
                arrest_date=today - timedelta(days=entry_days_ago + 20),
            )
            # admit() counts from the server's date; the court's is the program's.
            shift = (timezone.localdate() - today).days
            p = admit(p, by=coordinator, entry_days_ago=entry_days_ago + shift)
            assert p.entry_date == today - timedelta(days=entry_days_ago)
            return p

        def hear(self, participant, days_ago: int, minutes=None, attendance="present"):
            if days_ago not in sessions:
                sessions[days_ago] = make_session(-days_ago)
            entry = services.docket_add(
                acting_user=coordinator, session=sessions[days_ago], participant=participant
            )
            for field, value in (("attendance", attendance), ("judicial_minutes", minutes)):
                if value is not None:
                    services.entry_update(
                        acting_user=coordinator,
                        entry=entry,
                        field=field,
                        value=str(value),
                        expected="",
                    )

        def promote(self, participant, to_phase, days_ago: int):
            return participant_services.phase_change(
                acting_user=coordinator,
                participant=participant,
                to_phase=to_phase,
                effective_on=program_today(program) - timedelta(days=days_ago),
                reason="Met the phase requirements.",
                expected_phase=participant.phase,
            )

    return Cohort()


def report(program, start_days_ago=89, end_days_ago=0):
    today = program_today(program)
    return hearing_compliance(
        program,
        start=today - timedelta(days=start_days_ago),
        end=today - timedelta(days=end_days_ago),
        today=today,
    )


# --- known answers ---------------------------------------------------------------------------
def test_ten_fifteen_thirty_days_is_one_interval_of_three_within(program, cohort):
    """Three participants entered 60 days ago and were first heard 10, 15 and 30 days later:
    with a 14-day standard, one interval of three is within it."""
    for name, after_entry in (("Ann One", 10), ("Bob Two", 15), ("Cy Three", 30)):
        cohort.hear(cohort.add(name, 60), 60 - after_entry)

    one = report(program).phases[0]

    assert (one.participants_heard, one.hearings, len(one.intervals)) == (3, 3, 3)
    assert sorted(one.intervals) == [10, 15, 30]
    assert one.within == 1
    assert round(one.percent_within, 1) == 33.3
    assert round(one.mean_interval, 2) == 18.33


@pytest.fixture
def known(program, cohort, phases):
    """The cohort of the answers below (days ago; phase 1 every 14 days, phase 2 every 28).

    P1 (entered 60 days ago) heard 50, 36 and 7 days ago, minutes 2, 4, 3: intervals 10, 14, 29.
    P2 (60) heard 45 days ago (3 minutes), absent 38 days ago: interval 15.
    P3 (60) heard 30 days ago, minutes not recorded: interval 30.
    P4 (200) promoted to phase 2 100 days ago, heard 95 (before the period; 6 minutes), 85 and
    40 days ago (1 and 5 minutes): intervals 10 and 45.
    """
    p1, p2, p3 = cohort.add("Pat One", 60), cohort.add("Pia Two", 60), cohort.add("Pol Three", 60)
    p4 = cohort.promote(cohort.add("Pam Four", 200), phases[1], 100)
    cohort.hear(p4, 95, minutes=6)
    cohort.hear(p4, 85, minutes=1)
    cohort.hear(p1, 50, minutes=2)
    cohort.hear(p2, 45, minutes=3)
    cohort.hear(p4, 40, minutes=5)
    cohort.hear(p2, 38, attendance="absent")
    cohort.hear(p1, 36, minutes=4)
    cohort.hear(p3, 30)
    cohort.hear(p1, 7, minutes=3)
    return p1, p2, p3, p4


def test_phases_over_the_default_period(program, known):
    result = report(program)
    one, two, three = result.phases

    assert (one.phase.number, two.phase.number, three.phase.number) == (1, 2, 3)
    assert (one.participants_heard, one.hearings) == (3, 5)
    assert sorted(one.intervals) == [10, 14, 15, 29, 30]
    assert one.within == 2  # 10 and 14: the standard's own day is within it
    assert one.mean_interval == pytest.approx(19.6)
    assert one.target_days == 14
    # The hearing 95 days ago is outside the period, but starts the next interval.
    assert (two.participants_heard, two.hearings, sorted(two.intervals)) == (1, 2, [10, 45])
    assert (two.within, two.mean_interval, two.target_days) == (1, 27.5, 28)
    assert (three.participants_heard, three.hearings, three.intervals) == (0, 0, [])
    assert three.percent_within is None and three.mean_interval is None

    total = result.total
    assert (total.participants_heard, total.hearings, len(total.intervals), total.within) == (
        4,
        7,
        7,
        3,
    )


def test_overdue_now_by_current_phase(program, known):
    _p1, p2, p3, p4 = known
    result = report(program)

    # P1 is due in 7 days; P2 was due 31 days ago, P3 16, P4 (28 days in phase 2) 12.
    assert [d.participant for d in result.overdue] == [p2, p3, p4]
    assert [result.days_overdue(d) for d in result.overdue] == [31, 16, 12]
    assert [row.overdue for row in result.phases] == [2, 1, 0]
    assert result.total.overdue == 3


def test_judicial_minutes(program, known):
    minutes = report(program).minutes

    # 2, 4, 3, 3, 1, 5 in the period (P3's were not recorded; P4's 6 is before the period).
    assert (minutes.hearings, minutes.mean, minutes.target) == (6, 3.0, 3)
    assert minutes.meeting == 4
    assert minutes.percent_meeting == pytest.approx(66.67, abs=0.01)

    program.judicial_minutes_target = 5
    program.save(update_fields=["judicial_minutes_target"])
    assert report(program).minutes.meeting == 1


def test_a_shorter_period(program, known):
    result = report(program, start_days_ago=50, end_days_ago=36)
    one, two, _three = result.phases

    assert (one.hearings, sorted(one.intervals), one.within) == (3, [10, 14, 15], 2)
    assert (two.hearings, two.intervals, two.within) == (1, [45], 0)
    assert sorted(result.minutes.minutes) == [2, 3, 4, 5]


def test_nothing_heard(program, phases):
    result = report(program)
    assert all(row.hearings == 0 for row in result.phases)
    assert result.minutes.mean is None and result.minutes.percent_meeting is None
    assert result.total.percent_within is None


# --- the page --------------------------------------------------------------------------------
def test_the_page_shows_the_report(client, personas, program, known):
    p1, p2, p3, p4 = known
    client.force_login(personas[Role.JUDGE])

    response = client.get(URL, {"program": program.uuid})

    assert response.status_code == 200
    one = response.context["report"].phases[0]
    assert (one.hearings, one.within) == (5, 2)
    html = response.content.decode()
    assert '<td class="text-end" data-testid="within">2 (40%)</td>' in html
    assert '<td class="text-end" data-testid="mean-interval">19.6</td>' in html
    assert '<dd class="col-sm-6" data-testid="minutes-mean">3.0</dd>' in html
    for overdue in (p2, p3, p4):
        assert f'href="/participants/{overdue.uuid}/"' in html
    assert f"/participants/{p1.uuid}/" not in html
    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).latest("pk")
    assert event.program == program
    assert event.detail["participants"] == [str(p.uuid) for p in (p2, p3, p4)]


def test_the_page_defaults_to_the_users_program_and_the_last_90_days(client, personas, program):
    client.force_login(personas[Role.COORDINATOR])
    response = client.get(URL)
    assert response.status_code == 200
    result = response.context["report"]
    today = program_today(program)
    assert result.program == program
    assert (result.start, result.end) == (today - timedelta(days=89), today)


def test_the_page_takes_a_period(client, personas, program, known):
    today = program_today(program)
    client.force_login(personas[Role.MANAGER])
    response = client.get(
        URL,
        {
            "program": program.uuid,
            "from": today - timedelta(days=50),
            "to": today - timedelta(days=36),
        },
    )
    assert response.status_code == 200
    assert response.context["report"].phases[0].hearings == 3


@pytest.mark.parametrize(
    "query",
    [{"from": "2025-02-30"}, {"to": "soon"}, {"from": "2025-03-10", "to": "2025-03-01"}],
)
def test_a_bad_period_is_refused(client, personas, program, query):
    client.force_login(personas[Role.JUDGE])
    response = client.get(URL, {"program": program.uuid, **query})
    assert response.status_code == 400
    assert response.context["report"] is None


# --- who may see it --------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_roles(client, personas, program, role):
    client.force_login(personas[role])
    expected = 200 if role in SEES_COMPLIANCE else 403
    assert client.get(URL, {"program": program.uuid}).status_code == expected


@pytest.mark.parametrize("role", sorted(SEES_COMPLIANCE), ids=str)
def test_another_program_is_404(client, personas, program, other_program, role):
    client.force_login(personas[role])
    assert client.get(URL, {"program": other_program.uuid}).status_code == 404
    assert client.get(URL, {"program": "not-a-uuid"}).status_code == 404


def test_the_outsider_cannot_see_this_program(client, outsider, program):
    client.force_login(outsider)
    assert client.get(URL, {"program": program.uuid}).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, program):
    response = client.get(URL, {"program": program.uuid})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- queries ---------------------------------------------------------------------------------
def test_a_constant_number_of_queries(client, personas, program, cohort, phases):
    client.force_login(personas[Role.JUDGE])
    p = cohort.add("Una Sola", 60)
    cohort.hear(p, 40, minutes=3)
    client.get(URL)  # warm the session up
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200

    for i in range(6):
        q = cohort.add(f"Otra Persona{i}", 60)
        cohort.hear(q, 40, minutes=2)
        cohort.hear(q, 20 + i, minutes=4)
        if i % 2:
            cohort.promote(q, phases[1], 10)
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL)
    assert response.context["report"].total.hearings == 13
    assert len(large) == len(small)


def test_a_judge_of_two_programs_picks_one(client, program, other_program, personas):
    judge = UserFactory(role=Role.JUDGE, programs=[program, other_program])
    client.force_login(judge)
    assert client.get(URL, {"program": other_program.uuid}).context["program"] == other_program
    assert client.get(URL).status_code == 200
