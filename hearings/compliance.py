"""Hearing-frequency and judicial-time compliance of one program over a period of days.

Everything is computed from the docket entries themselves (never from stored totals), in a
fixed number of queries whatever the size of the program. The definitions, once:

- A **hearing attended** is a docket entry of a session that was not cancelled, held on a day of
  the period (the program's own days, from `start` to `end` inclusive), where the participant
  appeared: attendance present or remote. It belongs to the phase recorded on the entry
  (`DocketEntry.phase`: the phase the participant was in when heard).
- **Participants heard** in a phase: distinct participants with at least one hearing attended
  in that phase during the period.
- An **interval** ends at each hearing attended in the period and runs from the later of the
  participant's previous appearance (at any time before, in or out of the period) and their
  program entry; so a participant's first interval runs from program entry. It is attributed
  to the phase recorded on the later entry, and is **within** the standard when it is no longer
  than that phase's `hearing_interval_days`.
- **Overdue now**: participants who can be put on a docket (`services.SCHEDULABLE_STATUSES`)
  whose due date (`services.hearing_due`: last appearance or program entry, plus their current
  phase's interval) is before today; counted under their current phase. It describes today,
  not the period.
- **Judicial minutes**: over the hearings attended in the period whose minutes were recorded,
  the mean minutes per participant per hearing, and the share of those hearings that reached
  the program's `judicial_minutes_target`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models.functions import TruncDate

from hearings.models import APPEARED, DocketEntry
from hearings.services import SCHEDULABLE_STATUSES, HearingDue, hearing_due
from participants.models import Participant
from tjp import clock
from tjp.models import Phase, Program


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class PhaseRow:
    """One phase's line of the report (or the whole program's, with `phase` None)."""

    phase: Phase | None
    target_days: int | None
    participants: set[int] = field(default_factory=set)
    hearings: int = 0
    intervals: list[int] = field(default_factory=list)  # days
    within: int = 0
    overdue: int = 0

    @property
    def participants_heard(self) -> int:
        return len(self.participants)

    @property
    def percent_within(self) -> float | None:
        return _percent(self.within, len(self.intervals))

    @property
    def mean_interval(self) -> float | None:
        return _mean(self.intervals)


@dataclass
class MinutesSummary:
    target: int
    minutes: list[int] = field(default_factory=list)  # one per hearing attended with minutes

    @property
    def hearings(self) -> int:
        return len(self.minutes)

    @property
    def mean(self) -> float | None:
        return _mean(self.minutes)

    @property
    def meeting(self) -> int:
        return sum(1 for m in self.minutes if m >= self.target)

    @property
    def percent_meeting(self) -> float | None:
        return _percent(self.meeting, self.hearings)


@dataclass
class HearingCompliance:
    program: Program
    start: date
    end: date
    today: date
    phases: list[PhaseRow]  # the program's phases in order, then "phase not recorded" if any
    total: PhaseRow
    minutes: MinutesSummary
    overdue: list[HearingDue]  # everyone overdue now, most overdue first

    def days_overdue(self, due: HearingDue) -> int:
        return (self.today - due.due_on).days


def _appearances(program: Program, start: date, end: date) -> list[tuple]:
    """The appearances during the period and, for each participant who appeared during it,
    their last one before it (which starts their first interval of the period): two queries.
    Earlier history changes nothing, so it is not read (at 100,000 participants reading it all
    was 800,000 rows and most of the report's time)."""
    tz = clock.zone(program)
    period_start = datetime.combine(start, time(), tzinfo=tz)
    period_end = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz)
    appeared = DocketEntry.objects.filter(
        session__program=program, session__cancelled=False, attendance__in=APPEARED
    )
    # The hearing's day in the program's time zone, worked out by the database.
    appeared = appeared.annotate(day=TruncDate("session__starts_at", tzinfo=tz))
    fields = ("participant_id", "phase_id", "day", "participant__entry_date", "judicial_minutes")
    during = appeared.filter(
        session__starts_at__gte=period_start, session__starts_at__lt=period_end
    )
    before = (
        appeared.filter(
            participant__in=during.values("participant_id"), session__starts_at__lt=period_start
        )
        .order_by("participant_id", "-session__starts_at")
        .distinct("participant_id")
    )
    return [*before.values_list(*fields), *during.order_by().values_list(*fields)]


def hearing_compliance(
    program: Program, *, start: date, end: date, today: date
) -> HearingCompliance:
    """The report for `program` over the days `start`..`end` (see the module's definitions).
    Five queries: phases, appearances (two), and the two of the overdue check."""
    phases = list(program.phases.all())
    rows = {p.pk: PhaseRow(phase=p, target_days=p.hearing_interval_days) for p in phases}
    unrecorded = PhaseRow(phase=None, target_days=None)
    total = PhaseRow(phase=None, target_days=None)
    minutes = MinutesSummary(target=program.judicial_minutes_target)

    by_participant = defaultdict(list)
    for participant_id, phase_id, day, entry_date, mins in _appearances(program, start, end):
        by_participant[participant_id].append((day, phase_id, entry_date, mins))
    for participant_id, appearances in by_participant.items():
        previous = None
        for day, phase_id, entry_date, mins in sorted(appearances, key=lambda a: a[0]):
            since = max((d for d in (previous, entry_date) if d is not None), default=None)
            previous = day
            if day < start:
                continue
            row = rows.get(phase_id, unrecorded)
            for r in (row, total):
                r.participants.add(participant_id)
                r.hearings += 1
            if mins is not None:
                minutes.minutes.append(mins)
            if since is None or since > day:
                continue
            interval = (day - since).days
            # Without a recorded phase there is no standard to hold the interval to: it is
            # shown on its own line and left out of the program's total.
            for r in (row, total) if row.target_days is not None else (row,):
                r.intervals.append(interval)
                r.within += row.target_days is not None and interval <= row.target_days

    schedulable = Participant.objects.filter(
        program=program, status__in=SCHEDULABLE_STATUSES
    ).select_related("person", "phase", "program")
    overdue = [d for d in hearing_due(schedulable, today=today) if d.overdue_on(today)]
    overdue.sort(key=lambda d: (d.due_on, d.participant.person.last_name))
    for due in overdue:
        rows.get(due.participant.phase_id, unrecorded).overdue += 1
        total.overdue += 1

    ordered = [rows[p.pk] for p in phases]
    if unrecorded.hearings or unrecorded.overdue:
        ordered.append(unrecorded)
    return HearingCompliance(
        program=program,
        start=start,
        end=end,
        today=today,
        phases=ordered,
        total=total,
        minutes=minutes,
        overdue=overdue,
    )
