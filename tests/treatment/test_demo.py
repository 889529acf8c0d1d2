"""The treatment demo: providers, assignments, treatment records and six months of drug tests
in both demo programs, written through the services; idempotent."""

from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from participants.models import Consent, Participant
from tjp.clock import program_today
from tjp.models import AuditEvent, Program, User
from treatment import randomization, services
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    Provider,
    ProviderAssignment,
    Source,
    TestingProfile,
    TestSelection,
    TreatmentEpisode,
    TreatmentSession,
)
from treatment.models import TestingHoliday as Holiday
from treatment.services import selection

MODELS = (
    Provider,
    ProviderAssignment,
    TreatmentEpisode,
    TreatmentSession,
    Medication,
    ProgressUpdate,
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    TestSelection,
    TestingProfile,
    Holiday,
    AuditEvent,
    User,
)
POSITIVE = [DrugTestResult.Result.POSITIVE, DrugTestResult.Result.CONFIRMED_POSITIVE]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _check_program(program: Program, seeded_at) -> None:
    code = program.code
    today = program_today(program)
    now = timezone.now()
    tz = ZoneInfo(program.time_zone)
    clinician = User.objects.get(email=f"clinician@{code}.example")

    # Two providers; the demo clinician works for the first, clinician2@ for the second.
    providers = list(Provider.objects.filter(programs=program).order_by("pk"))
    assert len(providers) == 2, code
    first, second = providers
    clinician2 = User.objects.get(email=f"clinician2@{code}.example")
    assert clinician.groups.filter(pk=first.group_id).exists()
    assert not clinician.groups.filter(pk=second.group_id).exists()
    assert clinician2.groups.filter(pk=second.group_id).exists()

    # Every admitted participant is assigned, on the entry date; exits end it on the exit date;
    # two moved from the first provider to the second two weeks ago (one consenting to the new
    # provider seeing the old one's records).
    admitted = Participant.objects.filter(program=program, entry_date__isnull=False)
    assert admitted.count() >= 20, code
    assignments = ProviderAssignment.objects.filter(participant__program=program)
    assert set(assignments.values_list("participant", flat=True)) == set(
        admitted.values_list("pk", flat=True)
    )
    moved_on = today - timedelta(days=14)
    moved = assignments.filter(provider=first, ended_on=moved_on, participant__exit_date=None)
    assert moved.count() == 2, code
    for assignment in moved:
        p = assignment.participant
        assert assignments.get(participant=p, provider=second).assigned_on == moved_on
    assert (
        Consent.objects.filter(
            participant__in=moved.values("participant"), recipient_organisations=second.group
        ).count()
        == 1
    )
    for assignment in assignments.exclude(pk__in=moved).select_related("participant"):
        p = assignment.participant
        if (p.pk, assignment.provider_id) in {(m.participant_id, second.pk) for m in moved}:
            continue
        assert assignment.assigned_on == p.entry_date
        assert assignment.ended_on == p.exit_date
    assert assignments.filter(provider=first).count() > assignments.filter(provider=second).count()
    assert assignments.filter(provider=second).exists()
    # The demo clinician reports for the first provider's open assignments.
    for assignment in assignments.filter(provider=first, ended_on__isnull=True):
        assert services.provider_for(clinician, assignment.participant) == first

    # Treatment records.
    mine = {"participant__program": program}
    assert Medication.objects.filter(**mine).exists()
    assert TreatmentEpisode.objects.filter(**mine).values("participant").distinct().count() == (
        admitted.count()
    )
    sessions = TreatmentSession.objects.filter(**mine)
    assert sessions.count() > 10 * admitted.count() // 2
    attendance = set(sessions.values_list("attendance", flat=True))
    assert attendance == set(TreatmentSession.Attendance.values), (code, attendance)
    assert not sessions.filter(session_date__gt=today).exists()
    updates = ProgressUpdate.objects.filter(**mine)
    assert updates.count() >= admitted.count()
    assert set(updates.values_list("engagement", flat=True)) >= {"good", "fair"}
    assert not updates.filter(period_end__gt=today).exists()
    # Clinical notes: each provider's written by its own demo clinician.
    notes = ClinicalNote.objects.filter(**mine)
    assert set(notes.values_list("created_by", "provider").distinct()) == {
        (clinician.pk, first.pk),
        (clinician2.pk, second.pk),
    }
    assert not notes.filter(written_on__gt=today).exists()

    # Drug tests: about six months, positives, dilutes, misses, refusals, late results.
    tests = DrugTest.objects.filter(**mine)
    span = tests.aggregate(first=Min("collected_at"), last=Max("collected_at"))
    assert span["last"] - span["first"] >= timedelta(days=150), (code, span)
    assert span["last"] <= now
    assert not tests.filter(resulted_at__gt=now).exists()
    assert tests.count() > 20 * admitted.count(), code
    positive = tests.filter(results__result__in=POSITIVE).distinct()
    assert 0.03 < positive.count() / tests.count() < 0.3, (code, positive.count(), tests.count())
    substances = set(
        DrugTestResult.objects.filter(test__in=tests, result__in=POSITIVE).values_list(
            "substance", flat=True
        )
    )
    assert len(substances & {"cannabis", "cocaine", "methamphetamine", "alcohol"}) >= 3, substances
    dilute = tests.filter(dilute=True).count()
    missed = tests.filter(missed=True).count()
    assert 0.02 < dilute / tests.count() < 0.1, (code, dilute)
    assert 0.02 < missed / tests.count() < 0.12, (code, missed)
    assert tests.filter(refused=True).exists()
    assert tests.filter(adulterated=True).exists()
    assert tests.filter(confirmation=DrugTest.Confirmation.CONFIRMED).exists()
    late = [t for t in tests.exclude(resulted_at=None) if t.turnaround_hours > 48]
    assert late, code
    assert tests.filter(observed=True).count() > tests.count() // 2
    sources = set(tests.values_list("source", flat=True))
    assert sources == {Source.COURT, Source.PROVIDER, Source.LAB, Source.SYSTEM}, sources
    assert not tests.filter(source=Source.LAB, lab="").exists()
    assert set(tests.filter(source=Source.PROVIDER).values_list("provider", flat=True)) == {
        first.pk,
        second.pk,
    }
    # Collected on every day of the week.
    weekdays = {
        timezone.localtime(t.collected_at, tz).weekday() for t in tests.only("collected_at")
    }
    assert weekdays == set(range(7))

    # Random selection: call-in codes, the last two weeks, and today exactly as drawn.
    in_program = Participant.objects.filter(program=program, status__in=["active"])
    assert TestingProfile.objects.filter(participant__in=in_program).count() == in_program.count()
    selections = TestSelection.objects.filter(**mine)
    assert selections.filter(day__lt=today, test__isnull=False).exists()
    assert selections.filter(day__lt=today, test__missed=True, test__source=Source.SYSTEM).exists()
    assert not selections.filter(deadline__lt=seeded_at, test__isnull=True).exists()
    expected = set()
    for p in Participant.objects.filter(
        program=program, status__in=services.TESTED_STATUSES
    ).select_related("phase"):
        selected, _seed = randomization.selected_on(
            secret=selection._secret(),
            program_uuid=program.uuid,
            participant_uuid=p.uuid,
            day=today,
            tests_per_week=p.phase.tests_per_week,
            eligible_from=p.entry_date,
            eligible_until=p.exit_date,
        )
        if selected:
            expected.add(p.pk)
    assert set(selections.filter(day=today).values_list("participant", flat=True)) == expected
    assert Holiday.objects.filter(program=program).count() >= 2


def test_seed_demo_adds_treatment_and_testing(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    seeded_at = timezone.now()
    call_command("seed_demo", stdout=out)
    first = _counts()
    assert "treatment: atc seeded" in out.getvalue()

    for program in Program.objects.filter(code__in=["atc", "pjt"]):
        _check_program(program, seeded_at)
    # Today's lists are not all empty (each program's is random, so one alone may be).
    today = [program_today(p) for p in Program.objects.order_by("code")]
    assert TestSelection.objects.filter(day__in=today).exists()

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "treatment: atc already has its demo providers." in out.getvalue()
    assert _counts() == first
