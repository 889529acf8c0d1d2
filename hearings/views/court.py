"""In court: the docket of one session, where the coordinator (or the judge) records what
happens as each case is called, and the page of one docket entry (responses, phase and status
changes, staffing notes). Each docket cell saves on its own through hearings.services.entry_update,
so two people recording different fields never overwrite each other."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from hearings import services
from hearings.access import (
    entries_visible_to,
    full_participant_ids,
    get_entry_for_user,
    get_session_for_user,
)
from hearings.court_forms import EntryFieldForm, ResponseForm, StaffingNoteForm, WarrantForm
from hearings.models import Attendance, DocketEntry, Response, ResponseKind, ResponseType
from participants.actions import ACTIONS
from participants.forms import PhaseForm, StatusForm
from participants.models import Status
from participants.transitions import is_allowed
from tjp import audit, clock
from tjp.clock import program_today
from tjp.forms import attach_errors
from tjp.models import AuditEvent
from tjp.roles import Role

VIEW = "hearings.view_hearingsession"
RECORD = "hearings.record_outcome"
ADD_NOTE = "hearings.add_staffingnote"
CHANGE_STATUS = "participants.change_status"

FIELD_LABELS = {
    "attendance": gettext_lazy("Attendance of %(name)s"),
    "judicial_minutes": gettext_lazy("Minutes with the judge, %(name)s"),
    "judge_notes": gettext_lazy("Judge's notes on %(name)s"),
    "next_appearance": gettext_lazy("Next appearance of %(name)s"),
}
# Only what happened in court needs the session to have been held.
NEEDS_HELD = ("attendance", "judicial_minutes")


def _text(value) -> str:
    return "" if value is None else str(value)


@dataclass
class Cell:
    """One editable docket field: what the input shows, and the stored value it started from."""

    entry: DocketEntry
    field: str
    value: str
    expected: str
    session_day: date
    back: str = "court"
    disabled: bool = False
    saved: bool = False
    error: str = ""

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field] % {"name": self.entry.participant.person.full_name}

    @property
    def dom_id(self) -> str:
        # Stable across swaps: htmx gives focus back to the element with the same id.
        return f"{self.field}-{self.entry.uuid}"

    @property
    def choices(self):
        return Attendance.choices

    @property
    def min_date(self) -> date:
        return self.session_day + timedelta(days=1)


def _cells(entry, *, session_day: date, held: bool, back: str = "court") -> list[Cell]:
    return [
        Cell(
            entry,
            name,
            _text(getattr(entry, name)),
            _text(getattr(entry, name)),
            session_day,
            back=back,
            disabled=name in NEEDS_HELD and not held,
        )
        for name in services.ENTRY_FIELDS
    ]


@dataclass
class CourtPerms:
    record: bool
    warrant: bool
    note: bool
    change_status: bool


def _perms(user, session) -> CourtPerms:
    record = user.has_perm(RECORD) and not session.cancelled
    change_status = record and user.has_perm(CHANGE_STATUS)
    return CourtPerms(record, change_status, user.has_perm(ADD_NOTE), change_status)


def _warrant_possible(entry: DocketEntry, perms: CourtPerms) -> bool:
    return (
        perms.warrant
        and entry.attendance == Attendance.ABSENT
        and is_allowed(entry.participant.status, Status.WARRANT)
    )


@dataclass
class Row:
    entry: DocketEntry
    full: bool
    cells: list[Cell] = field(default_factory=list)
    responses: list[tuple[str, int]] = field(default_factory=list)
    can_warrant: bool = False

    @property
    def response_total(self) -> int:
        return sum(n for _label, n in self.responses)


def _response_tallies(entries) -> dict[int, list[tuple[str, int]]]:
    """Responses given at this hearing, per entry and kind (one query)."""
    if not entries:
        return {}
    tallies: dict[int, list[tuple[str, int]]] = {}
    counts = (
        Response.objects.filter(entry__in=[e.pk for e in entries])
        .values("entry_id", "kind")
        .annotate(n=Count("pk"))
        .order_by("entry_id", "kind")
    )
    for row in counts:
        tallies.setdefault(row["entry_id"], []).append((ResponseKind(row["kind"]).label, row["n"]))
    return tallies


def _rows(entries, full: set[int], *, perms: CourtPerms, session_day: date, held: bool):
    """One row per entry; entries the user may see only by name get no details."""
    tallies = _response_tallies([e for e in entries if e.participant_id in full])
    return [
        Row(
            e,
            full=True,
            cells=_cells(e, session_day=session_day, held=held),
            responses=tallies.get(e.pk, []),
            can_warrant=_warrant_possible(e, perms),
        )
        if e.participant_id in full
        else Row(e, full=False)
        for e in entries
    ]


@require_GET
def court_docket(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=VIEW)
    program = session.program
    entries = list(
        entries_visible_to(request.user)
        .filter(session=session)
        .select_related("participant__person", "participant__phase")
        .order_by("position", "pk")
    )
    full = full_participant_ids(request.user, entries)
    day = clock.local_date(session.starts_at, program)
    held = day <= program_today(program)
    perms = _perms(request.user, session)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=session,
        program=program,
        request=request,
        detail={"court": [str(e.participant.uuid) for e in entries if e.participant_id in full]},
    )
    context = {
        "session": session,
        "program": program,
        "rows": _rows(entries, full, perms=perms, session_day=day, held=held),
        "court_perms": perms,
        "held": held,
    }
    with clock.program_zone(program):
        return render(request, "hearings/court.html", context)


def _back(entry: DocketEntry, back: str | None):
    if back == "entry":
        return redirect("entry_detail", entry_uuid=entry.uuid)
    url = reverse("court_docket", kwargs={"session_uuid": entry.session.uuid})
    return redirect(f"{url}#entry-{entry.uuid}")


def _save_cell(request, entry: DocketEntry, data: dict) -> tuple[Cell, int]:
    """The service saves the field; the cell comes back from the stored value (saved), or with
    the user's value, the message and the value now stored (refused: 409 if it was stale)."""
    name, value, expected = data["field"], data["value"], data["expected"]
    back = data["back"] or "court"
    day = clock.local_date(entry.session.starts_at, entry.session.program)
    try:
        entry = services.entry_update(
            acting_user=request.user,
            entry=entry,
            field=name,
            value=value,
            expected=expected,
            request=request,
        )
    except ValidationError as exc:
        entry.refresh_from_db(fields=[name])
        current = _text(getattr(entry, name))
        cell = Cell(entry, name, value, current, day, back=back, error=" ".join(exc.messages))
        return cell, 409 if current != expected else 400
    now = _text(getattr(entry, name))
    return Cell(entry, name, now, now, day, back=back, saved=True), 200


@require_POST
def entry_field(request, entry_uuid):
    """Save one docket cell. htmx gets the cell back (200 saved, 400 refused, 409 when someone
    else changed the value meanwhile); a plain form post goes back to the page."""
    entry = get_entry_for_user(request.user, entry_uuid, perm=RECORD)
    form = EntryFieldForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("This cannot be changed here."))
    cell, status = _save_cell(request, entry, form.cleaned_data)
    if not request.htmx:
        if cell.error:
            messages.error(request, f"{cell.label}: {cell.error}")
        else:
            messages.success(request, _("Saved: %(what)s.") % {"what": cell.label})
        return _back(cell.entry, cell.back)
    context = {
        "cell": cell,
        # A recorded absence may call for a warrant: refresh that button beside the cell.
        "w_oob": cell.field == "attendance",
        "w_entry": cell.entry,
        "w_back": cell.back,
        "w_show": _warrant_possible(cell.entry, _perms(request.user, cell.entry.session)),
    }
    return render(request, "hearings/court.html#field_response", context, status=status)


@require_POST
def entry_warrant(request, entry_uuid):
    entry = get_entry_for_user(request.user, entry_uuid, perm=RECORD)
    if not request.user.has_perm(CHANGE_STATUS):
        raise PermissionDenied
    form = WarrantForm(request.POST)
    back = form.cleaned_data["back"] if form.is_valid() else "court"
    try:
        services.bench_warrant(acting_user=request.user, entry=entry, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Bench warrant issued for %(name)s.") % {"name": entry.participant.person.full_name},
        )
    return _back(entry, back)


# --- one entry -------------------------------------------------------------------------------
def _catalog(program) -> list[ResponseType]:
    return list(ResponseType.objects.filter(program=program, active=True))


def _entry_page(request, entry: DocketEntry, *, status: int = 200, **bound):
    session, participant = entry.session, entry.participant
    program = session.program
    perms = _perms(request.user, session)
    day, today = clock.local_date(session.starts_at, program), program_today(program)
    responses = list(entry.responses.select_related("response_type", "created_by"))
    for r in responses:
        r.over_standard = services.exceeds_jail_standard(r, program)
    notes = list(entry.staffing_notes.select_related("author"))
    for note in notes:
        note.role_label = Role(note.author_role).label if note.author_role in Role.values else ""
    catalog = _catalog(program) if perms.record else []
    forms = {
        "note_form": StaffingNoteForm(prefix="note") if perms.note else None,
        "response_form": (
            ResponseForm(catalog=catalog, prefix="response", initial={"behavior_on": day})
            if perms.record and catalog
            else None
        ),
    }
    for name, form_class in (("phase", PhaseForm), ("status", StatusForm)):
        applies = perms.change_status and ACTIONS[name].applies(participant)
        forms[f"{name}_form"] = (
            form_class(participant=participant, prefix=name, initial={"effective_on": day})
            if applies
            else None
        )
    forms.update(bound)
    context = {
        "entry": entry,
        "session": session,
        "program": program,
        "participant": participant,
        "court_perms": perms,
        "held": day <= today,
        "cells": _cells(entry, session_day=day, held=day <= today, back="entry"),
        "can_warrant": _warrant_possible(entry, perms),
        "responses": responses,
        "notes": notes,
        "has_catalog": bool(catalog),
        **forms,
    }
    with clock.program_zone(program):
        return render(request, "hearings/entry_detail.html", context, status=status)


@require_GET
def entry_detail(request, entry_uuid):
    entry = get_entry_for_user(request.user, entry_uuid, perm=VIEW)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=entry,
        program=entry.session.program,
        participant_uuid=entry.participant.uuid,
        request=request,
    )
    return _entry_page(request, entry)


def _saved(request, entry, message):
    messages.success(request, message)
    return redirect("entry_detail", entry_uuid=entry.uuid)


@require_POST
def entry_note_add(request, entry_uuid):
    entry = get_entry_for_user(request.user, entry_uuid, perm=ADD_NOTE)
    form = StaffingNoteForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            services.staffing_note_add(
                acting_user=request.user, entry=entry, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return _saved(request, entry, _("Staffing note added."))
    return _entry_page(request, entry, status=400, note_form=form)


@require_POST
def entry_response_add(request, entry_uuid):
    entry = get_entry_for_user(request.user, entry_uuid, perm=RECORD)
    form = ResponseForm(request.POST, catalog=_catalog(entry.session.program), prefix="response")
    if form.is_valid():
        try:
            services.response_add(
                acting_user=request.user, entry=entry, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return _saved(request, entry, _("Response recorded."))
    return _entry_page(request, entry, status=400, response_form=form)


def _participant_action(request, entry_uuid, name, form_class):
    """A phase or status change made in court: the participants action and service, dated by
    default the day of the hearing."""
    entry = get_entry_for_user(request.user, entry_uuid, perm=RECORD)
    action, participant = ACTIONS[name], entry.participant
    if not request.user.has_perm(action.perm):
        raise PermissionDenied
    if not action.applies(participant):
        messages.error(
            request, _("This action is not possible in the participant's current situation.")
        )
        return redirect("entry_detail", entry_uuid=entry.uuid)
    form = form_class(request.POST, participant=participant, prefix=name)
    if form.is_valid():
        try:
            action.run(
                user=request.user,
                participant=participant,
                target=None,
                data=form.cleaned_data,
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return _saved(request, entry, _("Saved."))
    return _entry_page(request, entry, status=400, **{f"{name}_form": form})


@require_POST
def entry_phase(request, entry_uuid):
    return _participant_action(request, entry_uuid, "phase", PhaseForm)


@require_POST
def entry_status(request, entry_uuid):
    return _participant_action(request, entry_uuid, "status", StatusForm)


urlpatterns = [
    path("sessions/<uuid:session_uuid>/court/", court_docket, name="court_docket"),
    path("entries/<uuid:entry_uuid>/", entry_detail, name="entry_detail"),
    path("entries/<uuid:entry_uuid>/field/", entry_field, name="entry_field"),
    path("entries/<uuid:entry_uuid>/warrant/", entry_warrant, name="entry_warrant"),
    path("entries/<uuid:entry_uuid>/responses/", entry_response_add, name="entry_response_add"),
    path("entries/<uuid:entry_uuid>/notes/", entry_note_add, name="entry_note_add"),
    path("entries/<uuid:entry_uuid>/phase/", entry_phase, name="entry_phase"),
    path("entries/<uuid:entry_uuid>/status/", entry_status, name="entry_status"),
]
