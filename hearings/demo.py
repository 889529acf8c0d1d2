"""Demo court calendar for the two demo programs: a weekly status review series with six months
of hearings held and two months ahead.

Per program: the default response catalog (`catalog_ensure`); a weekly series (atc: Tuesdays
9:00 in courtroom 3B; pjt: Thursdays 10:00 in sala 2) from 26 weeks ago to 8 weeks ahead, made
by `series_create`, with one past sitting cancelled for a holiday (`session_cancel`). Past
sessions carry the dockets of the participants who were in the program that day, seen as often
as their phase asked (weekly while a termination motion is pending; the week after an absence),
with what happened: attendance (mostly present; some remote, excused or absent, and an absence
in the week before each bench warrant the participants demo recorded), minutes with the judge,
judge's notes, the next appearance, incentives, sanctions and service adjustments from the
catalog (incentives about three to one; short jail sanctions after a warrant), and staffing
notes from the team. The sessions of the next two weeks get their dockets, and the next one
the team's staffing notes. Two participants per program are left overdue on purpose.

Written through the services where they accept the facts: the series, the cancellation, the
upcoming dockets (`docket_add`) and their staffing notes (`staffing_note_add`). The past
dockets, their outcomes, responses and staffing notes are inserted in bulk (`bulk_create`),
because `docket_add` refuses participants who have since left the program and stamps today's
phase, and `entry_update` records today's phase too; the rows keep the services' invariants
(one entry per participant and session, the phase of that day, outcomes only on sessions held,
minutes only for an appearance, responses from the program's catalog answering a behaviour
after program entry and on or before the hearing, jail in whole days within the program's
limit) and each gets its "create" audit row (`audit.record_many`).

Deterministic (one `random.Random(2028)` per program, dates counted from the program's today)
and idempotent: a program that already has its demo series is left alone.
"""

import random
import time as clock
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from itertools import pairwise

from django.db import transaction

from hearings import services
from hearings.models import (
    Attendance,
    DocketEntry,
    HearingSeries,
    HearingSession,
    Kind,
    Recommendation,
    Response,
    ResponseKind,
    ResponseType,
    StaffingNote,
    Unit,
)
from participants.models import Participant, Status
from tjp import audit
from tjp.clock import local_date, program_today
from tjp.models import AuditEvent, Program, User
from tjp.roles import Role

WEEKS_BACK, WEEKS_AHEAD, DOCKET_DAYS_AHEAD = 26, 8, 14
LEFT_OVERDUE = 2  # participants per program not seen for too long, on purpose
SCHEDULABLE = set(services.SCHEDULABLE_STATUSES)
TROUBLE = {Status.WARRANT, Status.IN_CUSTODY, Status.PENDING_TERMINATION, Status.TERMINATED}
TEAM = [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.CLINICIAN, Role.COORDINATOR]

PROGRAMS = {
    "atc": {"weekday": 1, "start": time(9), "courtroom": "3B", "minutes": 180},
    "pjt": {"weekday": 3, "start": time(10), "courtroom": "2", "minutes": 180},
}

TEXT = {
    "en": {
        "holiday": "Court closed for the holiday.",
        "notes": {
            Attendance.PRESENT: [
                "Reports steady attendance at group; proud of 30 days clean.",
                "Started a new job at the warehouse; asked about changing the group schedule.",
                "Struggling with cravings after a family conflict; encouraged to call the sponsor.",
                "Good progress; housing application submitted.",
                "Honest about the missed test; discussed the relapse-prevention plan.",
                "Reconnected with children through supervised visits; very motivated.",
                "Needs a bus pass to get to treatment; coordinator to follow up.",
                "Quiet today; agreed to meet the case manager this week.",
            ],
            Attendance.REMOTE: [
                "Appeared by video from work; supervisor's letter received.",
                "Appeared by video: recovering from the flu.",
            ],
            Attendance.EXCUSED: [
                "Excused: in inpatient treatment this week.",
                "Excused: medical appointment (note provided).",
            ],
            Attendance.ABSENT: [
                "Failed to appear; no contact with the coordinator.",
                "Did not appear; phone disconnected.",
            ],
        },
        "staffing": {
            Recommendation.INCENTIVE: [
                "All tests negative since the last hearing; recommend recognition.",
                "Attended every group session; suggest an incentive.",
                "Found stable housing; the team should acknowledge it.",
            ],
            Recommendation.SANCTION: [
                "Missed two tests; recommend a graduated sanction.",
                "Did not appear last time; recommend community service.",
                "Second dilute this month; a sanction is warranted.",
            ],
            Recommendation.SERVICE: [
                "Recommend increasing testing for two weeks.",
                "Would benefit from a referral to employment services.",
                "Level of care should be reassessed after the recent use.",
            ],
            Recommendation.NO_CHANGE: [
                "Stable; continue as is.",
                "Engaged in treatment; no change recommended.",
            ],
            Recommendation.PHASE_UP: [
                "Meets the phase requirements; recommend promotion.",
            ],
        },
    },
    "es": {
        "holiday": "Día inhábil: no hubo audiencia.",
        "notes": {
            Attendance.PRESENT: [
                "Asiste con regularidad al grupo; cumple 30 días sin consumo.",
                "Consiguió empleo en una maquiladora; pide cambiar el horario del grupo.",
                "Refiere deseo de consumo tras un conflicto familiar; se le pide llamar a su "
                "padrino.",
                "Buen avance; ya solicitó vivienda.",
                "Reconoce la prueba no realizada; se revisó el plan de prevención de recaídas.",
                "Retomó la convivencia con sus hijos; muy motivado.",
                "Necesita apoyo para transporte al tratamiento; la coordinación dará seguimiento.",
                "Se mostró callado; acordó reunirse con la coordinación esta semana.",
            ],
            Attendance.REMOTE: [
                "Compareció por videoconferencia desde su trabajo; se recibió la constancia.",
                "Compareció por videoconferencia: se recupera de una gripe.",
            ],
            Attendance.EXCUSED: [
                "Justificado: internado en tratamiento esta semana.",
                "Justificado: cita médica (presentó constancia).",
            ],
            Attendance.ABSENT: [
                "No compareció; sin contacto con la coordinación.",
                "No compareció; teléfono sin servicio.",
            ],
        },
        "staffing": {
            Recommendation.INCENTIVE: [
                "Todas las pruebas negativas desde la última audiencia; se recomienda un "
                "reconocimiento.",
                "Asistió a todas las sesiones de grupo; se sugiere un incentivo.",
                "Consiguió vivienda estable; el equipo debería reconocerlo.",
            ],
            Recommendation.SANCTION: [
                "No se presentó a dos pruebas; se recomienda una sanción gradual.",
                "No compareció la vez pasada; se recomienda trabajo comunitario.",
                "Segunda muestra diluida del mes; procede una sanción.",
            ],
            Recommendation.SERVICE: [
                "Se recomienda aumentar las pruebas durante dos semanas.",
                "Le convendría una canalización a bolsa de trabajo.",
                "Conviene revalorar el nivel de atención tras el consumo reciente.",
            ],
            Recommendation.NO_CHANGE: [
                "Estable; continuar igual.",
                "Comprometido con el tratamiento; sin cambios.",
            ],
            Recommendation.PHASE_UP: [
                "Cumple los requisitos de la fase; se recomienda el avance.",
            ],
        },
    },
}

# How much of a response, by unit (a jail sanction is drawn apart: 1 to 3 days).
MAGNITUDES = {
    Unit.AMOUNT: [10, 20, 25],
    Unit.DAYS: [7, 14, 30],
    Unit.COMMUNITY_SERVICE_HOURS: [4, 8, 12, 16],
    Unit.CURFEW_DAYS: [7, 14],
    Unit.HOURS: [2, 4],
}
RECOMMENDATION_FOR = {
    ResponseKind.INCENTIVE: Recommendation.INCENTIVE,
    ResponseKind.SANCTION: Recommendation.SANCTION,
    ResponseKind.SERVICE: Recommendation.SERVICE,
}


# --- one participant's time in the program --------------------------------------------------
@dataclass(eq=False)
class _Episode:
    participant: Participant
    statuses: list  # [(effective_on, to_status)], in order
    phases: list  # [(effective_on, Phase)], in order
    stop_after: date | None = None  # left overdue on purpose: not heard after this day
    last: date | None = None  # last day on a docket, while planning
    entries: list = field(default_factory=list)  # planned [_Planned], in order

    @property
    def entry(self) -> date:
        return self.participant.entry_date

    def in_program(self, day: date) -> bool:
        exit_date = self.participant.exit_date
        return self.entry <= day and (exit_date is None or day < exit_date)

    def status_at(self, day: date) -> str:
        status = Status.ACTIVE
        for effective_on, to_status in self.statuses:
            if effective_on <= day:
                status = to_status
        return status

    def phase_at(self, day: date):
        current = self.phases[0][1] if self.phases else self.participant.phase
        for effective_on, phase in self.phases:
            if effective_on <= day:
                current = phase
        return current

    def warrant_within_a_week(self, day: date) -> bool:
        return any(s == Status.WARRANT and 0 < (d - day).days <= 7 for d, s in self.statuses)

    def trouble_soon(self, day: date) -> bool:
        return any(s in TROUBLE and 0 <= (d - day).days <= 21 for d, s in self.statuses)

    def promoted_between(self, after: date, until: date) -> date | None:
        numbers = [(d, p.number) for d, p in self.phases]
        for (_before, was), (day, now) in pairwise(numbers):
            if after < day <= until and now > was:
                return day
        return None

    def back_from_warrant(self, after: date, until: date) -> bool:
        return any(
            after < d <= until
            and s == Status.ACTIVE
            and self.status_at(d - timedelta(days=1)) == Status.WARRANT
            for d, s in self.statuses
        )


@dataclass(eq=False)
class _Planned:
    session: HearingSession
    day: date
    episode: _Episode
    phase: object
    attendance: str = ""
    entry: DocketEntry | None = None


# --- the seeder -----------------------------------------------------------------------------
class _Seeder:
    def __init__(self, program: Program):
        self.program = program
        self.spec = PROGRAMS[program.code]
        self.t = TEXT["es" if program.language == Program.Language.SPANISH else "en"]
        self.rng = random.Random(2028)  # noqa: S311  (demo data, not security)
        self.today = program_today(program)
        self.team = {
            role: User.objects.get(email=f"{role.value}@{program.code}.example") for role in TEAM
        }
        self.coordinator = self.team[Role.COORDINATOR]
        self.audit_rows = []  # (actor, obj, participant)

    def seed(self) -> dict[str, int]:
        services.catalog_ensure(self.program)
        sessions = self.calendar()
        episodes = self.episodes()
        past = [s for s in sessions if self.day(s) < self.today]
        ahead = [
            s
            for s in sessions
            if self.today <= self.day(s) < self.today + timedelta(days=DOCKET_DAYS_AHEAD)
        ]
        self.plan(episodes, past + ahead)
        entries = self.past_dockets(episodes)
        responses = self.responses(episodes)
        notes = self.past_staffing(entries)
        audit_count = self.write_audit()
        upcoming = self.upcoming_dockets(episodes, ahead)
        self.next_staffing(ahead)
        return {
            "sessions": len(sessions),
            "past entries": len(entries),
            "responses": len(responses),
            "staffing notes": len(notes),
            "upcoming entries": upcoming,
            "audit rows": audit_count,
        }

    def day(self, session: HearingSession) -> date:
        return local_date(session.starts_at, self.program)

    # -- the calendar ------------------------------------------------------------------------
    def calendar(self) -> list[HearingSession]:
        spec = self.spec
        series = services.series_create(
            acting_user=self.coordinator,
            program=self.program,
            kind=Kind.STATUS_REVIEW,
            judge=self.team[Role.JUDGE],
            courtroom=spec["courtroom"],
            weekday=spec["weekday"],
            start=spec["start"],
            duration_minutes=spec["minutes"],
            starts_on=self.today - timedelta(weeks=WEEKS_BACK),
            ends_on=self.today + timedelta(weeks=WEEKS_AHEAD),
        )
        sessions = list(series.sessions.order_by("starts_at"))
        ten_weeks_ago = self.today - timedelta(weeks=10)
        holiday = min(sessions, key=lambda s: abs((self.day(s) - ten_weeks_ago).days))
        services.session_cancel(
            acting_user=self.coordinator, session=holiday, reason=self.t["holiday"]
        )
        return [s for s in sessions if s.pk != holiday.pk]

    def episodes(self) -> list[_Episode]:
        admitted = (
            Participant.objects.filter(program=self.program, entry_date__isnull=False)
            .select_related("person", "phase", "program")
            .prefetch_related("status_changes", "phase_changes__to_phase")
            .order_by("pk")
        )
        episodes = []
        for p in admitted:
            changes = sorted(p.status_changes.all(), key=lambda c: (c.effective_on, c.pk))
            moves = sorted(p.phase_changes.all(), key=lambda c: (c.effective_on, c.pk))
            episodes.append(
                _Episode(
                    participant=p,
                    statuses=[  # after the admission
                        (c.effective_on, c.to_status)
                        for c in changes
                        if c.from_status != Status.REFERRED and c.effective_on >= p.entry_date
                    ],
                    phases=[(m.effective_on, m.to_phase) for m in moves],
                )
            )
        # Two active participants, in the program long enough, nobody has seen for too long.
        candidates = [
            e
            for e in episodes
            if e.participant.status == Status.ACTIVE
            and e.entry <= self.today - timedelta(days=70)
            and not e.statuses
        ]
        for e in self.rng.sample(candidates, min(LEFT_OVERDUE, len(candidates))):
            interval = e.participant.phase.hearing_interval_days
            e.stop_after = self.today - timedelta(days=interval + 8)
        return episodes

    # -- who is heard when -------------------------------------------------------------------
    def plan(self, episodes: list[_Episode], sessions: list[HearingSession]) -> None:
        """Each session's docket: whoever is in the program and due (their phase's interval
        after their last hearing, a few days' leeway to fall on a court day; weekly while a
        termination motion is pending, and the week after an absence)."""
        for session in sessions:
            day = self.day(session)
            held = day < self.today
            for e in episodes:
                if not e.in_program(day) or (e.stop_after and day > e.stop_after):
                    continue
                status = e.status_at(day)
                absconding = held and e.warrant_within_a_week(day)
                if status not in SCHEDULABLE and not absconding:
                    continue
                phase = e.phase_at(day)
                interval = (
                    7 if status == Status.PENDING_TERMINATION else phase.hearing_interval_days
                )
                due = e.entry if e.last is None else e.last + timedelta(days=interval)
                if day < due - timedelta(days=3) and not absconding:
                    continue
                planned = _Planned(session=session, day=day, episode=e, phase=phase)
                if held:
                    planned.attendance = self.attendance(status, absconding)
                e.entries.append(planned)
                # After an absence or an excuse, the participant is called back the next week.
                seen = planned.attendance in (Attendance.PRESENT, Attendance.REMOTE) or not held
                e.last = day if seen else day - timedelta(days=interval - 7)

    def attendance(self, status: str, absconding: bool) -> str:
        if absconding:
            return Attendance.ABSENT
        roll = self.rng.random()
        if status == Status.IN_CUSTODY:  # brought from the jail, or excused
            return Attendance.PRESENT if roll < 0.7 else Attendance.EXCUSED
        if roll < 0.84:
            return Attendance.PRESENT
        if roll < 0.90:
            return Attendance.REMOTE
        if roll < 0.95:
            return Attendance.EXCUSED
        return Attendance.ABSENT

    # -- what happened (bulk) ----------------------------------------------------------------
    def past_dockets(self, episodes: list[_Episode]) -> list[DocketEntry]:
        rng, t = self.rng, self.t
        held = [pl for e in episodes for pl in e.entries if pl.attendance]
        held.sort(key=lambda pl: (pl.day, pl.episode.participant.person.last_name))
        positions = {}
        rows = []
        for pl in held:
            e = pl.episode
            later = [x.day for x in e.entries if x.day > pl.day]
            appeared = pl.attendance in (Attendance.PRESENT, Attendance.REMOTE)
            positions[pl.session.pk] = positions.get(pl.session.pk, 0) + 1
            notes = ""
            if not appeared or rng.random() < 0.75:
                notes = rng.choice(t["notes"][pl.attendance])
            pl.entry = DocketEntry(
                session=pl.session,
                participant=e.participant,
                position=positions[pl.session.pk],
                phase=pl.phase,
                attendance=pl.attendance,
                judicial_minutes=rng.choice([2, 2, 3, 3, 4, 4, 5, 6]) if appeared else None,
                judge_notes=notes,
                next_appearance=later[0] if later else None,
                added_by=self.coordinator,
            )
            rows.append(pl.entry)
        DocketEntry.objects.bulk_create(rows)
        self.audit_rows += [(self.coordinator, r, r.participant) for r in rows]
        return rows

    def responses(self, episodes: list[_Episode]) -> list[Response]:
        """Responses answering what happened since the previous hearing: a sanction after an
        absence (jail for about half of those back from a warrant), an incentive for a
        promotion, more sanctions (a few of them jail) in the weeks before a warrant, arrest or
        termination motion, mostly incentives otherwise."""
        rng = self.rng
        catalog = list(ResponseType.objects.filter(program=self.program, active=True))
        pools = {
            kind: [c for c in catalog if c.kind == kind and c.unit != Unit.JAIL_DAYS]
            for kind in ResponseKind.values
        }
        jail = next((c for c in catalog if c.unit == Unit.JAIL_DAYS), None)
        praise = [c for c in pools[ResponseKind.INCENTIVE] if c.unit == Unit.NONE]
        rows = []
        for e in episodes:
            previous = None
            for pl in e.entries:
                if not pl.attendance:
                    break
                since = previous.day if previous else e.entry
                given = []
                if pl.attendance not in (Attendance.PRESENT, Attendance.REMOTE):
                    pass
                elif previous is not None and previous.attendance == Attendance.ABSENT:
                    if jail and e.back_from_warrant(since, pl.day) and rng.random() < 0.5:
                        given.append((jail, since, Decimal(rng.randint(1, 3))))
                    else:
                        given.append((rng.choice(pools[ResponseKind.SANCTION]), since, None))
                elif promoted := e.promoted_between(since, pl.day):
                    given.append((rng.choice(praise), promoted, None))
                else:
                    roll = rng.random()
                    trouble = e.trouble_soon(pl.day)
                    if trouble:
                        kinds = [(0.40, ResponseKind.SANCTION), (0.65, ResponseKind.SERVICE)]
                    else:
                        kinds = [
                            (0.40, ResponseKind.INCENTIVE),
                            (0.52, ResponseKind.SANCTION),
                            (0.59, ResponseKind.SERVICE),
                        ]
                    kind = next((k for limit, k in kinds if roll < limit), None)
                    behaviour = pl.day - timedelta(days=rng.randint(1, 6))
                    if kind == ResponseKind.SANCTION and trouble and jail and rng.random() < 0.3:
                        given.append((jail, behaviour, Decimal(rng.randint(1, 3))))
                    elif kind is not None:
                        given.append((rng.choice(pools[kind]), behaviour, None))
                for response_type, behaviour, magnitude in given:
                    behaviour = min(max(behaviour, e.entry), pl.day)
                    if magnitude is None and response_type.unit in MAGNITUDES:
                        magnitude = Decimal(rng.choice(MAGNITUDES[response_type.unit]))
                    rows.append(
                        Response(
                            participant=e.participant,
                            entry=pl.entry,
                            response_type=response_type,
                            kind=response_type.kind,
                            unit=response_type.unit,
                            magnitude=magnitude,
                            behavior_on=behaviour,
                            responded_on=pl.day,
                            created_by=self.coordinator,
                        )
                    )
                previous = pl
        Response.objects.bulk_create(rows)
        self.audit_rows += [(self.coordinator, r, r.participant) for r in rows]
        return rows

    def past_staffing(self, entries: list[DocketEntry]) -> list[StaffingNote]:
        """The team's notes before some of the hearings held, in line with what the judge did."""
        rng, staffing = self.rng, self.t["staffing"]
        given = {}
        for response in Response.objects.filter(entry__in=entries).only("entry_id", "kind"):
            given.setdefault(response.entry_id, response.kind)
        rows = []
        for entry in entries:
            if rng.random() >= 0.2:
                continue
            kind = given.get(entry.pk)
            recommendation = RECOMMENDATION_FOR.get(kind, Recommendation.NO_CHANGE)
            for role in rng.sample(TEAM, rng.randint(1, 2)):
                rows.append(
                    StaffingNote(
                        entry=entry,
                        author=self.team[role],
                        author_role=role.value,
                        recommendation=recommendation,
                        text=rng.choice(staffing[recommendation]),
                    )
                )
        StaffingNote.objects.bulk_create(rows)
        self.audit_rows += [(n.author, n, n.entry.participant) for n in rows]
        return rows

    def write_audit(self) -> int:
        by_actor = {}
        for actor, obj, participant in self.audit_rows:
            by_actor.setdefault(actor, []).append(
                {"obj": obj, "program": self.program, "participant_uuid": participant.uuid}
            )
        for actor, rows in by_actor.items():
            audit.record_many(actor=actor, action=AuditEvent.Action.CREATE, rows=rows)
        return len(self.audit_rows)

    # -- what is coming (through the services) -----------------------------------------------
    def upcoming_dockets(self, episodes: list[_Episode], ahead: list[HearingSession]) -> int:
        count = 0
        for session in ahead:
            for e in episodes:
                if any(pl.session.pk == session.pk for pl in e.entries):
                    services.docket_add(
                        acting_user=self.coordinator, session=session, participant=e.participant
                    )
                    count += 1
        return count

    def next_staffing(self, ahead: list[HearingSession]) -> None:
        """The team prepares the next session: notes from several roles on most of its cases."""
        if not ahead:
            return
        rng, staffing = self.rng, self.t["staffing"]
        entries = ahead[0].entries.select_related("participant", "session__program")
        for index, entry in enumerate(entries.order_by("position")):
            if index and rng.random() >= 0.6:
                continue
            participant = entry.participant
            if participant.status == Status.PENDING_TERMINATION:
                recommendation = Recommendation.SANCTION
            else:
                recommendation = rng.choice(
                    [
                        Recommendation.INCENTIVE,
                        Recommendation.INCENTIVE,
                        Recommendation.NO_CHANGE,
                        Recommendation.SERVICE,
                        Recommendation.PHASE_UP,
                    ]
                )
            for role in rng.sample(TEAM, rng.randint(1, 3)):
                services.staffing_note_add(
                    acting_user=self.team[role],
                    entry=entry,
                    text=rng.choice(staffing[recommendation]),
                    recommendation=recommendation,
                )


# --- entry point ----------------------------------------------------------------------------
def seed(*, stdout) -> None:
    for program in Program.objects.filter(code__in=PROGRAMS).order_by("code"):
        courtroom = PROGRAMS[program.code]["courtroom"]
        if HearingSeries.objects.filter(program=program, courtroom=courtroom).exists():
            stdout.write(f"hearings: {program.code} already has its demo calendar.")
            continue
        started = clock.monotonic()
        with transaction.atomic():
            counts = _Seeder(program).seed()
        summary = ", ".join(f"{n} {label}" for label, n in counts.items())
        stdout.write(
            f"hearings: {program.code} seeded in {clock.monotonic() - started:.1f} s: {summary}."
        )
