import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from tjp.clock import program_today
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
    assert record.progress_updates == []
    # Without a consent every section of treatment is withheld, whether or not it has rows.
    assert record.withheld == {
        "episodes",
        "sessions",
        "medications",
        "progress_updates",
        "drug_tests",
    }
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
    assert len(record.drug_tests) == 1 and record.progress_updates == []
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


@pytest.fixture
def eager_tasks():
    from tjp.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_selected_participant_is_emailed_once_in_their_language(
    assigned, personas, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    from treatment.models import TestSelection

    person = assigned.person
    person.email, person.preferred_language = "ana@example.org", "es"
    person.save()
    phase = assigned.phase
    phase.tests_per_week = 7
    phase.save()
    with django_capture_on_commit_callbacks(execute=True):
        (selection,) = services.selection_run(
            program=assigned.program, day=program_today(assigned.program)
        )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ana@example.org"] and "prueba" in message.body.lower()
    assert "tratamiento" not in message.body.lower()  # when and how, nothing about treatment
    assert TestSelection.objects.get(pk=selection.pk).notice_sent_at is not None
    # A retried job sends nothing twice.
    assert services.selection_notify(selection_pk=selection.pk) is False
    assert len(mailoutbox) == 1


def test_a_notice_that_could_not_be_sent_goes_with_the_next_hourly_run(
    assigned, mailoutbox, django_capture_on_commit_callbacks, eager_tasks, settings
):
    """No mock: the mail server refuses the connection, the notice job fails (its retries run
    inline here) and nothing is recorded; the next run of the hourly selection queues the
    notice again and it goes, once."""
    from treatment.models import TestSelection

    assigned.person.email = "ana@example.org"
    assigned.person.save()
    phase = assigned.phase
    phase.tests_per_week = 7
    phase.save()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    day = program_today(assigned.program)
    with django_capture_on_commit_callbacks(execute=True):
        (selection,) = services.selection_run(program=assigned.program, day=day)
    assert mailoutbox == [] and TestSelection.objects.get(pk=selection.pk).notice_sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for _ in range(2):  # the next hourly runs
        with django_capture_on_commit_callbacks(execute=True):
            assert services.selection_run(program=assigned.program, day=day) == []
    assert [m.to for m in mailoutbox] == [["ana@example.org"]]
    assert TestSelection.objects.get(pk=selection.pk).notice_sent_at is not None


def test_no_notice_for_a_past_day_or_without_email(
    assigned, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    phase = assigned.phase
    phase.tests_per_week = 7
    phase.save()
    day = program_today(assigned.program)
    with django_capture_on_commit_callbacks(execute=True):
        services.selection_run(program=assigned.program, day=day - timedelta(days=1))
        services.selection_run(program=assigned.program, day=day)  # no email address
    assert mailoutbox == []
