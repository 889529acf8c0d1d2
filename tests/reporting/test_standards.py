"""Standards compliance: every standard on a small hand-built cohort with answers worked out by
hand, who may see the page, the participants outside (access, consent, disclosures), a query
count that does not grow with the program, and Spanish.

The cohort of `program` (phases 1-3 ask 2 tests a week, hearings every 14 days); the period
is the 28 days ending today, T (T-27..T). Every record is entered an hour after its event
(or the evening of its day) except where said.

| who | arrest | entry | then | tests in the period (days before T) |
|---|---|---|---|---|
| A | T-70 | T-50 | phase 1 throughout | 26 23 19 16 12 9 5 collected, 2 missed (8) |
| B | T-70 | T-50 | phase 2 from T-13; provider | phase 1: 25 22 18 15; phase 2: 10 3 |
| C | T-80 | T-20 | | one collected two hours ago, no result time yet (pending) |

- A's results come 24 h after collection, except T-12 (60 h: late) and T-5 (never: late);
  A's T-16 test was entered 72 h after collection (3 days: late). Court-entered.
- B's tests are reported by the provider's clinician (provider information), results in 24 h;
  B's treatment session of T-7 (also the provider's) was entered on T-2 (late).
- A's treatment session of T-6 is the court's, entered on time.
- Hearing on T-7, all three present; minutes with the judge A 5, B 2. Responses: A applause,
  jail 10 days, admonishment; B praise, certificate; C applause, jail 3 days.
- Settings: the defaults (48 h turnaround and data entry, 6 jail days, 4 incentives per
  sanction, 50 days arrest to entry), but judges 2 participants each.
"""

from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from hearings import services as hearing_services
from hearings.compliance import hearing_compliance
from hearings.models import Response
from participants import services
from participants.disclosures import REDISCLOSURE_NOTICE_EN
from participants.models import StatusChange
from reporting import standards
from reporting.params import ReportParams
from tests.factories import ParticipantFactory, UserFactory, admit
from tests.reporting.test_dashboard import parse_tables
from tests.reporting.test_measures import Cohort
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services as treatment_services
from treatment.models import DrugTest, TreatmentSession

URL = reverse("reporting_standards")


class Standards(Cohort):
    def __init__(self, program, personas):
        super().__init__(program, personas)
        self.clinician = personas[Role.CLINICIAN]

    def collect(self, p, days_ago, *, after_hours=24, by=None, **kwargs):
        collected = self.at(self.day(days_ago))
        if not (kwargs.get("missed") or kwargs.get("refused")):
            kwargs.setdefault("results", [("cocaine", "negative")])
        return treatment_services.drug_test_record(
            acting_user=by or self.by,
            participant=p,
            collected_at=collected,
            method="urine",
            resulted_at=collected + timedelta(hours=after_hours) if after_hours else None,
            **kwargs,
        ).obj

    def attend(self, p, days_ago, *, by=None):
        return treatment_services.session_record(
            acting_user=by or self.by,
            participant=p,
            session_date=self.day(days_ago),
            kind="individual",
            attendance="attended",
            hours=Decimal("1"),
        ).obj

    def entered_on_time(self):
        """Every record entered an hour after its event (the evening of its day)."""
        for model, event in (
            (DrugTest, lambda r: r.collected_at + timedelta(hours=1)),
            (TreatmentSession, lambda r: self.at(r.session_date, 20)),
            (Response, lambda r: self.at(r.responded_on, 20)),
            (StatusChange, lambda r: self.at(r.effective_on, 20)),
        ):
            rows = list(model.objects.filter(participant__program=self.program))
            for row in rows:
                row.created_at = event(row)
            model.objects.bulk_update(rows, ["created_at"])


@pytest.fixture
def cohort(program, personas):
    c = Standards(program, personas)
    program.judge_caseload_max = 2
    program.save()
    hearing_services.catalog_ensure(program)
    provider = treatment_services.provider_create(
        acting_user=None, name="Clinic", programs=[program]
    )
    treatment_services.provider_add_clinician(acting_user=None, provider=provider, user=c.clinician)

    a = c.enrol(arrest=70, referred=65, legal=60, clinical=60, entry=50)
    b = c.enrol(arrest=70, referred=65, legal=60, clinical=60, entry=50)
    cc = c.enrol(arrest=80, referred=30, legal=25, clinical=25, entry=20)
    for p in (a, b, cc):
        services.participant_assign(acting_user=c.by, participant=p, judge=c.judge)
    treatment_services.provider_assign(
        acting_user=c.by, participant=b, provider=provider, assigned_on=c.day(45)
    )
    b = c.phase(b, 2, 13)

    for days in (26, 23, 19, 9):
        c.collect(a, days)
    c.collect(a, 12, after_hours=60)
    c.collect(a, 5, after_hours=None)
    late_entry = c.collect(a, 16)
    c.collect(a, 2, missed=True, after_hours=None)
    for days in (25, 22, 18, 15, 10, 3):
        c.collect(b, days, by=c.clinician)
    c.attend(a, 6)
    late_session = c.attend(b, 7, by=c.clinician)

    entries = c.hearing(7, {a: "present", b: "present", cc: "present"})
    for p, minutes in ((a, "5"), (b, "2")):
        hearing_services.entry_update(
            acting_user=c.by,
            entry=entries[p.pk],
            field="judicial_minutes",
            value=minutes,
            expected="",
        )
    c.respond(entries[a.pk], "Applause in court", 8)
    c.respond(entries[a.pk], "Jail", 9, magnitude=10)
    c.respond(entries[a.pk], "Verbal admonishment", 9)
    c.respond(entries[b.pk], "Verbal praise from the judge", 8)
    c.respond(entries[b.pk], "Certificate of achievement", 8)
    c.respond(entries[cc.pk], "Applause in court", 8)
    c.respond(entries[cc.pk], "Jail", 8, magnitude=3)

    c.entered_on_time()
    DrugTest.objects.filter(pk=late_entry.pk).update(
        created_at=late_entry.collected_at + timedelta(hours=72)
    )
    TreatmentSession.objects.filter(pk=late_session.pk).update(created_at=c.at(c.day(2), 12))
    # Collected two hours ago and entered now: no result yet, and not due.
    treatment_services.drug_test_record(
        acting_user=c.by,
        participant=cc,
        collected_at=timezone.now() - timedelta(hours=2),
        method="urine",
        results=[("cocaine", "negative")],
    )
    c.people = {"A": a, "B": b, "C": cc}
    c.provider = provider
    return c


@pytest.fixture
def params(cohort, program):
    return ReportParams(programs=(program,), start=cohort.day(27), end=cohort.today)


def _outside(standard) -> list[tuple]:
    return [(r.participant_id, r.values, r.category) for r in standard.outside]


# --- the standards ---------------------------------------------------------------------------
def test_tests_per_week_by_phase_stay_counts_missed_tests(cohort, params, program):
    """Stays: A phase 1 28 days, 8 tests (7 + a missed one) ≥ 8 needed; B phase 1 T-27..T-14
    (14 days, 4 tests ≥ 4) and phase 2 T-13..T (14 days, 2 < 4); C phase 1 21 days, 1 < 6."""
    s = standards.tests_per_week(params)
    phase = {ph.number: ph for ph in program.phases.all()}
    a, b, c = (cohort.people[k] for k in "ABC")
    assert s.table.rows == [
        [str(phase[1]), 2, 3, 9.0, 13, 1.44, 66.7],
        [str(phase[2]), 2, 1, 2.0, 2, 1.0, 0.0],
        [str(phase[3]), 2, 0, 0.0, 0, None, None],
        ["All phases", None, 3, 11.0, 15, 1.36, 50.0],
    ]
    assert (s.figure, s.within, s.counted) == (1.36, 1, 3)
    assert all(type(v) is int for v in s.table.rows[-1][2:5:2])
    # The largest shortfall first: C 5 tests short (6 needed), B 2 (4 needed).
    assert _outside(s) == [
        (c.pk, [str(phase[1]), cohort.day(20), cohort.today, 1, 0.3, 2], None),
        (b.pk, [str(phase[2]), cohort.day(13), cohort.today, 2, 1.0, 2], "drug_tests"),
    ]
    assert s.outside_total == 2
    assert a.pk not in {r.participant_id for r in s.outside}  # the missed test counted


def test_result_turnaround_counts_a_result_that_never_came_as_late(cohort, params):
    """Specimens: A 7 (T-12 after 60 h and T-5 never: late), B 6 on time, C 1 pending."""
    s = standards.result_turnaround(params)
    assert s.table.rows == [["Adult Treatment Court", 48, 13, 11, 2, 1, 84.6, 24.0, 1]]
    assert (s.figure, s.within, s.counted) == (2, 11, 13)
    assert _outside(s) == [(cohort.people["A"].pk, [2, 1], None)]


def test_data_entry_timeliness_lists_the_late_records(cohort, params, personas):
    """Tests: 15 (A 8, B 6, C 1), A's T-16 entered 3 days after; sessions: A's on time, B's
    entered 108 h after the end of its day; 7 responses and C's admission on time."""
    s = standards.data_entry(params)
    assert s.table.rows == [
        ["Drug tests", 15, 14, 1, 93.3],
        ["Treatment sessions", 2, 1, 1, 50.0],
        ["Court responses", 7, 7, 0, 100.0],
        ["Status changes", 1, 1, 0, 100.0],
        ["All records", 25, 23, 2, 92.0],
    ]
    assert (s.figure, s.within, s.counted) == (2, 23, 25)
    a, b = cohort.people["A"], cohort.people["B"]
    coordinator = personas[Role.COORDINATOR].get_full_name()
    clinician = personas[Role.CLINICIAN].get_full_name()
    collected = datetime.combine(cohort.day(16), time(10))
    # The most recent event first: B's session of T-7, then A's test of T-16.
    assert _outside(s) == [
        (
            b.pk,
            [
                "Treatment sessions",
                cohort.day(7),
                datetime.combine(cohort.day(2), time(12)),
                clinician,
                108.0,
            ],
            "sessions",
        ),
        (a.pk, ["Drug tests", collected, collected + timedelta(hours=72), coordinator, 72.0], None),
    ]
    assert s.outside_total == 2


def test_incentive_sanction_ratio_is_reported_not_enforced(cohort, params):
    s = standards.incentive_sanction_ratio(params)
    # Incentives A 1, B 2, C 1; sanctions A 2 (jail, admonishment), C 1 (jail).
    assert s.table.rows == [["Adult Treatment Court", 4.0, 4, 3, 1.33]]
    assert (s.figure, s.within, s.counted, s.enforced) == (1.33, 2, 3, False)
    assert _outside(s) == [(cohort.people["A"].pk, [1, 2], None)]


def test_jail_sanctions_longer_than_the_maximum(cohort, params):
    s = standards.jail_sanctions(params)
    assert s.table.rows == [["Adult Treatment Court", 6, 2, 1, 10.0]]
    assert (s.figure, s.within, s.counted) == (10.0, 1, 2)
    assert _outside(s) == [(cohort.people["A"].pk, [1, 10.0, 6], None)]


def test_arrest_to_entry(cohort, params):
    s = standards.arrest_to_entry(params)  # only C was admitted in the period: 60 days
    assert s.table.rows == [["Adult Treatment Court", 50, 1, 1, 0.0, 60.0]]
    c = cohort.people["C"]
    assert _outside(s) == [(c.pk, [cohort.day(80), cohort.day(20), 60], None)]


def test_caseloads_name_the_judge_over_the_maximum(cohort, params, personas):
    s = standards.caseloads(params)
    judge = personas[Role.JUDGE].get_full_name()
    coordinator = personas[Role.COORDINATOR].get_full_name()
    assert s.table.rows == [
        ["Judge", judge, "Adult Treatment Court", 3, 1, 3.0, 2],
        ["Clinicians of a provider", "Clinic", "Adult Treatment Court", 1, 1, 1.0, 50],
        ["Case managers (coordinators)", coordinator, "Adult Treatment Court", 3, 1, 3.0, 50],
    ]
    assert (s.figure, s.within, s.counted, s.names_staff) == (1, 2, 3, True)
    assert [(r.name, r.values) for r in s.outside] == [(judge, ["Judge", 3, 1, 3.0, 2])]


def test_hearing_frequency_and_minutes_are_those_of_the_hearing_compliance(cohort, params):
    """Intervals to T-7: A and B 43 days from entry (outside 14), C 13 (within)."""
    report = hearing_compliance(
        cohort.program, start=params.start, end=params.end, today=cohort.today
    )
    frequency = standards.hearing_frequency(params)
    assert (frequency.within, frequency.counted) == (report.total.within, 3) == (1, 3)
    assert frequency.figure == round((43 + 43 + 13) / 3, 1)
    assert [row[3:6] for row in frequency.table.rows] == [
        [r.participants_heard, r.hearings, len(r.intervals)] for r in report.phases
    ]
    minutes = standards.judicial_minutes(params)
    assert minutes.table.rows == [["Adult Treatment Court", 3, 2, 3.5, 50.0]]
    assert (minutes.figure, minutes.within, minutes.counted) == (3.5, 1, 2)


def test_the_export_tables_carry_no_names(cohort, params, personas):
    tables = standards.standards_tables(params)
    assert [t.key for t in tables] == [fn.definition.key for fn in standards.STANDARDS]
    names = {p.person.full_name for p in cohort.people.values()}
    text = repr([t.rows for t in tables])
    assert not any(name in text for name in names)


def test_each_definition_is_the_functions_docstring(params):
    for fn in standards.STANDARDS:
        assert fn.definition.text in fn.__doc__
    assert "not enforced" in standards.incentive_sanction_ratio.definition.text


# --- the page --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role, status",
    [
        (Role.JUDGE, 200),
        (Role.PROSECUTOR, 200),
        (Role.COORDINATOR, 200),
        (Role.MANAGER, 200),
        (Role.DEFENDER, 403),
        (Role.CLINICIAN, 403),
        (Role.ADMINISTRATOR, 403),
    ],
)
def test_who_may_see_the_standards(cohort, personas, as_user, role, status):
    response = as_user(personas[role]).get(URL)
    assert response.status_code == status
    if status == 200:
        assert 'data-testid="table-tests_per_week"' in response.content.decode()


def test_another_programs_uuid_is_not_found_and_bad_dates_refused(
    personas, other_program, program, as_user
):
    client = as_user(personas[Role.MANAGER])
    assert client.get(URL, {"program": str(other_program.uuid)}).status_code == 404
    assert client.get(URL, {"program": "not-a-uuid"}).status_code == 404
    response = client.get(URL, {"from": "2026-03-01", "to": "2026-02-01"})
    assert response.status_code == 400
    assert "The start of the period cannot follow its end." in response.content.decode()


def test_the_page_shows_each_standard_and_who_is_outside(cohort, params, personas, as_user):
    html = as_user(personas[Role.JUDGE]).get(URL, params.as_query()).content.decode()
    tables = parse_tables(html)
    for fn in standards.STANDARDS:
        assert f'data-testid="standard-{fn.definition.key}"' in html
    assert tables["table-jail_sanctions"] == [["Adult Treatment Court", "6", "2", "1", "10.0"]]
    a, c = cohort.people["A"], cohort.people["C"]
    link = reverse("participant_detail", args=[a.uuid])
    assert f'<a href="{link}">{a.person.full_name}</a>' in html
    assert [row[0] for row in tables["outside-tests_per_week"]] == [c.person.full_name]
    assert tables["outside-jail_sanctions"] == [
        [a.person.full_name, "Adult Treatment Court", "1", "10.0", "6"]
    ]
    # Staff over their caseload are named; the hearing sections link to their page.
    assert tables["outside-caseloads"][0][0] == personas[Role.JUDGE].get_full_name()
    assert f'href="{reverse("hearing_compliance")}?program=' in html
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, actor=personas[Role.JUDGE])
    assert event.detail["standards"] == params.as_query()
    assert set(event.detail["participants"]) == {str(a.uuid), str(c.uuid)}


def test_provider_figures_are_withheld_without_a_consent(cohort, params, personas, as_user):
    """B's tests per week and late session come from the provider: no consent, no row."""
    html = as_user(personas[Role.JUDGE]).get(URL, params.as_query()).content.decode()
    b = cohort.people["B"]
    assert b.person.full_name not in html
    assert 'data-testid="withheld-tests_per_week"' in html
    assert 'data-testid="withheld-data_entry"' in html
    assert "1 more participant outside whose details are withheld for want of consent." in html
    assert 'data-testid="redisclosure-notice"' not in html
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE).exists()


def test_a_consent_shows_the_row_and_logs_the_disclosure(cohort, params, personas, as_user):
    b = cohort.people["B"]
    consent = services.consent_record(
        acting_user=personas[Role.COORDINATOR],
        participant=b,
        data={
            "discloser": "Clinic",
            "categories": ["drug_tests"],
            "recipient_roles": ["judge"],
            "purpose": "Court supervision.",
            "signed_on": cohort.day(40),
            "expires_on": cohort.today + timedelta(days=365),
        },
    )
    judge = personas[Role.JUDGE]
    html = as_user(judge).get(URL, params.as_query()).content.decode()
    tables = parse_tables(html)
    assert b.person.full_name in [row[0] for row in tables["outside-tests_per_week"]]
    # The consent covers test results, not attendance: the late session stays withheld.
    assert b.person.full_name not in [row[0] for row in tables["outside-data_entry"]]
    assert 'data-testid="withheld-data_entry"' in html
    assert 'data-testid="withheld-tests_per_week"' not in html
    assert 'data-testid="redisclosure-notice"' in html
    assert REDISCLOSURE_NOTICE_EN[:60] in html
    event = AuditEvent.objects.get(action=AuditEvent.Action.DISCLOSE)
    assert (event.actor, event.participant_uuid, event.consent_uuid) == (
        judge,
        b.uuid,
        consent.uuid,
    )
    assert event.detail == {
        "categories": ["drug_tests"],
        "export": False,
        "standards": ["tests_per_week"],
    }
    # A prosecutor is not among the consent's recipients.
    as_user(personas[Role.PROSECUTOR]).get(URL, params.as_query())
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DISCLOSE).count() == 1


def test_participants_the_reader_may_not_see_are_only_counted(cohort, params, personas):
    """The rule follows participants.access: a defender sees only their own client."""
    found = standards.all_standards(params)
    defender = personas[Role.DEFENDER]
    services.participant_assign(
        acting_user=personas[Role.COORDINATOR], participant=cohort.people["C"], defender=defender
    )
    lists, _notice = standards.outside_lists(defender, params, found)
    c = cohort.people["C"]
    assert [r.participant for r in lists["tests_per_week"].rows] == [c]
    assert lists["tests_per_week"].not_visible == 1  # B
    assert lists["jail_sanctions"].rows == [] and lists["jail_sanctions"].not_visible == 1


def test_the_number_of_queries_does_not_grow_with_the_program(
    cohort, params, personas, as_user, program
):
    client = as_user(personas[Role.MANAGER])
    client.get(URL, params.as_query())  # warm up (session, permissions caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, params.as_query()).status_code == 200
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[program])
    for _ in range(5):
        p = admit(ParticipantFactory(program=program), by=coordinator, entry_days_ago=20)
        services.participant_assign(acting_user=coordinator, participant=p, judge=cohort.judge)
        cohort.collect(p, 3, missed=True, after_hours=None)
        cohort.collect(p, 4, by=None)
        cohort.attend(p, 2)
    with CaptureQueriesContext(connection) as large:
        page = client.get(URL, params.as_query())
    assert len(parse_tables(page.content.decode())["outside-tests_per_week"]) == 6
    assert len(large) == len(small)


def test_spanish(cohort, params, personas, as_user, client):
    as_user(personas[Role.COORDINATOR])
    client.cookies["django_language"] = "es"
    response = client.get(URL, params.as_query(), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html and "Programas" in html
    tables = parse_tables(html)
    assert tables["table-tests_per_week"][-1][3:6] == ["11,0", "15", "1,36"]
    c = cohort.people["C"]
    row = next(r for r in tables["outside-arrest_to_entry"] if r[0] == c.person.full_name)
    assert row[2] == cohort.day(80).strftime("%d/%m/%Y")


# --- a limit on the rows outside -------------------------------------------------------------
@pytest.fixture
def more_outside(cohort, program):
    """Two rows or more outside every listing standard: D admitted on T-10 90 days after the
    arrest (phase 1, no test where 3 are needed); C given two admonishments and 8 days in jail
    today; B's T-3 result 60 h late; one participant per coordinator allowed."""
    d = cohort.enrol(arrest=100, referred=15, legal=12, clinical=12, entry=10)
    services.participant_assign(acting_user=cohort.by, participant=d, judge=cohort.judge)
    cc = cohort.people["C"]
    entries = cohort.hearing(0, {cc: "present"})
    cohort.respond(entries[cc.pk], "Verbal admonishment", 1)
    cohort.respond(entries[cc.pk], "Verbal admonishment", 1)
    cohort.respond(entries[cc.pk], "Jail", 1, magnitude=8)
    b_test = DrugTest.objects.get(
        participant=cohort.people["B"], collected_at=cohort.at(cohort.day(3))
    )
    b_test.resulted_at = b_test.collected_at + timedelta(hours=60)
    b_test.save(update_fields=["resulted_at"])
    program.case_manager_caseload_max = 1
    program.save()
    cohort.people["D"] = d
    return cohort


# The first rows outside of each standard, in the order it states (worked out by hand).
FIRST = {
    "tests_per_week": ["C", "D", "B"],  # shortfall: C 5, D 3, B 2
    "result_turnaround": ["B", "A"],  # latest late specimen: B T-3, A T-5
    "incentive_sanction_ratio": ["C", "A"],  # sanctions beyond incentives: C 2, A 1
    "jail_sanctions": ["A", "C"],  # days beyond the 6 allowed: A 4, C 2
    "arrest_to_entry": ["D", "C"],  # days beyond the 50 allowed: D 40, C 10
}


def test_a_limit_lists_the_first_rows_outside_and_counts_them_all(more_outside, params):
    people = {p.pk: k for k, p in more_outside.people.items()}
    for fn in standards.STANDARDS:
        every = fn(params, limit=None)
        first = fn(params, limit=1)
        key = every.key
        # The aggregates are those of the whole list.
        assert (first.table.rows, first.figure, first.within, first.counted) == (
            every.table.rows,
            every.figure,
            every.within,
            every.counted,
        ), key
        assert first.outside_total == every.outside_total == len(every.outside), key
        if key in ("hearing_frequency", "judicial_minutes"):
            assert every.outside == first.outside == [] and every.outside_total == 0
            continue
        assert every.outside_total > 1, key
        assert _outside(first) == _outside(every)[:1], key
        if key in FIRST:
            assert [people[r.participant_id] for r in every.outside] == FIRST[key], key
    # Data entry: the most recent events first across the kinds (B's session of T-7, D's
    # admission of T-10, entered now, A's test of T-16).
    every = standards.data_entry(params, limit=None)
    late = every.outside
    days = [v.date() if isinstance(v, datetime) else v for v in (r.values[1] for r in late)]
    assert days == sorted(days, reverse=True)
    assert [people[r.participant_id] for r in late] == ["B", "D", "A"]
    limited = standards.data_entry(params, limit=2)
    assert _outside(limited) == _outside(every)[:2]
    assert limited.outside_total == every.outside_total == 3
    # Caseloads: the coordinator (4 participants, 1 allowed) before the judge (4, 2 allowed).
    with translation.override("en"):
        caseloads = standards.caseloads(params, limit=1)
    assert [r.values[0] for r in caseloads.outside] == ["Case managers (coordinators)"]
    assert caseloads.outside_total == 2


def test_the_limit_keeps_the_number_of_queries_and_exports_fetch_no_rows(more_outside, params):
    with CaptureQueriesContext(connection) as every:
        found = standards.all_standards(params, limit=None)
    with CaptureQueriesContext(connection) as first:
        standards.all_standards(params, limit=1)
    with CaptureQueriesContext(connection) as none:
        bare = standards.all_standards(params, limit=0)
    with CaptureQueriesContext(connection) as tables:
        exported = standards.standards_tables(params)
    assert len(first) == len(every)
    # One fetch of rows outside each for the tests per week, the turnaround, the 4 kinds of
    # records entered, the incentives, the jail sanctions and the admissions.
    assert len(none) == len(tables) == len(every) - 9
    assert all(s.outside == [] for s in bare)
    assert [s.outside_total for s in bare] == [s.outside_total for s in found]
    assert [t.rows for t in exported] == [s.table.rows for s in found]


def test_the_page_says_when_the_list_stops_short(cohort, params, personas, as_user, monkeypatch):
    client = as_user(personas[Role.MANAGER])
    html = client.get(URL, params.as_query()).content.decode()
    assert 'data-testid="truncated-' not in html  # 200 rows: all of them
    monkeypatch.setattr("reporting.views.standards.OUTSIDE_LIMIT", 1)
    html = client.get(URL, params.as_query()).content.decode()
    tables = parse_tables(html)
    c = cohort.people["C"]
    # C, the larger shortfall, comes first; B is not fetched (not withheld: not counted).
    assert [row[0] for row in tables["outside-tests_per_week"]] == [c.person.full_name]
    assert 'data-testid="withheld-tests_per_week"' not in html
    note = (
        "Showing the first 1 of 2 rows outside this standard. Narrow the period or the "
        "programs to see the others."
    )
    assert 'data-testid="truncated-tests_per_week"' in html and note in html
    # Data entry: only B's session (the most recent) is fetched, and it is withheld.
    assert 'data-testid="withheld-data_entry"' in html
    assert 'data-testid="truncated-data_entry"' in html
    assert 'data-testid="none-outside-data_entry"' not in html
    assert 'data-testid="truncated-jail_sanctions"' not in html  # 1 of 1


def test_the_note_localises_its_numbers(cohort, params, personas, as_user, monkeypatch):
    real = standards.all_standards

    def many(params, *, limit):
        found = real(params, limit=limit)
        return [replace(s, outside_total=12345) if s.key == "arrest_to_entry" else s for s in found]

    monkeypatch.setattr("reporting.views.standards.all_standards", many)
    client = as_user(personas[Role.MANAGER])
    html = client.get(URL, params.as_query()).content.decode()
    assert "Showing the first 1 of 12,345 rows outside this standard." in html
