"""Demo participants for the two demo programs, written through the real services.

Each program gets about thirty episodes spread over every status and every phase, with the
history that leads there: referral with cases and charges, legal and clinical screening,
assessment, the admission decision, consent, phase moves, status changes, case plan, services,
new arrests, the legal disposition, and (Mexico) the legal term of the suspensión condicional
with its extension, interruptions, the victim's objection and the restitution plan.

Deterministic (one `random.Random(2026)` per program, dates counted back from the program's
today) and idempotent: a program that already has 25 participants is left alone.
"""

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from participants import services
from participants.models import (
    EXIT_STATUSES,
    Assessment,
    CasePlanGoal,
    Charge,
    Disposition,
    Document,
    InformationCategory,
    Participant,
    Person,
    ReferralSource,
    ScreeningDecision,
    ServiceReferral,
    Status,
)
from tjp import services as tjp_services
from tjp.clock import program_today
from tjp.models import Program, User
from tjp.roles import Role

MIN_PARTICIPANTS = 25
S = Status
Kind = ScreeningDecision.Kind
Outcome = ScreeningDecision.Outcome

# Eligibility policy of each demo program (US: high risk / high need; MX: first-time, low risk).
POLICY = {
    "atc": {
        "eligible_risk_levels": ["high"],
        "eligible_need_levels": ["moderate", "high"],
        "first_offense_only": False,
    },
    "pjt": {
        "eligible_risk_levels": ["low", "moderate"],
        "eligible_need_levels": ["low", "moderate", "high"],
        "first_offense_only": True,
    },
}


# --- the stories: where each episode ends up and how it got there ---------------------------
@dataclass(frozen=True)
class Story:
    status: str
    phase: int = 0  # phase reached by an admitted participant; negative counts from the last
    path: tuple = ()  # status changes after admission, in order
    flags: frozenset = frozenset()
    offence: str = ""  # force an offence kind (restitution needs a theft)


def _story(status, phase=0, path=(), flags="", offence=""):
    return Story(status, phase, tuple(path), frozenset(flags.split()), offence)


STORIES = [
    # In screening.
    _story(S.REFERRED, flags="stage_new"),
    _story(S.REFERRED, flags="stage_legal"),
    _story(S.REFERRED, flags="stage_screened"),
    # Declined, with reasons (the denominator of equity reporting).
    _story(S.DECLINED, flags="legal_no disposition"),
    _story(S.DECLINED, flags="clinical_no"),
    _story(S.DECLINED, flags="refused"),
    # In the program.
    _story(S.ACTIVE, 1, flags="no_consent"),
    _story(S.ACTIVE, 1, flags="agreement"),
    _story(S.ACTIVE, 2, path=[S.WARRANT, S.ACTIVE]),
    _story(S.ACTIVE, 2, flags="demoted"),
    _story(S.ACTIVE, 3, flags="arrest restitution", offence="theft"),
    _story(S.ACTIVE, 3, path=[S.IN_CUSTODY, S.ACTIVE], flags="interrupted"),
    _story(S.ACTIVE, -2, path=[S.PENDING_TERMINATION, S.ACTIVE], flags="extended agreement"),
    _story(S.ACTIVE, -1, flags="warning restitution order", offence="theft"),
    _story(S.ACTIVE, -1, flags="consent_file"),
    _story(S.ACTIVE, 2, flags="victim restitution order", offence="theft"),
    _story(S.WARRANT, 2, path=[S.WARRANT]),
    _story(S.WARRANT, 1, path=[S.WARRANT], flags="no_consent"),
    _story(S.IN_CUSTODY, 3, path=[S.IN_CUSTODY], flags="interrupted"),
    _story(S.MEDICAL_LEAVE, 2, path=[S.MEDICAL_LEAVE]),
    _story(S.PENDING_TERMINATION, 2, path=[S.WARRANT, S.ACTIVE, S.PENDING_TERMINATION]),
    # Exits.
    _story(
        S.GRADUATED,
        -1,
        path=[S.GRADUATED],
        flags="disposition revoke_consent restitution agreement",
        offence="theft",
    ),
    _story(S.GRADUATED, -1, path=[S.GRADUATED], flags="disposition demoted"),
    _story(S.GRADUATED, -1, path=[S.GRADUATED], flags="disposition consent_file"),
    _story(
        S.TERMINATED,
        2,
        path=[S.PENDING_TERMINATION, S.TERMINATED],
        flags="disposition restitution",
        offence="theft",
    ),
    _story(S.TERMINATED, 1, path=[S.WARRANT, S.TERMINATED], flags="disposition arrest_convicted"),
    _story(S.VOLUNTARY_WITHDRAWAL, 1, path=[S.VOLUNTARY_WITHDRAWAL], flags="disposition"),
    _story(S.ADMINISTRATIVE_DISCHARGE, 2, path=[S.MEDICAL_LEAVE, S.ADMINISTRATIVE_DISCHARGE]),
    _story(S.DECEASED, 3, path=[S.DECEASED], flags="disposition"),
    _story(S.TRANSFERRED, 2, path=[S.TRANSFERRED]),
]


# --- people ---------------------------------------------------------------------------------
# (first, last, second_last, sex, gender, race_ethnicity, preferred_language)
F, M = Person.Sex.FEMALE, Person.Sex.MALE
W, MAN, NB = Person.Gender.WOMAN, Person.Gender.MAN, Person.Gender.NON_BINARY
R = Person.RaceEthnicity

ATC_PEOPLE = [
    ("Jessica", "Miller", "", F, W, R.WHITE, "en"),
    ("Michael", "Johnson", "", M, MAN, R.BLACK, "en"),
    ("Ashley", "Thompson", "", F, W, R.WHITE, "en"),
    ("Christopher", "Davis", "", M, MAN, R.WHITE, "en"),
    ("Brandon", "Williams", "", M, MAN, R.BLACK, "en"),
    ("Amanda", "Wilson", "", F, W, R.WHITE, "en"),
    ("Tyler", "Anderson", "", M, MAN, R.WHITE, "en"),
    ("Danielle", "Jackson", "", F, W, R.BLACK, "en"),
    ("Joshua", "Martin", "", M, MAN, R.MULTIPLE, "en"),
    ("Kayla", "Robinson", "", F, W, R.BLACK, "en"),
    ("Luis", "Hernández", "", M, MAN, R.HISPANIC, "es"),
    ("Maria", "Gonzalez", "", F, W, R.HISPANIC, "es"),
    ("Carlos", "Ramirez", "", M, MAN, R.HISPANIC, "en"),
    ("Rosa", "Delgado", "", F, W, R.HISPANIC, "es"),
    ("Anthony", "Torres", "", M, MAN, R.HISPANIC, "en"),
    ("Samantha", "Nguyen", "", F, W, R.ASIAN, "en"),
    ("Kevin", "Tran", "", M, MAN, R.ASIAN, "en"),
    ("Jordan", "Begay", "", F, NB, R.INDIGENOUS, "en"),
    ("Robert", "Clark", "", M, MAN, R.WHITE, "en"),
    ("Patricia", "Lewis", "", F, W, R.WHITE, "en"),
    ("Dustin", "Walker", "", M, MAN, R.WHITE, "en"),
    ("Brittany", "Hall", "", F, W, R.WHITE, "en"),
    ("Marcus", "Young", "", M, MAN, R.BLACK, "en"),
    ("Destiny", "King", "", F, W, R.BLACK, "en"),
    ("Ryan", "Scott", "", M, MAN, R.WHITE, "en"),
    ("Alexis", "Morales", "", Person.Sex.UNKNOWN, NB, R.HISPANIC, "en"),
    ("Travis", "Green", "", M, MAN, R.WHITE, "en"),
    ("Keanu", "Kealoha", "", M, MAN, R.PACIFIC, "en"),
    ("Guadalupe", "Reyes", "", F, W, R.HISPANIC, "es"),
    ("Dakota", "Price", "", M, Person.Gender.UNKNOWN, R.UNKNOWN, "en"),
]

PJT_PEOPLE = [
    ("José", "Pérez", "Hernández", M, MAN, R.HISPANIC, "es"),
    ("María Fernanda", "Núñez", "García", F, W, R.HISPANIC, "es"),
    ("Juan Carlos", "Rodríguez", "Leal", M, MAN, R.HISPANIC, "es"),
    ("Luis Ángel", "Escobedo", "Garza", M, MAN, R.HISPANIC, "es"),
    ("Guadalupe", "Sánchez", "Cantú", F, W, R.HISPANIC, "es"),
    ("Jesús Alberto", "Ramírez", "Villarreal", M, MAN, R.HISPANIC, "es"),
    ("Ana Karen", "González", "Treviño", F, W, R.HISPANIC, "es"),
    ("Óscar Iván", "Hernández", "Salazar", M, MAN, R.HISPANIC, "es"),
    ("Brenda Yazmín", "Flores", "Medina", F, W, R.HISPANIC, "es"),
    ("Miguel Ángel", "Torres", "Ibarra", M, MAN, R.HISPANIC, "es"),
    ("Diana Laura", "Castillo", "Méndez", F, W, R.HISPANIC, "es"),
    ("Francisco Javier", "Gutiérrez", "Ríos", M, MAN, R.HISPANIC, "es"),
    ("Alejandro", "López", "Zúñiga", M, MAN, R.HISPANIC, "es"),
    ("Karla Patricia", "Morales", "Ochoa", F, W, R.HISPANIC, "es"),
    ("Héctor Daniel", "Rivera", "Saldaña", M, MAN, R.UNKNOWN, "es"),
    ("Sofía Elizabeth", "Domínguez", "Peña", F, W, R.HISPANIC, "es"),
    ("Ricardo", "Cruz", "Elizondo", M, MAN, R.HISPANIC, "es"),
    ("Martín Eduardo", "Vázquez", "Aguilar", M, MAN, R.HISPANIC, "es"),
    ("Yesenia", "Reyes", "Montemayor", F, W, R.HISPANIC, "es"),
    ("Érick Joel", "Mendoza", "Cavazos", M, MAN, R.HISPANIC, "es"),
    ("Rosa Isela", "Ortiz", "Benavides", F, W, R.UNKNOWN, "es"),
    ("Fernando", "Jiménez", "Quintanilla", M, MAN, R.HISPANIC, "es"),
    ("Adriana", "Chávez", "Guerra", F, W, R.HISPANIC, "es"),
    ("Jorge Luis", "Acosta", "Lozano", M, MAN, R.HISPANIC, "es"),
    ("Daniela Alejandra", "Moreno", "Sáenz", F, W, R.HISPANIC, "es"),
    ("Arturo", "Navarro", "Tamez", M, MAN, R.HISPANIC, "es"),
    ("Citlali", "Hernández", "Cruz", F, W, R.INDIGENOUS, "es"),
    ("Raúl Efraín", "Silva", "Espinoza", M, MAN, R.HISPANIC, "es"),
    ("Itzel", "Santiago", "Martínez", F, NB, R.INDIGENOUS, "es"),
    ("Eduardo", "Garza", "Ochoa", M, MAN, R.HISPANIC, "es"),
]

# Ages at referral, 18 to 64.
AGES = [18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 40, 42]
AGES += [44, 46, 48, 51, 53, 56, 59, 64]


# --- what each program says, in its language -----------------------------------------------
TEXT = {
    "en": {
        "court": "Demo County Circuit Court",
        "offences": {
            "possession": [
                ("Possession of methamphetamine", "720 ILCS 646/60", "felony", "Methamphetamine"),
                (
                    "Possession of a controlled substance (heroin)",
                    "720 ILCS 570/402(c)",
                    "felony",
                    "Opioids (heroin, fentanyl)",
                ),
                (
                    "Possession of a controlled substance (cocaine)",
                    "720 ILCS 570/402(c)",
                    "felony",
                    "Cocaine / crack",
                ),
            ],
            "theft": [
                ("Retail theft", "720 ILCS 5/16-25", "misdemeanor", None),
                ("Burglary from a motor vehicle", "720 ILCS 5/19-1", "felony", None),
            ],
            "dui": [("Driving under the influence", "625 ILCS 5/11-501", "misdemeanor", "Alcohol")],
        },
        "extra_charge": (
            "Possession of drug paraphernalia",
            "720 ILCS 600/3.5",
            "misdemeanor",
        ),
        "substances": ["Methamphetamine", "Opioids (heroin, fentanyl)", "Cocaine / crack"],
        "legal_yes": "Pending charge and criminal history meet the program's legal criteria; "
        "no violent or trafficking charges.",
        "legal_no": "Prior violent felony conviction (aggravated battery, 2019) excludes the "
        "referral under program policy.",
        "clinical_yes": "High risk and moderate-to-high need on the validated assessment; severe "
        "substance use disorder confirmed in the clinical interview.",
        "clinical_no": "Low risk and low need on the validated assessment: better served by "
        "pretrial diversion than by an intensive treatment court.",
        "admit": "Team agreed to admit; participant signed the participation agreement and "
        "entered phase 1.",
        "decline_legal_no": "Not legally eligible (see the prosecutor's screening).",
        "decline_clinical_no": "Outside the program's target population (low risk / low need); "
        "referred to pretrial diversion.",
        "decline_refused": "Eligible, but declined to participate after consulting defense "
        "counsel; accepted the standard plea offer instead.",
        "promote": "Met the phase requirements: attendance, negative tests and compliance at "
        "status hearings.",
        "demote": "Relapse with several positive tests; returned to the previous phase with more "
        "structure and treatment adjusted.",
        "status": {
            (S.ACTIVE, S.WARRANT): "Missed two status hearings and all treatment sessions for "
            "two weeks; bench warrant issued.",
            (S.WARRANT, S.ACTIVE): "Turned self in; warrant recalled and treatment resumed.",
            (S.ACTIVE, S.IN_CUSTODY): "Arrested on a new charge; held in county jail.",
            (S.IN_CUSTODY, S.ACTIVE): "Released on bond; resumes the program.",
            (S.ACTIVE, S.MEDICAL_LEAVE): "Hospitalized for surgery; treatment paused on medical "
            "advice.",
            (S.MEDICAL_LEAVE, S.ADMINISTRATIVE_DISCHARGE): "Serious medical condition prevents "
            "participation; discharged without penalty.",
            (S.ACTIVE, S.PENDING_TERMINATION): "Continued non-compliance (missed and diluted "
            "tests); the prosecutor moved to terminate.",
            (S.PENDING_TERMINATION, S.ACTIVE): "Termination denied after hearing; final "
            "opportunity with enhanced supervision and more frequent hearings.",
            (S.PENDING_TERMINATION, S.TERMINATED): "Terminated after hearing: no engagement in "
            "treatment despite graduated sanctions.",
            (S.WARRANT, S.TERMINATED): "Absconded for over 60 days and arrested on a new "
            "charge; terminated.",
            (S.ACTIVE, S.GRADUATED): "Completed all phases with over 90 days of continuous "
            "sobriety, stable housing and employment; graduated.",
            (S.ACTIVE, S.VOLUNTARY_WITHDRAWAL): "Chose to withdraw and return to ordinary "
            "proceedings after consulting counsel.",
            (S.ACTIVE, S.DECEASED): "Death reported by family and confirmed by the medical "
            "examiner.",
            (S.ACTIVE, S.TRANSFERRED): "Moved out of state; supervision transferred to the "
            "treatment court of the new county.",
        },
        "arrest": "Retail theft (new charge)",
        "arrest_convicted": "Possession of a controlled substance (new charge)",
        "consent_discloser": "Demo County Recovery Services (treatment provider)",
        "consent_purpose": "Monitor participation and progress in the Adult Treatment Court.",
        "consent_event": "Final disposition of the criminal case",
        "agreement": "Signed participation agreement",
        "order": "Order of admission to the treatment court",
        "goals": [
            "Attend all scheduled treatment sessions",
            "Obtain stable housing",
            "Find full-time employment",
            "Enroll in GED classes",
            "Reinstate driver's license",
            "Attend a weekly mutual-support meeting",
            "Reconnect with children through supervised visits",
        ],
        "agencies": {
            ServiceReferral.Service.HOUSING: "Demo County Housing Authority",
            ServiceReferral.Service.EMPLOYMENT: "WorkSource Demo County",
            ServiceReferral.Service.EDUCATION: "Demo Community College Adult Education",
            ServiceReferral.Service.MENTAL_HEALTH: "Lakeside Behavioral Health",
            ServiceReferral.Service.MEDICAL: "Demo County Health Clinic",
            ServiceReferral.Service.FAMILY: "Family Services of Demo County",
            ServiceReferral.Service.TRANSPORTATION: "Demo Transit reduced-fare program",
        },
    },
    "es": {
        "court": "Juzgado de Control y de Juicio Oral, Guadalupe, N.L.",
        "offences": {
            "possession": [
                (
                    "Narcomenudeo: posesión simple de metanfetamina",
                    "Ley General de Salud, art. 477",
                    "misdemeanor",
                    "Metanfetamina (cristal)",
                ),
                (
                    "Narcomenudeo: posesión simple de marihuana",
                    "Ley General de Salud, art. 477",
                    "misdemeanor",
                    "Marihuana",
                ),
                (
                    "Narcomenudeo: posesión simple de cocaína",
                    "Ley General de Salud, art. 477",
                    "misdemeanor",
                    "Cocaína",
                ),
            ],
            "theft": [
                ("Robo simple", "Código Penal para el Estado de Nuevo León", "misdemeanor", None),
            ],
            "dui": [
                (
                    "Conducir en estado de ebriedad",
                    "Código Penal para el Estado de Nuevo León",
                    "misdemeanor",
                    "Alcohol",
                )
            ],
        },
        "extra_charge": None,
        "substances": ["Metanfetamina (cristal)", "Marihuana", "Cocaína", "Inhalables"],
        "legal_yes": "Delito no grave; procede la suspensión condicional (CNPP art. 192). "
        "Primodelincuente, sin suspensión condicional previa.",
        "legal_no": "No es primodelincuente: sentencia previa por robo (2021). La política del "
        "programa admite sólo a primodelincuentes.",
        "clinical_yes": "Riesgo bajo o moderado en la evaluación validada; trastorno por consumo "
        "de sustancias confirmado en la entrevista clínica.",
        "clinical_no": "Riesgo alto en la evaluación validada: fuera de la población objetivo del "
        "programa; se recomienda tratamiento residencial.",
        "admit": "El equipo acordó la admisión; el juez de control decretó la suspensión "
        "condicional del proceso con las condiciones del programa.",
        "decline_legal_no": "No procede: no cumple los requisitos legales (ver el dictamen del "
        "Ministerio Público).",
        "decline_clinical_no": "No corresponde a la población objetivo del programa (riesgo "
        "alto); se canaliza a tratamiento residencial.",
        "decline_refused": "Elegible, pero decidió no participar después de consultar con su "
        "defensor; el proceso sigue por la vía ordinaria.",
        "promote": "Cumplió los requisitos de la fase: asistencia, pruebas negativas y "
        "cumplimiento en las audiencias de seguimiento.",
        "demote": "Recaída con varias pruebas positivas; regresa a la fase anterior con mayor "
        "estructura y ajuste del tratamiento.",
        "status": {
            (S.ACTIVE, S.WARRANT): "Faltó a dos audiencias de seguimiento y a sus sesiones de "
            "tratamiento; se giró orden de aprehensión.",
            (S.WARRANT, S.ACTIVE): "Se presentó voluntariamente; se canceló la orden y retomó "
            "el tratamiento.",
            (S.ACTIVE, S.IN_CUSTODY): "Detenido por otra causa penal; en prisión preventiva.",
            (S.IN_CUSTODY, S.ACTIVE): "Obtuvo su libertad en la otra causa; reanuda el programa.",
            (S.ACTIVE, S.MEDICAL_LEAVE): "Hospitalización y recuperación quirúrgica; "
            "tratamiento en pausa por indicación médica.",
            (S.MEDICAL_LEAVE, S.ADMINISTRATIVE_DISCHARGE): "Enfermedad grave que impide la "
            "participación; baja administrativa sin consecuencias.",
            (S.ACTIVE, S.PENDING_TERMINATION): "Incumplimiento injustificado de las "
            "condiciones; el Ministerio Público solicitó audiencia de revocación.",
            (S.PENDING_TERMINATION, S.ACTIVE): "En la audiencia de revocación el juez amplió el "
            "plazo en lugar de revocar la suspensión (CNPP art. 198).",
            (S.PENDING_TERMINATION, S.TERMINATED): "Se revocó la suspensión condicional; el "
            "proceso continúa por la vía ordinaria.",
            (S.WARRANT, S.TERMINATED): "Sustraído de la acción de la justicia por más de 60 "
            "días y detenido por otro delito; se revocó la suspensión.",
            (S.ACTIVE, S.GRADUATED): "Cumplió el plazo y todas las condiciones de la suspensión; "
            "egresa del programa y se decreta el sobreseimiento.",
            (S.ACTIVE, S.VOLUNTARY_WITHDRAWAL): "Decidió retirarse del programa y continuar el "
            "proceso ordinario, asesorado por su defensor.",
            (S.ACTIVE, S.DECEASED): "Fallecimiento informado por la familia y confirmado por "
            "el Ministerio Público.",
            (S.ACTIVE, S.TRANSFERRED): "Cambio de domicilio a Jalisco; se remitió al programa "
            "de justicia terapéutica de ese estado.",
        },
        "arrest": "Robo simple (otra causa)",
        "arrest_convicted": "Narcomenudeo (otra causa)",
        "consent_discloser": "Centro de Atención Primaria en Adicciones (CAPA) Guadalupe",
        "consent_purpose": "Supervisar la participación y el avance en el Programa de Justicia "
        "Terapéutica.",
        "consent_event": "Resolución definitiva de la causa penal",
        "agreement": "Carta compromiso de participación firmada",
        "order": "Auto de suspensión condicional del proceso",
        "goals": [
            "Asistir a todas las sesiones de tratamiento",
            "Conseguir empleo formal",
            "Concluir la secundaria abierta (INEA)",
            "Asistir semanalmente a un grupo de ayuda mutua",
            "Terapia familiar para mejorar la convivencia en casa",
            "Obtener vivienda estable",
            "Cumplir con los pagos del plan de reparación del daño",
        ],
        "agencies": {
            ServiceReferral.Service.HOUSING: "Instituto de la Vivienda de Nuevo León",
            ServiceReferral.Service.EMPLOYMENT: "Servicio Nacional de Empleo Nuevo León",
            ServiceReferral.Service.EDUCATION: "INEA, plaza comunitaria Guadalupe",
            ServiceReferral.Service.MENTAL_HEALTH: "Centro Comunitario de Salud Mental",
            ServiceReferral.Service.MEDICAL: "Centro de Salud Guadalupe",
            ServiceReferral.Service.FAMILY: "DIF Guadalupe",
            ServiceReferral.Service.TRANSPORTATION: "Apoyo municipal de transporte",
        },
        "extension": "En la audiencia de revocación solicitada por el Ministerio Público, el juez "
        "optó por ampliar el plazo seis meses en lugar de revocar (CNPP art. 198).",
        "interruption": "Detenido por otra causa penal (prisión preventiva)",
        "victim": "La víctima (tienda de autoservicio) se opuso por considerar insuficiente la "
        "reparación ofrecida; el juez desestimó la objeción al aprobar el plan de reparación.",
        "restitution": "Pago en parcialidades mensuales del valor de la mercancía sustraída, "
        "acordado con la víctima.",
        "restitution_doc": "Plan de reparación del daño",
    },
}

CATEGORIES = [c.value for c in InformationCategory]
OUTCOMES = [
    ServiceReferral.Outcome.ENROLLED,
    ServiceReferral.Outcome.COMPLETED,
    ServiceReferral.Outcome.COMPLETED,
    ServiceReferral.Outcome.NO_SHOW,
    ServiceReferral.Outcome.DECLINED,
]
RECIPIENTS = ["judge", "prosecutor", "defender", "coordinator"]


def _pdf(text: str) -> bytes:
    """A tiny valid one-page PDF showing `text`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    for char in "\\()":
        ascii_text = ascii_text.replace(char, " ")
    stream = f"BT /F1 14 Tf 72 720 Td ({ascii_text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_file(title: str, person: Person) -> SimpleUploadedFile:
    name = unicodedata.normalize("NFKD", f"{title} {person.full_name}")
    slug = "-".join(name.encode("ascii", "ignore").decode().lower().split())[:80]
    return SimpleUploadedFile(
        f"{slug}.pdf", _pdf(f"{title} - {person.full_name}"), content_type="application/pdf"
    )


# --- the seeder -----------------------------------------------------------------------------
class _Seeder:
    def __init__(self, program: Program):
        self.program = program
        self.code = program.code
        self.mx = program.legal_track == Program.LegalTrack.MX_SUSPENSION
        self.t = TEXT[program.language]
        self.rng = random.Random(2026)  # noqa: S311  (demo data, not security)
        self.today = program_today(program)
        self.phases = list(program.phases.order_by("number"))
        staff = {u.email: u for u in User.objects.filter(email__endswith=f"@{self.code}.example")}
        self.users = {
            role: staff[f"{role.value}@{self.code}.example"]
            for role in Role
            if role != Role.ADMINISTRATOR
        }
        self.coordinator = self.users[Role.COORDINATOR]
        self.case_serial = 1000 + self.rng.randint(0, 500)
        self.events = []

    # An event queue per episode: everything runs in date order, as it would have happened.
    def at(self, day: date, fn) -> None:
        assert day <= self.today, (day, self.today)
        self.events.append((day, len(self.events), fn))

    def run_events(self) -> None:
        for _day, _seq, fn in sorted(self.events, key=lambda e: (e[0], e[1])):
            fn()
        self.events = []

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def seed(self) -> list[Participant]:
        people = ATC_PEOPLE if not self.mx else PJT_PEOPLE
        people = self.rng.sample(people, len(people))
        ages = self.rng.sample(AGES, len(AGES))
        sources = list(ReferralSource.values)
        created = []
        for index, story in enumerate(STORIES):
            source = sources[(index * 3) % len(sources)]
            created.append(self.episode(story, people[index], ages[index], source))
        return created

    # -- one episode -----------------------------------------------------------------------
    def episode(self, story: Story, who, age: int, source: str) -> Participant:
        rng, t, today = self.rng, self.t, self.today
        admitted = story.status not in (S.REFERRED, S.DECLINED)

        # When things happened, counted back from today.
        plan = None
        if admitted:
            plan = self.admitted_plan(story)
            entry = plan["entry"]
            screening_lead = self.days(8, 20)
            referred_on = entry - screening_lead
        elif "stage_new" in story.flags:
            referred_on = today - self.days(1, 6)
        elif story.status == S.REFERRED:
            referred_on = today - self.days(12, 24)
        else:
            referred_on = today - self.days(40, 480)
        arrest = referred_on - self.days(5, 30)

        offence = story.offence or rng.choice(["possession", "possession", "theft", "dui"])
        description, statute, level, substance = rng.choice(t["offences"][offence])
        substance = substance or rng.choice(t["substances"])
        charges = [{"description": description, "statute": statute, "level": level}]
        if t["extra_charge"] and offence == "possession" and rng.random() < 0.5:
            extra = dict(zip(("description", "statute", "level"), t["extra_charge"], strict=True))
            charges.append(extra)
        self.case_serial += rng.randint(3, 40)
        if self.mx:
            case_number = f"{self.case_serial}/{arrest.year}"
        else:
            kind = "CF" if any(c["level"] == Charge.Level.FELONY for c in charges) else "CM"
            case_number = f"{arrest.year}-{kind}-{self.case_serial:06d}"

        first, last, second, sex, gender, race, language = who
        dob = referred_on - relativedelta(years=age) - self.days(45, 330)
        area = "81" if self.mx else "(555)"
        phone = f"{area} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"
        participant = services.referral_create(
            acting_user=self.coordinator,
            program=self.program,
            person_data={
                "first_name": first,
                "last_name": last,
                "second_last_name": second,
                "date_of_birth": dob,
                "sex": sex,
                "gender": gender,
                "race_ethnicity": race,
                "preferred_language": language,
                "phone": phone,
            },
            referral={
                "referred_on": referred_on,
                "referral_source": source,
                "arrest_date": arrest,
                "primary_substance": substance,
            },
            cases=[
                {
                    "case_number": case_number,
                    "court": t["court"],
                    "filed_on": arrest + self.days(1, 3),
                    "charges": charges,
                }
            ],
        )
        participant = services.participant_assign(
            acting_user=self.coordinator,
            participant=participant,
            judge=self.users[Role.JUDGE],
            defender=self.users[Role.DEFENDER],
        )
        services.clinical_screening_request(
            acting_user=self.coordinator,
            participant=participant,
            clinician=self.users[Role.CLINICIAN],
        )
        self.ctx = {"p": participant}
        self.screening(story, referred_on, plan and plan["entry"], offence)
        if admitted:
            self.program_life(story, plan, offence)
        self.run_events()
        return self.ctx["p"]

    # -- screening and the admission decision ------------------------------------------------
    def screening(self, story: Story, referred_on: date, entry: date | None, offence: str):
        t = self.t
        flags = story.flags
        if "stage_new" in flags:
            return
        latest = entry or (self.today if story.status == S.REFERRED else None)
        legal_on = referred_on + self.days(1, 4)
        assessed_on = referred_on + self.days(2, 6)
        clinical_on = assessed_on + self.days(0, 2)
        decided_on = max(legal_on, clinical_on) + self.days(1, 3)
        if latest is not None:
            decided_on = min(decided_on, latest)
            legal_on = min(legal_on, decided_on)
            assessed_on = min(assessed_on, decided_on)
            clinical_on = min(clinical_on, decided_on)
        legal_ok = "legal_no" not in flags
        clinical_ok = "clinical_no" not in flags

        def legal():
            services.screening_record(
                acting_user=self.users[Role.PROSECUTOR],
                participant=self.ctx["p"],
                kind=Kind.LEGAL,
                outcome=Outcome.ELIGIBLE if legal_ok else Outcome.INELIGIBLE,
                reasons=t["legal_yes"] if legal_ok else t["legal_no"],
                decided_on=legal_on,
            )

        def assess():
            services.assessment_record(
                acting_user=self.users[Role.CLINICIAN],
                participant=self.ctx["p"],
                data=self.assessment(clinical_ok, offence, assessed_on),
            )

        def clinical():
            services.screening_record(
                acting_user=self.users[Role.CLINICIAN],
                participant=self.ctx["p"],
                kind=Kind.CLINICAL,
                outcome=Outcome.ELIGIBLE if clinical_ok else Outcome.INELIGIBLE,
                reasons=t["clinical_yes"] if clinical_ok else t["clinical_no"],
                decided_on=clinical_on,
            )

        self.at(legal_on, legal)
        if "legal_no" in flags:  # no point assessing someone the law excludes
            self.decide(False, t["decline_legal_no"], decided_on, story)
            return
        self.at(assessed_on, assess)
        if "stage_legal" in flags:
            return
        self.at(clinical_on, clinical)
        if "stage_screened" in flags:
            return
        if story.status == S.DECLINED:
            reason = t["decline_clinical_no"] if not clinical_ok else t["decline_refused"]
            self.decide(False, reason, decided_on, story)
        else:
            self.decide(True, t["admit"], entry, story)

    def assessment(self, fits: bool, offence: str, assessed_on: date) -> dict:
        rng = self.rng
        policy = POLICY[self.code]
        levels = ["low", "moderate", "high"]
        if fits:
            risk = rng.choice(policy["eligible_risk_levels"])
            need = rng.choice(policy["eligible_need_levels"])
        else:
            risk = rng.choice([x for x in levels if x not in policy["eligible_risk_levels"]])
            need = rng.choice(levels[:2]) if self.code == "atc" else "high"
        if self.mx:
            instrument = (
                Assessment.Instrument.AUDIT if offence == "dui" else Assessment.Instrument.ASSIST
            )
            base = {"low": 6, "moderate": 14, "high": 28}[risk]
            score = base + rng.randint(0, 9)
        else:
            instrument = rng.choice([Assessment.Instrument.LSI_R, Assessment.Instrument.ORAS])
            base = {"low": 8, "moderate": 20, "high": 31}[risk]
            score = base + rng.randint(0, 10)
        return {
            "instrument": instrument,
            "score": Decimal(score),
            "risk_level": risk,
            "need_level": need,
            "assessed_on": assessed_on,
        }

    def decide(self, admit: bool, reasons: str, day: date, story: Story):
        def run():
            self.ctx["p"] = services.admission_decide(
                acting_user=self.users[Role.JUDGE],
                participant=self.ctx["p"],
                admit=admit,
                reasons=reasons,
                decided_on=day,
                entry_date=day if admit else None,
            )

        self.at(day, run)
        if not admit and "disposition" in story.flags:
            self.disposition(day, Disposition.RETURNED)

    # -- life in the program ---------------------------------------------------------------
    def phase_number(self, story: Story) -> int:
        n = len(self.phases)
        return n + 1 + story.phase if story.phase < 0 else min(story.phase, n)

    def admitted_plan(self, story: Story) -> dict:
        """Entry date, phase moves and status-change dates of an admitted participant."""
        rng, today, n = self.rng, self.today, len(self.phases)
        final = self.phase_number(story)
        exits = story.status in EXIT_STATUSES
        graduate = story.status == S.GRADUATED
        jitter = (0, 8) if graduate else (0, 18)
        # durations[i]: days spent in phase i + 1 before moving up.
        durations = [p.min_days + rng.randint(*jitter) for p in self.phases[: final - 1]]
        demoted = "demoted" in story.flags
        # A demotion in the current phase (from the next one), or, for someone already in the
        # last phase, a relapse in the phase before it (demoted, then promoted again).
        demote_in = final - 1 if demoted and final == n else None
        if demote_in:
            durations[demote_in - 1] += 45
        if graduate:
            current = self.phases[final - 1].min_days + rng.randint(5, 15)
        elif demoted or story.path:
            current = rng.randint(60, 95)
        else:
            current = rng.randint(15, 60)
        end = today - self.days(3, 20 if graduate else 40) if exits else today
        if self.mx and "warning" in story.flags:
            # The term (12 months) ends 18 days from today: inside the warning window.
            entry = today + timedelta(days=18) - relativedelta(months=12)
            current = (today - entry).days - sum(durations)
        else:
            entry = end - timedelta(days=current + sum(durations))
        moves, day = [], entry
        for number, length in enumerate(durations, start=1):
            if number == demote_in:
                moves.append((day + timedelta(days=20), number - 1, "demote"))
                moves.append((day + timedelta(days=45), number, "promote"))
            day += timedelta(days=length)
            moves.append((day, number + 1, "promote"))
        last_move = day
        if demoted and demote_in is None:
            up = last_move + timedelta(days=current // 4)
            down = last_move + timedelta(days=current // 2)
            moves += [(up, final + 1, "promote"), (down, final, "demote")]
            last_move = down
        # Status changes after the last phase move; an exit's last change is on the exit date.
        window_start = last_move + timedelta(days=5)
        window_end = end if exits else today - self.days(1, 20)
        span = (window_end - window_start).days
        count = len(story.path)
        changes = [
            window_start + timedelta(days=span * (i + 1) // (count + 1 if not exits else count))
            for i in range(count)
        ]
        return {
            "entry": entry,
            "moves": moves,
            "changes": list(zip(changes, story.path, strict=True)),
            "end": end,
            "exits": exits,
        }

    def program_life(self, story: Story, plan: dict, offence: str):
        rng, t, flags = self.rng, self.t, story.flags
        entry, end = plan["entry"], plan["end"]
        judge, coordinator = self.users[Role.JUDGE], self.coordinator
        person_holder = {}
        consent = {}

        def person():
            if "person" not in person_holder:
                person_holder["person"] = self.ctx["p"].person
            return person_holder["person"]

        # Consent, signed on entry (most participants).
        if "no_consent" not in flags:
            with_file = "consent_file" in flags or rng.random() < 0.2

            def sign():
                by_date = rng.random() < 0.6
                consent["c"] = services.consent_record(
                    acting_user=coordinator,
                    participant=self.ctx["p"],
                    data={
                        "discloser": t["consent_discloser"],
                        "categories": sorted(
                            rng.sample(CATEGORIES, rng.randint(3, len(CATEGORIES)))
                        ),
                        "recipient_roles": RECIPIENTS
                        if rng.random() < 0.7
                        else [*RECIPIENTS, "manager"],
                        "purpose": t["consent_purpose"],
                        "criminal_justice": True,
                        "signed_on": entry,
                        "expires_on": entry + relativedelta(years=2) if by_date else None,
                        "expiry_event": "" if by_date else t["consent_event"],
                    },
                    signed_file=_pdf_file(t["consent_purpose"], person()) if with_file else None,
                )

            self.at(entry, sign)

        for flag, kind, title in (
            ("agreement", Document.Kind.AGREEMENT, t["agreement"]),
            ("order", Document.Kind.ORDER, t["order"]),
        ):
            if flag in flags:
                self.at(entry, self._document(kind, title, person))

        # Mexico: the legal term, its extension, interruptions, victim, restitution.
        term = {}
        if self.mx:
            self.legal_term(story, plan, term)
            if "restitution" in flags:
                self.restitution(plan, person)

        # Case plan goals.
        GoalStatus = CasePlanGoal.GoalStatus
        for description in rng.sample(t["goals"][:-1], rng.randint(2, 3)):
            target = entry + self.days(45, 240)
            goal = {}

            def add(description=description, target=target, goal=goal):
                goal["g"] = services.goal_add(
                    acting_user=coordinator,
                    participant=self.ctx["p"],
                    description=description,
                    target_date=target,
                )

            self.at(entry + self.days(0, 7), add)
            closed_on = min(target, end)
            roll = rng.random()
            if closed_on < end or story.status == S.GRADUATED:
                status = GoalStatus.MET if roll < 0.75 else GoalStatus.DROPPED
            elif plan["exits"] and story.status != S.TRANSFERRED:
                status = GoalStatus.NOT_MET
            else:
                status = None
            if status and closed_on > entry + timedelta(days=7):

                def close(goal=goal, status=status, closed_on=closed_on):
                    services.goal_close(
                        acting_user=coordinator, goal=goal["g"], status=status, closed_on=closed_on
                    )

                self.at(closed_on, close)

        # Service referrals, with outcomes.
        Service = ServiceReferral.Service
        for _ in range(rng.randint(0, 2)):
            service = rng.choice(list(Service.values[:-1]))
            referred_on = entry + self.days(3, 40)
            if referred_on > end:
                continue
            referral = {}

            def refer(service=service, referred_on=referred_on, referral=referral):
                referral["r"] = services.service_referral_add(
                    acting_user=coordinator,
                    participant=self.ctx["p"],
                    service=service,
                    agency=t["agencies"][service],
                    referred_on=referred_on,
                )

            self.at(referred_on, refer)
            outcome_on = referred_on + self.days(5, 45)
            if outcome_on <= end:
                outcome = rng.choice(OUTCOMES)

                def result(referral=referral, outcome=outcome, outcome_on=outcome_on):
                    services.service_referral_outcome(
                        acting_user=coordinator,
                        referral=referral["r"],
                        outcome=outcome,
                        outcome_on=outcome_on,
                    )

                self.at(outcome_on, result)

        # Phase moves.
        for day, number, how in plan["moves"]:
            self.at(day, self._phase(number, day, t[how]))

        # Status changes.
        previous = S.ACTIVE
        for day, to_status in plan["changes"]:
            self.at(day, self._status(previous, to_status, day, t["status"][previous, to_status]))
            if to_status == S.IN_CUSTODY or (
                to_status == S.TERMINATED and "arrest_convicted" in flags
            ):
                convicted = True if "arrest_convicted" in flags else None
                charge = t["arrest_convicted"] if convicted else t["arrest"]
                arrested_on = day - timedelta(days=1 if to_status == S.IN_CUSTODY else 20)
                self.at(arrested_on, self._arrest(arrested_on, charge, convicted))
            extension = (previous, to_status) == (S.PENDING_TERMINATION, S.ACTIVE)
            if self.mx and extension and "extended" in flags:
                self.at(
                    day,
                    lambda: services.legal_term_extend(
                        acting_user=judge, term=term["t"], days=182, reason=t["extension"]
                    ),
                )
            if self.mx and to_status == S.IN_CUSTODY:
                self.at(day, self._interruption(term, day))
            if self.mx and (previous, to_status) == (S.IN_CUSTODY, S.ACTIVE):
                self.at(
                    day,
                    lambda day=day: services.term_interruption_close(
                        acting_user=coordinator, interruption=term["gap"], ends_on=day
                    ),
                )
            previous = to_status

        if "arrest" in flags:  # a new misdemeanour arrest that did not change the status
            arrested_on = entry + timedelta(days=(end - entry).days // 2)
            self.at(arrested_on, self._arrest(arrested_on, t["arrest"], None))

        # The legal disposition.
        if "disposition" in flags:
            outcome = {
                S.GRADUATED: Disposition.DISMISSED,
                S.DECEASED: Disposition.DISMISSED,
            }.get(story.status, Disposition.RETURNED)
            decided = min(end + self.days(0, 7), self.today)
            self.disposition(decided, outcome)
            if "revoke_consent" in flags:  # possible only after the final disposition
                revoked_on = min(decided + timedelta(days=10), self.today)
                self.at(
                    revoked_on,
                    lambda: services.consent_revoke(
                        acting_user=coordinator, consent=consent["c"], revoked_on=revoked_on
                    ),
                )

    def legal_term(self, story: Story, plan: dict, term: dict):
        rng, t = self.rng, self.t
        entry, end = plan["entry"], plan["end"]
        if story.status == S.GRADUATED:
            # The term ran out shortly before the graduation hearing.
            months = max(m for m in range(6, 25) if entry + relativedelta(months=m) <= end)
        elif "warning" in story.flags:
            months = 12
        else:
            horizon = end if plan["exits"] else self.today + timedelta(days=60)
            options = rng.sample([9, 12, 12, 18, 18, 24], 6)
            fitting = [m for m in options if entry + relativedelta(months=m) > horizon]
            months = fitting[0] if fitting else 24
        victim = "victim" in story.flags

        def set_term():
            term["t"] = services.legal_term_set(
                acting_user=self.coordinator,
                participant=self.ctx["p"],
                starts_on=entry,
                ends_on=entry + relativedelta(months=months),
                victim_objected=victim,
                victim_objection_notes=t["victim"] if victim else "",
            )

        self.at(entry, set_term)

    def restitution(self, plan: dict, person):
        rng, t = self.rng, self.t
        entry, end = plan["entry"], plan["end"]
        monthly = Decimal(rng.choice([400, 500, 600, 750]))
        total = monthly * rng.choice([6, 8, 10])
        holder = {}

        def set_plan():
            holder["plan"] = services.restitution_plan_set(
                acting_user=self.coordinator,
                participant=self.ctx["p"],
                total_amount=total,
                currency="MXN",
                description=t["restitution"],
            )
            services.document_upload(
                acting_user=self.coordinator,
                participant=self.ctx["p"],
                kind=Document.Kind.RESTITUTION,
                title=t["restitution_doc"],
                uploaded_file=_pdf_file(t["restitution_doc"], person()),
            )

        self.at(entry, set_plan)
        paid, day = Decimal(0), entry + timedelta(days=30)
        while day <= end and paid < total:
            amount = min(monthly, total - paid)
            self.at(
                day,
                lambda day=day, amount=amount: services.restitution_payment_add(
                    acting_user=self.coordinator, plan=holder["plan"], paid_on=day, amount=amount
                ),
            )
            paid += amount
            day += timedelta(days=30 + rng.randint(-3, 5))

    # -- small event builders ----------------------------------------------------------------
    def _document(self, kind, title, person):
        def run():
            services.document_upload(
                acting_user=self.coordinator,
                participant=self.ctx["p"],
                kind=kind,
                title=title,
                uploaded_file=_pdf_file(title, person()),
            )

        return run

    def _phase(self, number: int, day: date, reason: str):
        def run():
            p = self.ctx["p"]
            self.ctx["p"] = services.phase_change(
                acting_user=self.users[Role.JUDGE],
                participant=p,
                to_phase=self.phases[number - 1],
                effective_on=day,
                reason=reason,
                expected_phase=p.phase,
            )

        return run

    def _status(self, from_status, to_status, day, reason):
        actor = self.users[Role.JUDGE]
        if to_status in (S.MEDICAL_LEAVE, S.DECEASED, S.TRANSFERRED, S.ADMINISTRATIVE_DISCHARGE):
            actor = self.coordinator

        def run():
            self.ctx["p"] = services.status_change(
                acting_user=actor,
                participant=self.ctx["p"],
                to_status=to_status,
                effective_on=day,
                reason=reason,
                expected_status=from_status,
            )

        return run

    def _arrest(self, day, charge, convicted):
        def run():
            services.arrest_record(
                acting_user=self.coordinator,
                participant=self.ctx["p"],
                arrested_on=day,
                charge=charge,
                convicted=convicted,
            )

        return run

    def _interruption(self, term, day):
        def run():
            term["gap"] = services.term_interruption_add(
                acting_user=self.coordinator,
                term=term["t"],
                starts_on=day,
                reason=self.t["interruption"],
            )

        return run

    def disposition(self, day: date, outcome: str):
        self.at(
            day,
            lambda: services.disposition_record(
                acting_user=self.users[Role.JUDGE],
                participant=self.ctx["p"],
                disposition=outcome,
                disposition_date=day,
            ),
        )


# --- entry point ----------------------------------------------------------------------------
def seed(*, stdout) -> None:
    for program in Program.objects.filter(code__in=POLICY).order_by("code"):
        existing = Participant.objects.filter(program=program).count()
        if existing >= MIN_PARTICIPANTS:
            stdout.write(f"participants: {program.code} already has {existing} participants.")
            continue
        with transaction.atomic():
            manager = User.objects.get(email=f"{Role.MANAGER.value}@{program.code}.example")
            program = tjp_services.program_update_settings(
                acting_user=manager,
                program=program,
                changes=POLICY[program.code],
                seen_version=program.updated_at.isoformat(),
            )
            created = _Seeder(program).seed()
        stdout.write(f"participants: {program.code} seeded with {len(created)} participants.")
