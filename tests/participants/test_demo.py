"""The demo seed: every status and phase in both programs, realistic paths, idempotent."""

from django.core.management import call_command

from participants import services
from participants.models import (
    IN_PROGRAM_STATUSES,
    Consent,
    LegalTerm,
    Participant,
    Person,
    PhaseChange,
    ScreeningDecision,
    Status,
    StatusChange,
)
from tjp.models import AuditEvent, Program


def _counts():
    return tuple(
        model.objects.count()
        for model in (
            Person,
            Participant,
            StatusChange,
            PhaseChange,
            ScreeningDecision,
            Consent,
            LegalTerm,
            AuditEvent,
        )
    )


def test_seed_demo_builds_participants_in_every_status_and_phase(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", apps="participants")
    first = _counts()

    for program in Program.objects.filter(code__in=["atc", "pjt"]):
        participants = Participant.objects.filter(program=program)
        assert participants.count() >= 25, program.code
        statuses = set(participants.values_list("status", flat=True))
        assert statuses == set(Status.values), (program.code, set(Status.values) - statuses)
        in_program = participants.filter(status__in=IN_PROGRAM_STATUSES)
        for phase in program.phases.all():
            assert in_program.filter(phase=phase).exists(), (program.code, phase.number)
        admitted = participants.filter(entry_date__isnull=False)
        assert admitted.filter(consents__isnull=True).exists(), program.code
        assert admitted.filter(consents__isnull=False).count() > admitted.count() // 2
        assert participants.filter(status=Status.DECLINED).count() >= 2
        # Each participant has the demo judge and defender, and the clinician sees them.
        assert not participants.filter(judge__isnull=True).exists()
        assert not participants.filter(defender__isnull=True).exists()

    atc = Program.objects.get(code="atc")
    pjt = Program.objects.get(code="pjt")
    assert (atc.eligible_risk_levels, pjt.eligible_risk_levels) == (["high"], ["low", "moderate"])
    assert pjt.first_offense_only and not atc.first_offense_only
    assert not LegalTerm.objects.filter(participant__program=atc).exists()

    terms = LegalTerm.objects.filter(participant__program=pjt).select_related("participant")
    admitted_pjt = Participant.objects.filter(program=pjt, entry_date__isnull=False)
    assert terms.count() == admitted_pjt.count()
    assert terms.filter(extension_days__gt=0).exists()
    assert terms.filter(interruptions__isnull=False).exists()
    assert terms.filter(victim_objected=True).exists()
    assert any(
        services.term_needs_warning(term)
        for term in terms
        if term.participant.status in IN_PROGRAM_STATUSES
    )
    assert Participant.objects.filter(
        program=pjt, restitution_plan__payments__isnull=False
    ).exists()

    call_command("seed_demo", apps="participants")
    assert _counts() == first
