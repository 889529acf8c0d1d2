"""The hearings demo: a weekly series in both demo programs, past sessions with what happened,
upcoming dockets with the team's notes, a few participants overdue; idempotent."""

from datetime import time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from hearings import services
from hearings.models import (
    APPEARED,
    DocketEntry,
    HearingSeries,
    HearingSession,
    Response,
    ResponseKind,
    ResponseType,
    StaffingNote,
    Unit,
)
from participants.models import Participant
from tjp import clock
from tjp.clock import program_today
from tjp.models import AuditEvent, Program

MODELS = (
    HearingSeries,
    HearingSession,
    DocketEntry,
    Response,
    ResponseType,
    StaffingNote,
    AuditEvent,
)
# weekday, start, courtroom, judge
SERIES = {
    "atc": (1, time(9), "3B", "judge@atc.example"),
    "pjt": (3, time(10), "2", "judge@pjt.example"),
}


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _check_calendar(program: Program, today):
    weekday, start, courtroom, judge = SERIES[program.code]
    tz = ZoneInfo(program.time_zone)
    sessions = HearingSession.objects.filter(program=program)
    assert HearingSeries.objects.filter(program=program).count() == 1
    for session in sessions.select_related("judge"):
        local = timezone.localtime(session.starts_at, tz)
        assert (local.weekday(), local.time(), session.courtroom) == (weekday, start, courtroom)
        assert session.judge.email == judge
    span = sessions.aggregate(first=Min("starts_at"), last=Max("starts_at"))
    first, last = (timezone.localtime(span[k], tz).date() for k in ("first", "last"))
    assert 25 * 7 <= (today - first).days <= 27 * 7, (program.code, first)
    assert 7 * 7 <= (last - today).days <= 9 * 7, (program.code, last)
    cancelled = sessions.filter(cancelled=True)
    assert cancelled.count() == 1 and not cancelled.get().entries.exists()


def _check_past(program: Program, today):
    entries = DocketEntry.objects.filter(session__program=program).select_related(
        "session", "participant", "phase"
    )
    past = [e for e in entries if clock.local_date(e.session.starts_at, program) < today]
    assert len(past) > 100, program.code
    attendance = [e.attendance for e in past]
    assert set(attendance) == {"present", "remote", "absent", "excused"}
    assert attendance.count("present") > 0.75 * len(past)
    phases = {}
    for e in past:
        day = clock.local_date(e.session.starts_at, program)
        p = e.participant
        # In the program that day, heard in the phase they were in then.
        assert p.entry_date <= day and (p.exit_date is None or day < p.exit_date)
        if p.pk not in phases:
            phases[p.pk] = sorted((c.effective_on, c.to_phase_id) for c in p.phase_changes.all())
        assert e.phase_id == [ph for d, ph in phases[p.pk] if d <= day][-1]
        if e.attendance in APPEARED:
            assert 2 <= e.judicial_minutes <= 6
        else:
            assert e.judicial_minutes is None
        assert e.next_appearance is None or e.next_appearance > day
    assert sum(1 for e in past if e.judge_notes) > len(past) // 2
    assert any(e.next_appearance for e in past)
    # Participants who have since left the program were heard while they were in it.
    assert any(e.participant.exit_date for e in past)
    # Every recorded row has its audit row.
    audited = set(
        AuditEvent.objects.filter(
            program=program, action=AuditEvent.Action.CREATE, object_type="hearings.docketentry"
        ).values_list("object_id", flat=True)
    )
    assert {str(e.uuid) for e in entries} <= audited


def _check_responses(program: Program, today):
    responses = Response.objects.filter(participant__program=program).select_related(
        "entry__session", "participant", "response_type"
    )
    kinds = [r.kind for r in responses]
    incentives, sanctions = kinds.count(ResponseKind.INCENTIVE), kinds.count(ResponseKind.SANCTION)
    assert kinds.count(ResponseKind.SERVICE) > 0
    # About three to one (the dates, and so the draws, move with the day the demo is seeded).
    assert sanctions > 0 and 1.8 <= incentives / sanctions <= 6, (incentives, sanctions)
    jail = [r for r in responses if r.unit == Unit.JAIL_DAYS]
    assert 1 <= len(jail) <= 10
    assert all(1 <= r.magnitude <= 3 and r.magnitude == int(r.magnitude) for r in jail)
    for r in responses:
        day = clock.local_date(r.entry.session.starts_at, program)
        assert r.responded_on == day < today
        assert r.participant.entry_date <= r.behavior_on <= r.responded_on
        assert r.entry.attendance in APPEARED
        assert r.response_type.program_id == program.pk
        assert (r.kind, r.unit) == (r.response_type.kind, r.response_type.unit)
        assert (r.magnitude is None) is (r.unit == Unit.NONE)
    assert any(r.behavior_on < r.responded_on for r in responses)


def _check_upcoming(program: Program, today):
    ahead = [
        s
        for s in HearingSession.objects.filter(program=program, cancelled=False)
        if today <= clock.local_date(s.starts_at, program) < today + timedelta(days=14)
    ]
    assert len(ahead) == 2
    for session in ahead:
        assert session.entries.exists()
        assert not session.entries.exclude(attendance="").exists()
        in_court = session.entries.filter(participant__status__in=services.SCHEDULABLE_STATUSES)
        assert in_court.count() == session.entries.count()
    notes = StaffingNote.objects.filter(entry__session=ahead[0])
    assert notes.exists()
    notes = StaffingNote.objects.filter(entry__session__program=program)
    roles = set(notes.values_list("author_role", flat=True))
    assert len(roles) >= 4, roles
    # A few participants are overdue on purpose, and not on a docket yet.
    schedulable = Participant.objects.filter(
        program=program, status__in=services.SCHEDULABLE_STATUSES
    ).select_related("person", "phase", "program")
    due = services.hearing_due(schedulable, today=today)
    overdue = [d for d in due if d.overdue_on(today) and d.next_scheduled is None]
    assert 2 <= len(overdue) <= len(due) // 2, [d.participant for d in overdue]


def test_seed_demo_adds_a_court_calendar(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    call_command("seed_demo", apps="participants,hearings", stdout=out)
    assert "hearings: atc seeded" in out.getvalue()
    assert "hearings: pjt seeded" in out.getvalue()
    first = _counts()

    for program in Program.objects.filter(code__in=SERIES):
        today = program_today(program)
        assert program.response_types.count() >= 10
        _check_calendar(program, today)
        _check_past(program, today)
        _check_responses(program, today)
        _check_upcoming(program, today)

    out = StringIO()
    call_command("seed_demo", apps="participants,hearings", stdout=out)
    assert "hearings: atc already has its demo calendar." in out.getvalue()
    assert _counts() == first
