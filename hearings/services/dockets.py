"""Dockets: adding participants, one by one or everyone due."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from hearings.models import (
    Attendance,
    DocketEntry,
    HearingSession,
)
from hearings.services.conflicts import _participant_conflict
from hearings.services.rules import SCHEDULABLE_STATUSES, A
from hearings.services.sessions import _lock_session
from participants import services as participant_services
from participants.models import OPEN_STATUSES, Participant
from tjp import audit, clock
from tjp.clock import program_today
from tjp.models import Program, User


# --- dockets ---------------------------------------------------------------------------------
def _add(acting_user, session: HearingSession, participant: Participant, request) -> DocketEntry:
    if session.cancelled:
        raise ValidationError(_("This session is cancelled."))
    if participant.program_id != session.program_id:
        raise ValidationError(_("The participant belongs to another program."))
    locked = participant_services.lock_participant(participant)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError(
            _("%(name)s is no longer in the program.") % {"name": locked.person.full_name}
        )
    if session.entries.filter(participant=locked).exists():
        raise ValidationError(
            _("%(name)s is already on this docket.") % {"name": locked.person.full_name}
        )
    if problem := _participant_conflict(locked, session):
        raise ValidationError(problem, code="conflict")
    position = (session.entries.aggregate(m=Max("position"))["m"] or 0) + 1
    entry = DocketEntry.objects.create(
        session=session,
        participant=locked,
        position=position,
        phase=locked.phase,
        added_by=acting_user,
    )
    audit.record_about(acting_user, A.CREATE, entry, locked, request)
    return entry


@transaction.atomic
def docket_add(
    *,
    acting_user: User,
    session: HearingSession,
    participant: Participant,
    request: HttpRequest | None = None,
) -> DocketEntry:
    return _add(acting_user, _lock_session(session), participant, request)


@dataclass
class HearingDue:
    """Where a participant stands against their phase's hearing frequency."""

    participant: Participant
    last_appearance: date | None  # last hearing they appeared at (present or remote)
    due_on: date | None  # by when they must appear again
    next_scheduled: date | None  # their next session not yet held

    def overdue_on(self, day: date) -> bool:
        return self.due_on is not None and self.due_on < day


def hearing_due(participants, *, today: date) -> list[HearingDue]:
    """Hearing due dates for these participants (two queries, whatever their number):
    last appearance (or program entry) plus the phase's interval."""
    participants = list(participants)
    by_pk = {p.pk: p for p in participants}
    last, upcoming = {}, {}
    if by_pk:
        rows = DocketEntry.objects.filter(
            participant__in=by_pk, session__cancelled=False
        ).values_list("participant_id", "attendance", "session__starts_at", "session__program_id")
        now = timezone.now()
        for pk, attendance, starts_at, _program in rows:
            p = by_pk[pk]
            day = clock.local_date(starts_at, p.program)
            if attendance in (Attendance.PRESENT, Attendance.REMOTE):
                last[pk] = max(last.get(pk, day), day)
            elif starts_at >= now - timedelta(hours=12) and not attendance:
                upcoming[pk] = min(upcoming.get(pk, day), day)
    result = []
    for p in participants:
        seen = last.get(p.pk)
        since = max(d for d in (seen, p.entry_date) if d) if (seen or p.entry_date) else None
        due = (
            since + timedelta(days=p.phase.hearing_interval_days)
            if since is not None and p.phase is not None
            else None
        )
        result.append(HearingDue(p, seen, due, upcoming.get(p.pk)))
    return result


def due_participants(program: Program, *, by: date, today: date, phase=None) -> list[HearingDue]:
    """Who must appear by `by` and is not yet on any session up to then."""
    queryset = Participant.objects.filter(
        program=program, status__in=SCHEDULABLE_STATUSES
    ).select_related("person", "phase", "program")
    if phase is not None:
        queryset = queryset.filter(phase=phase)
    return [
        d
        for d in hearing_due(queryset, today=today)
        if d.due_on is not None
        and d.due_on <= by
        and (d.next_scheduled is None or d.next_scheduled > by)
    ]


@transaction.atomic
def docket_add_due(
    *,
    acting_user: User,
    session: HearingSession,
    phase=None,
    request: HttpRequest | None = None,
) -> tuple[list[DocketEntry], list[str]]:
    """ "Schedule everyone (in this phase) whose next hearing is due by this session": adds
    those who can be added and says why the others could not."""
    session = _lock_session(session)
    program = session.program
    due = due_participants(
        program,
        by=clock.local_date(session.starts_at, program),
        today=program_today(program),
        phase=phase,
    )
    added, skipped = [], []
    for d in due:
        try:
            with transaction.atomic():
                added.append(_add(acting_user, session, d.participant, request))
        except ValidationError as exc:
            skipped.extend(exc.messages)
    return added, skipped


@transaction.atomic
def docket_remove(
    *, acting_user: User, entry: DocketEntry, request: HttpRequest | None = None
) -> None:
    locked = (
        DocketEntry.objects.select_for_update()
        .select_related("session__program", "participant")
        .get(pk=entry.pk)
    )
    if locked.attendance or locked.responses.exists():
        raise ValidationError(_("An entry with recorded outcomes cannot be removed."))
    audit.record_about(acting_user, A.DELETE, locked, locked.participant, request)
    locked.delete()
