"""A session's page: its header and docket, and (for coordinators) putting participants on the
docket one by one or everyone due, and taking them off."""

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from hearings import services
from hearings.access import (
    entries_visible_to,
    full_participant_ids,
    get_entry_for_user,
    get_session_for_user,
)
from hearings.forms import DocketAddForm, DocketDueForm
from hearings.models import Attendance
from participants.access import participants_visible_to
from participants.models import OPEN_STATUSES
from tjp import audit, clock
from tjp.access import can
from tjp.forms import attach_errors
from tjp.models import AuditEvent

SCHEDULE = "hearings.schedule_docket"


def _addable(user, session):
    """Participants of the session's program, still in it, the user sees, not yet on it."""
    return (
        participants_visible_to(user)
        .filter(program=session.program_id, status__in=OPEN_STATUSES)
        .exclude(docket_entries__session=session)
        .select_related("person", "phase")
        .order_by("person__last_name", "person__first_name", "pk")
    )


def _render(request, session, *, add_form=None, due_form=None, status=200):
    user = request.user
    entries = list(
        entries_visible_to(user)
        .filter(session=session)
        .select_related("participant__person", "participant__phase", "phase")
        .order_by("position", "pk")
    )
    full = full_participant_ids(user, entries)
    for entry in entries:
        entry.full = entry.participant_id in full
    audit.record(
        actor=user,
        action=AuditEvent.Action.VIEW,
        obj=session,
        program=session.program,
        request=request,
        detail={"participants": [str(e.participant.uuid) for e in entries]},
    )
    schedule = can(user, SCHEDULE) and not session.cancelled
    if schedule:
        add_form = add_form or DocketAddForm(participants=_addable(user, session))
        due_form = due_form or DocketDueForm(phases=session.program.phases.all())
    attendance = Counter(e.attendance for e in entries if e.full)
    context = {
        "session": session,
        "entries": entries,
        "attendance": [(label, attendance[value]) for value, label in Attendance.choices],
        "can_change": can(user, "hearings.change_hearingsession") and not session.cancelled,
        "can_schedule": schedule,
        "add_form": add_form,
        "due_form": due_form,
    }
    with clock.program_zone(session.program):
        return render(request, "hearings/session_detail.html", context, status=status)


@require_GET
def session_detail(request, session_uuid):
    return _render(request, get_session_for_user(request.user, session_uuid))


@require_POST
def docket_add(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=SCHEDULE)
    form = DocketAddForm(request.POST, participants=_addable(request.user, session))
    if form.is_valid():
        participant = form.cleaned_data["participant"]
        try:
            services.docket_add(
                acting_user=request.user, session=session, participant=participant, request=request
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is on the docket.") % {"name": participant.person.full_name},
            )
            return redirect("session_detail", session_uuid=session.uuid)
    return _render(request, session, add_form=form, status=400)


@require_POST
def docket_add_due(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=SCHEDULE)
    form = DocketDueForm(request.POST, phases=session.program.phases.all())
    if not form.is_valid():
        return _render(request, session, due_form=form, status=400)
    added, skipped = services.docket_add_due(
        acting_user=request.user, session=session, phase=form.cleaned_data["phase"], request=request
    )
    messages.success(
        request,
        ngettext(
            "%(count)d participant due for a hearing was put on the docket.",
            "%(count)d participants due for a hearing were put on the docket.",
            len(added),
        )
        % {"count": len(added)},
    )
    for reason in skipped:
        messages.warning(request, _("Not added: %(reason)s") % {"reason": reason})
    return redirect("session_detail", session_uuid=session.uuid)


@require_POST
def docket_remove(request, session_uuid, entry_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=SCHEDULE)
    entry = get_entry_for_user(request.user, entry_uuid, perm=SCHEDULE)
    if entry.session_id != session.pk:
        raise Http404
    try:
        services.docket_remove(acting_user=request.user, entry=entry, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(name)s was taken off the docket.") % {"name": entry.participant.person.full_name},
        )
    return redirect("session_detail", session_uuid=session.uuid)


urlpatterns = [
    path("sessions/<uuid:session_uuid>/", session_detail, name="session_detail"),
    path("sessions/<uuid:session_uuid>/docket/add/", docket_add, name="docket_add"),
    path("sessions/<uuid:session_uuid>/docket/due/", docket_add_due, name="docket_add_due"),
    path(
        "sessions/<uuid:session_uuid>/docket/<uuid:entry_uuid>/remove/",
        docket_remove,
        name="docket_remove",
    ),
]
