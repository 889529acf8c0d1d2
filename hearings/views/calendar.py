"""The court calendar (sessions by day, week or month, and who is overdue for a hearing) and the
pages that put sessions on it: one session, a recurring series, a move, a cancellation."""

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hearings import services
from hearings.access import entries_visible_to, get_session_for_user, sessions_visible_to
from hearings.forms import (
    CalendarFilter,
    SeriesForm,
    SessionCancelForm,
    SessionEditForm,
    SessionForm,
    judges_of,
)
from participants.access import participants_visible_to
from tjp import audit, clock
from tjp.access import can, get_program_for_user, programs_visible_to
from tjp.clock import program_today
from tjp.forms import attach_errors
from tjp.models import AuditEvent, Program

VIEW = "hearings.view_hearingsession"
ADD = "hearings.add_hearingsession"
CHANGE = "hearings.change_hearingsession"
VIEWS = ("day", "week", "month")


@dataclass
class Period:
    view: str
    anchor: date
    first: date  # first day shown
    last: date  # last day shown
    previous: date
    next: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def _week_start(day: date) -> date:
    # The user's locale says whether weeks start on Sunday (0) or Monday (1).
    first_weekday = (int(formats.get_format("FIRST_DAY_OF_WEEK")) - 1) % 7
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def period_of(view: str, anchor: date) -> Period:
    if view == "day":
        return Period(view, anchor, anchor, anchor, anchor - timedelta(1), anchor + timedelta(1))
    if view == "week":
        first = _week_start(anchor)
        return Period(
            view, anchor, first, first + timedelta(6), anchor - timedelta(7), anchor + timedelta(7)
        )
    month_first = anchor.replace(day=1)
    month_last = anchor.replace(day=monthrange(anchor.year, anchor.month)[1])
    return Period(
        view,
        anchor,
        _week_start(month_first),
        _week_start(month_last) + timedelta(6),
        (month_first - timedelta(1)).replace(day=1),
        month_last + timedelta(1),
    )


def _today(filters: CalendarFilter, programs: list[Program]) -> date:
    """The court's "today": the filtered program's, else the first visible program's."""
    chosen = filters.form.cleaned_data.get("program") if filters.form.is_valid() else None
    program = chosen or (programs[0] if programs else None)
    return program_today(program) if program is not None else timezone.localdate()


def _anchor(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        return today
    # Far-off years would overflow the period arithmetic; no court sits there.
    return day if 1900 <= day.year <= 2999 else today


@require_GET
def hearing_calendar(request):
    if not can(request.user, VIEW):
        raise PermissionDenied
    user = request.user
    visible = sessions_visible_to(user)
    filters = CalendarFilter(request.GET, queryset=visible, visible=visible)
    programs = list(filters.filters["program"].queryset.order_by("name"))
    today = _today(filters, programs)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "week"
    period = period_of(view, _anchor(request.GET.get("date"), today))
    days = _sessions_by_day(user, filters.qs, period)
    overdue = _overdue(user, filters)
    if overdue:
        audit.record(
            actor=user,
            action=AuditEvent.Action.VIEW,
            request=request,
            detail={"overdue": [str(d.participant.uuid) for d in overdue]},
        )
    context = {
        "filters": filters,
        "period": period,
        "today": today,
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "empty": not any(sessions for _day, sessions in days),
        "overdue": overdue,
        "show_overdue": can(user, "participants.view_participant"),
        "can_add": can(user, ADD),
        "links": _links(request.GET, period, today),
    }
    return render(request, "hearings/calendar.html", context)


def _sessions_by_day(user, queryset, period: Period) -> list[tuple[date, list]]:
    """The period's days with each day's sessions, days taken in each session's own program
    time zone (one query, whatever the number of sessions)."""
    # A margin of a day on each side covers every time zone; the exact day is decided below.
    low = datetime.combine(period.first - timedelta(1), time(), tzinfo=UTC)
    high = datetime.combine(period.last + timedelta(2), time(), tzinfo=UTC)
    sessions = (
        queryset.filter(starts_at__gte=low, starts_at__lt=high)
        .select_related("program", "judge")
        .annotate(docket_size=Count("entries", filter=Q(entries__in=entries_visible_to(user))))
        .order_by("starts_at", "pk")
    )
    by_day = {day: [] for day in period.days()}
    for session in sessions:
        day = clock.local_date(session.starts_at, session.program)
        if day in by_day:
            by_day[day].append(session)
    return list(by_day.items())


def _overdue(user, filters: CalendarFilter) -> list[services.HearingDue]:
    """Participants the user may see, able to appear, whose hearing is past due: their phase's
    interval since their last appearance (or program entry) has run out (constant queries)."""
    if not can(user, "participants.view_participant"):
        return []
    participants = participants_visible_to(user).filter(status__in=services.SCHEDULABLE_STATUSES)
    program = filters.form.cleaned_data.get("program") if filters.form.is_valid() else None
    if program is not None:
        participants = participants.filter(program=program)
    due = services.hearing_due(
        participants.select_related("person", "phase", "program"), today=timezone.localdate()
    )
    overdue = [d for d in due if d.overdue_on(program_today(d.participant.program))]
    return sorted(overdue, key=lambda d: (d.due_on, d.participant.person.full_name))


def _links(params, period: Period, today: date) -> dict[str, str]:
    """Query strings for the navigation, keeping the filters."""

    def query(**changes) -> str:
        q = params.copy()
        for key, value in changes.items():
            q[key] = value
        return "?" + q.urlencode()

    return {
        "previous": query(view=period.view, date=period.previous.isoformat()),
        "next": query(view=period.view, date=period.next.isoformat()),
        "today": query(view=period.view, date=today.isoformat()),
        **{v: query(view=v, date=period.anchor.isoformat()) for v in VIEWS},
    }


# --- scheduling ------------------------------------------------------------------------------
def _schedulable_programs(request):
    """The programs the user may schedule in; `?program=` narrows to one (404 outside scope)."""
    if not can(request.user, ADD):
        raise PermissionDenied
    programs = programs_visible_to(request.user).order_by("name")
    if program_uuid := request.GET.get("program"):
        program = get_program_for_user(request.user, program_uuid, perm=ADD)
        programs = programs.filter(pk=program.pk)
    return programs


def session_new(request):
    programs = _schedulable_programs(request)
    data = request.POST if request.method == "POST" else None
    form = SessionForm(data, programs=programs, initial={"program": programs.first()})
    if data and form.is_valid():
        d = form.cleaned_data
        try:
            session = services.session_create(
                acting_user=request.user,
                program=d["program"],
                kind=d["kind"],
                judge=d["judge"],
                courtroom=d["courtroom"],
                day=d["day"],
                start=d["start"],
                duration_minutes=d["duration_minutes"],
                notes=d["notes"],
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Session scheduled."))
            return redirect("session_detail", session_uuid=session.uuid)
    context = {"form": form, "title": _("New session")}
    return render(request, "hearings/session_form.html", context, status=400 if data else 200)


def series_new(request):
    programs = _schedulable_programs(request)
    data = request.POST if request.method == "POST" else None
    form = SeriesForm(data, programs=programs, initial={"program": programs.first()})
    if data and form.is_valid():
        d = form.cleaned_data
        try:
            series = services.series_create(
                acting_user=request.user,
                program=d["program"],
                kind=d["kind"],
                judge=d["judge"],
                courtroom=d["courtroom"],
                weekday=d["weekday"],
                start=d["start"],
                duration_minutes=d["duration_minutes"],
                starts_on=d["starts_on"],
                ends_on=d["ends_on"],
                interval_weeks=d["interval_weeks"],
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            count = series.sessions.count()
            messages.success(request, _("%(count)d sessions scheduled.") % {"count": count})
            query = urlencode(
                {"view": "month", "date": d["starts_on"].isoformat(), "program": d["program"].code}
            )
            return redirect(f"{reverse('hearing_calendar')}?{query}")
    return render(request, "hearings/series_form.html", {"form": form}, status=400 if data else 200)


def _edit_initial(session) -> dict:
    local = clock.local(session.starts_at, session.program)
    return {
        "version": session.version,
        "judge": session.judge,
        "courtroom": session.courtroom,
        "day": local.date(),
        "start": local.time(),
        "duration_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
        "notes": session.notes,
    }


def session_edit(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=CHANGE)
    if session.cancelled:
        messages.error(request, _("This session is cancelled."))
        return redirect("session_detail", session_uuid=session.uuid)
    data = request.POST if request.method == "POST" else None
    judges = judges_of(Program.objects.filter(pk=session.program_id))
    form = SessionEditForm(data, judges=judges, initial=_edit_initial(session))
    if data and form.is_valid():
        d = form.cleaned_data
        try:
            services.session_update(
                acting_user=request.user,
                session=session,
                expected_version=d["version"],
                judge=d["judge"],
                courtroom=d["courtroom"],
                day=d["day"],
                start=d["start"],
                duration_minutes=d["duration_minutes"],
                notes=d["notes"],
                request=request,
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "stale":
                messages.error(request, exc.messages[0])
                return redirect("session_edit", session_uuid=session.uuid)
            attach_errors(form, exc)
        else:
            messages.success(request, _("Session changed."))
            return redirect("session_detail", session_uuid=session.uuid)
    context = {"form": form, "session": session, "title": _("Change session")}
    return render(request, "hearings/session_form.html", context, status=400 if data else 200)


def session_cancel(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=CHANGE)
    data = request.POST if request.method == "POST" else None
    form = SessionCancelForm(data)
    if data and form.is_valid():
        try:
            services.session_cancel(
                acting_user=request.user,
                session=session,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Session cancelled."))
            return redirect("session_detail", session_uuid=session.uuid)
    context = {"form": form, "session": session}
    with clock.program_zone(session.program):
        return render(request, "hearings/session_cancel.html", context, status=400 if data else 200)


urlpatterns = [
    path("", hearing_calendar, name="hearing_calendar"),
    path("sessions/new/", session_new, name="session_new"),
    path("series/new/", series_new, name="series_new"),
    path("sessions/<uuid:session_uuid>/edit/", session_edit, name="session_edit"),
    path("sessions/<uuid:session_uuid>/cancel/", session_cancel, name="session_cancel"),
]
