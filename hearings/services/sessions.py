"""Sessions and recurring series: create, move, cancel."""

from datetime import date, datetime, time, timedelta

from dateutil.rrule import WEEKLY, rrule
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hearings.models import (
    HearingSeries,
    HearingSession,
)
from hearings.services.conflicts import _participant_conflict, _save_session, session_conflicts
from hearings.services.rules import MAX_SERIES_SESSIONS, A, _check_judge, _clean_courtroom, venue_of
from tjp import audit, clock
from tjp.models import Program, User


# --- sessions --------------------------------------------------------------------------------
def _span(program: Program, day: date, start: time, duration_minutes: int):
    if not duration_minutes or duration_minutes < 5 or duration_minutes > 12 * 60:
        raise ValidationError(
            {"duration_minutes": _("A session lasts between 5 minutes and 12 hours.")}
        )
    starts_at = datetime.combine(day, start, tzinfo=clock.zone(program))
    return starts_at, starts_at + timedelta(minutes=duration_minutes)


@transaction.atomic
def session_create(
    *,
    acting_user: User,
    program: Program,
    kind: str,
    judge: User,
    courtroom: str,
    day: date,
    start: time,
    duration_minutes: int,
    notes: str = "",
    request: HttpRequest | None = None,
) -> HearingSession:
    courtroom = _clean_courtroom(courtroom)
    _check_judge(judge, program)
    starts_at, ends_at = _span(program, day, start, duration_minutes)
    problems = session_conflicts(
        program=program, judge=judge, courtroom=courtroom, starts_at=starts_at, ends_at=ends_at
    )
    if problems:
        raise ValidationError(problems, code="conflict")
    session = HearingSession(
        program=program,
        kind=kind,
        judge=judge,
        courtroom=courtroom,
        venue=venue_of(program, courtroom),
        starts_at=starts_at,
        ends_at=ends_at,
        notes=notes.strip(),
        created_by=acting_user,
    )
    _save_session(session)
    audit.record(actor=acting_user, action=A.CREATE, obj=session, program=program, request=request)
    return session


def series_dates(starts_on: date, ends_on: date, weekday: int, interval_weeks: int) -> list[date]:
    # rrule counts "every N weeks" from the week of dtstart: start on the first session's day,
    # or a first date later in the week than the weekday would skip N weeks, not one.
    first = starts_on + timedelta(days=(weekday - starts_on.weekday()) % 7)
    return [
        d.date()
        for d in rrule(
            WEEKLY,
            dtstart=datetime.combine(first, time()),
            until=datetime.combine(ends_on, time()),
            byweekday=weekday,
            interval=interval_weeks,
        )
    ]


@transaction.atomic
def series_create(
    *,
    acting_user: User,
    program: Program,
    kind: str,
    judge: User,
    courtroom: str,
    weekday: int,
    start: time,
    duration_minutes: int,
    starts_on: date,
    ends_on: date,
    interval_weeks: int = 1,
    request: HttpRequest | None = None,
) -> HearingSeries:
    """Every session of a recurring series, or none: a conflict on any date refuses the whole
    series and lists every conflicting date."""
    courtroom = _clean_courtroom(courtroom)
    _check_judge(judge, program)
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The last date cannot precede the first.")})
    if not 1 <= interval_weeks <= 8:
        raise ValidationError({"interval_weeks": _("Choose between every 1 and every 8 weeks.")})
    dates = series_dates(starts_on, ends_on, weekday, interval_weeks)
    if not dates:
        raise ValidationError(_("No date between the first and last dates falls on that day."))
    if len(dates) > MAX_SERIES_SESSIONS:
        raise ValidationError(
            {"ends_on": _("A series holds at most %(n)d sessions.") % {"n": MAX_SERIES_SESSIONS}}
        )
    series = HearingSeries.objects.create(
        program=program,
        kind=kind,
        judge=judge,
        courtroom=courtroom,
        weekday=weekday,
        start_time=start,
        duration_minutes=duration_minutes,
        interval_weeks=interval_weeks,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=acting_user,
    )
    problems, sessions = [], []
    for day in dates:
        starts_at, ends_at = _span(program, day, start, duration_minutes)
        problems += session_conflicts(
            program=program, judge=judge, courtroom=courtroom, starts_at=starts_at, ends_at=ends_at
        )
        sessions.append(
            HearingSession(
                program=program,
                series=series,
                kind=kind,
                judge=judge,
                courtroom=courtroom,
                venue=venue_of(program, courtroom),
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=acting_user,
            )
        )
    if problems:
        raise ValidationError(problems, code="conflict")
    try:
        with transaction.atomic():
            HearingSession.objects.bulk_create(sessions)
    except IntegrityError as exc:
        raise ValidationError(
            _("The judge or the courtroom was just booked by someone else at that time."),
            code="conflict",
        ) from exc
    audit.record(
        actor=acting_user,
        action=A.CREATE,
        obj=series,
        program=program,
        request=request,
        detail={"sessions": len(sessions)},
    )
    return series


def _lock_session(session: HearingSession) -> HearingSession:
    return (
        HearingSession.objects.select_for_update(of=("self",))
        .select_related("program", "judge")
        .get(pk=session.pk)
    )


STALE_SESSION = _("Someone else changed this session while you were working. Reload and try again.")


@transaction.atomic
def session_update(
    *,
    acting_user: User,
    session: HearingSession,
    expected_version: int,
    judge: User,
    courtroom: str,
    day: date,
    start: time,
    duration_minutes: int,
    notes: str = "",
    request: HttpRequest | None = None,
) -> HearingSession:
    """Move a session, or change its judge or courtroom. Everyone on its docket must still be
    free at the new time."""
    locked = _lock_session(session)
    if locked.version != expected_version:
        raise ValidationError(STALE_SESSION, code="stale")
    if locked.cancelled:
        raise ValidationError(_("This session is cancelled."))
    program = locked.program
    courtroom = _clean_courtroom(courtroom)
    _check_judge(judge, program)
    starts_at, ends_at = _span(program, day, start, duration_minutes)
    problems = session_conflicts(
        program=program,
        judge=judge,
        courtroom=courtroom,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude=locked,
    )
    locked.starts_at, locked.ends_at = starts_at, ends_at
    for entry in locked.entries.select_related("participant__person"):
        if problem := _participant_conflict(entry.participant, locked):
            problems.append(problem)
    if problems:
        raise ValidationError(problems, code="conflict")
    locked.judge, locked.courtroom = judge, courtroom
    locked.venue = venue_of(program, courtroom)
    locked.notes = notes.strip()
    locked.version += 1
    _save_session(locked)
    audit.record(actor=acting_user, action=A.UPDATE, obj=locked, program=program, request=request)
    return locked


@transaction.atomic
def session_cancel(
    *,
    acting_user: User,
    session: HearingSession,
    reason: str,
    request: HttpRequest | None = None,
) -> HearingSession:
    locked = _lock_session(session)
    if locked.cancelled:
        raise ValidationError(_("This session is already cancelled."))
    if locked.entries.exclude(attendance="").exists():
        raise ValidationError(_("A session whose outcomes are recorded cannot be cancelled."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("This field is required.")})
    locked.cancelled, locked.cancel_reason = True, reason
    locked.version += 1
    locked.save(update_fields=["cancelled", "cancel_reason", "version"])
    audit.record(
        actor=acting_user,
        action=A.UPDATE,
        obj=locked,
        program=locked.program,
        request=request,
        detail={"cancelled": True},
    )
    return locked
