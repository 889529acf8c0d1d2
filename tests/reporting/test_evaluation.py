"""The evaluation extract: de-identification, stable pseudonyms, day offsets on a hand-built
participant, small-cell suppression, intent to treat, who may download it, the audit row, a
constant number of queries and a streaming response."""

import csv
import io
import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from hearings.models import DocketEntry, HearingSession, Response, ResponseType
from participants.models import (
    Case,
    NewArrest,
    PhaseChange,
    ScreeningDecision,
    Status,
)
from reporting.evaluation import COLUMNS, SUPPRESSED, failed_test, pseudonym
from tests.factories import ParticipantFactory, PersonFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment.models import DrugTest, DrugTestResult, Provider, TreatmentSession

URL = "/reports/evaluation/"
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")


def download(client, program, *, evaluator="cci", min_cell=3, treatment=False, **extra):
    data = {"programs": [str(program.uuid)], "evaluator": evaluator, "min_cell": min_cell}
    if treatment:
        data["include_treatment"] = "on"
    response = client.post(URL, {**data, **extra})
    assert response.status_code == 200, response.content[:2000]
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return body, list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def manager_client(as_user, personas):
    return as_user(personas[Role.MANAGER])


@pytest.fixture
def build(program, personas):
    """Facts recorded straight into the tables (the extract reads facts, whoever wrote them).
    Dates are days relative to the program's today."""
    today = program_today(program)
    zone = ZoneInfo(program.time_zone)
    judge, coordinator = personas[Role.JUDGE], personas[Role.COORDINATOR]
    phases = {ph.number: ph for ph in program.phases.all()}
    sessions = {}

    class Build:
        def day(self, offset: int):
            return today + timedelta(days=offset)

        def at(self, offset: int, hour: int = 9):
            return datetime.combine(self.day(offset), time(hour), tzinfo=zone)

        def episode(self, person=None, *, referred=-100, entry=None, status=None, **kw):
            fields = {
                "program": program,
                "referred_on": self.day(referred),
                "arrest_date": None,
                "entry_date": None if entry is None else self.day(entry),
                "status": status or (Status.ACTIVE if entry is not None else Status.REFERRED),
                "phase": phases[1] if entry is not None else None,
                **kw,
            }
            if person is not None:
                fields["person"] = person
            p = ParticipantFactory(**fields)
            if entry is not None:
                self.phase(p, 1, entry)
            return p

        def phase(self, p, number, offset):
            PhaseChange.objects.create(
                participant=p,
                to_phase=phases[number],
                effective_on=self.day(offset),
                reason="r",
            )

        def decision(self, p, kind, outcome, offset):
            ScreeningDecision.objects.create(
                participant=p,
                kind=kind,
                outcome=outcome,
                reasons="r",
                decided_on=self.day(offset),
            )

        def test(self, p, offset, *, provider=None, results=(), **flags):
            test = DrugTest.objects.create(
                participant=p,
                collected_at=self.at(offset),
                method=DrugTest.Method.URINE,
                provider=provider,
                source="provider" if provider else "court",
                **flags,
            )
            for substance, result in results:
                DrugTestResult.objects.create(test=test, substance=substance, result=result)
            return test

        def hearing(self, p, offset, attendance, *, cancelled=False):
            if (offset, cancelled) not in sessions:
                sessions[offset, cancelled] = HearingSession.objects.create(
                    program=program,
                    kind="status_review",
                    judge=judge,
                    courtroom="3B",
                    venue="3B",
                    starts_at=self.at(offset, 14 if cancelled else 9),
                    ends_at=self.at(offset, 14 if cancelled else 9) + timedelta(hours=2),
                    cancelled=cancelled,
                    created_by=coordinator,
                )
            session = sessions[offset, cancelled]
            return DocketEntry.objects.create(
                session=session, participant=p, attendance=attendance, added_by=coordinator
            )

        def response(self, p, kind, offset, *, unit="", magnitude=None):
            rtype, _ = ResponseType.objects.get_or_create(
                program=program, name=f"{kind}-{unit}", defaults={"kind": kind, "unit": unit}
            )
            return Response.objects.create(
                participant=p,
                response_type=rtype,
                kind=kind,
                unit=unit,
                magnitude=magnitude,
                behavior_on=self.day(offset),
                responded_on=self.day(offset),
                created_by=judge,
            )

    return Build()


@pytest.fixture
def provider(program):
    provider = Provider.objects.create(
        name="Clínica Norte", group=Group.objects.create(name="provider: Clínica Norte")
    )
    provider.programs.add(program)
    return provider


@pytest.fixture
def graduate(build, provider):
    """The hand-built participant: every offset and count of the extract has a known answer."""
    person = PersonFactory(
        first_name="Zebulon",
        last_name="Quixwell",
        second_last_name="Ybarra",
        date_of_birth=datetime(1980, 3, 14).date(),
        email="zebulon.quixwell@example.org",
        phone="555-0199",
        address="17 Larkspur Lane",
        sex="male",
        gender="man",
        race_ethnicity="white",
    )
    p = build.episode(
        person,
        referred=-100,
        entry=-90,
        status=Status.GRADUATED,
        arrest_date=build.day(-110),
        exit_date=build.day(-10),
        primary_substance="  Methamphetamine ",
        referral_source="defense",
        disposition="dismissed",
    )
    Case.objects.create(participant=p, case_number="CR-2024-98765", court="Juzgado 4")
    Kind, Outcome = ScreeningDecision.Kind, ScreeningDecision.Outcome
    build.decision(p, Kind.LEGAL, Outcome.INELIGIBLE, -97)
    build.decision(p, Kind.LEGAL, Outcome.ELIGIBLE, -95)  # the latest decision counts
    build.decision(p, Kind.CLINICAL, Outcome.ELIGIBLE, -94)
    build.decision(p, Kind.ADMISSION, Outcome.ADMITTED, -91)
    build.phase(p, 2, -40)
    # Court tests: negative, positive, missed, refused, adulterated → 5 tests, 4 failed.
    build.test(p, -80, results=[("cocaine", "negative"), ("cannabis", "negative")])
    build.test(p, -70, results=[("cocaine", "negative"), ("cannabis", "positive")])
    build.test(p, -60, missed=True)
    build.test(p, -50, refused=True)
    build.test(p, -45, adulterated=True, dilute=True)
    # Provider tests: one negative, one confirmed positive → 2 tests, 1 failed.
    build.test(p, -30, provider=provider, results=[("opiates", "negative")])
    build.test(p, -20, provider=provider, results=[("opiates", "confirmed_positive")])
    for offset, attendance in [(-85, "attended"), (-84, "late"), (-83, "absent"), (-82, "excused")]:
        TreatmentSession.objects.create(
            participant=p,
            provider=provider,
            session_date=build.day(offset),
            kind="group",
            attendance=attendance,
            hours=Decimal("1.5"),
        )
    build.hearing(p, -88, "present")
    build.hearing(p, -74, "remote")
    build.hearing(p, -60, "absent")
    build.hearing(p, -46, "excused")
    build.hearing(p, -32, "present", cancelled=True)
    build.response(p, "incentive", -88)
    build.response(p, "incentive", -74)
    build.response(p, "sanction", -60, unit="jail_days", magnitude=Decimal("3"))
    build.response(p, "sanction", -50, unit="jail_days", magnitude=Decimal("1.5"))
    build.response(p, "sanction", -45, unit="cs_hours", magnitude=Decimal("10"))
    build.response(p, "service", -44)
    NewArrest.objects.create(participant=p, arrested_on=build.day(-30), charge="x", convicted=True)
    NewArrest.objects.create(participant=p, arrested_on=build.day(-25), charge="y")
    return p


def by_pid(rows, participant, evaluator="cci"):
    pid = pseudonym(
        program=participant.program, evaluator=evaluator, person_uuid=participant.person.uuid
    )
    return [row for row in rows if row["pid"] == pid]


def test_offsets_and_counts_of_a_hand_built_participant(manager_client, build, graduate):
    for _ in range(2):  # two more people like them: their categories are not small cells
        build.episode(
            PersonFactory(sex="male", gender="man", race_ethnicity="white"),
            entry=-5,
            primary_substance="methamphetamine",
            referral_source="defense",
        )
    _body, rows = download(manager_client, graduate.program)
    assert len(rows) == 3
    [row] = by_pid(rows, graduate)
    assert row["episode"] == "1"
    assert row["program"] == "atc" and row["legal_track"] == "us_pre_plea"
    assert row["screening_outcome"] == "admitted" and row["offset_from"] == "admission"
    expected_age = graduate.person.age_on(graduate.referred_on)
    assert row["age_at_referral"] == str(expected_age)
    assert (row["sex"], row["gender"], row["race_ethnicity"]) == ("male", "man", "white")
    assert row["primary_substance"] == "methamphetamine"
    assert row["referral_source"] == "defense"
    # Days from admission (day -90 of the program's calendar).
    assert row["referral_day"] == "-10"
    assert row["arrest_day"] == "-20"
    assert (row["legal_eligibility"], row["legal_eligibility_day"]) == ("eligible", "-5")
    assert (row["clinical_eligibility"], row["clinical_eligibility_day"]) == ("eligible", "-4")
    assert (row["admission_decision"], row["admission_decision_day"]) == ("admitted", "-1")
    assert row["phase_1_day"] == "0" and row["phase_2_day"] == "50" and row["phase_3_day"] == ""
    assert row["phases_reached"] == "2"
    assert row["status"] == "graduated" and row["exit_type"] == "graduated"
    assert row["in_program"] == "0" and row["neutral_exit"] == "0"
    assert row["exit_day"] == "80" and row["days_in_program"] == "80"
    assert row["followup_days"] == "90"
    assert row["disposition"] == "dismissed"
    assert (row["drug_tests"], row["failed_tests"]) == ("5", "4")
    assert (row["hearing_appearances"], row["hearings_absent"]) == ("2", "1")
    assert (row["incentives"], row["sanctions"], row["service_adjustments"]) == ("2", "3", "1")
    assert row["jail_days"] == "4.5"
    assert (row["new_arrests"], row["new_arrest_convictions"]) == ("2", "1")
    assert row["first_new_arrest_day"] == "60"
    # Provider information stays out unless asked for.
    assert "treatment_sessions_attended" not in row and "provider_drug_tests" not in row


def test_treatment_provider_counts_only_when_ticked(manager_client, graduate):
    _body, rows = download(manager_client, graduate.program, treatment=True)
    [row] = by_pid(rows, graduate)
    assert row["treatment_sessions_attended"] == "2"  # attended and late
    assert (row["provider_drug_tests"], row["provider_failed_tests"]) == ("2", "1")
    assert row["drug_tests"] == "5"  # court tests are counted apart either way
    event = AuditEvent.objects.filter(action="export").latest("occurred_at")
    assert event.detail["treatment_counts"] is True


def test_no_identifying_field_in_the_file(manager_client, graduate, build, program):
    declined = build.episode(referred=-30, status=Status.DECLINED)
    body, rows = download(manager_client, program)
    assert len(rows) == 2
    person = graduate.person
    for secret in [
        person.first_name,
        person.last_name,
        person.second_last_name,
        person.email,
        person.phone,
        "Larkspur",
        "CR-2024-98765",
        "Juzgado",
        str(person.uuid),
        str(graduate.uuid),
        str(declined.uuid),
        str(declined.person.uuid),
        declined.person.last_name,
        str(program.uuid),
        "1980-03-14",
        "03/14/1980",
        "14/03/1980",
    ]:
        assert secret.lower() not in body.lower(), secret
    assert not DATE.search(body), DATE.search(body)
    header = rows[0].keys()
    for column in ["name", "email", "phone", "address", "case_number", "uuid", "date_of_birth"]:
        assert not any(column in h for h in header)


def test_pid_stable_per_evaluator_and_episode_numbers(manager_client, build, program):
    first = build.episode(
        referred=-400, entry=-390, status=Status.TERMINATED, exit_date=build.day(-200)
    )
    again = build.episode(first.person, referred=-150, entry=-140)
    someone = build.episode(referred=-50, entry=-45)
    _b, one = download(manager_client, program, evaluator="cci")
    _b, two = download(manager_client, program, evaluator="CCI ")  # the same label
    _b, other = download(manager_client, program, evaluator="uni-eval")
    pids = {row["pid"] for row in one}
    assert len(pids) == 2 and all(re.fullmatch(r"[0-9a-f]{16}", pid) for pid in pids)
    assert [r["pid"] for r in one] == [r["pid"] for r in two]
    assert pids.isdisjoint({row["pid"] for row in other})
    episodes = sorted((r["episode"], r["referral_day"]) for r in by_pid(one, first))
    assert episodes == [("1", "-10"), ("2", "-10")]
    assert by_pid(one, again) == by_pid(one, first)
    assert [r["episode"] for r in by_pid(one, someone)] == ["1"]


def test_small_cells_suppressed_at_the_threshold(manager_client, build, program):
    for _ in range(3):
        build.episode(PersonFactory(race_ethnicity="asian", gender="woman"), entry=-10)
    for _ in range(5):
        build.episode(PersonFactory(race_ethnicity="black", gender="woman"), entry=-10)
    # Two "asian" episodes of one person: five episodes, but four people.
    person = PersonFactory(race_ethnicity="asian", gender="woman")
    build.episode(
        person, referred=-300, entry=-290, status=Status.TERMINATED, exit_date=build.day(-200)
    )
    build.episode(person, referred=-20, entry=-10)
    _b, rows = download(manager_client, program, min_cell=5)
    races = sorted(r["race_ethnicity"] for r in rows)
    assert races == ["black"] * 5 + [SUPPRESSED] * 5
    assert {r["gender"] for r in rows} == {"woman"}  # 9 people
    _b, rows = download(manager_client, program, min_cell=4)
    assert SUPPRESSED not in {r["race_ethnicity"] for r in rows}
    event = AuditEvent.objects.filter(action="export").order_by("occurred_at").first()
    assert event.detail["suppressed_values"]["race_ethnicity"] == 1


def test_min_cell_below_three_is_refused(manager_client, graduate):
    response = manager_client.post(
        URL, {"programs": [str(graduate.program.uuid)], "evaluator": "cci", "min_cell": 2}
    )
    assert response.status_code == 400 and not isinstance(response, StreamingHttpResponse)
    assert not AuditEvent.objects.filter(action="export").exists()


def test_intent_to_treat_declined_and_pending_referrals(manager_client, build, program):
    declined = build.episode(referred=-30, status=Status.DECLINED)
    Kind, Outcome = ScreeningDecision.Kind, ScreeningDecision.Outcome
    build.decision(declined, Kind.LEGAL, Outcome.INELIGIBLE, -25)
    build.decision(declined, Kind.ADMISSION, Outcome.DECLINED, -20)
    pending = build.episode(referred=-5)
    _b, rows = download(manager_client, program)
    [row] = by_pid(rows, declined)
    assert row["screening_outcome"] == "declined" and row["offset_from"] == "referral"
    assert row["referral_day"] == "0" and row["legal_eligibility_day"] == "5"
    assert (row["admission_decision"], row["admission_decision_day"]) == ("declined", "10")
    assert row["status"] == "declined" and row["exit_type"] == "" and row["neutral_exit"] == ""
    assert row["days_in_program"] == "" and row["phases_reached"] == ""
    assert row["followup_days"] == "30"
    [row] = by_pid(rows, pending)
    assert row["screening_outcome"] == "pending" and row["admission_decision"] == ""


def test_period_selects_admissions_and_unadmitted_referrals(manager_client, build, program):
    inside = build.episode(referred=-70, entry=-60)
    build.episode(referred=-130, entry=-120)  # admitted before the period
    late = build.episode(referred=-70, entry=-5)  # referred in it, admitted after it
    referral = build.episode(referred=-50, status=Status.DECLINED)
    start, end = build.day(-90), build.day(-30)
    _b, rows = download(manager_client, program, start=start, end=end)
    assert len(rows) == 2
    assert by_pid(rows, inside) and by_pid(rows, referral) and not by_pid(rows, late)


def test_failed_tests_query_mirrors_counts_as_positive(build, graduate):
    build.test(graduate, -5, results=[("alcohol", "negative")], dilute=True)
    build.test(graduate, -4)  # no results yet
    tests = DrugTest.objects.filter(participant=graduate).prefetch_related("results")
    expected = {t.pk for t in tests if t.counts_as_positive}
    assert set(tests.filter(failed_test()).values_list("pk", flat=True)) == expected
    assert len(expected) == 5


ROLES = [(Role.MANAGER, 200)] + [
    (role, 403)
    for role in (
        Role.JUDGE,
        Role.PROSECUTOR,
        Role.COORDINATOR,
        Role.DEFENDER,
        Role.CLINICIAN,
        Role.ADMINISTRATOR,
    )
]


@pytest.mark.parametrize(("role", "status"), ROLES, ids=[r.value for r, _s in ROLES])
def test_who_may_download(as_user, personas, program, graduate, role, status):
    client = as_user(personas[role])
    assert client.get(URL).status_code == status
    assert client.get("/reports/evaluation/dictionary.csv").status_code == status
    response = client.post(
        URL, {"programs": [str(program.uuid)], "evaluator": "cci", "min_cell": 5}
    )
    assert response.status_code == status
    assert AuditEvent.objects.filter(action="export").exists() == (status == 200)


def test_the_page_offers_the_form_and_the_dictionary(manager_client, program):
    page = manager_client.get(URL).content.decode()
    assert 'data-testid="evaluation-form"' in page and program.name in page
    assert "/reports/evaluation/dictionary.md" in page
    assert "/reports/evaluation/dictionary.csv" in page


def test_another_programs_id_is_not_found(manager_client, program, other_participant):
    other = other_participant.program
    for value in [str(other.uuid), "not-a-uuid"]:
        response = manager_client.post(
            URL, {"programs": [str(program.uuid), value], "evaluator": "cci", "min_cell": 5}
        )
        assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()


def test_other_programs_participants_never_in_the_file(manager_client, program, other_participant):
    _b, rows = download(manager_client, program)
    assert rows == []


def test_the_export_is_audited(manager_client, graduate, build, program, personas):
    build.episode(referred=-30, status=Status.DECLINED)
    download(manager_client, program, evaluator="cci", min_cell=4, start=build.day(-365))
    event = AuditEvent.objects.get(action="export")
    assert event.actor == personas[Role.MANAGER] and event.program == program
    assert event.detail["evaluator"] == "cci"
    assert event.detail["programs"] == ["atc"]
    assert event.detail["period"] == [build.day(-365).isoformat(), None]
    assert event.detail["rows"] == 2 and event.detail["min_cell"] == 4
    assert event.detail["treatment_counts"] is False
    assert event.participant_uuid is None  # nobody identified in the trail of a de-identified file


def test_queries_do_not_grow_with_the_cohort(manager_client, build, program, provider):
    def add(n):
        for i in range(n):
            p = build.episode(referred=-60, entry=-50)
            build.test(p, -40, results=[("cocaine", "positive")])
            build.test(p, -30, provider=provider, missed=True)
            if i < 3:
                build.hearing(p, -20 - i, "present")
            build.response(p, "sanction", -20, unit="jail_days", magnitude=Decimal(2))
            build.phase(p, 2, -10)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            _b, rows = download(manager_client, program, treatment=True)
        return len(ctx.captured_queries), len(rows)

    add(2)
    small, rows = count()
    assert rows == 2
    add(10)
    large, rows = count()
    assert rows == 12 and large == small


def test_streams_a_csv_attachment(manager_client, graduate):
    response = manager_client.post(
        URL, {"programs": [str(graduate.program.uuid)], "evaluator": "cci", "min_cell": 5}
    )
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="evaluation-cci-\d{4}-\d{2}-\d{2}\.csv"',
        response["Content-Disposition"],
    )
    first = next(iter(response.streaming_content)).decode()
    assert first.startswith("pid,episode,program,")


def test_csv_injection_is_quoted(manager_client, build, program):
    for _ in range(3):
        build.episode(referred=-20, primary_substance="=HYPERLINK(1)")
    _b, rows = download(manager_client, program)
    assert {row["primary_substance"] for row in rows} == {"'=hyperlink(1)"}


def test_data_dictionary_lists_every_column(manager_client, program):
    markdown = manager_client.get("/reports/evaluation/dictionary.md")
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
    text = markdown.content.decode()
    names = [column.name for column in COLUMNS]
    for name in names:
        assert f"`{name}`" in text, name
    table = list(
        csv.reader(
            io.StringIO(manager_client.get("/reports/evaluation/dictionary.csv").content.decode())
        )
    )
    assert [row[0] for row in table[1:]] == names
    assert all(row[1] and row[2] and row[3] for row in table[1:])
    assert "female = Female" in dict((row[0], row[3]) for row in table)["sex"]


def test_file_columns_are_the_dictionarys(manager_client, graduate):
    body, _rows = download(manager_client, graduate.program, treatment=True)
    header = body.splitlines()[0].split(",")
    documented = {c.name for c in COLUMNS}
    for name in header:
        assert name in documented or re.fullmatch(r"phase_\d+_day", name), name
    assert {"phase_1_day", "phase_2_day", "phase_3_day"} <= set(header)
