"""Conflicts: the judge, the courtroom or a participant already taken at that time."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from hearings.models import (
    DocketEntry,
    HearingSession,
)
from hearings.services.rules import _when, venue_of
from participants.models import Participant
from tjp.models import Program, User


# --- conflicts -------------------------------------------------------------------------------
def session_conflicts(
    *,
    program: Program,
    judge: User,
    courtroom: str,
    starts_at: datetime,
    ends_at: datetime,
    exclude: HearingSession | None = None,
) -> list[str]:
    """Why a session at this time cannot be held: the judge or the courtroom is taken. The
    messages name only what the user may know (another program's session is not described)."""
    overlapping = HearingSession.objects.filter(
        cancelled=False, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    problems = []
    for other in overlapping.filter(
        Q(judge=judge) | Q(venue=venue_of(program, courtroom))
    ).select_related("program"):
        when = _when(other.starts_at, program)
        if other.judge_id == judge.pk:
            problems.append(
                _("%(judge)s already sits then (session at %(when)s).")
                % {"judge": judge, "when": when}
            )
        else:
            problems.append(
                _("Courtroom %(room)s is already booked then (session at %(when)s).")
                % {"room": courtroom, "when": when}
            )
    return problems


def _participant_conflict(participant: Participant, session: HearingSession) -> str | None:
    clash = (
        DocketEntry.objects.filter(
            participant=participant,
            session__cancelled=False,
            session__starts_at__lt=session.ends_at,
            session__ends_at__gt=session.starts_at,
        )
        .exclude(session=session)
        .select_related("session")
        .first()
    )
    if clash is None:
        return None
    return _("%(name)s is already on the docket of another session then (%(when)s).") % {
        "name": participant.person.full_name,
        "when": _when(clash.session.starts_at, session.program),
    }


def _save_session(session: HearingSession) -> None:
    """Insert or update; the exclusion constraints are the last word when two people book the
    same judge or room at the same moment."""
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("The judge or the courtroom was just booked by someone else at that time."),
            code="conflict",
        ) from exc
