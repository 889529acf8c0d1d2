"""Each referral's life, drawn before anything is written: screening, admission, phases,
status changes, exit, arrests, and the people (a few come back after an earlier episode)."""

import heapq
from dataclasses import dataclass, field

from participants.models import Person
from reporting.synthetic.population import (
    ACTIVE,
    ADMIN,
    CONVICTED,
    DECEASED,
    DECLINED,
    GRADUATED,
    NAMES,
    OUTCOMES,
    RACE,
    SCREENING,
    SOURCES,
    STREETS,
    SUBSTANCES,
    TERMINATED,
    TEXT,
    TRANSFERRED,
    VOLUNTARY,
    R,
    S,
    ascii_name,
    pick,
)


def snap(day: int, weekday: int) -> int:
    """The first day on or after `day` (an ordinal) that falls on `weekday` (Monday 0): the
    judge's session day. `date.fromordinal(o).weekday()` is `(o + 6) % 7`."""
    return day + (weekday - (day + 6) % 7) % 7


# --- one referral's plan -------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class Plan:
    outcome: str
    referred: int  # ordinal dates from here on
    person: int = -1  # index of the Person (readmissions share one)
    entry: int | None = None
    exit: int | None = None
    status: str = S.REFERRED
    judge: int = 0
    phases: list = field(default_factory=list)  # [(day, phase number)], the first on entry
    statuses: list = field(default_factory=list)  # [(day, from, to)]
    decisions: list = field(default_factory=list)  # [(day, kind, outcome, reasons)]
    assessed: int | None = None
    arrest: int | None = None
    arrests: list = field(default_factory=list)  # [(day, charge, convicted)]
    substance: tuple = ()
    source: str = ""
    end: int = 0  # last day tracked (exit or yesterday); referral decision for the declined
    pid: int = 0  # Participant id, once reserved


class Planner:
    """Draws the referrals of a program between `first` and `last` (day ordinals), for judges
    sitting on weekday `judge % 5`, through phases of `min_days` (by phase number)."""

    def __init__(self, rng, *, first: int, last: int, min_days: dict[int, int], judges: int):
        self.rng, self.first, self.last, self.judges = rng, first, last, judges
        self.min_days, self.top = min_days, max(min_days)
        self.persons: list[tuple] = []

    def plan(self, n: int) -> list[Plan]:
        rng = self.rng
        plans = []
        for _ in range(n):
            roll = rng.random()
            if roll < 0.25:
                plans.append(self.plan_declined())
            elif roll < 0.265:
                plans.append(self.plan_screening())
            else:
                plans.append(self.plan_admitted(pick(rng, OUTCOMES)))
        plans.sort(key=lambda p: p.referred)
        self.people(plans)
        return plans

    def referral(self, plan: Plan) -> None:
        rng = self.rng
        plan.substance = pick(rng, SUBSTANCES)
        plan.source = pick(rng, SOURCES)
        if rng.random() < 0.95:
            plan.arrest = plan.referred - rng.randint(5, 90)
        plan.judge = rng.randrange(self.judges)

    def plan_declined(self) -> Plan:
        rng = self.rng
        plan = Plan(DECLINED, rng.randint(self.first, self.last - 45), status=S.DECLINED)
        self.referral(plan)
        decided = plan.referred + rng.randint(7, 40)
        legal = plan.referred + rng.randint(1, 6)
        why = pick(rng, (["legal", "clinical", "refused"], [0.35, 0.7, 1.0]))
        if why == "legal":
            plan.decisions.append((legal, "legal", "ineligible", TEXT["legal_no"]))
        else:
            plan.decisions.append((legal, "legal", "eligible", TEXT["legal_yes"]))
            plan.assessed = legal + rng.randint(0, 5)
            eligible = why == "refused"
            plan.decisions.append(
                (
                    plan.assessed,
                    "clinical",
                    "eligible" if eligible else "ineligible",
                    TEXT["clinical_yes" if eligible else "clinical_no"],
                )
            )
        decided = max(decided, plan.assessed or legal)
        plan.decisions.append((decided, "admission", "declined", TEXT["declined"][why]))
        plan.statuses.append((decided, S.REFERRED, S.DECLINED))
        plan.end = decided
        return plan

    def plan_screening(self) -> Plan:
        rng = self.rng
        plan = Plan(SCREENING, rng.randint(self.last - 30, self.last))
        self.referral(plan)
        if rng.random() < 0.5 and plan.referred + 3 <= self.last:
            plan.decisions.append((plan.referred + 3, "legal", "eligible", TEXT["legal_yes"]))
        plan.end = plan.referred
        return plan

    def plan_admitted(self, outcome: str) -> Plan:
        """The life in the program, drawn from a provisional entry and then moved by whole weeks
        (hearing days keep their weekday) to fit the four years."""
        rng = self.rng
        plan = Plan(outcome, 0)
        self.referral(plan)
        weekday = plan.judge % 5
        entry = snap(self.first + 400, weekday)
        phases, statuses = [(entry, 1)], []
        day, number = entry, 1
        stop = self.top
        if outcome == TERMINATED:
            stop = pick(rng, ([1, 2, 3, 4], [0.45, 0.8, 0.95, 1.0]))
        elif outcome == VOLUNTARY:
            stop = pick(rng, ([1, 2, 3], [0.6, 0.9, 1.0]))
        elif outcome in (ADMIN, DECEASED, TRANSFERRED):
            stop = rng.randint(1, self.top - 1)
        exit_day = None
        while True:
            length = self.min_days[number] + min(int(rng.expovariate(1 / 40)), 180)
            if 1 < number < self.top - 1 and rng.random() < 0.06:  # relapse: back a phase
                down = snap(day + rng.randint(21, max(22, length - 7)), weekday)
                up = snap(down + rng.randint(28, 56), weekday)
                phases += [(down, number - 1), (up, number)]
                length = up - day + self.min_days[number] // 2
            for kind, chance, low, high in (
                (S.WARRANT, 0.05, 7, 60),
                (S.IN_CUSTODY, 0.025, 3, 30),
                (S.MEDICAL_LEAVE, 0.01, 14, 45),
            ):
                if rng.random() < chance:
                    start = day + rng.randint(7, max(8, length - 7))
                    if kind == S.WARRANT:
                        start = snap(start, weekday)
                    back = start + rng.randint(low, high)
                    if statuses and start <= statuses[-1][0]:
                        continue
                    statuses += [(start, S.ACTIVE, kind), (back, kind, S.ACTIVE)]
                    if kind == S.IN_CUSTODY:
                        plan.arrests.append((start - 1, rng.choice(TEXT["arrest"]), None))
                    length = max(length, back - day + 14)
            if number == stop and outcome not in (GRADUATED, ACTIVE):
                exit_day = day + rng.randint(14, max(15, length))
                break
            day = snap(day + length, weekday)
            if number == self.top:
                exit_day = day
                break
            number += 1
            phases.append((day, number))
        # The exit and the path to it; anything after its first step is dropped.
        path = self.exit_path(outcome, max(exit_day, entry + 14), weekday, entry)
        cut = path[0][0] if path else exit_day
        if outcome == ACTIVE:
            cut = None
        else:
            statuses = cut_before(statuses, cut)
            phases = [p for p in phases if p[0] < cut or p[0] == entry]
            while statuses and statuses[-1][2] != S.ACTIVE:  # an interruption still open
                statuses.pop()
        previous = statuses[-1][2] if statuses else S.ACTIVE
        for day_, to_status in path:
            statuses.append((day_, previous, to_status))
            previous = to_status
        end = statuses[-1][0] if outcome != ACTIVE else exit_day
        # Move the life into the four years (and, for those still in it, up to yesterday).
        lag = rng.randint(10, 45)
        if outcome == ACTIVE:
            target = self.last - rng.randint(1, 600)
        else:
            latest = self.last - (end - entry)
            earliest = min(self.first + lag, latest)
            target = rng.randint(earliest, latest)
        shift = (target - entry) // 7 * 7
        if outcome != ACTIVE and end + shift > self.last:
            shift -= 7
        plan.entry = entry + shift
        plan.phases = [(d + shift, p) for d, p in phases if d + shift <= self.last]
        plan.statuses = [(d + shift, a, b) for d, a, b in statuses if d + shift <= self.last]
        plan.exit = end + shift if outcome != ACTIVE else None
        if path and path[0][1] == S.IN_CUSTODY:
            plan.arrests.append((path[0][0] - 1, rng.choice(TEXT["arrest"]), True))
        last_day = plan.exit if plan.exit is not None else self.last
        plan.arrests = [
            (d + shift, c, v) for d, c, v in plan.arrests if plan.entry <= d + shift <= last_day
        ]
        plan.status = plan.statuses[-1][2] if plan.statuses else S.ACTIVE
        if outcome == ACTIVE:
            self.still_in(plan, weekday)
        plan.end = plan.exit or self.last
        # Referral and screening before the entry (the admission is decided at a hearing).
        plan.referred = plan.entry - lag
        if plan.arrest is not None:
            plan.arrest = plan.referred - rng.randint(5, 90)
        legal = plan.referred + rng.randint(1, min(10, lag - 2))
        plan.assessed = plan.referred + rng.randint(2, lag - 1)
        plan.decisions = [
            (legal, "legal", "eligible", TEXT["legal_yes"]),
            (plan.assessed + rng.randint(0, 1), "clinical", "eligible", TEXT["clinical_yes"]),
            (plan.entry, "admission", "admitted", TEXT["admit"]),
        ]
        plan.statuses.insert(0, (plan.entry, S.REFERRED, S.ACTIVE))
        if rng.random() < 0.12:  # a new arrest that did not change the status
            day_ = rng.randint(plan.entry, plan.end)
            plan.arrests.append((day_, rng.choice(TEXT["arrest"]), pick(rng, CONVICTED)))
        plan.arrests.sort(key=lambda arrest: arrest[0])
        return plan

    def exit_path(
        self, outcome: str, exit_day: int, weekday: int, entry: int
    ) -> list[tuple[int, str]]:
        """The status changes that end the episode (the first one after the entry)."""
        rng = self.rng
        if outcome == TERMINATED:
            via = pick(rng, ([S.WARRANT, S.PENDING_TERMINATION, S.IN_CUSTODY], [0.4, 0.8, 1.0]))
            start = max(exit_day - rng.randint(14, 60), entry + 1)
            start = snap(start, weekday) if via != S.IN_CUSTODY else start
            end = snap(max(exit_day, start + 7), weekday)
            return [(start, via), (end, TERMINATED)]
        if outcome == VOLUNTARY:
            return [(snap(exit_day, weekday), VOLUNTARY)]
        if outcome == ADMIN:
            return [(exit_day, S.MEDICAL_LEAVE), (exit_day + rng.randint(14, 60), ADMIN)]
        if outcome in (DECEASED, TRANSFERRED):
            return [(exit_day, outcome)]
        if outcome == GRADUATED:
            return [(snap(exit_day + rng.randint(0, 30), weekday), GRADUATED)]
        return []

    def still_in(self, plan: Plan, weekday: int) -> None:
        """Some of those still in the program are, today, not simply active."""
        rng = self.rng
        now = pick(
            rng,
            (
                [S.ACTIVE, S.WARRANT, S.IN_CUSTODY, S.MEDICAL_LEAVE, S.PENDING_TERMINATION],
                [0.8, 0.88, 0.92, 0.95, 1.0],
            ),
        )
        last = max([plan.entry, *(d for d, _a, _b in plan.statuses)])
        if now == S.ACTIVE or plan.status != S.ACTIVE or last >= self.last - 3:
            return
        day = rng.randint(last + 1, min(self.last, last + 120))
        if now in (S.WARRANT, S.PENDING_TERMINATION):
            day = snap(day, weekday)
            if day > self.last:
                day -= 7
        if day <= last:
            return
        plan.statuses.append((day, S.ACTIVE, now))
        plan.status = now
        if now == S.IN_CUSTODY:
            plan.arrests.append((day - 1, self.rng.choice(TEXT["arrest"]), None))

    def people(self, plans: list[Plan]) -> None:
        """One person per referral, except ~3% who come back after an earlier episode ended."""
        rng = self.rng
        closed: list[tuple[int, int]] = []  # (day the earlier episode closed, person)
        pool: list[int] = []
        for plan in plans:
            while closed and closed[0][0] < plan.referred:
                pool.append(heapq.heappop(closed)[1])
            if pool and rng.random() < 0.03:
                plan.person = pool.pop(rng.randrange(len(pool)))
            else:
                plan.person = len(self.persons)
                self.persons.append(self.person(plan.referred))
            if plan.outcome in (DECLINED, TERMINATED, VOLUNTARY):
                heapq.heappush(closed, (plan.end, plan.person))

    def person(self, referred: int) -> tuple:
        rng = self.rng
        race = pick(rng, RACE)
        roll = rng.random()
        sex = "male" if roll < 0.68 else "female" if roll < 0.992 else None
        if sex is None:
            sex_value = pick(rng, ([Person.Sex.INTERSEX, Person.Sex.UNKNOWN], [0.4, 1.0]))
            gender = pick(rng, ([Person.Gender.NON_BINARY, Person.Gender.UNKNOWN], [0.6, 1.0]))
            sex = rng.choice(["male", "female"])
        else:
            sex_value = Person.Sex.MALE if sex == "male" else Person.Sex.FEMALE
            roll = rng.random()
            gender = (
                (Person.Gender.MAN if sex == "male" else Person.Gender.WOMAN)
                if roll < 0.975
                else Person.Gender.NON_BINARY
                if roll < 0.99
                else Person.Gender.OTHER
                if roll < 0.995
                else Person.Gender.UNKNOWN
            )
        hispanic = race == R.HISPANIC
        spanish = hispanic and rng.random() < 0.6
        first = rng.choice(NAMES[f"es_{sex}" if spanish else sex])
        last_list = {
            R.HISPANIC: "es_last",
            R.ASIAN: "asian_last",
            R.INDIGENOUS: "indigenous_last",
            R.PACIFIC: "pacific_last",
        }.get(race, "last")
        last = rng.choice(NAMES[last_list])
        second = rng.choice(NAMES["es_last"]) if spanish and rng.random() < 0.5 else ""
        age = int(rng.triangular(18, 66, 27))
        dob = referred - age * 365 - rng.randint(0, 364)
        language = "es" if spanish and rng.random() < 0.7 else "en"
        phone = f"(312) 555-{rng.randint(100, 199):04d}" if rng.random() < 0.85 else ""
        email = ""
        if rng.random() < 0.45:
            email = f"{ascii_name(first)}.{ascii_name(last)}{rng.randint(1, 999)}@example.net"
        address = ""
        if rng.random() < 0.9:
            address = f"{rng.randint(100, 9899)} {rng.choice(STREETS)} St, Synthetic City"
        return (first, last, second, dob, sex_value, gender, race, language, phone, email, address)

    # -- writing the referrals and what screening, admission and exits record -------------------


def cut_before(statuses: list, cut: int) -> list:
    """Status changes strictly before `cut`, keeping interruptions whole."""
    kept = [s for s in statuses if s[0] < cut]
    if kept and kept[-1][2] != S.ACTIVE:
        kept.pop()
    return kept
