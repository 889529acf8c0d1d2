"""Case plan goals, service referrals and new arrests."""

from datetime import date

from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.models import (
    CasePlanGoal,
    NewArrest,
    Participant,
    ServiceReferral,
)
from participants.services.rules import A, required_text
from tjp import clock
from tjp.audit import record_about
from tjp.models import User


# --- case plan, services, arrests ------------------------------------------------------------
def _within_episode(day: date, participant: Participant, field: str) -> None:
    clock.check_not_future(day, participant.program, field)
    start = participant.entry_date or participant.referred_on
    if day < start or (participant.exit_date and day > participant.exit_date):
        raise ValidationError({field: _("The date must fall within the participant's episode.")})


@transaction.atomic
def goal_add(
    *,
    acting_user: User,
    participant: Participant,
    description: str,
    target_date: date | None,
    request: HttpRequest | None = None,
) -> CasePlanGoal:
    if target_date and target_date < (participant.entry_date or participant.referred_on):
        raise ValidationError({"target_date": _("The target date precedes the episode.")})
    goal = CasePlanGoal.objects.create(
        participant=participant,
        created_by=acting_user,
        description=required_text(description, "description"),
        target_date=target_date,
    )
    record_about(acting_user, A.CREATE, goal, participant, request)
    return goal


@transaction.atomic
def goal_close(
    *,
    acting_user: User,
    goal: CasePlanGoal,
    status: str,
    closed_on: date,
    request: HttpRequest | None = None,
) -> CasePlanGoal:
    goal = CasePlanGoal.objects.select_for_update().get(pk=goal.pk)
    if status == CasePlanGoal.GoalStatus.OPEN or status not in CasePlanGoal.GoalStatus.values:
        raise ValidationError({"status": _("Choose how the goal ended.")})
    _within_episode(closed_on, goal.participant, "closed_on")
    goal.status, goal.closed_on = status, closed_on
    goal.save(update_fields=["status", "closed_on"])
    record_about(acting_user, A.UPDATE, goal, goal.participant, request, status=status)
    return goal


@transaction.atomic
def service_referral_add(
    *,
    acting_user: User,
    participant: Participant,
    service: str,
    agency: str,
    referred_on: date,
    request: HttpRequest | None = None,
) -> ServiceReferral:
    if service not in ServiceReferral.Service.values:
        raise ValidationError({"service": _("Choose a service.")})
    _within_episode(referred_on, participant, "referred_on")
    referral = ServiceReferral.objects.create(
        participant=participant,
        created_by=acting_user,
        service=service,
        agency=agency,
        referred_on=referred_on,
    )
    record_about(acting_user, A.CREATE, referral, participant, request)
    return referral


@transaction.atomic
def service_referral_outcome(
    *,
    acting_user: User,
    referral: ServiceReferral,
    outcome: str,
    outcome_on: date,
    request: HttpRequest | None = None,
) -> ServiceReferral:
    referral = ServiceReferral.objects.select_for_update().get(pk=referral.pk)
    if outcome not in ServiceReferral.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    clock.check_not_future(outcome_on, referral.participant.program, "outcome_on")
    if outcome_on < referral.referred_on:
        raise ValidationError({"outcome_on": _("The outcome cannot precede the referral.")})
    referral.outcome, referral.outcome_on = outcome, outcome_on
    referral.save(update_fields=["outcome", "outcome_on"])
    record_about(acting_user, A.UPDATE, referral, referral.participant, request, outcome=outcome)
    return referral


@transaction.atomic
def arrest_record(
    *,
    acting_user: User,
    participant: Participant,
    arrested_on: date,
    charge: str,
    convicted: bool | None = None,
    request: HttpRequest | None = None,
) -> NewArrest:
    """A new arrest while enrolled (in-program recidivism)."""
    if participant.entry_date is None:
        raise ValidationError(_("New arrests are recorded once the participant is admitted."))
    _within_episode(arrested_on, participant, "arrested_on")
    arrest = NewArrest.objects.create(
        participant=participant,
        created_by=acting_user,
        arrested_on=arrested_on,
        charge=required_text(charge, "charge"),
        convicted=convicted,
    )
    record_about(acting_user, A.CREATE, arrest, participant, request)
    return arrest
