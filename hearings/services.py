"""Every write on the court calendar and dockets. Each service takes the acting user, is
atomic, and leaves an audit row; status and phase changes made in court go through the
participants services, so the rules are written once."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from dateutil.rrule import WEEKLY, rrule
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from hearings.models import (
    Attendance,
    DocketEntry,
    HearingSeries,
    HearingSession,
    Recommendation,
    Response,
    ResponseKind,
    ResponseType,
    StaffingNote,
    Unit,
)
from participants import services as participant_services
from participants.models import OPEN_STATUSES, Participant, Status
from tjp import audit, clock
from tjp.access import check_grantee
from tjp.clock import program_today
from tjp.models import AuditEvent, Program, User
from tjp.roles import Role, role_of

A = AuditEvent.Action
MAX_SERIES_SESSIONS = 156  # three years of weekly sessions
# Who can be put on a docket by "schedule everyone due": in the program and able to appear.
SCHEDULABLE_STATUSES = [Status.ACTIVE, Status.PENDING_TERMINATION, Status.IN_CUSTODY]


def _when(moment: datetime, program: Program) -> str:
    return formats.date_format(clock.local(moment, program), "SHORT_DATETIME_FORMAT")


def venue_of(program: Program, courtroom: str) -> str:
    """The courtroom as a place: the same room name in another courthouse is another room."""
    return f"{' '.join(program.jurisdiction.split()).casefold()}|{courtroom.casefold()}"


def _clean_courtroom(courtroom: str) -> str:
    courtroom = " ".join((courtroom or "").split())
    if not courtroom:
        raise ValidationError({"courtroom": _("This field is required.")})
    return courtroom


def _check_judge(judge: User, program: Program) -> None:
    check_grantee(judge, program, Role.JUDGE, "judge")


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


# --- in court --------------------------------------------------------------------------------
STALE_FIELD = _(
    "Someone else changed this while you were working; it now reads “%(value)s”. "
    "Check it and save again."
)
ENTRY_FIELDS = ("attendance", "judicial_minutes", "judge_notes", "next_appearance")


def _as_text(value) -> str:
    return "" if value is None else str(value)


def _parse(field: str, raw: str):
    raw = (raw or "").strip()
    if field == "attendance":
        if raw not in Attendance.values:
            raise ValidationError({field: _("Choose a valid attendance.")})
        return raw
    if field == "judicial_minutes":
        if not raw:
            return None
        if not raw.isdigit() or int(raw) > 240:
            raise ValidationError({field: _("Enter whole minutes between 0 and 240.")})
        return int(raw)
    if field == "next_appearance":
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ValidationError({field: _("Enter a valid date.")}) from exc
    return raw


def _lock_entry(entry: DocketEntry) -> DocketEntry:
    return (
        DocketEntry.objects.select_for_update(of=("self",))
        .select_related("session__program", "participant__person", "participant__program")
        .get(pk=entry.pk)
    )


@transaction.atomic
def entry_update(
    *,
    acting_user: User,
    entry: DocketEntry,
    field: str,
    value: str,
    expected: str,
    request: HttpRequest | None = None,
) -> DocketEntry:
    """Save one field of a docket entry as soon as it changes in court. Each field is saved on
    its own, so two people recording different fields never overwrite each other; for the same
    field, the value the user started from must still be there."""
    if field not in ENTRY_FIELDS:
        raise ValidationError(_("This cannot be changed here."))
    locked = _lock_entry(entry)
    session, program = locked.session, locked.session.program
    if session.cancelled:
        raise ValidationError(_("This session is cancelled."))
    current = _as_text(getattr(locked, field))
    if current != (expected or ""):
        shown = current
        if field == "attendance":
            shown = Attendance(current).label
        raise ValidationError({field: STALE_FIELD % {"value": shown}}, code="stale")
    new = _parse(field, value)
    session_day = clock.local_date(session.starts_at, program)
    today = program_today(program)
    if field in ("attendance", "judicial_minutes") and new and session_day > today:
        raise ValidationError({field: _("This session has not been held yet.")})
    if field == "next_appearance" and new is not None and new <= session_day:
        raise ValidationError({field: _("The next appearance must come after this session.")})
    setattr(locked, field, new)
    updated = [field, "updated_at"]
    if field == "attendance":
        locked.phase = locked.participant.phase
        updated.append("phase")
    locked.save(update_fields=updated)
    audit.record_about(
        acting_user,
        A.UPDATE,
        locked,
        locked.participant,
        request,
        field=field,
        value="" if field == "judge_notes" else _as_text(new),
    )
    if field == "next_appearance" and new is not None:
        _place_on_session_of(acting_user, locked, new, request)
    return locked


def _place_on_session_of(acting_user, entry: DocketEntry, day: date, request) -> None:
    """A next appearance on a day the program sits: put the participant on that docket."""
    program = entry.session.program
    start = datetime.combine(day, time(), tzinfo=clock.zone(program))
    sessions = list(
        HearingSession.objects.filter(
            program=program,
            cancelled=False,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
    )
    if len(sessions) != 1 or sessions[0].entries.filter(participant=entry.participant).exists():
        return
    try:
        with transaction.atomic():
            _add(acting_user, _lock_session(sessions[0]), entry.participant, request)
    except ValidationError:
        pass  # the date is kept; the coordinator schedules by hand (the docket shows it)


def bench_warrant(
    *, acting_user: User, entry: DocketEntry, request: HttpRequest | None = None
) -> Participant:
    """The participant did not appear: the judge issues a bench warrant (a status change
    through the participants service, dated the day of the hearing)."""
    if entry.attendance != Attendance.ABSENT:
        raise ValidationError(_("A warrant follows an absence recorded at this hearing."))
    participant = entry.participant
    program = entry.session.program
    day = clock.local_date(entry.session.starts_at, program)
    return participant_services.status_change(
        acting_user=acting_user,
        participant=participant,
        to_status=Status.WARRANT,
        effective_on=day,
        reason=_("Bench warrant: failed to appear at the hearing of %(date)s.")
        % {"date": formats.date_format(day, "SHORT_DATE_FORMAT")},
        expected_status=participant.status,
        request=request,
    )


def _magnitude(response_type: ResponseType, raw) -> Decimal | None:
    if response_type.unit == Unit.NONE:
        return None
    try:
        value = Decimal(str(raw)) if raw not in (None, "") else None
    except InvalidOperation:
        value = None
    if value is None or value <= 0 or value >= 10000:
        raise ValidationError(
            {
                "magnitude": _("Enter how much (%(unit)s).")
                % {"unit": Unit(response_type.unit).label}
            }
        )
    if response_type.unit == Unit.JAIL_DAYS and value != value.to_integral_value():
        raise ValidationError({"magnitude": _("Jail sanctions are given in whole days.")})
    return value


@transaction.atomic
def response_add(
    *,
    acting_user: User,
    entry: DocketEntry,
    response_type: ResponseType,
    behavior_on: date,
    magnitude=None,
    notes: str = "",
    request: HttpRequest | None = None,
) -> Response:
    """An incentive, sanction or service adjustment given at this hearing, answering the
    behaviour of `behavior_on`."""
    locked = _lock_entry(entry)
    session, program, participant = locked.session, locked.session.program, locked.participant
    if session.cancelled:
        raise ValidationError(_("This session is cancelled."))
    if response_type.program_id != program.pk or not response_type.active:
        raise ValidationError({"response_type": _("Choose a response from the program's catalog.")})
    responded_on = clock.local_date(session.starts_at, program)
    if responded_on > program_today(program):
        raise ValidationError(_("This session has not been held yet."))
    if behavior_on is None or behavior_on > responded_on:
        raise ValidationError(
            {"behavior_on": _("The behaviour must come before or on the day of the hearing.")}
        )
    start = participant.entry_date or participant.referred_on
    if behavior_on < start:
        raise ValidationError(
            {"behavior_on": _("The behaviour cannot precede the participant's program entry.")}
        )
    response = Response.objects.create(
        participant=participant,
        entry=locked,
        response_type=response_type,
        kind=response_type.kind,
        unit=response_type.unit,
        magnitude=_magnitude(response_type, magnitude),
        behavior_on=behavior_on,
        responded_on=responded_on,
        notes=(notes or "").strip(),
        created_by=acting_user,
    )
    audit.record_about(
        acting_user,
        A.CREATE,
        response,
        participant,
        request,
        kind=response.kind,
        magnitude=_as_text(response.magnitude),
    )
    return response


def exceeds_jail_standard(response: Response, program: Program) -> bool:
    return (
        response.unit == Unit.JAIL_DAYS
        and response.magnitude is not None
        and response.magnitude > program.max_jail_sanction_days
    )


@transaction.atomic
def staffing_note_add(
    *,
    acting_user: User,
    entry: DocketEntry,
    text: str,
    recommendation: str = "",
    request: HttpRequest | None = None,
) -> StaffingNote:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("This field is required.")})
    if recommendation not in Recommendation.values:
        raise ValidationError({"recommendation": _("Choose a valid recommendation.")})
    role = role_of(acting_user)
    note = StaffingNote.objects.create(
        entry=entry,
        author=acting_user,
        author_role=role.value if role else "",
        recommendation=recommendation,
        text=text,
    )
    audit.record_about(acting_user, A.CREATE, note, entry.participant, request)
    return note


# --- the program's catalog -------------------------------------------------------------------
DEFAULT_CATALOG = {
    "en": [
        (ResponseKind.INCENTIVE, "Verbal praise from the judge", Unit.NONE),
        (ResponseKind.INCENTIVE, "Applause in court", Unit.NONE),
        (ResponseKind.INCENTIVE, "Certificate of achievement", Unit.NONE),
        (ResponseKind.INCENTIVE, "Gift card", Unit.AMOUNT),
        (ResponseKind.INCENTIVE, "Reduced court appearances", Unit.NONE),
        (ResponseKind.INCENTIVE, "Curfew relaxed", Unit.DAYS),
        (ResponseKind.SANCTION, "Verbal admonishment", Unit.NONE),
        (ResponseKind.SANCTION, "Community service", Unit.COMMUNITY_SERVICE_HOURS),
        (ResponseKind.SANCTION, "Curfew", Unit.CURFEW_DAYS),
        (ResponseKind.SANCTION, "Jury box observation", Unit.HOURS),
        (ResponseKind.SANCTION, "Jail", Unit.JAIL_DAYS),
        (ResponseKind.SERVICE, "Increased drug testing", Unit.DAYS),
        (ResponseKind.SERVICE, "Treatment level of care reassessed", Unit.NONE),
        (ResponseKind.SERVICE, "Referral to additional services", Unit.NONE),
    ],
    "es": [
        (ResponseKind.INCENTIVE, "Reconocimiento verbal del juez", Unit.NONE),
        (ResponseKind.INCENTIVE, "Aplauso en audiencia", Unit.NONE),
        (ResponseKind.INCENTIVE, "Diploma de logro", Unit.NONE),
        (ResponseKind.INCENTIVE, "Vale de despensa", Unit.AMOUNT),
        (ResponseKind.INCENTIVE, "Menos audiencias de seguimiento", Unit.NONE),
        (ResponseKind.SANCTION, "Amonestación", Unit.NONE),
        (ResponseKind.SANCTION, "Trabajo comunitario", Unit.COMMUNITY_SERVICE_HOURS),
        (ResponseKind.SANCTION, "Toque de queda", Unit.CURFEW_DAYS),
        (ResponseKind.SANCTION, "Arresto", Unit.JAIL_DAYS),
        (ResponseKind.SERVICE, "Más pruebas de detección", Unit.DAYS),
        (ResponseKind.SERVICE, "Revaloración del nivel de atención", Unit.NONE),
        (ResponseKind.SERVICE, "Canalización a otros servicios", Unit.NONE),
    ],
}


def catalog_ensure(program: Program) -> int:
    """Give a program without a catalog the default one, in its language (idempotent)."""
    if program.response_types.exists():
        return 0
    rows = DEFAULT_CATALOG.get(program.language, DEFAULT_CATALOG["en"])
    ResponseType.objects.bulk_create(
        ResponseType(program=program, kind=kind, name=name, unit=unit) for kind, name, unit in rows
    )
    return len(rows)


@transaction.atomic
def response_type_save(
    *,
    acting_user: User,
    program: Program,
    kind: str,
    name: str,
    unit: str,
    active: bool = True,
    response_type: ResponseType | None = None,
    request: HttpRequest | None = None,
) -> ResponseType:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if kind not in ResponseKind.values:
        raise ValidationError({"kind": _("Choose a kind.")})
    if unit not in Unit.values:
        raise ValidationError({"unit": _("Choose a unit.")})
    duplicate = program.response_types.filter(name__iexact=name)
    if response_type is not None:
        duplicate = duplicate.exclude(pk=response_type.pk)
    if duplicate.exists():
        raise ValidationError({"name": _("The catalog already has a response with this name.")})
    target = response_type or ResponseType(program=program)
    target.kind, target.name, target.unit, target.active = kind, name, unit, active
    target.save()
    audit.record(
        actor=acting_user,
        action=A.UPDATE if response_type else A.CREATE,
        obj=target,
        program=program,
        request=request,
        detail={"name": name},
    )
    return target
