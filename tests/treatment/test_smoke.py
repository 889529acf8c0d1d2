from datetime import timedelta

from django.utils import timezone

from participants.models import program_today
from tjp.models import AuditEvent
from tjp.roles import Role
from treatment import services
from treatment.queries import treatment_record


def test_gate_and_disclosure(assigned, personas, provider):
    clinician, judge = personas[Role.CLINICIAN], personas[Role.JUDGE]
    day = program_today(assigned.program)
    services.progress_update_record(
        acting_user=clinician,
        participant=assigned,
        period_start=day - timedelta(days=7),
        period_end=day,
        engagement="good",
        summary="Attends every group.",
    )
    services.clinical_note_record(
        acting_user=clinician,
        participant=assigned,
        written_on=day,
        text="Private counselling note.",
    )
    services.drug_test_record(
        acting_user=clinician,
        participant=assigned,
        collected_at=timezone.now() - timedelta(hours=5),
        method="urine",
        results=[("cocaine", "negative")],
        resulted_at=timezone.now() - timedelta(hours=1),
    )
    record = treatment_record(judge, assigned)
    assert record.progress_updates is None and record.provider_tests_withheld
    assert record.drug_tests == [] and record.clinical_notes == []
    assert not AuditEvent.objects.filter(action="disclose").exists()
    mine = treatment_record(clinician, assigned)
    assert len(mine.clinical_notes) == 1 and len(mine.progress_updates) == 1


def test_with_consent(consent, personas):
    clinician, judge = personas[Role.CLINICIAN], personas[Role.JUDGE]
    day = program_today(consent.participant.program)
    services.progress_update_record(
        acting_user=clinician,
        participant=consent.participant,
        period_start=day - timedelta(days=7),
        period_end=day,
        engagement="good",
        summary="ok",
    )
    record = treatment_record(judge, consent.participant)
    assert len(record.progress_updates) == 1 and record.needs_redisclosure_notice
    assert AuditEvent.objects.filter(action="disclose", consent_uuid=consent.uuid).exists()
    assert record.clinical_notes == []


def test_reading_one_section_logs_only_that_disclosure(consent, personas):
    clinician, judge = personas[Role.CLINICIAN], personas[Role.JUDGE]
    p = consent.participant
    day = program_today(p.program)
    services.progress_update_record(
        acting_user=clinician,
        participant=p,
        period_start=day - timedelta(days=7),
        period_end=day,
        engagement="good",
        summary="ok",
    )
    services.drug_test_record(
        acting_user=clinician,
        participant=p,
        collected_at=timezone.now() - timedelta(hours=3),
        method="urine",
        results=[("cannabis", "positive")],
    )
    record = treatment_record(judge, p, sections={"drug_tests"})
    assert len(record.drug_tests) == 1 and record.progress_updates is None
    (event,) = AuditEvent.objects.filter(action="disclose")
    assert event.detail["categories"] == ["drug_tests"]


def test_no_missed_test_for_someone_taken_into_custody(assigned, personas):
    from participants import services as participant_services
    from treatment.models import DrugTest, TestSelection

    program = assigned.program
    phase = assigned.phase
    phase.tests_per_week = 7
    phase.save()
    day = program_today(program)
    (selection,) = services.selection_run(program=program, day=day)
    participant_services.status_change(
        acting_user=personas[Role.COORDINATOR],
        participant=assigned,
        to_status="in_custody",
        effective_on=day,
        reason="Arrested.",
        expected_status="active",
    )
    assert services.missed_tests_convert(now=selection.deadline + timedelta(minutes=1)) == 0
    selection = TestSelection.objects.get(pk=selection.pk)
    assert selection.excused and selection.test is None
    assert not DrugTest.objects.filter(missed=True).exists()
    # Excused once, never converted later.
    assert services.missed_tests_convert(now=selection.deadline + timedelta(hours=1)) == 0
