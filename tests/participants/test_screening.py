"""Screening (legal by the prosecutor, clinical by the clinician) and the admission decision."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from participants import services
from participants.models import (
    Assessment,
    Participant,
    PhaseChange,
    ScreeningDecision,
    Status,
    StatusChange,
)
from tests.factories import ParticipantFactory, PhaseFactory, UserFactory
from tjp.clock import program_today
from tjp.models import AuditEvent
from tjp.roles import Role

Kind, Outcome = ScreeningDecision.Kind, ScreeningDecision.Outcome


@pytest.fixture
def today(program):
    return program_today(program)


@pytest.fixture
def decided(referral):
    return referral.referred_on + timedelta(days=5)


def _assess(participant, by, on, *, risk="high", need="high"):
    return services.assessment_record(
        acting_user=by,
        participant=participant,
        data={
            "instrument": Assessment.Instrument.RANT,
            "score": 14,
            "risk_level": risk,
            "need_level": need,
            "assessed_on": on,
        },
    )


def _screen(participant, by, kind, outcome, on, reasons="Meets the criteria."):
    return services.screening_record(
        acting_user=by,
        participant=participant,
        kind=kind,
        outcome=outcome,
        reasons=reasons,
        decided_on=on,
    )


def _decide(participant, by, on, *, admit=True, entry=None, reasons="Team agrees."):
    return services.admission_decide(
        acting_user=by,
        participant=participant,
        admit=admit,
        reasons=reasons,
        decided_on=on,
        entry_date=entry if entry is not None else (on if admit else None),
    )


@pytest.fixture
def screened(referral, personas, decided):
    """A referral found eligible by the prosecutor and by the clinician."""
    _screen(referral, personas[Role.PROSECUTOR], Kind.LEGAL, Outcome.ELIGIBLE, decided)
    _assess(referral, personas[Role.CLINICIAN], decided)
    _screen(referral, personas[Role.CLINICIAN], Kind.CLINICAL, Outcome.ELIGIBLE, decided)
    return referral


# --- legal and clinical screening ------------------------------------------------------------
def test_legal_screening_by_the_prosecutor(referral, personas, decided):
    prosecutor = personas[Role.PROSECUTOR]
    decision = _screen(referral, prosecutor, Kind.LEGAL, Outcome.ELIGIBLE, decided)
    decision.refresh_from_db()
    assert (decision.kind, decision.outcome) == (Kind.LEGAL, Outcome.ELIGIBLE)
    assert decision.created_by == prosecutor
    assert decision.reasons == "Meets the criteria."
    assert decision.decided_on == decided
    event = AuditEvent.objects.get(participant_uuid=referral.uuid)
    assert event.actor == prosecutor
    assert event.detail == {"kind": "legal", "outcome": "eligible"}


def test_clinical_screening_needs_an_assessment_first(referral, personas, decided):
    clinician = personas[Role.CLINICIAN]
    with pytest.raises(ValidationError):
        _screen(referral, clinician, Kind.CLINICAL, Outcome.ELIGIBLE, decided)
    assert not referral.screening_decisions.exists()
    assessment = _assess(referral, clinician, decided)
    assert AuditEvent.objects.filter(
        participant_uuid=referral.uuid, object_id=str(assessment.uuid)
    ).exists()
    decision = _screen(referral, clinician, Kind.CLINICAL, Outcome.INELIGIBLE, decided)
    assert decision.outcome == Outcome.INELIGIBLE


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"outcome": Outcome.ADMITTED}, ValidationError),
        ({"reasons": "  "}, ValidationError),
        ({"decided_on": "future"}, ValidationError),
        ({"decided_on": "before-referral"}, ValidationError),
        ({"kind": Kind.ADMISSION}, ValueError),
    ],
    ids=["outcome-not-eligibility", "no-reasons", "future", "before-referral", "admission-kind"],
)
def test_screening_refusals(referral, personas, today, kwargs, error):
    dates = {
        "future": today + timedelta(days=1),
        "before-referral": referral.referred_on - timedelta(days=1),
    }
    args = {
        "kind": Kind.LEGAL,
        "outcome": Outcome.ELIGIBLE,
        "reasons": "Meets the criteria.",
        "decided_on": today,
        **kwargs,
    }
    args["decided_on"] = dates.get(args["decided_on"], args["decided_on"])
    with pytest.raises(error):
        services.screening_record(
            acting_user=personas[Role.PROSECUTOR], participant=referral, **args
        )
    assert not referral.screening_decisions.exists()
    assert not AuditEvent.objects.filter(participant_uuid=referral.uuid).exists()


def test_future_assessment_is_refused(referral, personas, today):
    with pytest.raises(ValidationError):
        _assess(referral, personas[Role.CLINICIAN], today + timedelta(days=1))
    assert not referral.assessments.exists()


def test_screening_is_over_once_decided(screened, personas, decided):
    _decide(screened, personas[Role.JUDGE], decided)
    with pytest.raises(ValidationError):
        _screen(screened, personas[Role.PROSECUTOR], Kind.LEGAL, Outcome.INELIGIBLE, decided)


# --- the admission decision ------------------------------------------------------------------
@pytest.mark.parametrize(
    "recorded",
    [
        [],
        [(Kind.LEGAL, Outcome.ELIGIBLE)],
        [(Kind.CLINICAL, Outcome.ELIGIBLE)],
        [(Kind.LEGAL, Outcome.ELIGIBLE), (Kind.CLINICAL, Outcome.INELIGIBLE)],
        [(Kind.LEGAL, Outcome.INELIGIBLE), (Kind.CLINICAL, Outcome.ELIGIBLE)],
        # the latest decision of each kind counts
        [
            (Kind.LEGAL, Outcome.ELIGIBLE),
            (Kind.CLINICAL, Outcome.ELIGIBLE),
            (Kind.LEGAL, Outcome.INELIGIBLE),
        ],
    ],
    ids=["none", "legal-only", "clinical-only", "clinical-no", "legal-no", "legal-reversed"],
)
def test_admission_refused_until_both_eligible(referral, personas, decided, recorded):
    _assess(referral, personas[Role.CLINICIAN], decided)
    for kind, outcome in recorded:
        _screen(referral, personas[Role.PROSECUTOR], kind, outcome, decided)
    with pytest.raises(ValidationError):
        _decide(referral, personas[Role.JUDGE], decided)
    referral.refresh_from_db()
    assert referral.status == Status.REFERRED
    assert referral.entry_date is None and referral.phase is None
    assert not StatusChange.objects.filter(participant=referral).exists()
    assert not PhaseChange.objects.filter(participant=referral).exists()
    assert not referral.screening_decisions.filter(kind=Kind.ADMISSION).exists()


def test_a_later_eligible_decision_unblocks_admission(referral, personas, decided):
    _assess(referral, personas[Role.CLINICIAN], decided)
    _screen(referral, personas[Role.PROSECUTOR], Kind.LEGAL, Outcome.ELIGIBLE, decided)
    _screen(referral, personas[Role.CLINICIAN], Kind.CLINICAL, Outcome.INELIGIBLE, decided)
    _screen(
        referral,
        personas[Role.CLINICIAN],
        Kind.CLINICAL,
        Outcome.ELIGIBLE,
        decided + timedelta(days=1),
    )
    admitted = _decide(referral, personas[Role.JUDGE], decided + timedelta(days=1))
    assert admitted.status == Status.ACTIVE


def test_admit_sets_entry_phase_and_history(screened, personas, program, decided):
    judge = personas[Role.JUDGE]
    entry = decided + timedelta(days=2)
    admitted = _decide(screened, judge, decided + timedelta(days=1), entry=entry)
    admitted.refresh_from_db()
    assert admitted.status == Status.ACTIVE
    assert admitted.entry_date == entry
    assert admitted.phase == program.phases.get(number=1)
    status_row = StatusChange.objects.get(participant=admitted)
    assert (status_row.from_status, status_row.to_status) == (Status.REFERRED, Status.ACTIVE)
    assert status_row.effective_on == entry
    assert status_row.created_by == judge
    assert status_row.reason == "Team agrees."
    phase_row = PhaseChange.objects.get(participant=admitted)
    assert phase_row.from_phase is None and phase_row.to_phase.number == 1
    assert phase_row.effective_on == entry
    assert phase_row.created_by == judge
    decision = admitted.screening_decisions.get(kind=Kind.ADMISSION)
    assert decision.outcome == Outcome.ADMITTED
    assert decision.created_by == judge
    assert AuditEvent.objects.filter(
        participant_uuid=admitted.uuid, actor=judge, detail__status=Status.ACTIVE
    ).exists()


def test_declined_referral_is_kept_with_its_reasons(referral, personas, decided):
    # No eligibility needed to decline: the team may turn a referral down at any point.
    judge = personas[Role.JUDGE]
    declined = _decide(referral, judge, decided, admit=False, reasons="Violent charge excluded.")
    declined.refresh_from_db()
    assert declined.status == Status.DECLINED
    assert declined.entry_date is None and declined.phase is None
    assert Participant.objects.filter(pk=referral.pk).exists()
    decision = declined.screening_decisions.get(kind=Kind.ADMISSION)
    assert decision.outcome == Outcome.DECLINED
    assert decision.reasons == "Violent charge excluded."
    assert decision.decided_on == decided
    row = StatusChange.objects.get(participant=declined)
    assert (row.from_status, row.to_status, row.effective_on) == (
        Status.REFERRED,
        Status.DECLINED,
        decided,
    )
    assert not PhaseChange.objects.filter(participant=declined).exists()
    assert AuditEvent.objects.filter(
        participant_uuid=declined.uuid, detail__status=Status.DECLINED
    ).exists()


@pytest.mark.parametrize(("first", "second"), [(True, False), (False, True), (True, True)])
def test_deciding_twice_is_refused(screened, personas, decided, first, second):
    _decide(screened, personas[Role.JUDGE], decided, admit=first)
    with pytest.raises(ValidationError):
        _decide(screened, personas[Role.JUDGE], decided, admit=second)
    assert screened.screening_decisions.filter(kind=Kind.ADMISSION).count() == 1
    assert StatusChange.objects.filter(participant=screened).count() == 1


@pytest.mark.parametrize(
    "problem", ["no-reasons", "no-entry", "entry-before-referral", "entry-future", "decided-future"]
)
def test_admission_date_and_reason_checks(screened, personas, today, decided, problem):
    kwargs = {"reasons": "Team agrees.", "decided_on": decided, "entry_date": decided}
    if problem == "no-reasons":
        kwargs["reasons"] = " "
    elif problem == "no-entry":
        kwargs["entry_date"] = None
    elif problem == "entry-before-referral":
        kwargs["entry_date"] = screened.referred_on - timedelta(days=1)
    elif problem == "entry-future":
        kwargs["entry_date"] = today + timedelta(days=1)
    else:
        kwargs["decided_on"] = today + timedelta(days=1)
    with pytest.raises(ValidationError):
        services.admission_decide(
            acting_user=personas[Role.JUDGE], participant=screened, admit=True, **kwargs
        )
    screened.refresh_from_db()
    assert screened.status == Status.REFERRED
    assert not StatusChange.objects.filter(participant=screened).exists()


def test_admission_into_a_program_without_phases_is_refused(other_program):
    coordinator = UserFactory(role=Role.COORDINATOR, programs=[other_program])
    referral = ParticipantFactory(program=other_program)
    on = referral.referred_on + timedelta(days=1)
    _assess(referral, coordinator, on)
    _screen(referral, coordinator, Kind.LEGAL, Outcome.ELIGIBLE, on)
    _screen(referral, coordinator, Kind.CLINICAL, Outcome.ELIGIBLE, on)
    with pytest.raises(ValidationError):
        _decide(referral, coordinator, on)
    referral.refresh_from_db()
    assert referral.status == Status.REFERRED
    assert not PhaseChange.objects.filter(participant=referral).exists()
    PhaseFactory(program=other_program, number=1)
    assert _decide(referral, coordinator, on).phase.number == 1


# --- eligibility policy is per program -------------------------------------------------------
@pytest.mark.parametrize(
    ("risk", "need", "fits_us", "fits_mx"),
    [
        ("high", "high", True, False),
        ("low", "low", False, True),
        ("high", "low", False, False),
        ("moderate", "high", False, False),
    ],
)
def test_assessment_fits_policy(program, other_program, risk, need, fits_us, fits_mx):
    program.eligible_risk_levels = ["high"]
    program.eligible_need_levels = ["high"]
    program.save()
    other_program.eligible_risk_levels = ["low"]
    other_program.eligible_need_levels = ["low", "moderate"]
    other_program.save()
    assessment = Assessment(risk_level=risk, need_level=need)
    assert services.assessment_fits_policy(assessment, program) is fits_us
    assert services.assessment_fits_policy(assessment, other_program) is fits_mx
