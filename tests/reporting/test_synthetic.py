"""The synthetic program behind `seed_demo --participants N`: realistic shares, the invariants the
app relies on, determinism, and a second run for the same program refused."""

import hashlib
from datetime import date, timedelta
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q

from hearings.models import APPEARED, DocketEntry, HearingSession, Response, Unit
from participants.access import participants_visible_to
from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    Participant,
    PhaseChange,
    ScreeningDecision,
    Status,
    StatusChange,
)
from participants.transitions import is_allowed
from reporting import synthetic
from reporting.synthetic.bulk import Writer
from tjp.clock import program_today
from tjp.management.commands.seed_demo import DEMO_PASSWORD
from tjp.models import Program, User
from treatment.models import DrugTest, DrugTestResult, ProviderAssignment, TestSelection
from treatment.services import missed_tests_convert

LOADED = [
    "participants_participant",
    "participants_person",
    "treatment_drugtest",
    "treatment_drugtestresult",
    "treatment_testselection",
    "treatment_treatmentsession",
    "hearings_docketentry",
    "hearings_response",
]


def _schema() -> list[tuple]:
    """Constraints and indexes of the tables the generator loads in bulk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
            "UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename = ANY(%s) ORDER BY 1, 2, 3",
            [LOADED, LOADED],
        )
        return cursor.fetchall()


@pytest.fixture
def generated(db):
    before = _schema()
    counts = synthetic.generate(200, program_code="syn", seed=7, stdout=StringIO())
    program = Program.objects.get(code="syn")
    return {"counts": counts, "program": program, "schema_before": before}


def _mine(model, program, path="participant__program"):
    return model.objects.filter(**{path: program})


def test_counts_are_in_realistic_ranges(generated):
    program = generated["program"]
    participants = Participant.objects.filter(program=program)
    assert participants.count() == 200
    by_status = dict(participants.values_list("status").annotate(n=Count("pk")))
    admitted = participants.filter(entry_date__isnull=False).count()
    declined = by_status.get(Status.DECLINED, 0)
    assert 30 <= declined <= 75  # ~25% of referrals
    assert 120 <= admitted <= 170
    assert 0.35 <= by_status.get(Status.GRADUATED, 0) / admitted <= 0.65  # ~50%
    assert 0.12 <= by_status.get(Status.TERMINATED, 0) / admitted <= 0.40  # ~25%
    assert participants.filter(status__in=IN_PROGRAM_STATUSES).count() >= 5  # ~12% of admitted

    tests = _mine(DrugTest, program)
    total = tests.count()
    assert 60 * admitted <= total <= 200 * admitted  # about two a week while in the program
    positive = tests.filter(
        Exists(DrugTestResult.objects.filter(test=OuterRef("pk")).exclude(result="negative"))
    ).count()
    assert 0.04 <= positive / total <= 0.13  # ~8%
    assert 0.01 <= tests.filter(missed=True).count() / total <= 0.06  # ~3%
    assert 0.003 <= tests.filter(dilute=True).count() / total <= 0.025  # ~1%
    assert tests.filter(random=True).count() / total >= 0.9
    assert tests.filter(observed=True).count() / total >= 0.75
    assert generated["counts"]["treatment_drugtest"] == total
    assert _mine(DocketEntry, program).count() > 5 * admitted
    assert _mine(Response, program).exists()


def test_admissions_phases_and_exits_are_consistent(generated):
    program = generated["program"]
    participants = list(
        Participant.objects.filter(program=program).prefetch_related(
            "status_changes", "phase_changes", "screening_decisions"
        )
    )
    for p in participants:
        changes = sorted(p.status_changes.all(), key=lambda c: (c.effective_on, c.created_at))
        decisions = {d.kind: d for d in p.screening_decisions.all()}
        if p.arrest_date:
            assert p.arrest_date <= p.referred_on
        if p.entry_date is None:
            assert p.phase_id is None and p.exit_date is None
            if p.status == Status.DECLINED:
                assert decisions["admission"].outcome == ScreeningDecision.Outcome.DECLINED
                assert decisions["admission"].reasons
                assert [(c.from_status, c.to_status) for c in changes] == [
                    (Status.REFERRED, Status.DECLINED)
                ]
            else:
                assert p.status == Status.REFERRED and not changes
            continue
        # Admitted: screened eligible, entered phase 1 on entry, a phase ever after.
        assert p.phase_id is not None
        assert p.entry_date >= p.referred_on
        assert decisions["legal"].outcome == decisions["clinical"].outcome == "eligible"
        assert decisions["admission"].decided_on <= p.entry_date
        moves = sorted(p.phase_changes.all(), key=lambda m: m.effective_on)
        assert (moves[0].from_phase_id, moves[0].effective_on) == (None, p.entry_date)
        assert moves[-1].to_phase_id == p.phase_id
        assert all(a.to_phase_id == b.from_phase_id for a, b in pairwise(moves))
        # The status history is a chain the transition table allows, ending in the status.
        assert (changes[0].from_status, changes[0].to_status) == (Status.REFERRED, Status.ACTIVE)
        assert changes[0].effective_on == p.entry_date
        for a, b in pairwise(changes):
            assert a.to_status == b.from_status
            assert a.effective_on <= b.effective_on
            assert is_allowed(b.from_status, b.to_status)
        assert changes[-1].to_status == p.status
        if p.status in EXIT_STATUSES:
            assert p.exit_date == changes[-1].effective_on >= p.entry_date
            assert p.exit_reason
        else:
            assert p.exit_date is None
        assert all(m.effective_on <= (p.exit_date or program_today(program)) for m in moves)


def test_tests_hearings_and_treatment_stay_within_the_episode(generated):
    program = generated["program"]
    tz = ZoneInfo(program.time_zone)
    today = program_today(program)
    participants = {p.pk: p for p in Participant.objects.filter(program=program)}
    for test in _mine(DrugTest, program).prefetch_related("results"):
        p = participants[test.participant_id]
        day = test.collected_at.astimezone(tz).date()
        assert p.entry_date <= day <= (p.exit_date or today) and day < today
        results = list(test.results.all())
        if test.missed or test.refused:
            assert not results and test.resulted_at is None
        else:  # the services refuse a test without results
            assert results and test.resulted_at >= test.collected_at
        assert test.created_at >= test.collected_at
    for selection in _mine(TestSelection, program).select_related("test"):
        assert selection.test is not None and selection.test.random
        assert selection.test.collected_at.astimezone(tz).date() == selection.day
        assert selection.test.collected_at <= selection.deadline
    assert not _mine(DrugTest, program).filter(random=True, selection__isnull=True).exists()
    # Nothing is left for the hourly job to turn into missed tests.
    assert missed_tests_convert() == 0

    sessions = HearingSession.objects.filter(program=program)
    for entry in _mine(DocketEntry, program).select_related("session"):
        p = participants[entry.participant_id]
        day = entry.session.starts_at.astimezone(tz).date()
        assert p.entry_date <= day <= (p.exit_date or today)
        assert entry.phase_id is not None
        assert (entry.judicial_minutes is not None) == (entry.attendance in APPEARED)
        if entry.next_appearance:
            assert entry.next_appearance > day
    assert sessions.values("judge").distinct().count() >= 1
    for response in _mine(Response, program):
        p = participants[response.participant_id]
        assert p.entry_date <= response.behavior_on <= response.responded_on
        assert (response.magnitude is None) == (response.unit == Unit.NONE)
        if response.unit == Unit.JAIL_DAYS:
            assert response.magnitude <= program.max_jail_sanction_days
    for assignment in ProviderAssignment.objects.filter(participant__program=program):
        assert assignment.ended_on == participants[assignment.participant_id].exit_date


def test_the_staff_can_sign_in_and_see_the_program(generated):
    program = generated["program"]
    coordinator = User.objects.get(email="coordinator@syn.example")
    assert coordinator.check_password(DEMO_PASSWORD)
    defender = User.objects.get(email="defender@syn.example")
    assert participants_visible_to(coordinator).filter(program=program).count() == 200
    assert participants_visible_to(defender).filter(program=program).count() == 200


def test_constraints_and_indexes_are_back_and_history_was_skipped(generated):
    assert _schema() == generated["schema_before"]
    program = generated["program"]
    event = Participant.pgh_event_model
    assert not event.objects.filter(program=program).exists()


def test_history_kept_on_request(db):
    synthetic.generate(15, program_code="hist", seed=3, history=True)
    program = Program.objects.get(code="hist")
    events = Participant.pgh_event_model.objects.filter(program=program)
    assert events.count() == 15
    assert all(
        e.pgh_context.metadata["synthetic"] == "hist" for e in events.select_related("pgh_context")
    )


def _fingerprint(code: str) -> str:
    """Everything generated for a program, without the database ids."""
    program = Program.objects.get(code=code)
    digest = hashlib.sha256()
    rows = [
        Participant.objects.filter(program=program)
        .order_by("uuid")
        .values_list(
            "uuid",
            "person__uuid",
            "person__first_name",
            "person__date_of_birth",
            "status",
            "referred_on",
            "entry_date",
            "exit_date",
            "phase__number",
        ),
        StatusChange.objects.filter(participant__program=program)
        .order_by("uuid")
        .values_list("uuid", "to_status", "effective_on"),
        PhaseChange.objects.filter(participant__program=program)
        .order_by("uuid")
        .values_list("uuid", "to_phase__number", "effective_on"),
        _mine(DrugTest, program)
        .order_by("uuid")
        .values_list(
            "uuid", "collected_at", "resulted_at", "created_at", "missed", "dilute", "method"
        ),
        DrugTestResult.objects.filter(test__participant__program=program)
        .order_by("test__uuid", "substance")
        .values_list("test__uuid", "substance", "result"),
        _mine(DocketEntry, program)
        .order_by("uuid")
        .values_list("uuid", "session__starts_at", "attendance", "judicial_minutes"),
        _mine(Response, program)
        .order_by("uuid")
        .values_list("uuid", "kind", "magnitude", "behavior_on"),
    ]
    for queryset in rows:
        for row in queryset:
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_deterministic_for_a_seed(db):
    with transaction.atomic():
        synthetic.generate(80, program_code="det", seed=11)
        first = _fingerprint("det")
        transaction.set_rollback(True)
    synthetic.generate(80, program_code="det", seed=11)
    assert _fingerprint("det") == first
    synthetic.generate(80, program_code="other", seed=12)
    assert _fingerprint("other") != first


def test_a_second_run_for_the_same_program_is_refused(db):
    out = StringIO()
    call_command("seed_demo", participants=30, program_code="again", force=True, stdout=out)
    assert "indexes and constraints" in out.getvalue()  # progress, stage by stage
    assert Participant.objects.filter(program__code="again").count() == 30
    with pytest.raises(CommandError, match="already has 30 participants"):
        call_command(
            "seed_demo", participants=30, program_code="again", force=True, stdout=StringIO()
        )
    with pytest.raises(synthetic.SyntheticProgramExists):
        synthetic.generate(30, program_code="again")
    assert Participant.objects.filter(program__code="again").count() == 30


def test_a_row_breaking_a_constraint_rolls_the_whole_load_back(db, monkeypatch):
    """The bulk load re-creates the foreign keys at the end: a bad row fails there."""
    before = _schema()
    copy = Writer._copy

    def broken(self, cursor, model, columns, lines):
        if model is DrugTest and lines:
            fields = lines[0].split("\t")
            fields[-2] = "987654321"  # participant_id: nobody
            lines = ["\t".join(fields), *lines[1:]]
        copy(self, cursor, model, columns, lines)

    monkeypatch.setattr(Writer, "_copy", broken)
    with pytest.raises(IntegrityError):
        synthetic.generate(40, program_code="bad", seed=5)
    assert not Program.objects.filter(code="bad").exists()
    assert not DrugTest.objects.filter(participant_id=987654321).exists()
    assert _schema() == before


def test_dates_run_to_yesterday_over_four_years(generated):
    program = generated["program"]
    today = program_today(program)
    participants = Participant.objects.filter(program=program)
    first = min(participants.values_list("referred_on", flat=True))
    last = max(participants.values_list("referred_on", flat=True))
    assert today - timedelta(days=4 * 365 + 400) <= first <= today - timedelta(days=3 * 365)
    assert today - timedelta(days=60) <= last < today
    assert not participants.filter(Q(exit_date__gte=today) | Q(entry_date__gte=today)).exists()
    ages = [
        (p.referred_on - p.person.date_of_birth).days // 365
        for p in participants.select_related("person")
    ]
    assert min(ages) >= 18 and max(ages) <= 70
    assert isinstance(first, date)
