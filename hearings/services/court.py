"""In court: attendance, minutes, notes, next appearance, responses, staffing notes, status and
phase changes."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats
from django.utils.translation import gettext as _

from hearings.models import (
    Attendance,
    DocketEntry,
    HearingSession,
    Recommendation,
    Response,
    ResponseType,
    StaffingNote,
    Unit,
)
from hearings.services.dockets import _add
from hearings.services.rules import A
from hearings.services.sessions import _lock_session
from participants import services as participant_services
from participants.models import Participant, Status
from tjp import audit, clock
from tjp.clock import program_today
from tjp.models import Program, User
from tjp.roles import role_of

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
