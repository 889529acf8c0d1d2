"""Screening and admission: assessments, legal and clinical eligibility, the admission decision."""

from datetime import date
from typing import Any

from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.models import (
    Assessment,
    Participant,
    PhaseChange,
    ScreeningDecision,
    Status,
    StatusChange,
)
from participants.services.rules import A, lock_participant, required_text
from tjp import clock
from tjp.audit import record_about
from tjp.models import Program, User


# --- screening and admission -----------------------------------------------------------------
def assessment_fits_policy(assessment: Assessment, program: Program) -> bool:
    return (
        assessment.risk_level in program.eligible_risk_levels
        and assessment.need_level in program.eligible_need_levels
    )


@transaction.atomic
def assessment_record(
    *,
    acting_user: User,
    participant: Participant,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> Assessment:
    clock.check_not_future(data["assessed_on"], participant.program, "assessed_on")
    assessment = Assessment.objects.create(participant=participant, created_by=acting_user, **data)
    record_about(acting_user, A.CREATE, assessment, participant, request)
    return assessment


@transaction.atomic
def screening_record(
    *,
    acting_user: User,
    participant: Participant,
    kind: str,
    outcome: str,
    reasons: str,
    decided_on: date,
    request: HttpRequest | None = None,
) -> ScreeningDecision:
    """Record the legal (prosecutor) or clinical (clinician) eligibility of a referral."""
    locked = lock_participant(participant)
    if kind not in (ScreeningDecision.Kind.LEGAL, ScreeningDecision.Kind.CLINICAL):
        raise ValueError(kind)
    if outcome not in (ScreeningDecision.Outcome.ELIGIBLE, ScreeningDecision.Outcome.INELIGIBLE):
        raise ValidationError({"outcome": _("Choose eligible or not eligible.")})
    if locked.status != Status.REFERRED:
        raise ValidationError(_("Screening is over for this participant."))
    if kind == ScreeningDecision.Kind.CLINICAL and not locked.assessments.exists():
        raise ValidationError(_("Record a validated assessment before clinical eligibility."))
    clock.check_not_future(decided_on, locked.program, "decided_on")
    if decided_on < locked.referred_on:
        raise ValidationError({"decided_on": _("The decision cannot precede the referral.")})
    decision = ScreeningDecision.objects.create(
        participant=locked,
        created_by=acting_user,
        kind=kind,
        outcome=outcome,
        reasons=required_text(reasons, "reasons"),
        decided_on=decided_on,
    )
    record_about(acting_user, A.CREATE, decision, locked, request, kind=kind, outcome=outcome)
    return decision


def latest_screening(participant: Participant) -> dict[str, ScreeningDecision | None]:
    latest: dict[str, ScreeningDecision | None] = {k: None for k in ScreeningDecision.Kind.values}
    for decision in participant.screening_decisions.all():  # ordered by date
        latest[decision.kind] = decision
    return latest


@transaction.atomic
def admission_decide(
    *,
    acting_user: User,
    participant: Participant,
    admit: bool,
    reasons: str,
    decided_on: date,
    entry_date: date | None = None,
    request: HttpRequest | None = None,
) -> Participant:
    """The team's decision on a referral: admit (program entry, phase 1) or decline (kept,
    with its reasons, for equity reporting)."""
    locked = lock_participant(participant)
    if locked.status != Status.REFERRED:
        raise ValidationError(_("This referral has already been decided."))
    reasons = required_text(reasons, "reasons")
    clock.check_not_future(decided_on, locked.program, "decided_on")
    if decided_on < locked.referred_on:
        raise ValidationError({"decided_on": _("The decision cannot precede the referral.")})
    Outcome = ScreeningDecision.Outcome
    if admit:
        latest = latest_screening(locked)
        legal, clinical = latest["legal"], latest["clinical"]
        if not (
            legal
            and legal.outcome == Outcome.ELIGIBLE
            and clinical
            and clinical.outcome == Outcome.ELIGIBLE
        ):
            raise ValidationError(
                _("Legal and clinical eligibility must both be recorded as eligible first.")
            )
        if entry_date is None:
            raise ValidationError({"entry_date": _("Give the program entry date.")})
        clock.check_not_future(entry_date, locked.program, "entry_date")
        if entry_date < decided_on:
            raise ValidationError({"entry_date": _("Entry cannot precede the admission decision.")})
        first_phase = locked.program.phases.order_by("number").first()
        if first_phase is None:
            raise ValidationError(_("The program has no phases; an administrator must add them."))
        to_status, effective = Status.ACTIVE, entry_date
        locked.entry_date, locked.phase = entry_date, first_phase
        PhaseChange.objects.create(
            participant=locked,
            created_by=acting_user,
            from_phase=None,
            to_phase=first_phase,
            effective_on=entry_date,
            reason=reasons,
        )
    else:
        to_status, effective = Status.DECLINED, decided_on
    ScreeningDecision.objects.create(
        participant=locked,
        created_by=acting_user,
        kind=ScreeningDecision.Kind.ADMISSION,
        outcome=Outcome.ADMITTED if admit else Outcome.DECLINED,
        reasons=reasons,
        decided_on=decided_on,
    )
    StatusChange.objects.create(
        participant=locked,
        created_by=acting_user,
        from_status=locked.status,
        to_status=to_status,
        effective_on=effective,
        reason=reasons,
    )
    locked.status = to_status
    locked.save(update_fields=["status", "entry_date", "phase"])
    record_about(acting_user, A.UPDATE, locked, locked, request, status=to_status)
    return locked
