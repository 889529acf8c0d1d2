"""Mexico: the legal clock of the suspensión condicional del proceso (term, extension,
interruptions, restitution)."""

from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.models import (
    IN_PROGRAM_STATUSES,
    LegalTerm,
    Participant,
    RestitutionPayment,
    RestitutionPlan,
    TermInterruption,
)
from participants.services.rules import A, lock_participant, required_text
from tjp import clock
from tjp.audit import record_about
from tjp.models import Program, User

# --- Mexico: the legal clock of the suspensión condicional del proceso ----------------------
MAX_EXTENSION_DAYS = 731  # "up to two years" (CNPP art. 198), a leap year included


def _mx_only(participant: Participant) -> None:
    if participant.program.legal_track != Program.LegalTrack.MX_SUSPENSION:
        raise ValidationError(_("The legal term applies to suspensión condicional programs only."))


@transaction.atomic
def legal_term_set(
    *,
    acting_user: User,
    participant: Participant,
    starts_on: date,
    ends_on: date,
    victim_objected: bool = False,
    victim_objection_notes: str = "",
    request: HttpRequest | None = None,
) -> LegalTerm:
    """Set the term (6 months to 3 years, CNPP art. 195) and the victim's position."""
    locked = lock_participant(participant)
    _mx_only(locked)
    if locked.entry_date is None:
        raise ValidationError(_("Set the legal term once the participant is admitted."))
    if starts_on < locked.referred_on:
        raise ValidationError({"starts_on": _("The term cannot start before the referral.")})
    if ends_on < starts_on + relativedelta(months=6) or ends_on > starts_on + relativedelta(
        years=3
    ):
        raise ValidationError({"ends_on": _("The term must last from 6 months to 3 years.")})
    term, _created = LegalTerm.objects.update_or_create(
        participant=locked,
        defaults={
            "starts_on": starts_on,
            "ends_on": ends_on,
            "victim_objected": victim_objected,
            "victim_objection_notes": victim_objection_notes,
            "created_by": acting_user,
        },
    )
    record_about(
        acting_user, A.UPDATE, term, locked, request, starts_on=str(starts_on), ends_on=str(ends_on)
    )
    return term


@transaction.atomic
def legal_term_extend(
    *,
    acting_user: User,
    term: LegalTerm,
    days: int,
    reason: str,
    request: HttpRequest | None = None,
) -> LegalTerm:
    """The judge may extend the term once, by up to two years, instead of revoking it."""
    term = (
        LegalTerm.objects.select_for_update().select_related("participant__program").get(pk=term.pk)
    )
    if term.extension_days:
        raise ValidationError(_("The term has already been extended once."))
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError({"days": _("An extension lasts from 1 day to 2 years.")})
    term.extension_days, term.extension_reason = days, required_text(reason, "reason")
    term.save(update_fields=["extension_days", "extension_reason"])
    record_about(acting_user, A.UPDATE, term, term.participant, request, extension_days=days)
    return term


@transaction.atomic
def term_interruption_add(
    *,
    acting_user: User,
    term: LegalTerm,
    starts_on: date,
    reason: str,
    ends_on: date | None = None,
    request: HttpRequest | None = None,
) -> TermInterruption:
    """The clock stops while the person is detained on another case."""
    term = (
        LegalTerm.objects.select_for_update().select_related("participant__program").get(pk=term.pk)
    )
    program = term.participant.program
    clock.check_not_future(starts_on, program, "starts_on")
    clock.check_not_future(ends_on, program, "ends_on")
    if starts_on < term.starts_on:
        raise ValidationError({"starts_on": _("The interruption cannot precede the term.")})
    if ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The release cannot precede the detention.")})
    if term.interruptions.filter(ends_on__isnull=True).exists():
        raise ValidationError(_("Close the open interruption first."))
    # Overlapping periods would count the same days twice and push the term's end too far.
    overlapping = term.interruptions.filter(ends_on__gt=starts_on)
    if ends_on is not None:
        overlapping = overlapping.filter(starts_on__lt=ends_on)
    if overlapping.exists():
        raise ValidationError(_("This period overlaps another interruption."))
    gap = TermInterruption.objects.create(
        term=term,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=required_text(reason, "reason"),
        created_by=acting_user,
    )
    record_about(
        acting_user, A.CREATE, term, term.participant, request, interruption=str(starts_on)
    )
    return gap


@transaction.atomic
def term_interruption_close(
    *,
    acting_user: User,
    interruption: TermInterruption,
    ends_on: date,
    request: HttpRequest | None = None,
) -> TermInterruption:
    gap = (
        TermInterruption.objects.select_for_update()
        .select_related("term__participant__program")
        .get(pk=interruption.pk)
    )
    if gap.ends_on is not None:
        raise ValidationError(_("This interruption is already closed."))
    clock.check_not_future(ends_on, gap.term.participant.program, "ends_on")
    if ends_on < gap.starts_on:
        raise ValidationError({"ends_on": _("The release cannot precede the detention.")})
    gap.ends_on = ends_on
    gap.save(update_fields=["ends_on"])
    record_about(
        acting_user, A.UPDATE, gap.term, gap.term.participant, request, released=str(ends_on)
    )
    return gap


@transaction.atomic
def restitution_plan_set(
    *,
    acting_user: User,
    participant: Participant,
    total_amount: Decimal,
    currency: str,
    description: str,
    request: HttpRequest | None = None,
) -> RestitutionPlan:
    """The plan to repair the damage (reparación del daño) filed by the participant."""
    _mx_only(participant)
    if total_amount < 0:
        raise ValidationError({"total_amount": _("The amount cannot be negative.")})
    plan, _created = RestitutionPlan.objects.update_or_create(
        participant=participant,
        defaults={
            "total_amount": total_amount,
            "currency": currency,
            "description": required_text(description, "description"),
            "created_by": acting_user,
        },
    )
    record_about(acting_user, A.UPDATE, plan, participant, request, total=str(total_amount))
    return plan


@transaction.atomic
def restitution_payment_add(
    *,
    acting_user: User,
    plan: RestitutionPlan,
    paid_on: date,
    amount: Decimal,
    request: HttpRequest | None = None,
) -> RestitutionPayment:
    plan = (
        RestitutionPlan.objects.select_for_update()
        .select_related("participant__program")
        .get(pk=plan.pk)
    )
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    clock.check_not_future(paid_on, plan.participant.program, "paid_on")
    if paid_on < plan.participant.referred_on:
        raise ValidationError({"paid_on": _("The payment cannot precede the referral.")})
    payment = RestitutionPayment.objects.create(
        plan=plan, paid_on=paid_on, amount=amount, created_by=acting_user
    )
    record_about(acting_user, A.CREATE, plan, plan.participant, request, payment=str(amount))
    return payment


def term_needs_warning(term: LegalTerm, on: date | None = None) -> bool:
    """Warn the team before the term of a participant still in the program runs out."""
    participant = term.participant
    return (
        participant.status in IN_PROGRAM_STATUSES
        and term.days_remaining(on) <= participant.program.term_warning_days
    )
