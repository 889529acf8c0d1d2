"""The treatment and testing pages. Provider information is read only through
treatment.queries.treatment_record (the consent gate); every write goes through a service."""

from decimal import Decimal
from functools import reduce
from operator import or_

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from participants.access import participants_visible_to
from participants.actions import run_action
from participants.disclosures import REDISCLOSURE_NOTICE
from tjp import audit, clock
from tjp.access import can, programs_visible_to
from tjp.clock import program_today
from tjp.forms import attach_errors
from tjp.models import AuditEvent
from treatment import services
from treatment.access import get_treatment_participant_for_user
from treatment.actions import ACTIONS, available
from treatment.forms import CallInForm
from treatment.models import TestSelection, TreatmentSession
from treatment.queries import treatment_record

TESTING_PERM = "treatment.view_testselection"
ATTENDED = {TreatmentSession.Attendance.ATTENDED, TreatmentSession.Attendance.LATE}


@require_GET
def participant_treatment(request, participant_uuid):
    participant = get_treatment_participant_for_user(request.user, participant_uuid)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        obj=participant,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
        detail={"page": "treatment"},
    )
    record = treatment_record(request.user, participant, request=request)
    context = {
        "participant": participant,
        "record": record,
        "hours_attended": _hours_attended(record.sessions),
        "actions": available(request.user, participant),
        "can_act": {name for name, a in ACTIONS.items() if request.user.has_perm(a.perm)},
        "redisclosure_notice": REDISCLOSURE_NOTICE,
    }
    with clock.program_zone(participant.program):
        return render(request, "treatment/participant.html", context)


def _hours_attended(sessions) -> Decimal:
    """Units of service: the hours of the sessions the participant came to."""
    return sum((s.hours for s in sessions if s.attendance in ATTENDED), Decimal(0))


def treatment_action(request, participant_uuid, action):
    return run_action(
        request,
        participant_uuid,
        action,
        registry=ACTIONS,
        back="participant_treatment",
        template="treatment/action.html",
    )


def testing_today(request):
    """Today's random selections in the user's programs, and the call-in lookup (POST)."""
    if not can(request.user, TESTING_PERM):
        raise PermissionDenied
    form = CallInForm(request.POST or None, user=request.user)
    answer = None
    if request.method == "POST" and form.is_valid():
        program = form.cleaned_data["program"]
        try:
            selection = services.selection_call_in(
                program=program,
                code=form.cleaned_data["code"],
                acting_user=request.user,
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            answer = {"program": program, "selection": selection}
    rows = _todays_selections(request.user)
    audit.record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        request=request,
        detail={"test_selections": [str(s.uuid) for s in rows]},
    )
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    context = {"rows": rows, "form": form, "answer": answer}
    return render(request, "treatment/testing.html", context, status=status)


def _todays_selections(user) -> list[TestSelection]:
    programs = list(programs_visible_to(user))
    if not programs:
        return []
    # Each program's own "today": programs may sit in different time zones.
    todays = reduce(or_, (Q(participant__program=p, day=program_today(p)) for p in programs))
    rows = list(
        TestSelection.objects.filter(todays, participant__in=participants_visible_to(user))
        .select_related("participant__person", "participant__program", "test")
        .order_by("participant__program__name", "deadline", "participant__person__last_name")
    )
    now = timezone.now()
    for row in rows:
        row.status = _selection_status(row, now)
    return rows


def _selection_status(selection: TestSelection, now) -> str:
    if selection.excused:
        return _("excused (%(reason)s)") % {"reason": selection.excused}
    if selection.test is not None:
        return _("missed") if selection.test.missed else _("specimen received")
    # Past the deadline the periodic job records a missed test; until it runs, say so already.
    return _("missed") if selection.deadline < now else _("pending")


@require_POST
def testing_run(request):
    if not can(request.user, TESTING_PERM):
        raise PermissionDenied
    selected = 0
    for program in programs_visible_to(request.user):
        selected += len(
            services.selection_run(
                program=program,
                day=program_today(program),
                acting_user=request.user,
                request=request,
            )
        )
    messages.success(
        request,
        _("Today's selection is done: %(count)s participant(s) newly selected.")
        % {"count": selected},
    )
    return redirect("testing_today")
