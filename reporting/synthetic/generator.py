"""The synthetic program's generator: setup through the ORM and the services, then every row
by COPY (see the package docstring for what is generated and why it is fast)."""

import bisect
import math
import random
import time
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.utils import timezone

from hearings.demo import TEXT as HEARING_TEXT
from hearings.models import (
    DocketEntry,
    HearingSeries,
    HearingSession,
    Response,
    ResponseKind,
    ResponseType,
    Unit,
)
from hearings.services import catalog_ensure, venue_of
from participants.models import (
    Assessment,
    Case,
    Charge,
    Consent,
    Disposition,
    InformationCategory,
    NewArrest,
    Participant,
    ParticipantGroupObjectPermission,
    ParticipantUserObjectPermission,
    Person,
    PhaseChange,
    ScreeningDecision,
    StatusChange,
)
from reporting.synthetic.bulk import NULL, Clock, Writer, esc
from reporting.synthetic.planning import Plan, Planner, snap
from reporting.synthetic.population import (
    ADMIN,
    DECEASED,
    DECLINED,
    GRADUATED,
    INCENTIVE_WHEN_CLEAN,
    JAIL_AFTER_WARRANT,
    MAGNITUDES,
    MISSED_RATE,
    NAMES,
    PANEL,
    POSITIVE_RATE,
    RELAPSE,
    SANCTION_WHEN_POSITIVE,
    SCHEDULED,
    TERMINATED,
    TESTED,
    TEXT,
    TRANSFERRED,
    TROUBLE,
    VOLUNTARY,
    YEARS,
    S,
    X,
    draw,
    with_metabolites,
)
from tjp import audit
from tjp.access import grant_program_staff
from tjp.clock import program_today
from tjp.management.commands.seed_demo import DEMO_PASSWORD, PROGRAMS, demo_program
from tjp.models import AuditEvent, Program, User
from tjp.roles import Role
from tjp.services import user_create
from treatment import services as treatment_services
from treatment.models import (
    DrugTest,
    DrugTestResult,
    Provider,
    ProviderAssignment,
    TestingHoliday,
    TestingProfile,
    TestSelection,
    TreatmentSession,
)

CHUNK = 2000  # participants per COPY batch of their tests, sessions and hearings
JUDGE_CASELOAD = 110  # participants per synthetic judge (the standard's ~125, with room)
STAFF = [Role.JUDGE, Role.PROSECUTOR, Role.DEFENDER, Role.CLINICIAN, Role.COORDINATOR, Role.MANAGER]
# The models whose django-pghistory insert triggers the load skips (see the package docstring).
TRACKED = [Participant, Consent, HearingSession, DocketEntry, Response]


class SyntheticProgramExists(Exception):
    """The program code already has participants: generate into another code."""


class Generator:
    """Sets the program up, draws the referrals (planning.Planner), and writes them."""

    def __init__(self, n: int, program_code: str, seed: int, stdout):
        self.n, self.code, self.seed = n, program_code, seed
        self.stdout = stdout
        self.rng = random.Random(seed)  # noqa: S311  (synthetic data, not security)
        self.uuid_rng = random.Random(f"{seed}:{program_code}")  # noqa: S311
        self.writer = Writer()
        self.uuids = 0
        self.started = self.stage_started = time.perf_counter()

    # -- small helpers -------------------------------------------------------------------------
    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def stage(self, name: str) -> None:
        now = time.perf_counter()
        self.say(f"  {name}: {now - self.stage_started:.1f}s")
        self.stage_started = now

    def uuid(self) -> str:
        """A UUIDv7 (RFC 9562, with a 12-bit counter): time-ordered, so the unique indexes
        fill at their right edge instead of at random pages. The time is the program's
        today (midnight UTC) plus a millisecond per 4096 ids, so the run stays deterministic."""
        count = self.uuids
        self.uuids = count + 1
        ms = self.epoch_ms + (count >> 12)
        rand_b = self.uuid_rng.getrandbits(62)
        return f"{ms:012x}7{count & 0xFFF:03x}{(2 << 62 | rand_b):016x}"

    # -- setup through the ORM and the services ------------------------------------------------
    def setup(self) -> None:
        spec = {
            **PROGRAMS[0],
            "code": self.code,
            "name": "Synthetic Treatment Court"
            if self.code == "synth"
            else f"Synthetic Treatment Court ({self.code})",
            "jurisdiction": "Synthetic County, US",
            "people": {},
        }
        existing = Program.objects.filter(code=self.code).first()
        if existing is not None and existing.participants.exists():
            raise SyntheticProgramExists(
                f"Program {self.code!r} already has {existing.participants.count()} "
                "participants; choose another --program-code."
            )
        self.program = demo_program(spec)
        self.tz = ZoneInfo(self.program.time_zone)
        self.today = program_today(self.program).toordinal()
        self.last = self.today - 1  # history runs to yesterday
        self.first = self.last - YEARS * 365
        self.epoch_ms = (self.today - date(1970, 1, 1).toordinal()) * 86_400_000
        self.now = timezone.now()
        phases = list(self.program.phases.order_by("number"))
        self.phase_pk = {p.number: p.pk for p in phases}
        self.min_days = {p.number: p.min_days for p in phases}
        self.tests_per_week = {p.number: p.tests_per_week for p in phases}
        self.interval = {p.number: p.hearing_interval_days for p in phases}
        self.top = phases[-1].number
        names = [("Helen", "Okafor"), ("Marcus", "Bell"), ("Alicia", "Ruiz"), ("Priya", "Shah")]
        names += [("Daniel", "Kowalski"), ("Grace", "Huang")]
        accounts = [
            (f"{role.value}@{self.code}.example", role, *name)
            for role, name in zip(STAFF, names, strict=True)
        ]
        census = self.n * 0.73 * 0.32  # admitted, times the share of four years in the program
        for k in range(2, max(1, math.ceil(census / JUDGE_CASELOAD)) + 1):
            first = self.rng.choice(NAMES["male"][:10] + NAMES["female"][:10])
            last = self.rng.choice(NAMES["last"] + NAMES["es_last"])
            accounts.append((f"judge{k}@{self.code}.example", Role.JUDGE, first, last))
        users = [self.account(*account) for account in accounts]
        # The demo password, hashed once: hashing it for each of a hundred judges takes minutes.
        User.objects.filter(pk__in=[u.pk for u in users]).update(
            password=make_password(DEMO_PASSWORD)
        )
        self.staff = dict(zip(STAFF, users, strict=False))
        self.judges = [u for u, a in zip(users, accounts, strict=True) if a[1] == Role.JUDGE]
        provider_name = f"Synthetic Recovery Services ({self.code})"
        self.provider = Provider.objects.filter(name=provider_name).first()
        if self.provider is None:
            self.provider = treatment_services.provider_create(
                acting_user=None, name=provider_name, programs=[self.program]
            )
        treatment_services.provider_add_clinician(
            acting_user=None, provider=self.provider, user=self.staff[Role.CLINICIAN]
        )
        catalog_ensure(self.program)
        self.catalog = {
            kind: [t for t in ResponseType.objects.filter(program=self.program, kind=kind)]
            for kind in ResponseKind.values
        }
        self.holidays()
        self.view_participant = Permission.objects.get(
            codename="view_participant", content_type__app_label="participants"
        ).pk
        self.clock = Clock(self.tz, self.first - 1500, self.today + 60)
        self.stage(f"setup ({len(self.judges)} judges)")

    def account(self, email: str, role: Role, first: str, last: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            return user_create(
                acting_user=None,
                email=email,
                password=None,
                role=role,
                first_name=first,
                last_name=last,
                programs=[self.program],
            )
        user.groups.add(Group.objects.get(name=role.value))
        grant_program_staff(user, self.program)
        return user

    def holidays(self) -> None:
        names = TEXT["holidays"].split("|")
        rows = []
        for year in range(date.fromordinal(self.first).year, date.fromordinal(self.today).year + 1):
            days = [
                date(year, 1, 1),
                _last_weekday(year, 5, 0),
                date(year, 7, 4),
                _nth_weekday(year, 9, 0, 1),
                _nth_weekday(year, 11, 3, 4),
                date(year, 12, 25),
            ]
            rows += [
                TestingHoliday(program=self.program, date=d, name=name)
                for d, name in zip(days, names, strict=True)
            ]
        TestingHoliday.objects.bulk_create(rows, ignore_conflicts=True)

    # -- the referrals and what screening, admission and exits record -------------------------
    def write_people(self, plans: list[Plan]) -> None:
        w, clock, rng = self.writer, self.clock, self.rng
        first_person = w.ids(Person, len(self.persons))
        first_referral = {}
        for plan in plans:
            first_referral.setdefault(plan.person, plan.referred)
        lines = []
        for index, person in enumerate(self.persons):
            first, last, second, dob, sex, gender, race, lang, phone, email, address = person
            lines.append(
                f"{first_person + index}\t{self.uuid()}\t{esc(first)}\t{esc(last)}\t"
                f"{esc(second)}\t{date.fromordinal(dob).isoformat()}\t{sex}\t{gender}\t{race}\t"
                f"{lang}\t{phone}\t{email}\t{address}\t"
                f"{clock.at(first_referral[index], rng.randint(480, 1080))}\n"
            )
        w.copy(
            Person,
            "id, uuid, first_name, last_name, second_last_name, date_of_birth, sex, gender, "
            "race_ethnicity, preferred_language, phone, email, address, created_at",
            lines,
        )
        first_pid = w.ids(Participant, len(plans))
        staff = {role: user.pk for role, user in self.staff.items()}
        lines = []
        for offset, plan in enumerate(plans):
            plan.pid = first_pid + offset
            phase = self.phase_pk[plan.phases[-1][1]] if plan.phases else NULL
            exit_reason = TEXT["status"].get(plan.status, "") if plan.exit else ""
            disposition, disposition_date = "", NULL
            if plan.exit and rng.random() < 0.85:
                disposition = {
                    GRADUATED: Disposition.DISMISSED,
                    DECEASED: Disposition.DISMISSED,
                    TRANSFERRED: Disposition.OTHER,
                    ADMIN: Disposition.DISMISSED,
                    TERMINATED: Disposition.SENTENCED,
                }.get(plan.outcome, Disposition.RETURNED)
                disposition_date = clock.day(min(plan.exit + rng.randint(0, 21), self.last))
            lines.append(
                f"{plan.pid}\t{self.uuid()}\t{plan.status}\t{clock.day(plan.referred)}\t"
                f"{plan.source}\t{clock.day(plan.arrest) if plan.arrest else NULL}\t"
                f"{plan.substance[0]}\t{clock.day(plan.entry) if plan.entry else NULL}\t"
                f"{clock.day(plan.exit) if plan.exit else NULL}\t{exit_reason}\t{disposition}\t"
                f"{disposition_date}\t{clock.at(plan.referred, rng.randint(480, 1080))}\t"
                f"{staff[Role.COORDINATOR]}\t{staff[Role.DEFENDER]}\t"
                f"{self.judges[plan.judge].pk}\t{phase}\t{self.program.pk}\t"
                f"{first_person + plan.person}\n"
            )
        w.copy(
            Participant,
            "id, uuid, status, referred_on, referral_source, arrest_date, primary_substance, "
            "entry_date, exit_date, exit_reason, disposition, disposition_date, created_at, "
            "created_by_id, defender_id, judge_id, phase_id, program_id, person_id",
            lines,
        )
        self.stage(f"people and referrals ({len(self.persons)} people, {len(plans)} referrals)")

    def write_records(self, plans: list[Plan]) -> None:
        """Cases, screening, assessments, status and phase history, arrests, consents, grants,
        provider assignments and call-in codes."""
        w, clock, rng = self.writer, self.clock, self.rng
        staff = {role: user.pk for role, user in self.staff.items()}
        who = {"legal": staff[Role.PROSECUTOR], "clinical": staff[Role.CLINICIAN]}
        tables = {m: [] for m in _RECORD_MODELS}
        for plan in plans:
            pid = plan.pid
            year = date.fromordinal(plan.referred).year
            case_id = w.ids(Case, 1)
            filed = plan.arrest + rng.randint(1, 5) if plan.arrest else plan.referred
            tables[Case].append(
                f"{case_id}\t{self.uuid()}\t{clock.at(plan.referred, 600)}\t{year}-CF-"
                f"{pid:07d}\t{TEXT['court']}\t{clock.day(filed)}\t{staff[Role.COORDINATOR]}\t"
                f"{pid}\n"
            )
            level = "misdemeanor" if plan.substance[1] == X.ALCOHOL else "felony"
            charges = [(plan.substance[2], level)]
            if rng.random() < 0.3:
                charges.append((TEXT["paraphernalia"], "misdemeanor"))
            for description, level in charges:
                tables[Charge].append(f"{w.ids(Charge, 1)}\t{description}\t\t{level}\t{case_id}\n")
            for day, kind, outcome, reasons in plan.decisions:
                by = who.get(kind, self.judges[plan.judge].pk)
                tables[ScreeningDecision].append(
                    f"{w.ids(ScreeningDecision, 1)}\t{self.uuid()}\t"
                    f"{clock.at(day, rng.randint(540, 1020))}\t{kind}\t{outcome}\t{reasons}\t"
                    f"{clock.day(day)}\t{by}\t{pid}\n"
                )
            if plan.assessed is not None:
                eligible = plan.outcome != DECLINED or any(
                    k == "clinical" and o == "eligible" for _d, k, o, _r in plan.decisions
                )
                risk = "high" if eligible else "low"
                score = rng.randint(14, 24) if eligible else rng.randint(3, 9)
                tables[Assessment].append(
                    f"{w.ids(Assessment, 1)}\t{self.uuid()}\t{clock.at(plan.assessed, 780)}\t"
                    f"rant\t{score}.0\t{risk}\t{risk if eligible else 'moderate'}\t"
                    f"{clock.day(plan.assessed)}\t{staff[Role.CLINICIAN]}\t{pid}\n"
                )
            for day, from_status, to_status in plan.statuses:
                reason = TEXT["admit"] if from_status == S.REFERRED else TEXT["status"][to_status]
                if to_status == S.DECLINED:
                    reason = plan.decisions[-1][3]
                by = staff[Role.COORDINATOR] if to_status in _COORDINATOR_MOVES else None
                by = by or self.judges[plan.judge].pk
                tables[StatusChange].append(
                    f"{w.ids(StatusChange, 1)}\t{self.uuid()}\t"
                    f"{clock.at(day, rng.randint(600, 1020))}\t{from_status}\t{to_status}\t"
                    f"{clock.day(day)}\t{reason}\t{by}\t{pid}\n"
                )
            previous = None
            for day, number in plan.phases:
                reason = (
                    TEXT["admit"]
                    if previous is None
                    else TEXT["promote"]
                    if number > previous
                    else TEXT["demote"]
                )
                from_phase = NULL if previous is None else self.phase_pk[previous]
                tables[PhaseChange].append(
                    f"{w.ids(PhaseChange, 1)}\t{self.uuid()}\t{clock.at(day, 660)}\t"
                    f"{clock.day(day)}\t{reason}\t{self.judges[plan.judge].pk}\t{from_phase}\t"
                    f"{pid}\t{self.phase_pk[number]}\n"
                )
                previous = number
            for day, charge, convicted in plan.arrests:
                convicted = NULL if convicted is None else "t" if convicted else "f"
                entered = min(day + rng.randint(1, 3), self.last)
                tables[NewArrest].append(
                    f"{w.ids(NewArrest, 1)}\t{self.uuid()}\t{clock.at(entered, 600)}"
                    f"\t{clock.day(day)}\t{charge}\t{convicted}\t{staff[Role.COORDINATOR]}\t{pid}\n"
                )
            tables[ParticipantUserObjectPermission].append(
                f"{w.ids(ParticipantUserObjectPermission, 1)}\t{pid}\t{self.view_participant}\t"
                f"{staff[Role.DEFENDER]}\n"
            )
            if plan.entry is None:
                continue
            tables[Consent].append(
                f"{w.ids(Consent, 1)}\t{self.uuid()}\t{clock.at(plan.entry, 700)}\t"
                f"{TEXT['consent_discloser']}\t{_CATEGORIES}\t{_RECIPIENTS}\t"
                f"{TEXT['consent_purpose']}\tt\t{clock.day(plan.entry)}\t\\N\t"
                f"{TEXT['consent_event']}\t\\N\t{staff[Role.COORDINATOR]}\t\\N\t{pid}\n"
            )
            ended = clock.day(plan.exit) if plan.exit else NULL
            tables[ProviderAssignment].append(
                f"{w.ids(ProviderAssignment, 1)}\t{self.uuid()}\t{clock.day(plan.entry)}\t{ended}"
                f"\t{clock.at(plan.entry, 720)}\t{staff[Role.COORDINATOR]}\t{pid}\t"
                f"{self.provider.pk}\n"
            )
            if plan.exit is None:  # an ended assignment has its grant revoked
                tables[ParticipantGroupObjectPermission].append(
                    f"{w.ids(ParticipantGroupObjectPermission, 1)}\t{pid}\t"
                    f"{self.provider.group_id}\t{self.view_participant}\n"
                )
                oral = rng.random() < 0.15
                tables[TestingProfile].append(
                    f"{w.ids(TestingProfile, 1)}\t{self.code}-{pid}\t"
                    f"{'oral_fluid' if oral else 'urine'}\t{pid}\n"
                )
        for model, lines in tables.items():
            w.copy(model, _RECORD_COLUMNS[model], lines)
        self.stage(
            "screening, history, cases, consents, assignments ("
            + ", ".join(f"{m.__name__} {len(lines)}" for m, lines in tables.items())
            + ")"
        )

    # -- the court calendar --------------------------------------------------------------------
    def write_sessions(self, plans: list[Plan]) -> None:
        """One weekly status-review series per judge: judge k sits on weekday k % 5 in room k."""
        w, clock = self.writer, self.clock
        admitted = [p.entry for p in plans if p.entry is not None]
        first = min(admitted, default=self.last)
        coordinator = self.staff[Role.COORDINATOR].pk
        self.session_id: dict[tuple[int, int], int] = {}  # (judge, day) -> session id
        self.positions: dict[int, int] = {}
        series_lines, session_lines = [], []
        for k, judge in enumerate(self.judges):
            weekday = k % 5
            room = f"{self.code.upper()}-{k + 1}"
            venue = esc(venue_of(self.program, room))
            start, end = snap(first, weekday), snap(self.today + 28, weekday)
            series = w.ids(HearingSeries, 1)
            series_lines.append(
                f"{series}\t{self.uuid()}\tstatus_review\t{room}\t{weekday}\t09:00:00\t180\t1\t"
                f"{clock.day(start)}\t{clock.day(end)}\t{clock.at(start - 14, 600)}\t"
                f"{coordinator}\t{judge.pk}\t{self.program.pk}\n"
            )
            for day in range(start, end + 1, 7):
                sid = w.ids(HearingSession, 1)
                self.session_id[k, day] = sid
                session_lines.append(
                    f"{sid}\t{self.uuid()}\tstatus_review\t{room}\t{venue}\t"
                    f"{clock.at(day, 540)}\t{clock.at(day, 720)}\t\tf\t\t1\t"
                    f"{clock.at(start - 14, 600)}\t{coordinator}\t{judge.pk}\t{self.program.pk}\t"
                    f"{series}\n"
                )
        w.copy(HearingSeries, _SERIES_COLUMNS, series_lines)
        w.copy(HearingSession, _SESSION_COLUMNS, session_lines)
        self.stage(f"hearing calendar ({len(session_lines)} sessions)")

    # -- tests, treatment and hearings, participant by participant -----------------------------
    def write_activity(self, plans: list[Plan]) -> None:
        admitted = [p for p in plans if p.entry is not None]
        with self.writer.in_background():
            self.write_chunks(admitted)
        self.stage("tests, treatment sessions and hearings")

    def write_chunks(self, admitted: list[Plan]) -> None:
        tests = 0
        for start in range(0, len(admitted), CHUNK):
            chunk = admitted[start : start + CHUNK]
            buffers = {m: [] for m in _ACTIVITY_MODELS}
            for plan in chunk:
                track = self.track(plan)
                tested = self.tests(plan, track, buffers)
                self.treatment(plan, track, buffers)
                self.hearings(plan, track, tested, buffers)
            tests += len(buffers[DrugTest])
            for model, lines in buffers.items():
                self.writer.copy(model, _ACTIVITY_COLUMNS[model], lines)
            done = min(start + CHUNK, len(admitted))
            self.say(
                f"    {done}/{len(admitted)} admitted, {tests} tests drawn "
                f"({time.perf_counter() - self.stage_started:.0f}s)"
            )

    def track(self, plan: Plan) -> list[tuple[int, int, str, int]]:
        """[(from, to (exclusive), status, phase number)] from entry to exit (or yesterday)."""
        events = sorted(
            [(d, 0, to) for d, _f, to in plan.statuses[1:]] + [(d, 1, n) for d, n in plan.phases]
        )
        status, phase, day = S.ACTIVE, 1, plan.entry
        end = (plan.exit if plan.exit is not None else self.last) + 1
        track = []
        for when, what, value in events:
            if when > day:
                track.append((day, min(when, end), status, phase))
                day = when
            if what == 0:
                status = value
            else:
                phase = value
        if day < end and status not in (GRADUATED, TERMINATED, VOLUNTARY, ADMIN, DECEASED):
            track.append((day, end, status, phase))
        return [t for t in track if t[0] < t[1] and t[2] != TRANSFERRED]

    def tests(self, plan: Plan, track, buffers) -> list[tuple[int, bool]]:
        """Drug tests on the phase's tests per week, answering random selections."""
        rng, clock, w = self.rng, self.clock, self.writer
        random_ = rng.random
        pid, out = plan.pid, []
        base_pos = POSITIVE_RATE.get(plan.outcome, 0.08)
        base_miss = MISSED_RATE.get(plan.outcome, 0.03)
        trouble = [d for d, _f, to in plan.statuses if to in TROUBLE]
        demotions = zip(plan.phases[1:], plan.phases, strict=False)
        trouble = sorted(trouble + [d for (d, n), (_d, n0) in demotions if n < n0])
        primary = plan.substance[1]
        method_default = "oral_fluid" if random_() < 0.15 else "urine"
        coordinator = self.staff[Role.COORDINATOR].pk
        clinician = self.staff[Role.CLINICIAN].pk
        provider = self.provider.pk
        tests_, results, selections = (
            buffers[DrugTest],
            buffers[DrugTestResult],
            buffers[TestSelection],
        )
        now_day = self.today
        seed = f"synthetic:{self.seed}"
        for start, stop, status, phase in track:
            if status not in TESTED:
                continue
            per_week = self.tests_per_week[phase]
            monday = start - (start + 6) % 7
            while monday < stop:
                low, high = max(start, monday), min(stop, monday + 7)
                days = rng.sample(range(low, high), min(per_week, high - low))
                if random_() < 0.06 and high - low > len(days):  # a for-cause test
                    extra = rng.choice([d for d in range(low, high) if d not in days])
                    days.append(-extra)
                for day in sorted(days, key=abs):
                    chosen = day > 0
                    day = abs(day)
                    near = _near(trouble, day)
                    early = day - plan.entry < 60
                    test_id = w.ids(DrugTest, 1)
                    method = method_default
                    if not chosen:
                        method = "breath" if random_() < 0.3 else "urine"
                    if chosen:
                        window = 240 if method == "oral_fluid" else 480
                        deadline = 360 + window
                        called = NULL
                        if random_() < 0.85:  # called the line (the others got the notice)
                            called = clock.at(day, draw(random_, 360, 540))
                        sent = clock.at(day, 360) if random_() < 0.5 else NULL
                        selections.append(
                            f"{w.ids(TestSelection, 1)}\t{self.uuid()}\t{clock.day(day)}\t"
                            f"{method}\t{seed}\t{per_week}\t{clock.at(day, 360)}\t"
                            f"{clock.at(day, deadline)}\t{called}\t{clock.at(day - 1, 1380)}\t"
                            f"{pid}\t{test_id}\t\t{sent}\n"
                        )
                    miss = base_miss * (3 if near else 1)
                    roll = random_()
                    if chosen and roll < miss:  # no specimen by the deadline
                        out.append((day, True))
                        tests_.append(
                            f"{test_id}\t{self.uuid()}\tsystem\t\t"
                            f"{clock.at(day, deadline + draw(random_, 5, 65))}\t"
                            f"{clock.at(day, deadline)}\t{method}\tf\tf\tf\tt\tf\tt\t\\N\t\t\t"
                            f"\\N\t{pid}\t\\N\n"
                        )
                        continue
                    refused = roll < miss + 0.003
                    adulterated = method == "urine" and not refused and random_() < 0.002
                    if chosen:
                        collected = draw(random_, 380, deadline - 15)
                    else:
                        collected = draw(random_, 480, 1080)
                    positives = ()
                    rate = base_pos * (3 if near else 1) * (1.8 if early else 1)
                    if not refused and random_() < rate:
                        if method == "breath":
                            positives = (X.ALCOHOL,)
                        else:
                            use = primary if random_() < 0.6 else rng.choice(RELAPSE)
                            positives = with_metabolites(use, rng)
                    dilute = method == "urine" and not refused and random_() < 0.013
                    observed = "t" if method != "urine" or random_() < 0.88 else "f"
                    if method == "breath":
                        lab, resulted = "", collected + draw(random_, 1, 5)
                    elif method == "urine" and random_() < 0.35:
                        lab = "Synthetic Toxicology Laboratory"
                        resulted = collected + draw(random_, 18 * 60, 60 * 60)
                    else:
                        lab, resulted = "", collected + draw(random_, 5, 30)
                    if day + resulted // 1440 >= now_day:
                        # Not back by yesterday: an instant cup read at the collection site
                        # (every test but a missed or refused one has its results).
                        lab, resulted = "", collected + draw(random_, 5, 30)
                    if refused:
                        resulted_at, entered = NULL, collected + draw(random_, 10, 60)
                    else:
                        resulted_at = clock.at(day, resulted)
                        late = random_() >= 0.94  # entered days later
                        entered = resulted + (
                            draw(random_, 2880, 9000) if late else draw(random_, 5, 180)
                        )
                        if day + entered // 1440 >= now_day:
                            entered = resulted + 5
                    confirmation = ""
                    result = "positive"
                    if positives and lab and random_() < 0.4:
                        confirmation, result = "confirmed", "confirmed_positive"
                    if lab:
                        source, by, prov = "lab", coordinator, NULL
                    elif random_() < 0.15:
                        source, by, prov = "provider", clinician, provider
                    else:
                        source, by, prov = "court", coordinator, NULL
                    tests_.append(
                        f"{test_id}\t{self.uuid()}\t{source}\t\t{clock.at(day, entered)}\t"
                        f"{clock.at(day, collected)}\t{method}\t{observed}\t"
                        f"{'t' if dilute else 'f'}\t{'t' if adulterated else 'f'}\tf\t"
                        f"{'t' if refused else 'f'}\t{'t' if chosen else 'f'}\t{resulted_at}\t"
                        f"{confirmation}\t{lab}\t{by}\t{pid}\t{prov}\n"
                    )
                    out.append((day, bool(positives) or refused or adulterated))
                    if refused:
                        continue
                    if method == "breath":
                        panel = (X.ALCOHOL,)
                    elif random_() < 0.015:
                        panel = PANEL
                    elif positives and primary not in positives:
                        panel = (primary, *positives)
                    else:
                        panel = positives or (primary,)
                    for substance in panel:
                        outcome = result if substance in positives else "negative"
                        results.append(f"{test_id}\t{substance}\t{outcome}\n")
                monday += 7
        return out

    def treatment(self, plan: Plan, track, buffers) -> None:
        """Sessions with the provider: twice a week in phase 1, weekly, every other week in the
        last phase."""
        rng, clock, w = self.rng, self.clock, self.writer
        random_ = rng.random
        lines = buffers[TreatmentSession]
        clinician, provider = self.staff[Role.CLINICIAN].pk, self.provider.pk
        for start, stop, status, phase in track:
            if status not in TESTED:
                continue
            per_week = 1.5 if phase == 1 else 0.5 if phase == self.top else 1
            monday = start - (start + 6) % 7
            while monday < stop:
                low, high = max(start, monday), min(stop, monday + 7)
                count = int(per_week) + (random_() < per_week % 1)
                for day in sorted(rng.sample(range(low, high), min(count, high - low))):
                    roll = random_()
                    kind, hours = (
                        ("group", "1.50")
                        if roll < 0.6
                        else ("individual", "1.00")
                        if roll < 0.9
                        else ("family", "1.00")
                        if roll < 0.95
                        else ("medication", "0.25")
                    )
                    roll = random_()
                    attendance = (
                        "attended"
                        if roll < 0.85
                        else "late"
                        if roll < 0.89
                        else "excused"
                        if roll < 0.94
                        else "absent"
                    )
                    entered = min(day + draw(random_, 0, 3), self.last)
                    lines.append(
                        f"{w.ids(TreatmentSession, 1)}\t{self.uuid()}\tprovider\t\t"
                        f"{clock.at(entered, draw(random_, 960, 1200))}\t{clock.day(day)}\t"
                        f"{kind}\t{attendance}\t{hours}\t{clinician}\t{plan.pid}\t{provider}\n"
                    )
                monday += 7

    def hearings(self, plan: Plan, track, tested, buffers) -> None:
        """Appearances on the judge's weekly sessions at the phase's interval (weekly while a
        termination motion is pending), and the responses to what happened since the last."""
        rng, clock, w = self.rng, self.clock, self.writer
        random_ = rng.random
        entries, responses = buffers[DocketEntry], buffers[Response]
        weekday = plan.judge % 5
        judge = self.judges[plan.judge].pk
        coordinator = self.staff[Role.COORDINATOR].pk
        events = {d: to for d, _f, to in plan.statuses}
        moves = {d for d, _n in plan.phases}
        end = plan.exit if plan.exit is not None else self.last
        day = snap(plan.entry, weekday)
        returns = sorted(d for d, f, to in plan.statuses if f == S.WARRANT and to == S.ACTIVE)
        due, last_heard = day, plan.entry
        segment, test_index = 0, 0
        dates = []
        while day <= end:
            while segment < len(track) - 1 and track[segment][1] <= day:
                segment += 1
            status, phase = S.ACTIVE, 1
            if track:
                _a, _b, status, phase = track[segment]
            event = events.get(day)
            if (status in SCHEDULED and day >= due) or event or day in moves:
                dates.append((day, status, phase, event))
                interval = 7 if status == S.PENDING_TERMINATION else self.interval[phase]
                due = day + interval
            if status in (S.WARRANT, S.MEDICAL_LEAVE):
                due = day + 7
            day += 7
        for index, (day, status, phase, event) in enumerate(dates):
            sid = self.session_id.get((plan.judge, day))
            if sid is None:
                continue
            position = self.positions.get(sid, 0)
            self.positions[sid] = position + 1
            if event == S.WARRANT or status == S.WARRANT:
                attendance = "absent"
            elif status == S.IN_CUSTODY:
                attendance = "present" if random_() < 0.7 else "excused"
            else:
                roll = random_()
                attendance = (
                    "present"
                    if roll < 0.9
                    else "remote"
                    if roll < 0.94
                    else "excused"
                    if roll < 0.97
                    else "absent"
                )
            appeared = attendance in ("present", "remote")
            minutes = str(max(1, min(15, int(rng.gauss(3.2, 1.4))))) if appeared else NULL
            notes = ""
            if random_() < 0.3:
                notes = esc(rng.choice(HEARING_TEXT["en"]["notes"][attendance]))
            following = dates[index + 1][0] if index + 1 < len(dates) else None
            next_appearance = clock.day(following) if following else NULL
            entry_id = w.ids(DocketEntry, 1)
            entries.append(
                f"{entry_id}\t{self.uuid()}\t{position}\t{attendance}\t{minutes}\t{notes}\t"
                f"{next_appearance}\t{clock.at(day - draw(random_, 2, 7), 900)}\t"
                f"{clock.at(day, draw(random_, 720, 1020))}\t{coordinator}\t{plan.pid}\t"
                f"{self.phase_pk[phase]}\t{sid}\n"
            )
            # What happened since the last hearing decides the response.
            bad_day = None
            while test_index < len(tested) and tested[test_index][0] < day:
                tested_on, bad = tested[test_index]
                if bad and bad_day is None and tested_on >= last_heard:
                    bad_day = tested_on
                test_index += 1
            back = bisect.bisect_right(returns, last_heard)
            returned = back < len(returns) and returns[back] <= day
            kind = None
            if appeared and returned and random_() < JAIL_AFTER_WARRANT:
                kind, bad_day = "jail", last_heard
            elif bad_day is not None and appeared:
                roll = random_()
                if roll < SANCTION_WHEN_POSITIVE:
                    kind = ResponseKind.SANCTION
                elif roll < SANCTION_WHEN_POSITIVE + 0.25:
                    kind = ResponseKind.SERVICE
            elif appeared and random_() < INCENTIVE_WHEN_CLEAN:
                kind = ResponseKind.INCENTIVE
            if kind is not None:
                responses.append(self.response(plan, kind, bad_day, day, entry_id, judge))
            last_heard = day

    def response(self, plan: Plan, kind, bad_day, day, entry_id, judge) -> str:
        rng, clock = self.rng, self.clock
        if kind == "jail":
            types = [t for t in self.catalog[ResponseKind.SANCTION] if t.unit == Unit.JAIL_DAYS]
            kind = ResponseKind.SANCTION
        else:
            types = [t for t in self.catalog[kind] if t.unit != Unit.JAIL_DAYS]
        chosen = rng.choice(types or self.catalog[kind])
        magnitude = NULL
        if chosen.unit == Unit.JAIL_DAYS:
            magnitude = f"{min(rng.randint(1, 3), self.program.max_jail_sanction_days)}.0"
        elif chosen.unit:
            magnitude = f"{rng.choice(MAGNITUDES[chosen.unit])}.0"
        behavior = bad_day if bad_day is not None else max(plan.entry, day - rng.randint(1, 13))
        behavior = min(max(behavior, plan.entry), day)
        return (
            f"{self.writer.ids(Response, 1)}\t{self.uuid()}\t{kind}\t{chosen.unit}\t{magnitude}\t"
            f"{clock.day(behavior)}\t{clock.day(day)}\t\t{clock.at(day, 750)}\t{judge}\t"
            f"{entry_id}\t{plan.pid}\t{chosen.pk}\n"
        )

    # -- the whole run --------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self.say(f"Synthetic program {self.code!r}: {self.n} referrals (seed {self.seed}).")
        with connection.cursor() as cursor:
            # Foreign keys are checked at once for the rest of the transaction: PostgreSQL
            # refuses to drop a table's constraints while deferred checks on it are pending
            # (the setup's inserts and anything the caller wrote before).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.setup()
        for model in COPIED_MODELS:
            self.writer.reserve(model)
        planner = Planner(
            self.rng,
            first=self.first,
            last=self.last,
            min_days=self.min_days,
            judges=len(self.judges),
        )
        plans = planner.plan(self.n)
        self.persons = planner.persons
        self.stage(f"plan ({len(plans)} referrals)")
        with self.writer.indexed_after([*COPIED_MODELS, DrugTestResult]):
            self.write_people(plans)
            self.write_records(plans)
            self.write_sessions(plans)
            self.write_activity(plans)
        self.stage("indexes and constraints re-created (and checked)")
        self.writer.finish()
        with connection.cursor() as cursor:
            for model in (Participant, DrugTest, DrugTestResult, TestSelection, DocketEntry):
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        audit.record(
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=self.program,
            program=self.program,
            actor_label="seed_demo --participants",
            detail={"synthetic": self.n, "seed": self.seed},
        )
        self.stage("sequences, statistics")
        counts = dict(self.writer.counts)
        self.say(
            f"Done in {time.perf_counter() - self.started:.1f}s: "
            + ", ".join(f"{table} {count}" for table, count in counts.items())
        )
        return counts


# --- column lists of the COPYs (the order of each line above) -----------------------------------
_COORDINATOR_MOVES = {S.MEDICAL_LEAVE, ADMIN, DECEASED, TRANSFERRED}
_CATEGORIES = "{" + ",".join(InformationCategory.values) + "}"
_RECIPIENTS = "{judge,prosecutor,defender,coordinator}"
_ENTRY = "id, uuid, created_at"
_RECORD_COLUMNS = {
    Case: f"{_ENTRY}, case_number, court, filed_on, created_by_id, participant_id",
    Charge: "id, description, statute, level, case_id",
    ScreeningDecision: f"{_ENTRY}, kind, outcome, reasons, decided_on, created_by_id, "
    "participant_id",
    Assessment: f"{_ENTRY}, instrument, score, risk_level, need_level, assessed_on, "
    "created_by_id, participant_id",
    StatusChange: f"{_ENTRY}, from_status, to_status, effective_on, reason, created_by_id, "
    "participant_id",
    PhaseChange: f"{_ENTRY}, effective_on, reason, created_by_id, from_phase_id, participant_id, "
    "to_phase_id",
    NewArrest: f"{_ENTRY}, arrested_on, charge, convicted, created_by_id, participant_id",
    ParticipantUserObjectPermission: "id, content_object_id, permission_id, user_id",
    Consent: f"{_ENTRY}, discloser, categories, recipient_roles, purpose, criminal_justice, "
    "signed_on, expires_on, expiry_event, revoked_on, created_by_id, document_id, participant_id",
    ProviderAssignment: "id, uuid, assigned_on, ended_on, created_at, created_by_id, "
    "participant_id, provider_id",
    ParticipantGroupObjectPermission: "id, content_object_id, group_id, permission_id",
    TestingProfile: "id, call_in_code, method, participant_id",
}
_RECORD_MODELS = list(_RECORD_COLUMNS)
_SERIES_COLUMNS = (
    "id, uuid, kind, courtroom, weekday, start_time, duration_minutes, interval_weeks, starts_on, "
    "ends_on, created_at, created_by_id, judge_id, program_id"
)
_SESSION_COLUMNS = (
    "id, uuid, kind, courtroom, venue, starts_at, ends_at, notes, cancelled, cancel_reason, "
    "version, created_at, created_by_id, judge_id, program_id, series_id"
)
_ACTIVITY_COLUMNS = {
    TestSelection: "id, uuid, day, method, seed, tests_per_week, notified_at, deadline, "
    "called_in_at, created_at, participant_id, test_id, excused, notice_sent_at",
    DrugTest: "id, uuid, source, external_id, created_at, collected_at, method, observed, dilute, "
    "adulterated, missed, refused, random, resulted_at, confirmation, lab, created_by_id, "
    "participant_id, provider_id",
    DrugTestResult: "test_id, substance, result",
    TreatmentSession: "id, uuid, source, external_id, created_at, session_date, kind, attendance, "
    "hours, created_by_id, participant_id, provider_id",
    DocketEntry: "id, uuid, position, attendance, judicial_minutes, judge_notes, next_appearance, "
    "created_at, updated_at, added_by_id, participant_id, phase_id, session_id",
    Response: "id, uuid, kind, unit, magnitude, behavior_on, responded_on, notes, created_at, "
    "created_by_id, entry_id, participant_id, response_type_id",
}
# DrugTest before the selections and results that point at it.
_ACTIVITY_MODELS = [DrugTest, TestSelection, DrugTestResult, TreatmentSession, DocketEntry]
_ACTIVITY_MODELS.append(Response)
COPIED_MODELS = [Person, Participant, *_RECORD_MODELS, HearingSeries, HearingSession]
COPIED_MODELS += [m for m in _ACTIVITY_MODELS if m is not DrugTestResult]


def _near(trouble: list[int], day: int) -> bool:
    """Within the three weeks before a warrant, custody, termination motion or demotion."""
    i = bisect.bisect_left(trouble, day)
    return i < len(trouble) and trouble[i] - day <= 21


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)
