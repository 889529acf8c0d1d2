"""Demo treatment data for the two demo programs, written through the treatment services.

Per program: two providers, each with its demo clinician (`clinician@` works for the first,
`clinician2@` for the second), every admitted participant assigned to one of them on the entry
date (and unassigned on the exit date; two moved from the first to the second two weeks ago, so
that each provider's clinician sees only their own organisation's records), one or two treatment
episodes, weekly session attendance, medication for opioid or alcohol use disorder for a few, a
progress update every four weeks, clinical notes, and about six months of drug tests following
each phase's tests per week: mostly negative, with relapses around the sanctions and status
changes the participants demo recorded, dilutes, misses, refusals, adulterations, confirmations
and results that come back late. Then call-in codes, holidays, and the random selections of the
last two weeks and of today; selections nobody tested for become missed tests.

Deterministic (one `random.Random(2027)` per program, dates counted back from the program's
today) and idempotent: a program whose demo providers exist is left alone.
"""

import random
import time as clock
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from participants import services as participant_services
from participants.models import (
    IN_PROGRAM_STATUSES,
    InformationCategory,
    Participant,
    Status,
)
from tjp.clock import program_today
from tjp.models import Program, User
from tjp.roles import Role
from treatment import services
from treatment.models import (
    ClinicalNote,
    DrugTest,
    DrugTestResult,
    Medication,
    ProgressUpdate,
    Provider,
    ProviderAssignment,
    Substance,
    TestingHoliday,
    TestingProfile,
    TestSelection,
    TreatmentEpisode,
    TreatmentSession,
)

HISTORY_DAYS = 182  # about six months of records, counted back from today
SELECTION_DAYS = 14  # past days that go through the real random selection
TESTED = set(services.TESTED_STATUSES)
Level = TreatmentEpisode.LevelOfCare
Modality = TreatmentEpisode.Modality
Attendance = TreatmentSession.Attendance
Kind = TreatmentSession.Kind
Method = DrugTest.Method
Confirmation = DrugTest.Confirmation
Result = DrugTestResult.Result
Engagement = ProgressUpdate.Engagement
Drug = Medication.Drug
X = Substance
C = InformationCategory

# --- what each program has -----------------------------------------------------------------
PROGRAMS = {
    "atc": {
        "providers": [
            ("Lakeside Recovery Center", "(555) 310 2200"),
            ("Northside Counseling Services", "(555) 418 7710"),
        ],
        "lab": "Great Lakes Toxicology Laboratory",
        # The standard urine / oral-fluid panel, and what relapses are to besides the primary
        # substance.
        "panel": [
            X.ALCOHOL,
            X.AMPHETAMINES,
            X.METHAMPHETAMINE,
            X.COCAINE,
            X.OPIATES,
            X.FENTANYL,
            X.BENZODIAZEPINES,
            X.CANNABIS,
        ],
        "relapse": [X.CANNABIS, X.CANNABIS, X.COCAINE, X.METHAMPHETAMINE, X.ALCOHOL, X.ALCOHOL],
        "base_rate": 0.08,  # high-risk, high-need population
        "colours": ["blue", "green", "orange", "purple"],
        "holidays": [
            (date(2026, 7, 4), "Independence Day"),
            (date(2026, 9, 7), "Labor Day"),
            (date(2026, 11, 26), "Thanksgiving Day"),
            (date(2026, 12, 25), "Christmas Day"),
        ],
    },
    "pjt": {
        "providers": [
            ("Centro de Integración Juvenil Guadalupe", "81 8367 1200"),
            ("Clínica de Adicciones Nuevo León", "81 8040 5566"),
        ],
        "lab": "Laboratorio de Toxicología del Noreste",
        "panel": [
            X.ALCOHOL,
            X.AMPHETAMINES,
            X.METHAMPHETAMINE,  # "cristal"
            X.COCAINE,
            X.BENZODIAZEPINES,
            X.CANNABIS,
        ],
        "relapse": [X.ALCOHOL, X.ALCOHOL, X.CANNABIS, X.CANNABIS, X.COCAINE, X.METHAMPHETAMINE],
        "base_rate": 0.06,  # first-time, lower-risk population
        "colours": ["azul", "verde", "naranja", "morado"],
        "holidays": [
            (date(2026, 9, 16), "Día de la Independencia"),
            (date(2026, 11, 16), "Día de la Revolución"),
            (date(2026, 12, 12), "Día de la Virgen de Guadalupe"),
            (date(2026, 12, 25), "Navidad"),
        ],
    },
}

# --- what providers write, in the program's language ----------------------------------------
TEXT = {
    "en": {
        "consent_purpose": "Continuity of care after the transfer between providers.",
        "consent_expiry": "End of treatment at the new provider",
        "moved": "Transferred from Lakeside Recovery Center for evening groups near work. "
        "Attended both intake sessions; engaged and on time.",
        "summary": {
            Engagement.GOOD: "Engaged and participating actively in group.",
            Engagement.FAIR: "Attending, but guarded and participating little in group.",
            Engagement.POOR: "Irregular attendance and little engagement in treatment.",
        },
        "counts": "Attended {attended} of {sessions} sessions; {positive} of {tests} drug tests "
        "positive or missed.",
        "recommendations": {
            Engagement.GOOD: [
                "Continue at the current level of care.",
                "Continue treatment; supports consideration for the next phase.",
            ],
            Engagement.FAIR: [
                "Add a weekly individual session focused on relapse prevention.",
                "Continue treatment; review triggers and the recovery support plan.",
            ],
            Engagement.POOR: [
                "Increase to intensive outpatient; review at the next staffing.",
                "Reassess the level of care; consider a residential referral.",
            ],
        },
        "notes": [
            "Explored triggers around payday; practised refusal skills in role-play. Ambivalent "
            "about cutting ties with friends who still use.",
            "Reports better sleep and fewer cravings. Conflict with mother remains the main "
            "stressor; plan a family session.",
            "Disclosed use at a party before the test result came back; worked through shame "
            "and reviewed the relapse-prevention plan.",
            "PHQ-9 of 12 (moderate depression); referred to psychiatry for a medication "
            "evaluation.",
            "Motivation improving; set a goal of 30 days of sobriety. Discussed anxiety about "
            "the job search.",
            "Started a trauma-focused workbook; tolerated the session well. Continue weekly.",
        ],
        "stepdown_residential": "Completed the residential stay; stepped down to intensive "
        "outpatient.",
        "stepdown": "Met treatment goals; stepped down to outpatient.",
        "discharge": {
            Status.GRADUATED: "Completed treatment.",
            Status.TERMINATED: "Discharged: terminated from the treatment court.",
            Status.VOLUNTARY_WITHDRAWAL: "Left treatment after withdrawing from the program.",
            Status.ADMINISTRATIVE_DISCHARGE: "Discharged for medical reasons.",
            Status.DECEASED: "Deceased.",
            Status.TRANSFERRED: "Transferred to a provider in the new county.",
        },
        "doses": {
            Drug.BUPRENORPHINE: ["16 mg sublingual daily", "12 mg sublingual daily"],
            Drug.METHADONE: ["90 mg daily"],
            Drug.NALTREXONE_XR: ["380 mg injection every 4 weeks"],
            Drug.NALTREXONE: ["50 mg daily"],
            Drug.ACAMPROSATE: ["666 mg three times a day"],
        },
    },
    "es": {
        "consent_purpose": "Continuidad de la atención tras el cambio de proveedor.",
        "consent_expiry": "Fin del tratamiento en el nuevo proveedor",
        "moved": "Transferido del Centro de Integración Juvenil para asistir a grupos "
        "vespertinos cerca de su trabajo. Asistió a las dos sesiones de ingreso; comprometido "
        "y puntual.",
        "summary": {
            Engagement.GOOD: "Participa activamente en las sesiones grupales.",
            Engagement.FAIR: "Asiste, pero con participación limitada en las sesiones.",
            Engagement.POOR: "Asistencia irregular y poco compromiso con el tratamiento.",
        },
        "counts": "Asistió a {attended} de {sessions} sesiones; {positive} de {tests} pruebas "
        "positivas o no realizadas.",
        "recommendations": {
            Engagement.GOOD: [
                "Continuar con el mismo nivel de atención.",
                "Continuar el tratamiento; se apoya valorar el avance a la siguiente fase.",
            ],
            Engagement.FAIR: [
                "Agregar una sesión individual semanal de prevención de recaídas.",
                "Continuar el tratamiento; revisar detonantes y la red de apoyo.",
            ],
            Engagement.POOR: [
                "Aumentar a tratamiento ambulatorio intensivo; revisar en la próxima reunión "
                "del equipo.",
                "Revalorar el nivel de atención; considerar canalización a tratamiento "
                "residencial.",
            ],
        },
        "notes": [
            "Se exploraron los detonantes relacionados con el día de pago; se practicaron "
            "habilidades de rechazo. Ambivalente respecto a alejarse de amistades que consumen.",
            "Refiere dormir mejor y menos deseo de consumo. El conflicto con la madre sigue "
            "siendo el principal estresor; se programa sesión familiar.",
            "Reconoce consumo en una fiesta antes de conocer el resultado de la prueba; se "
            "trabajó la culpa y se revisó el plan de prevención de recaídas.",
            "PHQ-9 de 12 (depresión moderada); se canaliza a psiquiatría para valorar medicamento.",
            "Mejora la motivación; se fija la meta de 30 días sin consumo. Se habló de la "
            "ansiedad por la búsqueda de empleo.",
            "Inició el trabajo sobre trauma con material de apoyo; toleró bien la sesión.",
        ],
        "stepdown_residential": "Concluyó el internamiento; continúa en tratamiento "
        "ambulatorio intensivo.",
        "stepdown": "Cumplió los objetivos del tratamiento; pasa a tratamiento ambulatorio.",
        "discharge": {
            Status.GRADUATED: "Concluyó el tratamiento.",
            Status.TERMINATED: "Baja: se revocó la suspensión condicional.",
            Status.VOLUNTARY_WITHDRAWAL: "Abandonó el tratamiento al retirarse del programa.",
            Status.ADMINISTRATIVE_DISCHARGE: "Baja por motivos médicos.",
            Status.DECEASED: "Fallecimiento.",
            Status.TRANSFERRED: "Se remitió a un centro de tratamiento en Jalisco.",
        },
        "doses": {
            Drug.NALTREXONE: ["50 mg diarios"],
            Drug.ACAMPROSATE: ["666 mg tres veces al día"],
        },
    },
}


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _primary(text: str) -> str | None:
    """The panel substance that detects the participant's primary substance, if any."""
    text = _plain(text)
    for keys, substance in (
        (("meth", "metanfet", "cristal"), X.METHAMPHETAMINE),
        (("opioid", "heroin", "fentanyl"), X.FENTANYL),
        (("cocain",), X.COCAINE),
        (("alcohol",), X.ALCOHOL),
        (("marihuana", "cannabis", "marijuana"), X.CANNABIS),
    ):
        if any(key in text for key in keys):
            return substance
    return None  # e.g. inhalants: not on a standard panel


# --- one participant's time in the program --------------------------------------------------
@dataclass
class _Life:
    participant: Participant
    provider: Provider
    clinician: User  # the demo clinician of its provider: they report what it does
    start: date  # first day of the seeded history
    last: date  # last day in the program (the day before the exit, or today)
    statuses: list  # [(effective_on, to_status)] after admission, in order
    phases: list  # [(effective_on, Phase)], in order
    trouble: list  # days of warrants, custody, termination motions and demotions
    primary: str | None
    moud: str | None = None
    assignment: ProviderAssignment | None = None
    sessions: list = field(default_factory=list)  # [(day, attendance)]
    tests: list = field(default_factory=list)  # [(day, counts as positive: bool)]

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

    def testable(self, day: date) -> bool:
        return self.start <= day <= self.last and self.status_at(day) in TESTED

    def near_trouble(self, day: date) -> bool:
        return any(0 <= (t - day).days <= 21 for t in self.trouble)


# --- the seeder -----------------------------------------------------------------------------
class _Seeder:
    def __init__(self, program: Program):
        self.program = program
        self.code = program.code
        self.spec = PROGRAMS[program.code]
        self.t = TEXT["es" if program.language == Program.Language.SPANISH else "en"]
        self.rng = random.Random(2027)  # noqa: S311  (demo data, not security)
        # The real selection draws from a secret and the participants' uuids: what happens to
        # the selected gets its own stream, so the rest of the demo stays the same.
        self.selection_rng = random.Random(self.rng.random())  # noqa: S311
        self.tz = ZoneInfo(program.time_zone)
        self.today = program_today(program)
        self.now = timezone.now()
        self.coordinator = self._user(Role.COORDINATOR)
        self.clinician = self._user(Role.CLINICIAN)
        self.clinician2 = User.objects.get(email=f"clinician2@{self.code}.example")
        self.serial = 0
        self.medicated = 0
        self.numbers = dict(program.phases.values_list("pk", "number"))

    def _user(self, role: Role) -> User:
        return User.objects.get(email=f"{role.value}@{self.code}.example")

    def external_id(self) -> str:
        self.serial += 1
        return f"demo-{self.code}-{self.serial}"

    def moment(self, day: date, minutes: int) -> datetime:
        """`minutes` after midnight of `day`, in the program's time zone."""
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)

    def reporter(self, life: _Life) -> tuple[User, str]:
        """Who enters what the provider reports: its own clinician, with their EHR's id."""
        return life.clinician, self.external_id()

    # -- the whole program -------------------------------------------------------------------
    def seed(self) -> None:
        rng, spec = self.rng, self.spec
        providers = [
            services.provider_create(
                acting_user=None, name=name, programs=[self.program], phone=phone
            )
            for name, phone in spec["providers"]
        ]
        clinicians = [self.clinician, self.clinician2]
        for provider, clinician in zip(providers, clinicians, strict=True):
            services.provider_add_clinician(acting_user=None, provider=provider, user=clinician)
        for day, name in spec["holidays"]:
            TestingHoliday.objects.get_or_create(
                program=self.program, date=day, defaults={"name": name}
            )

        admitted = list(
            Participant.objects.filter(program=self.program, entry_date__isnull=False)
            .select_related("person", "program", "phase")
            .prefetch_related("status_changes", "phase_changes__to_phase")
            .order_by("pk")
        )
        # Most go to the demo clinician's provider; a few to the other one.
        second = set(rng.sample(range(len(admitted)), max(1, len(admitted) // 6)))
        lives = []
        for index, participant in enumerate(admitted):
            which = 1 if index in second else 0
            lives.append(self.life(participant, providers[which], clinicians[which]))

        for life in lives:
            life.assignment = services.provider_assign(
                acting_user=self.coordinator,
                participant=life.participant,
                provider=life.provider,
                assigned_on=life.participant.entry_date,
            )
            self.medication(life)
            self.episodes(life)
            self.sessions(life)
            self.scheduled_tests(life)

        self.profiles(lives)
        self.random_selection(lives)

        for life in lives:
            self.progress_updates(life)
            self.clinical_notes(life)
        # Two of the first provider's participants moved to the second a fortnight ago: each
        # organisation's clinician now sees only their own organisation's part of the record.
        staying = [
            life
            for life in lives
            if life.provider == providers[0] and life.participant.status in IN_PROGRAM_STATUSES
        ]
        for index, life in enumerate(staying[:2]):
            self.move(life, providers[1], self.clinician2, consent=index == 0)
        for life in lives:
            if life.participant.exit_date:
                services.provider_unassign(
                    acting_user=self.coordinator,
                    assignment=life.assignment,
                    ended_on=life.participant.exit_date,
                )

    def life(self, participant: Participant, provider: Provider, clinician: User) -> _Life:
        changes = sorted(participant.status_changes.all(), key=lambda c: (c.effective_on, c.pk))
        moves = sorted(participant.phase_changes.all(), key=lambda c: (c.effective_on, c.pk))
        trouble = [
            c.effective_on
            for c in changes
            if c.to_status
            in (Status.WARRANT, Status.IN_CUSTODY, Status.PENDING_TERMINATION, Status.TERMINATED)
        ]
        trouble += [
            m.effective_on
            for m in moves
            if m.from_phase_id and m.to_phase.number < self.numbers[m.from_phase_id]
        ]
        entry, exit_date = participant.entry_date, participant.exit_date
        return _Life(
            participant=participant,
            provider=provider,
            clinician=clinician,
            start=max(entry, self.today - timedelta(days=HISTORY_DAYS)),
            last=exit_date - timedelta(days=1) if exit_date else self.today,
            statuses=[(c.effective_on, c.to_status) for c in changes if c.effective_on >= entry],
            phases=[(m.effective_on, m.to_phase) for m in moves],
            trouble=trouble,
            primary=_primary(participant.primary_substance),
        )

    # -- treatment -----------------------------------------------------------------------------
    def medication(self, life: _Life) -> None:
        """Medication for opioid use disorder for opioid users (the standard of care), and for
        alcohol use disorder for some drinkers."""
        rng, p = self.rng, life.participant
        doses = self.t["doses"]
        if life.primary == X.FENTANYL:
            drug = rng.choice([Drug.BUPRENORPHINE, Drug.BUPRENORPHINE, Drug.METHADONE])
            drug = Drug.NALTREXONE_XR if rng.random() < 0.2 else drug
        elif life.primary == X.ALCOHOL and (not self.medicated or rng.random() < 0.5):
            drug = rng.choice([Drug.NALTREXONE, Drug.NALTREXONE, Drug.ACAMPROSATE])
        else:
            return
        started = min(p.entry_date + timedelta(days=rng.randint(0, 6)), life.last)
        life.moud = drug
        self.medicated += 1
        services.medication_record(
            acting_user=life.clinician,
            participant=p,
            drug=drug,
            dose=rng.choice(doses[drug]),
            started_on=started,
            ended_on=p.exit_date,
        )

    def episodes(self, life: _Life) -> None:
        """The level of care over time: residential for a few, intensive outpatient in the
        first phases, outpatient from phase 3; opioid users in an opioid treatment program."""
        rng, p, t = self.rng, life.participant, self.t
        entry = p.entry_date
        segments = []  # [level, modality, admitted_on, discharge reason for the next step]
        if life.moud in (Drug.BUPRENORPHINE, Drug.METHADONE):
            segments.append([Level.L1, Modality.MOUD, entry, ""])
        else:
            day = entry
            if rng.random() < 0.15:
                segments.append([Level.L3_5, Modality.RESIDENTIAL, day, ""])
                day = entry + timedelta(days=rng.randint(21, 35))
                if day <= life.last:
                    segments[-1][3] = t["stepdown_residential"]
            if day <= life.last:
                segments.append([Level.L2_1, Modality.INTENSIVE, day, ""])
                stepdown = next(
                    (d for d, phase in life.phases if phase.number >= 3 and d > day), None
                )
                if stepdown and stepdown <= life.last:
                    segments[-1][3] = t["stepdown"]
                    segments.append([Level.L1, Modality.OUTPATIENT, stepdown, ""])
        segments = [s for s in segments if s[2] <= life.last] or segments[:1]
        for index, (level, modality, admitted_on, reason) in enumerate(segments):
            discharged_on = None
            if index + 1 < len(segments):
                discharged_on = segments[index + 1][2]
            elif p.exit_date:
                discharged_on = p.exit_date
                reason = t["discharge"].get(p.status, "")
            user, external_id = self.reporter(life)
            services.episode_record(
                acting_user=user,
                participant=p,
                level_of_care=level,
                modality=modality,
                admitted_on=admitted_on,
                discharged_on=discharged_on,
                discharge_reason=reason if discharged_on else "",
                external_id=external_id,
            )

    def sessions(self, life: _Life) -> None:
        """A weekly group session, an individual session every four weeks, and a medication
        visit every four weeks for those on MOUD."""
        rng = self.rng
        group_day = rng.choice([1, 2, 3])  # Tuesday to Thursday
        day = life.start + timedelta(days=(group_day - life.start.weekday()) % 7)
        week = 0
        absent_since = None
        while day <= life.last:
            status = life.status_at(day)
            planned = [(day, Kind.GROUP)]
            if week % 4 == 1:
                planned.append((day + timedelta(days=1), Kind.INDIVIDUAL))
            if life.moud and week % 4 == 2:
                planned.append((day + timedelta(days=2), Kind.MEDICATION))
            for session_day, kind in planned:
                if session_day > life.last:
                    continue
                if status in TESTED:
                    absent_since = None
                    attendance = self.attendance(life, session_day)
                elif status in (Status.WARRANT, Status.MEDICAL_LEAVE):
                    absent_since = absent_since or session_day
                    if (session_day - absent_since).days > 21:
                        continue  # discharged from the group roster after three weeks
                    attendance = (
                        Attendance.ABSENT if status == Status.WARRANT else Attendance.EXCUSED
                    )
                else:
                    continue  # in custody: no sessions
                self.session(life, session_day, kind, attendance)
            day += timedelta(days=7)
            week += 1

    def attendance(self, life: _Life, day: date) -> str:
        roll = self.rng.random()
        absent = 0.2 if life.near_trouble(day) else 0.05
        if roll < absent:
            return Attendance.ABSENT
        if roll < absent + 0.06:
            return Attendance.EXCUSED
        if roll < absent + 0.13:
            return Attendance.LATE
        return Attendance.ATTENDED

    def session(self, life: _Life, day: date, kind: str, attendance: str) -> None:
        rng = self.rng
        full = {
            Kind.GROUP: rng.choice([Decimal("1.5"), Decimal("2"), Decimal("3"), Decimal("3")]),
            Kind.INDIVIDUAL: Decimal("1"),
            Kind.FAMILY: Decimal("1.5"),
            Kind.MEDICATION: Decimal("0.5"),
        }[kind]
        hours = {
            Attendance.ATTENDED: full,
            Attendance.LATE: max(full - Decimal("0.5"), Decimal("0.25")),
        }.get(attendance, Decimal(0))
        user, external_id = self.reporter(life)
        services.session_record(
            acting_user=user,
            participant=life.participant,
            session_date=day,
            kind=kind,
            attendance=attendance,
            hours=hours,
            external_id=external_id,
        )
        life.sessions.append((day, attendance))

    # -- drug tests ----------------------------------------------------------------------------
    def scheduled_tests(self, life: _Life) -> None:
        """Tests before the random-selection window (or for anyone no longer tested at random):
        each week the phase's tests per week, on days drawn from all seven."""
        rng = self.rng
        selected = life.participant.status in TESTED
        cutoff = self.today - timedelta(days=SELECTION_DAYS + 1) if selected else life.last
        monday = life.start - timedelta(days=life.start.weekday())
        while monday <= cutoff:
            week = [monday + timedelta(days=i) for i in range(7)]
            days = [d for d in week if d <= cutoff and life.testable(d)]
            if days:
                per_week = life.phase_at(days[0]).tests_per_week
                count = per_week if len(days) == 7 else int(per_week * len(days) / 7 + rng.random())
                for day in sorted(rng.sample(days, min(count, len(days)))):
                    collected = self.moment(day, rng.randint(7 * 60, 19 * 60 + 30))
                    if collected <= self.now - timedelta(hours=1):
                        self.test(life, day, collected)
            monday += timedelta(days=7)

    def test(
        self,
        life: _Life,
        day: date,
        collected: datetime,
        method: str | None = None,
        may_miss: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        rng, spec, p = rng or self.rng, self.spec, life.participant
        trouble = life.near_trouble(day)
        roll = rng.random()
        missed_rate = (0.14 if trouble else 0.04) if may_miss else 0
        if roll < missed_rate + 0.012:
            # No show (the coordinator records it at the deadline) or a refusal at the site.
            missed = roll < missed_rate
            services.drug_test_record(
                acting_user=self.coordinator,
                participant=p,
                collected_at=collected,
                method=method or Method.URINE,
                missed=missed,
                refused=not missed,
            )
            life.tests.append((day, True))
            return
        if method is None:
            roll = rng.random()
            method = Method.URINE if roll < 0.85 else Method.ORAL_FLUID
            method = Method.BREATH if roll >= 0.95 else method
        rate = 0.4 if trouble else spec["base_rate"]
        if not trouble and (day - p.entry_date).days < 45:
            rate *= 2
        positive = set()
        if rng.random() < rate:
            use = life.primary if life.primary and rng.random() < 0.6 else None
            positive.add(use or rng.choice(spec["relapse"]))
            if rng.random() < 0.12:
                positive.add(rng.choice(spec["relapse"]))
            if X.METHAMPHETAMINE in positive:
                positive.add(X.AMPHETAMINES)  # methamphetamine metabolises to amphetamine
            if X.FENTANYL in positive and rng.random() < 0.5:
                positive.add(X.OPIATES)  # often cut with heroin

        if method == Method.BREATH:  # alcohol only, read on the spot
            drinking = X.ALCOHOL in positive
            services.drug_test_record(
                acting_user=self.coordinator,
                participant=p,
                collected_at=collected,
                method=method,
                observed=True,
                results=[(X.ALCOHOL, Result.POSITIVE if drinking else Result.NEGATIVE)],
                resulted_at=collected + timedelta(minutes=rng.randint(2, 10)),
            )
            life.tests.append((day, drinking))
            return

        urine = method == Method.URINE
        dilute = urine and rng.random() < 0.05
        adulterated = urine and rng.random() < 0.012
        roll = rng.random()
        if adulterated or (roll < 0.3 and urine):
            source, user, lab = "lab", self.coordinator, spec["lab"]
        elif roll < 0.65:
            source, user, lab = None, life.clinician, ""
        else:
            source, user, lab = None, self.coordinator, ""
        # Results come back 12 to 60 hours after collection (the standard is 48 hours).
        hours = rng.uniform(20, 60) if source == "lab" else rng.uniform(12, 50)
        resulted = collected + timedelta(minutes=int(hours * 60))
        if resulted > self.now - timedelta(minutes=10):
            # Not back yet by that clock: an instant cup read at the collection site.
            resulted = collected + timedelta(minutes=rng.randint(5, 30))
        confirmation = ""
        outcome = dict.fromkeys(positive, Result.POSITIVE)
        if positive and rng.random() < 0.35:
            if self.now - collected < timedelta(days=5):
                confirmation = Confirmation.PENDING
            elif rng.random() < 0.8:
                confirmation = Confirmation.CONFIRMED
                outcome = dict.fromkeys(positive, Result.CONFIRMED_POSITIVE)
            else:  # the screen was not confirmed by the lab: negative after all
                confirmation = Confirmation.NOT_CONFIRMED
                outcome = {}
        results = [(s, outcome.get(s, Result.NEGATIVE)) for s in spec["panel"]]
        services.drug_test_record(
            acting_user=user,
            participant=p,
            collected_at=collected,
            method=method,
            results=results,
            observed=method == Method.ORAL_FLUID or rng.random() < 0.85,
            dilute=dilute,
            adulterated=adulterated,
            resulted_at=resulted,
            confirmation=confirmation,
            lab=lab,
            source=source,
            external_id=self.external_id() if user == life.clinician or source else "",
        )
        life.tests.append((day, bool(outcome) or adulterated))

    def profiles(self, lives: list[_Life]) -> None:
        """Call-in codes ("blue-3") for everyone in the program; a few test by oral fluid."""
        colours = self.spec["colours"]
        in_program = [life for life in lives if life.participant.status in IN_PROGRAM_STATUSES]
        for index, life in enumerate(in_program):
            TestingProfile.objects.get_or_create(
                participant=life.participant,
                defaults={
                    "call_in_code": f"{colours[index % len(colours)]}-{index // len(colours) + 1}",
                    "method": Method.ORAL_FLUID if self.rng.random() < 0.15 else Method.URINE,
                },
            )

    def random_selection(self, lives: list[_Life]) -> None:
        """The real daily selection over the last two weeks and today; most selected
        participants gave a specimen before the deadline, the others become missed tests."""
        rng = self.selection_rng
        by_pk = {life.participant.pk: life for life in lives}
        selections = []
        for offset in range(SELECTION_DAYS, -1, -1):
            day = self.today - timedelta(days=offset)
            selections += services.selection_run(program=self.program, day=day)
        overdue = [s for s in selections if s.deadline < self.now]
        no_shows = {s.pk for s in rng.sample(overdue, min(2, len(overdue)))}
        for selection in selections:
            life = by_pk.get(selection.participant_id)
            if life is None:
                continue
            skip = selection.pk in no_shows or rng.random() < 0.04
            earliest = selection.notified_at + timedelta(minutes=20)
            latest = min(
                selection.deadline - timedelta(minutes=15), self.now - timedelta(minutes=45)
            )
            if skip or not life.testable(selection.day) or latest <= earliest:
                if selection.deadline < self.now:
                    life.tests.append((selection.day, True))  # becomes a missed test
                continue
            span = int((latest - earliest).total_seconds() // 60)
            collected = earliest + timedelta(minutes=rng.randint(0, span))
            collected = collected.astimezone(self.tz).replace(second=0, microsecond=0)
            self.test(
                life, selection.day, collected, method=selection.method, may_miss=False, rng=rng
            )

    # -- what providers write ------------------------------------------------------------------
    def progress_updates(self, life: _Life) -> None:
        rng, t = self.rng, self.t
        start = life.start
        while start + timedelta(days=27) <= life.last:
            end = start + timedelta(days=27)
            sessions = [a for day, a in life.sessions if start <= day <= end]
            tests = [pos for day, pos in life.tests if start <= day <= end]
            if sessions or tests:
                attended = sum(a in (Attendance.ATTENDED, Attendance.LATE) for a in sessions)
                expected = sum(a != Attendance.EXCUSED for a in sessions)
                positive = sum(tests)
                rate = attended / expected if expected else 0
                if rate >= 0.8 and positive <= 1:
                    engagement = Engagement.GOOD
                elif rate < 0.6 or positive >= 3:
                    engagement = Engagement.POOR
                else:
                    engagement = Engagement.FAIR
                counts = t["counts"].format(
                    attended=attended, sessions=len(sessions), positive=positive, tests=len(tests)
                )
                user, external_id = self.reporter(life)
                services.progress_update_record(
                    acting_user=user,
                    participant=life.participant,
                    period_start=start,
                    period_end=end,
                    engagement=engagement,
                    summary=f"{t['summary'][engagement]} {counts}",
                    recommendations=rng.choice(t["recommendations"][engagement]),
                    external_id=external_id,
                )
            start = end + timedelta(days=1)

    def move(self, life: _Life, provider: Provider, clinician: User, *, consent: bool) -> None:
        """Move to `provider` two weeks ago; with `consent`, the participant lets the new
        provider see the old one's progress, attendance and tests (42 CFR Part 2 applies
        between providers too)."""
        day = self.today - timedelta(days=14)
        services.provider_unassign(
            acting_user=self.coordinator, assignment=life.assignment, ended_on=day
        )
        life.assignment = services.provider_assign(
            acting_user=self.coordinator,
            participant=life.participant,
            provider=provider,
            assigned_on=day,
        )
        life.provider, life.clinician = provider, clinician
        if consent:
            participant_services.consent_record(
                acting_user=self.coordinator,
                participant=life.participant,
                data={
                    "discloser": self.spec["providers"][0][0],
                    "categories": [C.PROGRESS, C.ATTENDANCE, C.DRUG_TESTS],
                    "recipient_roles": [],
                    "recipient_organisations": [provider.group],
                    "purpose": self.t["consent_purpose"],
                    "criminal_justice": False,
                    "signed_on": day,
                    "expires_on": None,
                    "expiry_event": self.t["consent_expiry"],
                },
            )
        for offset in (12, 5):
            services.session_record(
                acting_user=clinician,
                participant=life.participant,
                session_date=self.today - timedelta(days=offset),
                kind=TreatmentSession.Kind.INDIVIDUAL,
                attendance=TreatmentSession.Attendance.ATTENDED,
                hours=Decimal(1),
                external_id=self.external_id(),
            )
        services.progress_update_record(
            acting_user=clinician,
            participant=life.participant,
            period_start=day,
            period_end=self.today - timedelta(days=1),
            engagement=Engagement.GOOD,
            summary=self.t["moved"],
            external_id=self.external_id(),
        )

    def clinical_notes(self, life: _Life) -> None:
        rng = self.rng
        span = (life.last - life.start).days
        if span < 0:
            return
        notes = rng.sample(self.t["notes"], rng.randint(2, 4))
        days = sorted(life.start + timedelta(days=rng.randint(0, span)) for _ in notes)
        for day, text in zip(days, notes, strict=True):
            services.clinical_note_record(
                acting_user=life.clinician, participant=life.participant, written_on=day, text=text
            )


def _summary(program: Program) -> str:
    tests = DrugTest.objects.filter(participant__program=program)
    positive = tests.filter(results__result__in=[Result.POSITIVE, Result.CONFIRMED_POSITIVE])
    mine = {"participant__program": program}
    counts = [
        ("assignments", ProviderAssignment.objects.filter(**mine).count()),
        ("episodes", TreatmentEpisode.objects.filter(**mine).count()),
        ("sessions", TreatmentSession.objects.filter(**mine).count()),
        ("medications", Medication.objects.filter(**mine).count()),
        ("progress updates", ProgressUpdate.objects.filter(**mine).count()),
        ("clinical notes", ClinicalNote.objects.filter(**mine).count()),
        ("drug tests", tests.count()),
        ("positive", positive.distinct().count()),
        ("dilute", tests.filter(dilute=True).count()),
        ("missed", tests.filter(missed=True).count()),
        ("selections", TestSelection.objects.filter(**mine).count()),
        (
            "selected today",
            TestSelection.objects.filter(**mine, day=program_today(program)).count(),
        ),
    ]
    return ", ".join(f"{n} {label}" for label, n in counts)


# --- entry point ----------------------------------------------------------------------------
def seed(*, stdout) -> None:
    seeded = []
    for program in Program.objects.filter(code__in=PROGRAMS).order_by("code"):
        first = PROGRAMS[program.code]["providers"][0][0]
        if Provider.objects.filter(name=first, programs=program).exists():
            stdout.write(f"treatment: {program.code} already has its demo providers.")
            continue
        started = clock.monotonic()
        with transaction.atomic():
            _Seeder(program).seed()
        seeded.append((program, clock.monotonic() - started))
    if seeded:
        # Selections whose deadline passed without a specimen become missed tests.
        services.missed_tests_convert()
    for program, seconds in seeded:
        stdout.write(f"treatment: {program.code} seeded in {seconds:.1f} s: {_summary(program)}.")
