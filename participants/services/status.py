"""Status, phase and exit: the transition table applied, with history, and the legal disposition."""

from datetime import date

from django.contrib.postgres.lookups import Unaccent  # noqa: F401  (registers __unaccent)
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    Disposition,
    Participant,
    PhaseChange,
    Status,
    StatusChange,
)
from participants.services.rules import A, lock_participant, required_text
from participants.transitions import ADMISSION_MOVES, is_allowed
from tjp import clock
from tjp.audit import record_about
from tjp.models import Phase, User

# --- status, phase, exit ---------------------------------------------------------------------
STALE = _("Someone else changed this participant while you were working. Reload and try again.")


@transaction.atomic
def status_change(
    *,
    acting_user: User,
    participant: Participant,
    to_status: str,
    effective_on: date,
    reason: str,
    expected_status: str,
    request: HttpRequest | None = None,
) -> Participant:
    """Move a participant to another status, as the transition table allows. Two people racing:
    the row lock serialises them and the second sees that the status it expected is gone."""
    if to_status not in Status.values:
        raise ValidationError({"to_status": _("Choose a status.")})
    locked = lock_participant(participant)
    if locked.status != expected_status:
        raise ValidationError(STALE, code="stale")
    if not is_allowed(locked.status, to_status) or (locked.status, to_status) in ADMISSION_MOVES:
        raise ValidationError(
            _("A participant cannot go from “%(from)s” to “%(to)s”.")
            % {"from": Status(locked.status).label, "to": Status(to_status).label},
            code="forbidden_transition",
        )
    reason = required_text(reason, "reason")
    clock.check_not_future(effective_on, locked.program, "effective_on")
    last = locked.status_changes.order_by("-effective_on").first()
    floor = max(d for d in (locked.entry_date, last and last.effective_on) if d)
    if effective_on < floor:
        raise ValidationError(
            {"effective_on": _("The date cannot precede program entry or the last change.")}
        )
    StatusChange.objects.create(
        participant=locked,
        created_by=acting_user,
        from_status=locked.status,
        to_status=to_status,
        effective_on=effective_on,
        reason=reason,
    )
    fields = ["status"]
    if to_status in EXIT_STATUSES:
        locked.exit_date, locked.exit_reason = effective_on, reason
        fields += ["exit_date", "exit_reason"]
    locked.status = to_status
    locked.save(update_fields=fields)
    record_about(acting_user, A.UPDATE, locked, locked, request, status=to_status)
    return locked


@transaction.atomic
def phase_change(
    *,
    acting_user: User,
    participant: Participant,
    to_phase: Phase,
    effective_on: date,
    reason: str,
    expected_phase: Phase | None,
    request: HttpRequest | None = None,
) -> Participant:
    """Promote or demote a participant (with the reason)."""
    locked = lock_participant(participant)
    if locked.phase_id != (expected_phase.pk if expected_phase else None):
        raise ValidationError(STALE, code="stale")
    if locked.status not in IN_PROGRAM_STATUSES:
        raise ValidationError(_("Only a participant in the program can change phase."))
    if to_phase.program_id != locked.program_id:
        raise ValidationError({"to_phase": _("That phase belongs to another program.")})
    if to_phase.pk == locked.phase_id:
        raise ValidationError({"to_phase": _("The participant is already in that phase.")})
    reason = required_text(reason, "reason")
    clock.check_not_future(effective_on, locked.program, "effective_on")
    if effective_on < locked.entry_date:
        raise ValidationError({"effective_on": _("The date cannot precede program entry.")})
    # As for status: a history dated out of order would misstate time spent in each phase.
    last = locked.phase_changes.order_by("-effective_on").first()
    if last is not None and effective_on < last.effective_on:
        raise ValidationError(
            {"effective_on": _("The date cannot precede program entry or the last change.")}
        )
    PhaseChange.objects.create(
        participant=locked,
        created_by=acting_user,
        from_phase=locked.phase,
        to_phase=to_phase,
        effective_on=effective_on,
        reason=reason,
    )
    locked.phase = to_phase
    locked.save(update_fields=["phase"])
    record_about(acting_user, A.UPDATE, locked, locked, request, phase=to_phase.number)
    return locked


@transaction.atomic
def disposition_record(
    *,
    acting_user: User,
    participant: Participant,
    disposition: str,
    disposition_date: date,
    request: HttpRequest | None = None,
) -> Participant:
    """The legal outcome of the case, apart from the program outcome."""
    locked = lock_participant(participant)
    if locked.status not in [*EXIT_STATUSES, Status.DECLINED]:
        raise ValidationError(_("Record the legal disposition after the participant has exited."))
    if disposition not in Disposition.values or not disposition:
        raise ValidationError({"disposition": _("Choose a legal disposition.")})
    clock.check_not_future(disposition_date, locked.program, "disposition_date")
    if disposition_date < (locked.exit_date or locked.referred_on):
        raise ValidationError({"disposition_date": _("The disposition cannot precede the exit.")})
    locked.disposition, locked.disposition_date = disposition, disposition_date
    locked.save(update_fields=["disposition", "disposition_date"])
    record_about(acting_user, A.UPDATE, locked, locked, request, disposition=disposition)
    return locked
