"""Rules added after the first review of the services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from participants import services
from participants.models import Document, Status
from tests.factories import ParticipantFactory, PhaseFactory, UserFactory, admit
from tjp.clock import program_today
from tjp.roles import Role


@pytest.fixture
def clerk(other_program):
    other_program.legal_track = "mx_suspension"
    other_program.save()
    PhaseFactory(program=other_program, number=1)
    return UserFactory(role=Role.COORDINATOR, programs=[other_program])


def test_term_warning_only_while_in_the_program(other_program, clerk):
    today = program_today(other_program)
    p = admit(
        ParticipantFactory(
            program=other_program,
            referred_on=today - timedelta(days=300),
            arrest_date=today - timedelta(days=301),
        ),
        by=clerk,
        entry_days_ago=250,
    )
    start = p.entry_date
    term = services.legal_term_set(
        acting_user=clerk, participant=p, starts_on=start, ends_on=today + timedelta(days=10)
    )
    assert services.term_needs_warning(term)
    services.status_change(
        acting_user=clerk,
        participant=p,
        to_status=Status.GRADUATED,
        effective_on=today,
        reason="Completed.",
        expected_status="active",
    )
    term.participant.refresh_from_db()
    assert not services.term_needs_warning(term)


def test_term_needs_admission_and_payments_follow_the_referral(other_program, clerk):
    today = program_today(other_program)
    referral = ParticipantFactory(program=other_program)
    with pytest.raises(ValidationError, match="once the participant is admitted"):
        services.legal_term_set(
            acting_user=clerk,
            participant=referral,
            starts_on=today,
            ends_on=today + timedelta(days=200),
        )
    p = admit(referral, by=clerk)
    plan = services.restitution_plan_set(
        acting_user=clerk,
        participant=p,
        total_amount=1000,
        currency="MXN",
        description="Pagos mensuales",
    )
    with pytest.raises(ValidationError, match="cannot precede the referral"):
        services.restitution_payment_add(
            acting_user=clerk, plan=plan, amount=100, paid_on=p.referred_on - timedelta(days=1)
        )


def test_entry_cannot_precede_the_admission_decision(screened):
    referral, judge = screened
    today = program_today(referral.program)
    with pytest.raises(ValidationError, match="cannot precede the admission decision"):
        services.admission_decide(
            acting_user=judge,
            participant=referral,
            admit=True,
            reasons="x",
            decided_on=today,
            entry_date=today - timedelta(days=1),
        )
    referral.refresh_from_db()
    assert referral.status == Status.REFERRED


@pytest.fixture
def screened(program, personas):
    """A referral found legally and clinically eligible, awaiting the admission decision."""
    from participants.models import ScreeningDecision

    referral = ParticipantFactory(program=program)
    day = program_today(program) - timedelta(days=5)
    services.assessment_record(
        acting_user=personas[Role.CLINICIAN],
        participant=referral,
        data={
            "instrument": "rant",
            "score": 9,
            "risk_level": "high",
            "need_level": "high",
            "assessed_on": day,
        },
    )
    for kind in ("legal", "clinical"):
        services.screening_record(
            acting_user=personas[Role.COORDINATOR],
            participant=referral,
            kind=kind,
            outcome=ScreeningDecision.Outcome.ELIGIBLE,
            reasons="ok",
            decided_on=day,
        )
    return referral, personas[Role.JUDGE]


def test_unknown_values_are_validation_errors(participant, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    clerk = personas[Role.COORDINATOR]
    today = program_today(participant.program)
    with pytest.raises(ValidationError):
        services.status_change(
            acting_user=clerk,
            participant=participant,
            to_status="bogus",
            effective_on=today,
            reason="x",
            expected_status="active",
        )
    with pytest.raises(ValidationError):
        services.document_upload(
            acting_user=clerk,
            participant=participant,
            kind="bogus",
            title="x",
            uploaded_file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF"),
        )
    assert not Document.objects.exists()
    with pytest.raises(ValidationError):
        services.service_referral_add(
            acting_user=clerk,
            participant=participant,
            service="bogus",
            agency="",
            referred_on=today,
        )
