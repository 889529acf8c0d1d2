"""Who the synthetic program's referrals are and what tends to happen to them: the
distributions and the texts `reporting.synthetic` draws from (see its docstring)."""

import bisect
import random
import unicodedata

from hearings.models import Unit
from participants.models import Person, ReferralSource, Status
from treatment.models import Substance

S = Status
X = Substance
YEARS = 4


def weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    total = sum(weights)
    acc, cumulative = 0.0, []
    for w in weights:
        acc += w / total
        cumulative.append(acc)
    cumulative[-1] = 1.0
    return list(values), cumulative


def pick(rng: random.Random, table) -> object:
    values, cumulative = table
    return values[bisect.bisect_left(cumulative, rng.random())]


def _words(text: str) -> list[str]:
    return text.split()


R = Person.RaceEthnicity
RACE = weighted(
    [
        (R.WHITE, 54),
        (R.BLACK, 21),
        (R.HISPANIC, 17),
        (R.INDIGENOUS, 2),
        (R.ASIAN, 2),
        (R.PACIFIC, 0.5),
        (R.MULTIPLE, 2),
        (R.OTHER, 0.5),
        (R.UNKNOWN, 1),
    ]
)
NAMES = {
    "male": _words(
        "James Michael Robert John David William Richard Joseph Thomas Christopher Daniel "
        "Matthew Anthony Mark Steven Andrew Joshua Kevin Brian Tyler Brandon Justin Ryan Jacob "
        "Dustin Travis Marcus Terrell Darnell Jamal Andre Cody Kyle Corey"
    ),
    "female": _words(
        "Mary Jennifer Jessica Ashley Amanda Sarah Stephanie Nicole Heather Elizabeth "
        "Megan Melissa Amber Brittany Samantha Danielle Kayla Rachel Crystal Tiffany Courtney "
        "Erica Lakisha Tamika Destiny Shanice Brandi Misty"
    ),
    "last": _words(
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
        "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King "
        "Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips "
        "Campbell Parker Evans Edwards Collins Stewart Morris Murphy Cook Rogers Bell Cooper Reed "
        "Ward Brooks"
    ),
    "es_male": _words(
        "José Juan Luis Carlos Jesús Miguel Ángel Francisco Jorge Alejandro Ricardo "
        "Fernando Eduardo Raúl Héctor Óscar Arturo Martín Javier Sergio Manuel Roberto"
    ),
    "es_female": _words(
        "María Guadalupe Rosa Ana Adriana Verónica Yesenia Daniela Karla Diana Brenda "
        "Sofía Alejandra Gabriela Patricia Leticia Claudia Mónica Marisol Citlali"
    ),
    "es_last": _words(
        "García Martínez Hernández López González Rodríguez Pérez Sánchez Ramírez Torres "
        "Flores Rivera Gómez Díaz Reyes Morales Cruz Ortiz Gutiérrez Chávez Ramos Ruiz Mendoza "
        "Vázquez Castillo Jiménez Moreno Romero Herrera Medina Aguilar Garza Treviño Villarreal "
        "Salazar Delgado"
    ),
    "asian_last": _words("Nguyen Tran Kim Chen Wang Patel Le Pham Li Park Singh Huang"),
    "indigenous_last": _words("Begay Yazzie Benally Tsosie Nez Silversmith Redhorse Whitehorse"),
    "pacific_last": _words("Kealoha Kahale Fonoti Tupou Leota Kamakana"),
}
STREETS = _words("Oak Maple Cedar Pine Elm Lake Hill Washington Lincoln Jefferson Park Main")
SOURCES = weighted(
    [
        (ReferralSource.PROSECUTOR, 30),
        (ReferralSource.DEFENSE, 25),
        (ReferralSource.JUDGE, 15),
        (ReferralSource.PROBATION, 12),
        (ReferralSource.POLICE, 8),
        (ReferralSource.TREATMENT, 5),
        (ReferralSource.SELF, 3),
        (ReferralSource.OTHER, 2),
    ]
)
# (as written on the referral, the panel substance that detects it, the charge)
SUBSTANCES = weighted(
    [
        (("Methamphetamine", X.METHAMPHETAMINE, "Possession of methamphetamine"), 30),
        (("Opioids (heroin, fentanyl)", X.FENTANYL, "Possession of a controlled substance"), 28),
        (("Alcohol", X.ALCOHOL, "Driving under the influence"), 18),
        (("Cocaine / crack", X.COCAINE, "Possession of a controlled substance (cocaine)"), 12),
        (("Cannabis", X.CANNABIS, "Possession of cannabis with intent to deliver"), 12),
    ]
)
PANEL = [X.ALCOHOL, X.AMPHETAMINES, X.METHAMPHETAMINE, X.COCAINE, X.OPIATES, X.FENTANYL]
PANEL += [X.BENZODIAZEPINES, X.CANNABIS]
RELAPSE = [X.CANNABIS, X.CANNABIS, X.ALCOHOL, X.ALCOHOL, X.COCAINE, X.METHAMPHETAMINE]
GRADUATED, TERMINATED, VOLUNTARY = S.GRADUATED, S.TERMINATED, S.VOLUNTARY_WITHDRAWAL
ADMIN, DECEASED, TRANSFERRED = S.ADMINISTRATIVE_DISCHARGE, S.DECEASED, S.TRANSFERRED
ACTIVE, DECLINED, SCREENING = "active", "declined", "screening"
OUTCOMES = weighted(
    [
        (GRADUATED, 50),
        (TERMINATED, 25),
        (VOLUNTARY, 8),
        (ADMIN, 2),
        (DECEASED, 1),
        (TRANSFERRED, 2),
        (ACTIVE, 12),
    ]
)
# Per test, by outcome: chance of a positive and of a missed test (tripled near trouble).
POSITIVE_RATE = {GRADUATED: 0.042, ACTIVE: 0.075, VOLUNTARY: 0.095, TERMINATED: 0.14}
MISSED_RATE = {GRADUATED: 0.016, ACTIVE: 0.034, VOLUNTARY: 0.045, TERMINATED: 0.08}
TESTED = {S.ACTIVE, S.PENDING_TERMINATION}
SCHEDULED = {S.ACTIVE, S.PENDING_TERMINATION, S.IN_CUSTODY}
TROUBLE = {S.WARRANT, S.IN_CUSTODY, S.PENDING_TERMINATION, S.TERMINATED}

TEXT = {
    "legal_yes": "Pending charge and criminal history meet the program's legal criteria.",
    "legal_no": "Prior violent felony conviction excludes the referral under program policy.",
    "clinical_yes": "High risk and high need on the validated assessment; severe substance use "
    "disorder confirmed in the clinical interview.",
    "clinical_no": "Low risk and low need on the validated assessment: better served by pretrial "
    "diversion.",
    "admit": "Team agreed to admit; participation agreement signed; entered phase 1.",
    "declined": {
        "legal": "Not legally eligible (see the prosecutor's screening).",
        "clinical": "Outside the program's target population (low risk / low need).",
        "refused": "Eligible, but declined to participate after consulting defense counsel.",
    },
    "promote": "Met the phase requirements: attendance, negative tests and compliance.",
    "demote": "Relapse with several positive tests; returned to the previous phase.",
    "status": {
        S.WARRANT: "Failed to appear at the status hearing; bench warrant issued.",
        S.IN_CUSTODY: "Arrested on a new charge; held in county jail.",
        S.MEDICAL_LEAVE: "Hospitalized; treatment paused on medical advice.",
        S.PENDING_TERMINATION: "Continued non-compliance; the prosecutor moved to terminate.",
        S.ACTIVE: "Returned to the program; treatment resumed.",
        GRADUATED: "Completed all phases with continuous sobriety; graduated.",
        TERMINATED: "Terminated after hearing: no engagement despite graduated sanctions.",
        VOLUNTARY: "Chose to withdraw and return to ordinary proceedings.",
        ADMIN: "Serious medical condition prevents participation; discharged without penalty.",
        DECEASED: "Death reported by family and confirmed by the medical examiner.",
        TRANSFERRED: "Moved out of state; supervision transferred to another treatment court.",
    },
    "arrest": ["Retail theft", "Possession of a controlled substance", "Driving while suspended"],
    "court": "Synthetic County Circuit Court",
    "paraphernalia": "Possession of drug paraphernalia",
    "consent_discloser": "Synthetic Recovery Services (treatment provider)",
    "consent_purpose": "Monitor participation and progress in the treatment court.",
    "consent_event": "Final disposition of the criminal case",
    "holidays": "New Year's Day|Memorial Day|Independence Day|Labor Day|Thanksgiving Day|"
    "Christmas Day",
}
JAIL_AFTER_WARRANT = 0.6
INCENTIVE_WHEN_CLEAN = 0.7
SANCTION_WHEN_POSITIVE = 0.55
CONVICTED = ([True, False, None], [0.4, 0.6, 1.0])
MAGNITUDES = {
    Unit.AMOUNT: [10, 20, 25],
    Unit.DAYS: [7, 14, 30],
    Unit.COMMUNITY_SERVICE_HOURS: [4, 8, 12, 16],
    Unit.CURFEW_DAYS: [7, 14],
    Unit.HOURS: [2, 4],
}


def draw(random_, low: int, high: int) -> int:
    """`random.randint`, for the hot loops (several times faster)."""
    return low + int(random_() * (high - low + 1))


def with_metabolites(substance: str, rng: random.Random) -> tuple:
    if substance == X.METHAMPHETAMINE:
        return (X.METHAMPHETAMINE, X.AMPHETAMINES)  # methamphetamine metabolises to amphetamine
    if substance == X.FENTANYL and rng.random() < 0.5:
        return (X.FENTANYL, X.OPIATES)  # often cut with heroin
    return (substance,)


def ascii_name(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
