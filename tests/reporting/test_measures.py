"""Every performance measure on a small hand-built cohort whose answers are worked out by hand.

The cohort of `program` (period: the 365 days ending today, T):

| episode | referral (arrest) | eligible: legal, clinical | entry | then | exit |
|---|---|---|---|---|---|
| A  | T-520 (T-530) | T-510, T-505 | T-500 | phase 2 T-400; arrests T-400, T-30 | active |
| B1 | T-330 (T-340) | T-320, T-315 | T-310 | arrest T-250; pending term. T-210 | terminated T-200 |
| B2 | T-150 (T-160) | T-135, T-130 | T-120 | phase 2 T-60 | active |
| C  | T-300 (T-310) | T-295, T-295 | T-290 | phase 2 T-200, phase 3 T-100 | graduated T-30 |
| D  | T-250 (T-255) | T-245, T-245 | T-240 | | deceased T-100 (neutral) |
| E  | T-200 (T-230) | T-190, T-190 | T-180 | arrests T-25, T-22 | in custody T-20 |
| F  | T-100 (T-110) | — | — | referral declined T-90 | |
| G  | T-95 (T-100)  | T-93, T-93   | T-90  | | voluntary withdrawal T-10 |

A entered before the period; B2 is B1's person readmitted; A's T-30 arrest led to a conviction.

Drug tests around W, the last Saturday on or before T-40 (w = T - W, 40..46 days); a program
holiday on W-4 (a Tuesday):

| test | who | day | what |
|---|---|---|---|
| t0 | A  | T-380 | positive (before the period: not counted) |
| t1 | A  | W (Sat) | negative, observed, random, result after 24 h |
| t2 | A  | W-2 | positive, observed, result after 48 h |
| t3 | A  | W-3 | missed |
| t4 | B2 | W-1 | negative, dilute, result after 12 h |
| t5 | B2 | W+1 (Sun) | refused |
| t6 | E  | W-4 (holiday) | negative, observed, result after 36 h |
| t7 | E  | W-5 | adulterated (negative result), result after 6 h |
| t8 | C  | W-6 (Sun) | negative, observed, random, result after 24 h |

Hearings at T-35 (A present, E remote, B2 absent) and T-14 (A present) with six responses;
treatment sessions: A attended T-50 and T-45 (1.5 h each), absent T-44, attended T-380 (before
the period); B2 late T-40 (1 h); E excused T-41.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hearings import services as hearing_services
from participants import services
from participants.models import Assessment, Participant, ScreeningDecision, Status
from reporting import measures
from reporting.params import ReportParams
from tests.factories import ParticipantFactory, PersonFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.roles import Role
from treatment import services as treatment_services
from treatment.models import TestingHoliday as Holiday
from treatment.models import TestSelection

S = Status


class Cohort:
    """Builds episodes through the services, dated in days before the program's today."""

    def __init__(self, program, personas):
        self.program = program
        self.by = personas[Role.COORDINATOR]
        self.judge = personas[Role.JUDGE]
        self.today = program_today(program)
        self.zone = ZoneInfo(program.time_zone)
        self.phases = {p.number: p for p in program.phases.all()}

    def day(self, days_ago: int):
        return self.today - timedelta(days=days_ago)

    def at(self, day, hour: int = 10) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone)

    def enrol(self, *, arrest, referred, legal, clinical, entry, person=None) -> Participant:
        p = ParticipantFactory(
            program=self.program,
            person=person or PersonFactory(),
            referred_on=self.day(referred),
            arrest_date=self.day(arrest),
        )
        services.assessment_record(
            acting_user=self.by,
            participant=p,
            data={
                "instrument": Assessment.Instrument.RANT,
                "score": 12,
                "risk_level": "high",
                "need_level": "high",
                "assessed_on": self.day(legal),
            },
        )
        for kind, days in ((ScreeningDecision.Kind.LEGAL, legal), ("clinical", clinical)):
            services.screening_record(
                acting_user=self.by,
                participant=p,
                kind=kind,
                outcome=ScreeningDecision.Outcome.ELIGIBLE,
                reasons="Meets the criteria.",
                decided_on=self.day(days),
            )
        return services.admission_decide(
            acting_user=self.by,
            participant=p,
            admit=True,
            reasons="Team agrees.",
            decided_on=self.day(entry),
            entry_date=self.day(entry),
        )

    def status(self, p: Participant, to_status: str, days_ago: int) -> Participant:
        return services.status_change(
            acting_user=self.by,
            participant=p,
            to_status=to_status,
            effective_on=self.day(days_ago),
            reason="As decided.",
            expected_status=p.status,
        )

    def phase(self, p: Participant, number: int, days_ago: int) -> Participant:
        return services.phase_change(
            acting_user=self.by,
            participant=p,
            to_phase=self.phases[number],
            effective_on=self.day(days_ago),
            reason="Requirements met.",
            expected_phase=p.phase,
        )

    def arrest(self, p: Participant, days_ago: int, convicted=None) -> None:
        services.arrest_record(
            acting_user=self.by,
            participant=p,
            arrested_on=self.day(days_ago),
            charge="Theft",
            convicted=convicted,
        )

    def test(self, p: Participant, day, *, after_hours=None, selected=False, **kwargs) -> None:
        if selected:
            TestSelection.objects.create(
                participant=p,
                day=day,
                method="urine",
                seed="seed",
                tests_per_week=2,
                notified_at=self.at(day, 6),
                deadline=self.at(day, 14),
            )
        if not (kwargs.get("missed") or kwargs.get("refused")):
            kwargs.setdefault("results", [("cocaine", "negative")])
        collected = self.at(day)
        treatment_services.drug_test_record(
            acting_user=self.by,
            participant=p,
            collected_at=collected,
            method="urine",
            resulted_at=collected + timedelta(hours=after_hours) if after_hours else None,
            **kwargs,
        )

    def session(self, p: Participant, days_ago: int, attendance: str, hours: str) -> None:
        treatment_services.session_record(
            acting_user=self.by,
            participant=p,
            session_date=self.day(days_ago),
            kind="individual",
            attendance=attendance,
            hours=Decimal(hours),
        )

    def hearing(self, days_ago: int, attendance: dict):
        session = hearing_services.session_create(
            acting_user=self.by,
            program=self.program,
            kind="status_review",
            judge=self.judge,
            courtroom="3B",
            day=self.day(days_ago),
            start=time(9),
            duration_minutes=120,
        )
        entries = {}
        for p, value in attendance.items():
            entry = hearing_services.docket_add(acting_user=self.by, session=session, participant=p)
            entries[p.pk] = hearing_services.entry_update(
                acting_user=self.by, entry=entry, field="attendance", value=value, expected=""
            )
        return entries

    def respond(self, entry, name: str, behaviour_days_ago: int, magnitude=None) -> None:
        hearing_services.response_add(
            acting_user=self.judge,
            entry=entry,
            response_type=self.program.response_types.get(name=name),
            behavior_on=self.day(behaviour_days_ago),
            magnitude=magnitude,
        )


@pytest.fixture
def cohort(program, personas):
    c = Cohort(program, personas)
    hearing_services.catalog_ensure(program)
    a = c.enrol(arrest=530, referred=520, legal=510, clinical=505, entry=500)
    a = c.phase(a, 2, 400)
    c.arrest(a, 400)
    c.arrest(a, 30, convicted=True)

    b1 = c.enrol(arrest=340, referred=330, legal=320, clinical=315, entry=310)
    c.arrest(b1, 250)
    b1 = c.status(b1, S.PENDING_TERMINATION, 210)
    b1 = c.status(b1, S.TERMINATED, 200)
    b2 = c.enrol(arrest=160, referred=150, legal=135, clinical=130, entry=120, person=b1.person)
    b2 = c.phase(b2, 2, 60)

    gr = c.enrol(arrest=310, referred=300, legal=295, clinical=295, entry=290)
    gr = c.phase(gr, 2, 200)
    gr = c.phase(gr, 3, 100)

    d = c.enrol(arrest=255, referred=250, legal=245, clinical=245, entry=240)
    d = c.status(d, S.DECEASED, 100)

    e = c.enrol(arrest=230, referred=200, legal=190, clinical=190, entry=180)
    c.arrest(e, 25)
    c.arrest(e, 22)

    f = ParticipantFactory(
        program=program, referred_on=c.day(100), arrest_date=c.day(110), person=PersonFactory()
    )
    services.admission_decide(
        acting_user=c.by, participant=f, admit=False, reasons="Not eligible.", decided_on=c.day(90)
    )

    g = c.enrol(arrest=100, referred=95, legal=93, clinical=93, entry=90)

    # Drug tests around the Saturday W.
    forty = c.day(40)
    w_day = forty - timedelta(days=(forty.weekday() - 5) % 7)
    Holiday.objects.create(program=program, date=w_day - timedelta(days=4), name="Fiesta")
    c.test(a, c.day(380), results=[("cocaine", "positive")], after_hours=24)
    c.test(a, w_day, observed=True, after_hours=24, selected=True)
    c.test(
        a,
        w_day - timedelta(days=2),
        results=[("cocaine", "positive")],
        observed=True,
        after_hours=48,
    )
    c.test(a, w_day - timedelta(days=3), missed=True)
    c.test(b2, w_day - timedelta(days=1), dilute=True, after_hours=12)
    c.test(b2, w_day + timedelta(days=1), refused=True)
    c.test(e, w_day - timedelta(days=4), observed=True, after_hours=36)
    c.test(e, w_day - timedelta(days=5), adulterated=True, after_hours=6)
    c.test(gr, w_day - timedelta(days=6), observed=True, after_hours=24, selected=True)

    # Treatment sessions.
    c.session(a, 50, "attended", "1.5")
    c.session(a, 45, "attended", "1.5")
    c.session(a, 44, "absent", "1.5")
    c.session(a, 380, "attended", "2")
    c.session(b2, 40, "late", "1")
    c.session(e, 41, "excused", "1")

    # Hearings and responses.
    first = c.hearing(35, {a: "present", e: "remote", b2: "absent"})
    c.respond(first[a.pk], "Verbal praise from the judge", 40)
    c.respond(first[a.pk], "Applause in court", 36)
    c.respond(first[e.pk], "Jail", 37, magnitude=2)
    c.respond(first[b2.pk], "Treatment level of care reassessed", 35)
    second = c.hearing(14, {a: "present"})
    c.respond(second[a.pk], "Certificate of achievement", 20)
    c.respond(second[a.pk], "Jail", 16, magnitude=4)

    # Exits last: the docket takes only open episodes.
    gr = c.status(gr, S.GRADUATED, 30)
    e = c.status(e, S.IN_CUSTODY, 20)
    g = c.status(g, S.VOLUNTARY_WITHDRAWAL, 10)
    c.w = (c.today - w_day).days
    c.people = {"A": a, "B1": b1, "B2": b2, "C": gr, "D": d, "E": e, "F": f, "G": g}
    return c


@pytest.fixture
def params(cohort, program):
    return ReportParams(programs=(program,), start=cohort.day(364), end=cohort.today)


def _label(status) -> str:
    return str(Status(status).label)


def test_census_by_status_now(params):
    table = measures.census_status(params)
    assert table.key == "census_status"
    assert table.rows == [
        [_label(S.ACTIVE), 2],  # A, B2
        [_label(S.WARRANT), 0],
        [_label(S.IN_CUSTODY), 1],  # E
        [_label(S.MEDICAL_LEAVE), 0],
        [_label(S.PENDING_TERMINATION), 0],
    ]
    assert table.notes == ["Total in the program at the end of the period: 3"]


def test_census_by_phase_now(params, program):
    phase = {p.number: str(p) for p in program.phases.all()}
    assert measures.census_phase(params).rows == [[phase[1], 1], [phase[2], 2], [phase[3], 0]]


def test_census_at_a_past_period_end_reads_the_history(cohort, program):
    """At T-205: A active in phase 2; B1 pending termination, C and D active, all in phase 1;
    E, G and B2 were not admitted yet, and B1's and C's later changes do not count."""
    past = ReportParams(programs=(program,), start=cohort.day(400), end=cohort.day(205))
    assert measures.census_status(past).rows == [
        [_label(S.ACTIVE), 3],
        [_label(S.WARRANT), 0],
        [_label(S.IN_CUSTODY), 0],
        [_label(S.MEDICAL_LEAVE), 0],
        [_label(S.PENDING_TERMINATION), 1],
    ]
    phase = {p.number: str(p) for p in program.phases.all()}
    assert measures.census_phase(past).rows == [[phase[1], 3], [phase[2], 1], [phase[3], 0]]


def test_admissions_and_exits_per_month(cohort, params):
    admitted = [310, 290, 240, 180, 120, 90]  # B1, C, D, E, B2, G (A came before the period)
    exited = [200, 100, 30, 10]  # B1 terminated, D deceased, C graduated, G withdrew
    table = measures.admissions_exits(params)
    months = [row[0] for row in table.rows]
    assert months[0] == params.start.replace(day=1)
    assert months[-1] == params.end.replace(day=1)
    assert len(set(months)) == len(months)

    def per_month(days_ago):
        counts = dict.fromkeys(months, 0)
        for n in days_ago:
            counts[cohort.day(n).replace(day=1)] += 1
        return counts

    admissions, exits = per_month(admitted), per_month(exited)
    assert table.rows == [[m, admissions[m], exits[m]] for m in months]
    assert sum(row[1] for row in table.rows) == 6
    assert sum(row[2] for row in table.rows) == 4


def test_retention(params):
    # Admitted in the period: B1, B2, C, D, E, G. Graduated: C. Still in: B2, E. 3 / 6.
    assert measures.retention(params).rows == [[6, 1, 2, 50.0]]


def test_graduation_rate_keeps_neutral_exits_apart(params):
    # Exits: C graduated, B1 terminated, G withdrew (1 / 3); D died (neutral).
    assert measures.graduation(params).rows == [[1, 1, 1, 3, 33.3, 1]]


def test_length_of_stay_by_exit_type(params):
    assert measures.length_of_stay(params).rows == [
        [_label(S.GRADUATED), 1, 260.0, 260.0],
        [_label(S.TERMINATED), 1, 110.0, 110.0],
        [_label(S.VOLUNTARY_WITHDRAWAL), 1, 80.0, 80.0],
        [_label(S.ADMINISTRATIVE_DISCHARGE), 0, None, None],
        [_label(S.DECEASED), 1, 140.0, 140.0],
        [_label(S.TRANSFERRED), 0, None, None],
        ["All exits", 4, 125.0, 147.5],  # 80, 110, 140, 260
    ]


def test_time_from_arrest_to_admission(params):
    # B1, C, D, E, B2, G. Eligibility is the latest eligible decision (B1: T-315, not T-320).
    assert measures.time_to_admission(params).rows == [
        ["Arrest to referral", 6, 10.0, 11.7],  # 10 10 5 30 10 5
        ["Referral to eligibility", 6, 7.5, 9.5],  # 15 5 5 10 20 2
        ["Eligibility to admission", 6, 5.0, 6.3],  # 5 5 5 10 10 3
        ["Arrest to admission", 6, 25.0, 27.5],  # 30 20 15 50 40 10
    ]


def test_sobriety_counts_missed_refused_and_adulterated_as_failed(cohort, params):
    """Failed in their days in the period: A t2 (positive) and t3 (missed), B2 t5 (refused),
    E t7 (adulterated); A's positive t0 came before the period. Longest runs without a failed
    test (days): A 361-w, B1 111, B2 121-w, C 261, D 141, E 175-w, G 81; the median is E's."""
    w = cohort.w
    assert measures.sobriety(params).rows == [[7, 4, 0.57, 4, float(175 - w)]]


def test_in_program_recidivism(params):
    # Enrolled: A, B1, B2, C, D, E, G. Participant-days: A 365, B1 111, B2 121, C 261, D 141,
    # E 181, G 81 = 1261. Arrests: A T-30 (convicted), B1 T-250, E T-25 and T-22 (A's T-400
    # is before the period).
    assert measures.recidivism(params).rows == [[7, 1261, 4, 3, 1, 0.57, 3.17]]


def test_units_of_service(params):
    assert measures.units_of_service(params).rows == [
        ["Treatment sessions attended", 3, 0.43],  # A twice, B2 late
        ["Treatment hours", 4.0, 0.57],
        ["Drug tests collected", 6, 0.86],  # t1 t2 t4 t6 t7 t8
        ["Court appearances", 3, 0.43],  # A twice, E remote
    ]


def test_testing(params):
    # 8 tests in 1261 participant-days (180.1 weeks); turnaround 6 12 24 24 36 48 hours.
    assert measures.testing(params).rows == [[8, 180.1, 0.04, 24.0]]


def test_testing_rates(params):
    assert measures.testing_rates(params).rows == [
        ["Random", 2, 8, 25.0],  # t1 t8
        ["Weekend or holiday", 4, 8, 50.0],  # t1 t5 t8 weekend, t6 holiday
        ["Missed", 1, 8, 12.5],
        ["Observed collection", 4, 6, 66.7],  # of t1 t2 t4 t6 t7 t8
        ["Positive", 1, 6, 16.7],
        ["Dilute", 1, 6, 16.7],
        ["Failed (positive, missed, refused or adulterated)", 4, 8, 50.0],
    ]


def test_responses(params):
    assert measures.responses(params).rows == [
        ["Incentives", 3],
        ["Sanctions", 2],
        ["Service adjustments", 1],
        ["Incentives per sanction", 1.5],
        ["Mean days from behaviour to response", 2.7],  # 5 1 2 0 6 2
        ["Jail sanctions", 2],
        ["Jail-sanction days", 6],
        ["Mean days per jail sanction", 3.0],
    ]


def test_all_tables_in_dashboard_order_with_their_definitions(params):
    tables = measures.all_tables(params)
    assert [t.key for t in tables] == [
        "census_status",
        "census_phase",
        "admissions_exits",
        "admission_rate",
        "retention",
        "graduation",
        "length_of_stay",
        "time_to_admission",
        "sobriety",
        "recidivism",
        "units_of_service",
        "testing",
        "testing_rates",
        "responses",
    ]
    for fn, table in zip(measures.MEASURES, tables, strict=True):
        assert table.definition and table.definition in fn.__doc__
        assert all(len(row) == len(table.columns) for row in table.rows)


def test_within_restricts_every_measure_to_a_group(cohort, params):
    only_e = Participant.objects.filter(pk=cohort.people["E"].pk)
    assert measures.census_status(params, within=only_e).rows[2] == [_label(S.IN_CUSTODY), 1]
    assert sum(r[1] for r in measures.census_status(params, within=only_e).rows) == 1
    assert measures.retention(params, within=only_e).rows == [[1, 0, 1, 100.0]]
    assert measures.recidivism(params, within=only_e).rows == [[1, 181, 2, 1, 0, 2.0, 11.05]]
    assert measures.sobriety(params, within=only_e).rows == [[1, 1, 1.0, 0, float(175 - cohort.w)]]


def test_across_programs(cohort, params, program, other_participant):
    both = ReportParams(
        programs=(program, other_participant.program), start=params.start, end=params.end
    )
    rows = measures.census_status(both).rows
    assert rows[0] == [_label(S.ACTIVE), 3]
    assert measures.census_phase(both).rows[0] == ["Phase 1", 2]


def test_the_number_of_queries_does_not_grow_with_the_cohort(cohort, params, program, personas):
    with CaptureQueriesContext(connection) as small:
        measures.all_tables(params)
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[program])
    for _ in range(3):
        p = admit(ParticipantFactory(program=program), by=coordinator, entry_days_ago=30)
        cohort.test(p, cohort.day(5), results=[("cannabis", "positive")], after_hours=20)
        cohort.test(p, cohort.day(4), missed=True)
        cohort.arrest(p, 3)
    with CaptureQueriesContext(connection) as large:
        tables = measures.all_tables(params)
    assert tables[0].rows[0] == [_label(S.ACTIVE), 5]
    assert len(large) == len(small) < 30
