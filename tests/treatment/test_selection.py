"""Random drug-test selection through the services, against real PostgreSQL: a simulated two
months of daily runs, the weekly minimum, who is tested, seeds logged and reproducible, specimen
deadlines, tests linked to their selection, missed-test conversion and call-ins.

No clock is frozen: the services take the day (`day=`) and the moment (`now=`, `at=`)."""

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from participants.models import Status
from tests.factories import ParticipantFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import randomization, services
from treatment.models import DrugTest, Source, TestingProfile, TestSelection

pytestmark = pytest.mark.django_db

WEEKS = 8
DAY = timedelta(days=1)
NOT_TESTED = [Status.WARRANT, Status.IN_CUSTODY, Status.MEDICAL_LEAVE, Status.REFERRED]


def _first_monday(program):
    """The Monday `WEEKS` whole weeks before this week: every simulated day is in the past."""
    today = program_today(program)
    return randomization.week_start(today) - timedelta(weeks=WEEKS)


def _participant(program, *, phase, status=Status.ACTIVE, entry_date, code="", method=None):
    """A participant as the admission services leave one (the selection reads these columns
    only), optionally with a testing profile."""
    participant = ParticipantFactory(
        program=program,
        status=status,
        phase=phase,
        referred_on=entry_date - timedelta(days=7),
        entry_date=None if status == Status.REFERRED else entry_date,
    )
    if code or method:
        TestingProfile.objects.create(
            participant=participant, call_in_code=code or "x", method=method or "urine"
        )
    return participant


@pytest.fixture
def phases(program):
    """Phase 1 tests 3 times a week, phase 2 twice, phase 3 once."""
    phases = {phase.number: phase for phase in program.phases.all()}
    for number, per_week in ((1, 3), (2, 2), (3, 1)):
        phases[number].tests_per_week = per_week
        phases[number].save(update_fields=["tests_per_week"])
    return phases


def _selections_by_week(participant) -> Counter:
    return Counter(randomization.week_start(s.day) for s in participant.test_selections.all())


def _selection_events(program):
    return AuditEvent.objects.filter(program=program, actor_label="random selection")


def test_eight_weeks_of_daily_selection(program, phases):
    first_monday = _first_monday(program)
    days = [first_monday + timedelta(days=n) for n in range(7 * WEEKS)]
    entered = first_monday - timedelta(days=30)
    tested = [_participant(program, phase=phases[1 + n % 3], entry_date=entered) for n in range(30)]
    tested.append(
        _participant(
            program, phase=phases[2], status=Status.PENDING_TERMINATION, entry_date=entered
        )
    )
    # Admitted on the Thursday of the third week: that week counts from Thursday on.
    late_entry = first_monday + timedelta(weeks=2, days=3)
    late = _participant(program, phase=phases[1], entry_date=late_entry)
    untested = [
        _participant(program, phase=phases[1], status=s, entry_date=entered) for s in NOT_TESTED
    ]

    for day in days:
        services.selection_run(program=program, day=day)

    # Each participant meets their phase's weekly minimum exactly, every week.
    for participant in tested:
        per_week = _selections_by_week(participant)
        expected = participant.phase.tests_per_week
        assert per_week == {first_monday + timedelta(weeks=w): expected for w in range(WEEKS)}
    late_weeks = _selections_by_week(late)
    assert late_weeks == {first_monday + timedelta(weeks=w): 3 for w in range(2, WEEKS)}
    assert all(s.day >= late_entry for s in late.test_selections.all())
    # Only those in the program and reachable are tested.
    for participant in untested:
        assert not participant.test_selections.exists(), participant.status

    selections = list(TestSelection.objects.select_related("participant__phase"))
    assert len(selections) == WEEKS * (10 * 3 + 10 * 2 + 10 * 1 + 2) + 6 * 3
    # Weekends are as likely as any other day: about 2/7 of the tests (a loose bound: about
    # four standard deviations either side for ~500 draws).
    weekend = sum(1 for s in selections if s.day.weekday() >= 5) / len(selections)
    assert 0.20 < weekend < 0.37, weekend
    assert len({s.day.weekday() for s in selections}) == 7

    # Every run is logged with the seed of each selection it made; an auditor holding the
    # secret recomputes each seed from the program, the participant and the week.
    events = list(_selection_events(program))
    assert len(events) == len(days)
    logged = {}
    for event in events:
        for participant_uuid, seed in event.detail["selected"].items():
            logged[(participant_uuid, event.detail["day"])] = seed
    assert logged == {(str(s.participant.uuid), str(s.day)): s.seed for s in selections}
    for selection in selections:
        assert selection.tests_per_week == selection.participant.phase.tests_per_week
        assert selection.seed == randomization.selection_seed(
            secret=django_settings.TESTING_SELECTION_SECRET,
            program_uuid=program.uuid,
            participant_uuid=selection.participant.uuid,
            week=selection.day,
        )

    # Running a day again selects nobody new.
    for day in days[-7:]:
        assert services.selection_run(program=program, day=day) == []
    assert TestSelection.objects.count() == len(selections)
    assert _selection_events(program).order_by("-pk").first().detail["selected"] == {}


def _one_week(program) -> dict:
    monday = _first_monday(program)
    for offset in range(7):
        services.selection_run(program=program, day=monday + timedelta(days=offset))
    return {(s.participant_id, s.day): s.seed for s in TestSelection.objects.all()}


def test_selection_is_reproducible_with_the_secret_and_changes_with_it(program, phases, settings):
    entered = _first_monday(program) - timedelta(days=30)
    for n in range(8):
        _participant(program, phase=phases[1 + n % 2], entry_date=entered)
    first = _one_week(program)
    assert len(first) == 4 * 3 + 4 * 2

    TestSelection.objects.all().delete()
    assert _one_week(program) == first  # same secret: the same days, the same seeds

    TestSelection.objects.all().delete()
    settings.TESTING_SELECTION_SECRET = "another-secret"
    second = _one_week(program)
    assert len(second) == len(first)
    assert set(second) != set(first)
    assert not set(second.values()) & set(first.values())


@pytest.fixture
def daily(program, phases):
    """Phase 3 tests every day, so that every run selects its participants."""
    phases[3].tests_per_week = 7
    phases[3].save(update_fields=["tests_per_week"])
    entered = program_today(program) - timedelta(days=40)

    def make(**kwargs):
        return _participant(program, phase=phases[3], entry_date=entered, **kwargs)

    return make


def test_deadline_is_the_programs_window_for_the_method(program, daily):
    urine = daily(code="RED-1", method="urine")
    oral = daily(code="RED-2", method="oral_fluid")
    default = daily()
    day = program_today(program) - timedelta(days=1)
    chosen = {s.participant: s for s in services.selection_run(program=program, day=day)}
    assert set(chosen) == {urine, oral, default}
    notified = datetime.combine(day, time(6), tzinfo=ZoneInfo(program.time_zone))
    for participant, method, hours in (
        (urine, "urine", 8),
        (oral, "oral_fluid", 4),
        (default, "urine", 8),
    ):
        selection = chosen[participant]
        assert selection.method == method
        assert selection.notified_at == notified
        assert selection.deadline - selection.notified_at == timedelta(hours=hours)

    program.specimen_window_urine_hours, program.specimen_window_oral_hours = 6, 2
    program.save()
    chosen = {s.participant: s for s in services.selection_run(program=program, day=day + DAY)}
    assert chosen[urine].deadline - chosen[urine].notified_at == timedelta(hours=6)
    assert chosen[oral].deadline - chosen[oral].notified_at == timedelta(hours=2)


def test_a_test_on_the_selected_day_fulfils_the_selection(program, daily, personas):
    participant = daily()
    day = program_today(program) - 2 * DAY
    (selection,) = services.selection_run(program=program, day=day)
    coordinator = personas[Role.COORDINATOR]
    submitted = services.drug_test_record(
        acting_user=coordinator,
        participant=participant,
        collected_at=selection.notified_at + timedelta(hours=3),
        method="urine",
        observed=True,
        results=[("cocaine", "negative")],
    )
    selection.refresh_from_db()
    assert selection.test == submitted.obj and submitted.obj.random
    # A second test that day is not random: the selection is already fulfilled.
    another = services.drug_test_record(
        acting_user=coordinator,
        participant=participant,
        collected_at=selection.notified_at + timedelta(hours=5),
        method="breath",
        results=[("alcohol", "negative")],
    )
    assert not another.obj.random
    # Nor is a test on a day without a selection.
    unselected = services.drug_test_record(
        acting_user=coordinator,
        participant=participant,
        collected_at=selection.notified_at - DAY,
        method="urine",
        results=[("cocaine", "negative")],
    )
    assert not unselected.obj.random
    assert TestSelection.objects.get().test == submitted.obj


def test_overdue_selections_become_missed_tests_once(program, daily, personas):
    first, second, fulfilled = daily(), daily(method="oral_fluid"), daily()
    day = program_today(program) - 3 * DAY
    selections = {s.participant: s for s in services.selection_run(program=program, day=day)}
    specimen = services.drug_test_record(
        acting_user=personas[Role.COORDINATOR],
        participant=fulfilled,
        collected_at=selections[fulfilled].notified_at + timedelta(hours=1),
        method="urine",
        results=[("opiates", "negative")],
    ).obj
    # Before the oral-fluid deadline (4 h) nothing is due; after it only that one is.
    oral_deadline = selections[second].deadline
    assert services.missed_tests_convert(now=oral_deadline - timedelta(minutes=1)) == 0
    assert services.missed_tests_convert(now=oral_deadline + timedelta(minutes=1)) == 1
    assert services.missed_tests_convert(now=oral_deadline + timedelta(hours=5)) == 1
    assert services.missed_tests_convert(now=oral_deadline + timedelta(hours=6)) == 0

    for participant in (first, second):
        selection = TestSelection.objects.get(pk=selections[participant].pk)
        missed = selection.test
        assert missed.missed and missed.random and missed.counts_as_positive
        assert (missed.source, missed.created_by, missed.provider) == (Source.SYSTEM, None, None)
        assert missed.collected_at == selection.deadline
        assert missed.method == selection.method
        assert not missed.results.exists()
        assert AuditEvent.objects.get(action="create", object_id=str(missed.uuid)).detail == {
            "missed_selection": str(selection.uuid)
        }
    # The selection with a specimen is left alone.
    assert TestSelection.objects.get(pk=selections[fulfilled].pk).test == specimen
    assert DrugTest.objects.filter(participant=fulfilled).count() == 1
    assert DrugTest.objects.filter(missed=True).count() == 2


def test_what_counts_as_positive(program, daily, personas):
    participant = daily()
    negatives = [("cocaine", "negative"), ("opiates", "negative")]
    cases = [
        ({"results": negatives}, False),
        ({"results": negatives, "dilute": True}, False),
        ({"results": negatives, "adulterated": True}, True),
        ({"missed": True}, True),
        ({"refused": True}, True),
        ({"results": [("cocaine", "negative"), ("fentanyl", "positive")]}, True),
        ({"results": [("cannabis", "confirmed_positive")]}, True),
    ]
    collected = datetime.combine(
        program_today(program) - 5 * DAY, time(9), tzinfo=ZoneInfo(program.time_zone)
    )
    for kwargs, positive in cases:
        test = services.drug_test_record(
            acting_user=personas[Role.COORDINATOR],
            participant=participant,
            collected_at=collected,
            method="urine",
            **kwargs,
        ).obj
        assert test.counts_as_positive is positive, kwargs


def test_call_in_logs_the_call_and_answers_whether_selected(program, daily, other_participant):
    selected = daily(code="BLUE-7")
    day = program_today(program) - DAY
    (selection,) = services.selection_run(program=program, day=day)
    TestingProfile.objects.create(participant=other_participant, call_in_code="GREEN-1")
    at = selection.notified_at + timedelta(minutes=20)

    answer = services.selection_call_in(program=program, code=" blue-7 ", at=at)
    assert answer == selection
    selection.refresh_from_db()
    assert selection.called_in_at == at
    # Calling again keeps the first call.
    services.selection_call_in(program=program, code="BLUE-7", at=at + timedelta(hours=1))
    selection.refresh_from_db()
    assert selection.called_in_at == at
    # The next day there is no selection yet: not selected, and logged all the same.
    assert services.selection_call_in(program=program, code="BLUE-7", at=at + DAY) is None
    calls = AuditEvent.objects.filter(action="view", participant_uuid=selected.uuid)
    assert [e.detail["selected"] for e in calls.order_by("pk")] == [True, True, False]

    before = AuditEvent.objects.count()
    for unknown in ("PURPLE-9", "GREEN-1"):  # GREEN-1 belongs to another program
        with pytest.raises(ValidationError) as error:
            services.selection_call_in(program=program, code=unknown, at=at)
        assert "code" in error.value.message_dict
    assert AuditEvent.objects.count() == before


def test_selection_starts_at_entry_and_needs_tests_in_the_phase(program, daily, phases):
    today = program_today(program)
    participant = daily()
    participant.entry_date = today - DAY
    participant.save(update_fields=["entry_date"])
    assert services.selection_run(program=program, day=today - 2 * DAY) == []
    assert len(services.selection_run(program=program, day=today - DAY)) == 1
    # A phase without random testing selects nobody.
    phases[3].tests_per_week = 0
    phases[3].save(update_fields=["tests_per_week"])
    assert services.selection_run(program=program, day=today) == []
