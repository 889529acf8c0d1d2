"""The evaluation extract: a de-identified, participant-level file for independent evaluators.

One row per episode, intent to treat: every episode admitted in the period, and every referral
never admitted whose referral falls in the period (declined ones and those still in screening),
so that the denominator of admission is in the file. No names, contacts, addresses, case
numbers, record ids or dates: a pseudonymous id per program, evaluator and person, and every
date as a number of days from the episode's admission (from its referral when never admitted).

Each column is defined once, in COLUMNS below: the CSV, the data dictionary (CSV) and
docs/evaluation.md say the same thing. The file streams in constant memory: one query carries
every count as a correlated subquery, read through a server-side cursor.
"""

import csv
import hashlib
import hmac
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hearings.models import APPEARED, DocketEntry, Response, ResponseKind, Unit
from hearings.models import Attendance as HearingAttendance
from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    NEUTRAL_EXITS,
    Disposition,
    NewArrest,
    Participant,
    Person,
    PhaseChange,
    ReferralSource,
    ScreeningDecision,
    Status,
)
from reporting.exports import neutralise_formula
from reporting.measures import primary_substance
from tjp import audit
from tjp.clock import program_today
from tjp.models import AuditEvent, Phase, Program
from treatment.models import DrugTest, TreatmentSession, failed_test_q

MIN_CELL_DEFAULT = 5
MIN_CELL_FLOOR = 3
SUPPRESSED = "suppressed"
# Ages above 89 are reported as 90 (HIPAA safe harbour: the oldest ages identify people).
AGE_TOP_CODE = 90
CHUNK_SIZE = 2000
# Rows are written to the response in blocks of about this many characters.
BLOCK_CHARS = 64 * 1024
PID_HEX_CHARS = 16


def pseudonym(*, program: Program, evaluator: str, person_uuid) -> str:
    """The person's id in this evaluator's extracts of this program: an HMAC keyed by a secret
    the evaluator never holds, so it can neither be reversed nor linked to another evaluator's."""
    message = f"{program.uuid}|{evaluator}|{person_uuid}".encode()
    key = settings.EVALUATION_ID_SECRET.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PID_HEX_CHARS]


def failed_test() -> Q:
    """A test that counts as positive (treatment.models.failed_test_q, the rule written once)."""
    return failed_test_q()


# --- The columns ------------------------------------------------------------------------------


def _codes(choices) -> Callable[[], str]:
    return lambda: "; ".join(f"{value or '(blank)'} = {label}" for value, label in choices)


def _with_suppressed(choices) -> Callable[[], str]:
    return lambda: _codes(choices)() + f"; {SUPPRESSED} = " + str(_("fewer people than the cell"))


TYPE_TEXT = _("text")
TYPE_CODE = _("code")
TYPE_INTEGER = _("integer")
TYPE_DECIMAL = _("decimal")
TYPE_FLAG = _("0/1")


@dataclass(frozen=True)
class Column:
    name: str
    type: Any
    definition: Any
    values: Any = ""  # text, or a callable giving it (choices are listed when asked)
    treatment: bool = False  # provider information: only when the extract includes it
    suppressible: bool = False

    def allowed_values(self) -> str:
        return str(self.values() if callable(self.values) else self.values)


SCREENING_OUTCOMES = [
    ("admitted", _("Admitted to the program")),
    ("declined", _("Referral declined")),
    ("pending", _("Still in screening")),
]
OFFSET_ORIGINS = [
    ("admission", _("The program entry date")),
    ("referral", _("The referral date (never admitted)")),
]
ELIGIBILITY = [
    ("", _("No decision recorded")),
    (ScreeningDecision.Outcome.ELIGIBLE, _("Eligible")),
    (ScreeningDecision.Outcome.INELIGIBLE, _("Not eligible")),
]
ADMISSION = [
    ("", _("No decision recorded")),
    (ScreeningDecision.Outcome.ADMITTED, _("Admitted")),
    (ScreeningDecision.Outcome.DECLINED, _("Declined")),
]
EXITS = [("", _("Not exited"))] + [(s.value, s.label) for s in EXIT_STATUSES]
FLAG = "0; 1"
DAYS = _("whole days, negative before the origin; blank when there is no such date")

# The per-phase column; the extract has one for each phase number of its programs.
PHASE_DAY_PATTERN = "phase_{n}_day"

COLUMNS: list[Column] = [
    Column(
        "pid",
        TYPE_TEXT,
        _(
            "Pseudonymous id of the person: HMAC-SHA256 of the program, the evaluator label and "
            "the person, keyed by a secret the evaluator does not hold. The same person has the "
            "same pid in every extract of the same program for the same evaluator, and another "
            "pid for another evaluator."
        ),
        _("16 hexadecimal characters"),
    ),
    Column(
        "episode",
        TYPE_INTEGER,
        _(
            "Number of this episode among the person's referrals to the program, oldest first: "
            "1 for the first, 2 and more for readmissions (whatever became of earlier referrals)."
        ),
        "1, 2, …",
    ),
    Column("program", TYPE_CODE, _("The program's code."), _("the codes of the programs chosen")),
    Column(
        "legal_track",
        TYPE_CODE,
        _("The program's legal track."),
        _codes(Program.LegalTrack.choices),
    ),
    Column(
        "screening_outcome",
        TYPE_CODE,
        _("What became of the referral on the extract date."),
        _codes(SCREENING_OUTCOMES),
    ),
    Column(
        "offset_from",
        TYPE_CODE,
        _("What every *_day column of the row counts from."),
        _codes(OFFSET_ORIGINS),
    ),
    Column(
        "age_at_referral",
        TYPE_INTEGER,
        _("Age in whole years on the referral date; 90 means 90 or older."),
        "0-90",
    ),
    Column(
        "sex",
        TYPE_CODE,
        _("Sex as recorded."),
        _with_suppressed(Person.Sex.choices),
        suppressible=True,
    ),
    Column(
        "gender",
        TYPE_CODE,
        _("Gender identity as recorded."),
        _with_suppressed(Person.Gender.choices),
        suppressible=True,
    ),
    Column(
        "race_ethnicity",
        TYPE_CODE,
        _("Race / ethnicity as recorded."),
        _with_suppressed(Person.RaceEthnicity.choices),
        suppressible=True,
    ),
    Column(
        "primary_substance",
        TYPE_TEXT,
        _("Primary substance as recorded at referral (free text, lower case, trimmed)."),
        _("free text; blank when not recorded; suppressed"),
        suppressible=True,
    ),
    Column(
        "referral_source",
        TYPE_CODE,
        _("Who referred the person."),
        _with_suppressed(ReferralSource.choices),
        suppressible=True,
    ),
    Column(
        "referral_day",
        TYPE_INTEGER,
        _("Referral date (0 when the origin is the referral)."),
        DAYS,
    ),
    Column("arrest_day", TYPE_INTEGER, _("Date of the arrest that led to the referral."), DAYS),
    Column(
        "legal_eligibility",
        TYPE_CODE,
        _("Latest legal eligibility decision."),
        _codes(ELIGIBILITY),
    ),
    Column("legal_eligibility_day", TYPE_INTEGER, _("Date of that decision."), DAYS),
    Column(
        "clinical_eligibility",
        TYPE_CODE,
        _("Latest clinical eligibility decision."),
        _codes(ELIGIBILITY),
    ),
    Column("clinical_eligibility_day", TYPE_INTEGER, _("Date of that decision."), DAYS),
    Column(
        "admission_decision",
        TYPE_CODE,
        _("The team's admission decision."),
        _codes(ADMISSION),
    ),
    Column("admission_decision_day", TYPE_INTEGER, _("Date of that decision."), DAYS),
    Column(
        "status",
        TYPE_CODE,
        _("Status of the episode on the extract date."),
        _codes(Status.choices),
    ),
    Column(
        "in_program",
        TYPE_FLAG,
        _(
            "1 when the episode is open in the program on the extract date (active, warrant, in "
            "custody, medical leave, pending termination)."
        ),
        FLAG,
    ),
    Column("exit_type", TYPE_CODE, _("How the participant left the program."), _codes(EXITS)),
    Column(
        "neutral_exit",
        TYPE_FLAG,
        _(
            "1 for an exit that says nothing about the program's success (administrative "
            "discharge, deceased, transferred): reported apart in graduation rates. Blank when "
            "not exited."
        ),
        FLAG,
    ),
    Column("exit_day", TYPE_INTEGER, _("Program exit date."), DAYS),
    Column(
        "days_in_program",
        TYPE_INTEGER,
        _(
            "Days from program entry to exit, or to the extract date when still open. Blank when "
            "never admitted."
        ),
        _("0 or more"),
    ),
    Column(
        "followup_days",
        TYPE_INTEGER,
        _(
            "Days from the origin to the extract date (the program's today): how long the "
            "episode has been observed."
        ),
        _("0 or more"),
    ),
    Column(
        "disposition",
        TYPE_CODE,
        _("Legal disposition of the case."),
        _codes(Disposition.choices),
    ),
    Column(
        "phases_reached",
        TYPE_INTEGER,
        _("Highest phase number the participant entered. Blank when never admitted."),
        "1, 2, …",
    ),
    Column(
        PHASE_DAY_PATTERN.format(n="<n>"),
        TYPE_INTEGER,
        _(
            "First day the participant entered phase n (phase 1 is day 0, the program entry). "
            "One column for each phase number of the programs in the extract; blank when the "
            "phase was not reached."
        ),
        DAYS,
    ),
    Column(
        "drug_tests",
        TYPE_INTEGER,
        _(
            "Drug and alcohol tests of the episode entered by the court team or received from "
            "the court's laboratory (tests reported by a treatment provider are not counted "
            "here: see provider_drug_tests)."
        ),
        _("0 or more"),
    ),
    Column(
        "failed_tests",
        TYPE_INTEGER,
        _(
            "Of those, tests that count as positive: missed, refused, adulterated, or with any "
            "substance result other than negative."
        ),
        _("0 or more"),
    ),
    Column(
        "hearing_appearances",
        TYPE_INTEGER,
        _(
            "Hearings (sessions not cancelled) at which the participant appeared in person or "
            "remotely."
        ),
        _("0 or more"),
    ),
    Column(
        "hearings_absent",
        TYPE_INTEGER,
        _("Hearings (sessions not cancelled) at which the participant was recorded absent."),
        _("0 or more"),
    ),
    Column("incentives", TYPE_INTEGER, _("Incentives given by the court."), _("0 or more")),
    Column("sanctions", TYPE_INTEGER, _("Sanctions given by the court."), _("0 or more")),
    Column(
        "service_adjustments",
        TYPE_INTEGER,
        _("Service or treatment adjustments ordered by the court."),
        _("0 or more"),
    ),
    Column(
        "jail_days",
        TYPE_DECIMAL,
        _("Days of jail sanctions, added up."),
        _("0 or more"),
    ),
    Column("new_arrests", TYPE_INTEGER, _("New arrests recorded on the episode."), _("0 or more")),
    Column(
        "new_arrest_convictions",
        TYPE_INTEGER,
        _("Of those, arrests recorded as leading to a conviction."),
        _("0 or more"),
    ),
    Column("first_new_arrest_day", TYPE_INTEGER, _("Date of the first new arrest."), DAYS),
    Column(
        "provider_drug_tests",
        TYPE_INTEGER,
        _("Drug and alcohol tests reported by a treatment provider."),
        _("0 or more"),
        treatment=True,
    ),
    Column(
        "provider_failed_tests",
        TYPE_INTEGER,
        _("Of those, tests that count as positive (as failed_tests)."),
        _("0 or more"),
        treatment=True,
    ),
    Column(
        "treatment_sessions_attended",
        TYPE_INTEGER,
        _("Treatment sessions reported by the provider as attended (on time or late)."),
        _("0 or more"),
        treatment=True,
    ),
]

# Where each small-cell column's value comes from (grouped on exactly what is written).
CATEGORIES = {
    "sex": F("person__sex"),
    "gender": F("person__gender"),
    "race_ethnicity": F("person__race_ethnicity"),
    "primary_substance": primary_substance(),
    "referral_source": F("referral_source"),
}


def dictionary_rows(*, include_treatment: bool = True) -> Iterator[list[str]]:
    """The data dictionary: one row per column (the per-phase column as phase_<n>_day)."""
    included, only_with = _("always"), _("only when treatment-provider counts are included")
    for column in COLUMNS:
        if column.treatment and not include_treatment:
            continue
        yield [
            column.name,
            str(column.type),
            str(column.definition),
            column.allowed_values(),
            str(only_with if column.treatment else included),
        ]


def dictionary_header() -> list[str]:
    return [
        str(_("column")),
        str(_("type")),
        str(_("definition")),
        str(_("values")),
        str(_("in the file")),
    ]


# --- The cohort and its query -----------------------------------------------------------------


def evaluation_cohort(
    programs: Iterable[Program], *, start: date | None, end: date | None
) -> QuerySet[Participant]:
    """Intent to treat: episodes admitted in the period, and referrals never admitted whose
    referral falls in it (both ends inclusive; an open end is unbounded)."""
    cohort = Participant.objects.filter(program__in=list(programs)).alias(
        cohort_day=Coalesce("entry_date", "referred_on")
    )
    if start is not None:
        cohort = cohort.filter(cohort_day__gte=start)
    if end is not None:
        cohort = cohort.filter(cohort_day__lte=end)
    return cohort


def _per_episode(queryset: QuerySet, aggregate, output_field) -> Subquery:
    """One aggregate of the outer episode's rows of `queryset` (a correlated subquery)."""
    return Subquery(
        queryset.filter(participant=OuterRef("pk"))
        .order_by()
        .values("participant")
        .annotate(value=aggregate)
        .values("value"),
        output_field=output_field,
    )


def _count(queryset: QuerySet) -> Coalesce:
    return Coalesce(_per_episode(queryset, Count("pk"), IntegerField()), 0)


def _latest(kind: str, field_name: str) -> Subquery:
    return Subquery(
        ScreeningDecision.objects.filter(participant=OuterRef("pk"), kind=kind)
        .order_by("-decided_on", "-created_at")
        .values(field_name)[:1]
    )


def _query(cohort: QuerySet[Participant], *, phases: int, include_treatment: bool) -> QuerySet:
    Kind = ScreeningDecision.Kind
    court_tests = DrugTest.objects.filter(provider__isnull=True)
    heard = DocketEntry.objects.filter(session__cancelled=False)
    earlier = Participant.objects.filter(
        person=OuterRef("person"), program=OuterRef("program")
    ).filter(
        Q(referred_on__lt=OuterRef("referred_on"))
        | Q(referred_on=OuterRef("referred_on"), pk__lt=OuterRef("pk"))
    )
    earlier_count = Subquery(
        earlier.order_by().values("person").annotate(n=Count("pk")).values("n"),
        output_field=IntegerField(),
    )
    exprs = {
        **{f"cat_{name}": expr for name, expr in CATEGORIES.items()},
        "episode": Coalesce(earlier_count, 0) + 1,
        "legal": _latest(Kind.LEGAL, "outcome"),
        "legal_on": _latest(Kind.LEGAL, "decided_on"),
        "clinical": _latest(Kind.CLINICAL, "outcome"),
        "clinical_on": _latest(Kind.CLINICAL, "decided_on"),
        "admission": _latest(Kind.ADMISSION, "outcome"),
        "admission_on": _latest(Kind.ADMISSION, "decided_on"),
        "phases_reached": Coalesce(
            _per_episode(PhaseChange.objects, Max("to_phase__number"), IntegerField()),
            F("phase__number"),
            output_field=IntegerField(),
        ),
        "drug_tests": _count(court_tests),
        "failed_tests": _count(court_tests.filter(failed_test())),
        "hearing_appearances": _count(heard.filter(attendance__in=APPEARED)),
        "hearings_absent": _count(heard.filter(attendance=HearingAttendance.ABSENT)),
        "incentives": _count(Response.objects.filter(kind=ResponseKind.INCENTIVE)),
        "sanctions": _count(Response.objects.filter(kind=ResponseKind.SANCTION)),
        "service_adjustments": _count(Response.objects.filter(kind=ResponseKind.SERVICE)),
        "jail_days": Coalesce(
            _per_episode(
                Response.objects.filter(kind=ResponseKind.SANCTION, unit=Unit.JAIL_DAYS),
                Sum("magnitude"),
                DecimalField(max_digits=12, decimal_places=1),
            ),
            Decimal(0),
            output_field=DecimalField(max_digits=12, decimal_places=1),
        ),
        "new_arrests": _count(NewArrest.objects),
        "new_arrest_convictions": _count(NewArrest.objects.filter(convicted=True)),
        "first_new_arrest_on": _per_episode(
            NewArrest.objects, Min("arrested_on"), NewArrest._meta.get_field("arrested_on")
        ),
    }
    for n in range(1, phases + 1):
        exprs[f"phase_{n}_on"] = _per_episode(
            PhaseChange.objects.filter(to_phase__number=n),
            Min("effective_on"),
            PhaseChange._meta.get_field("effective_on"),
        )
    if include_treatment:
        provider_tests = DrugTest.objects.filter(provider__isnull=False)
        exprs["provider_drug_tests"] = _count(provider_tests)
        exprs["provider_failed_tests"] = _count(provider_tests.filter(failed_test()))
        exprs["treatment_sessions_attended"] = _count(
            TreatmentSession.objects.filter(
                attendance__in=[
                    TreatmentSession.Attendance.ATTENDED,
                    TreatmentSession.Attendance.LATE,
                ]
            )
        )
    # Prefixed: some names (drug_tests, new_arrests) are also reverse relations of Participant.
    exprs = {f"x_{name}": expr for name, expr in exprs.items()}
    # Rows in the order of the people's random uuids: nothing about dates or record creation
    # can be read from the order of the file; a person's episodes stay together.
    return cohort.order_by("person__uuid", "referred_on", "pk").values(
        "program_id",
        "program__code",
        "program__legal_track",
        "person__uuid",
        "person__date_of_birth",
        "status",
        "referred_on",
        "arrest_date",
        "entry_date",
        "exit_date",
        "disposition",
        **exprs,
    )


# --- The extract ------------------------------------------------------------------------------


def _age(born: date, on: date) -> int:
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return min(years, AGE_TOP_CODE)


def _flag(value: bool) -> int:
    return 1 if value else 0


def _number(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value.normalize()


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is quoted (CSV injection), by the export
    writers' rule."""
    return neutralise_formula(value) if isinstance(value, str) else value


@dataclass
class EvaluationExtract:
    programs: list[Program]
    evaluator: str
    start: date | None
    end: date | None
    min_cell: int
    include_treatment: bool
    rows_total: int
    people: int
    phases: int
    suppressed: dict[str, set[str]]
    queryset: QuerySet = field(repr=False)
    as_of: dict[int, date] = field(default_factory=dict)

    @cached_property
    def columns(self) -> list[str]:
        names = []
        for column in COLUMNS:
            if column.treatment and not self.include_treatment:
                continue
            if column.name == PHASE_DAY_PATTERN.format(n="<n>"):
                names += [PHASE_DAY_PATTERN.format(n=n) for n in range(1, self.phases + 1)]
            else:
                names.append(column.name)
        return names

    def rows(self) -> Iterator[list[Any]]:
        programs = {p.pk: p for p in self.programs}
        for row in self.queryset.iterator(chunk_size=CHUNK_SIZE):
            yield self._row(row, programs[row["program_id"]])

    def _row(self, r: dict[str, Any], program: Program) -> list[Any]:
        entry, referred = r["entry_date"], r["referred_on"]
        origin = entry or referred
        as_of = self.as_of[program.pk]

        def day(value: date | None) -> int | None:
            return None if value is None else (value - origin).days

        exited = r["status"] in EXIT_STATUSES
        if entry is not None:
            outcome = "admitted"
        elif r["status"] == Status.DECLINED:
            outcome = "declined"
        else:
            outcome = "pending"
        values = {
            "pid": pseudonym(
                program=program, evaluator=self.evaluator, person_uuid=r["person__uuid"]
            ),
            "episode": r["x_episode"],
            "program": r["program__code"],
            "legal_track": r["program__legal_track"],
            "screening_outcome": outcome,
            "offset_from": "admission" if entry is not None else "referral",
            "age_at_referral": _age(r["person__date_of_birth"], referred),
            "referral_day": day(referred),
            "arrest_day": day(r["arrest_date"]),
            "legal_eligibility": r["x_legal"] or "",
            "legal_eligibility_day": day(r["x_legal_on"]),
            "clinical_eligibility": r["x_clinical"] or "",
            "clinical_eligibility_day": day(r["x_clinical_on"]),
            "admission_decision": r["x_admission"] or "",
            "admission_decision_day": day(r["x_admission_on"]),
            "status": r["status"],
            "in_program": _flag(r["status"] in IN_PROGRAM_STATUSES),
            "exit_type": r["status"] if exited else "",
            "neutral_exit": _flag(r["status"] in NEUTRAL_EXITS) if exited else None,
            "exit_day": day(r["exit_date"]),
            "days_in_program": None
            if entry is None
            else ((r["exit_date"] if exited and r["exit_date"] else as_of) - entry).days,
            "followup_days": (as_of - origin).days,
            "disposition": r["disposition"],
            "phases_reached": r["x_phases_reached"] if entry is not None else None,
            "jail_days": _number(r["x_jail_days"]),
            "first_new_arrest_day": day(r["x_first_new_arrest_on"]),
        }
        for name in CATEGORIES:
            value = r[f"x_cat_{name}"]
            values[name] = SUPPRESSED if value in self.suppressed[name] else value
        for n in range(1, self.phases + 1):
            values[PHASE_DAY_PATTERN.format(n=n)] = day(r[f"x_phase_{n}_on"])
        return [_cell(values[name] if name in values else r[f"x_{name}"]) for name in self.columns]

    def csv_chunks(self) -> Iterator[str]:
        """The CSV, in blocks of about BLOCK_CHARS characters (for a streaming response)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        for row in self.rows():
            writer.writerow(row)
            if buffer.tell() >= BLOCK_CHARS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()


def normalise_evaluator(label: str) -> str:
    """The evaluator label as it keys the ids: "CCI " and "cci" are the same evaluator."""
    return (label or "").strip().lower()


def evaluation_extract(
    *,
    acting_user,
    programs: list[Program],
    evaluator: str,
    start: date | None,
    end: date | None,
    min_cell: int = MIN_CELL_DEFAULT,
    include_treatment: bool = False,
    request: HttpRequest | None = None,
) -> EvaluationExtract:
    """Prepare an extract of these programs (already checked against the user's access) and
    record it in the audit trail. A fixed number of queries, whatever the cohort's size; the
    rows are read when the returned extract's CSV is iterated."""
    evaluator = normalise_evaluator(evaluator)
    if not evaluator:
        raise ValidationError({"evaluator": _("Name the evaluator.")})
    if min_cell < MIN_CELL_FLOOR:
        raise ValidationError(
            {"min_cell": _("The smallest cell is %(n)s people.") % {"n": MIN_CELL_FLOOR}}
        )
    if not programs:
        raise ValidationError({"programs": _("Choose at least one program.")})
    if start is not None and end is not None and start > end:
        raise ValidationError(_("The start of the period cannot follow its end."))
    cohort = evaluation_cohort(programs, start=start, end=end)
    totals = cohort.aggregate(rows=Count("pk"), people=Count("person", distinct=True))
    # Small cells: one GROUP BY per column, counting distinct people (not episodes).
    suppressed = {
        name: set(
            cohort.values(value=expr)
            .annotate(people=Count("person", distinct=True))
            .filter(people__lt=min_cell)
            .values_list("value", flat=True)
        )
        for name, expr in CATEGORIES.items()
    }
    phases = Phase.objects.filter(program__in=programs).aggregate(n=Max("number"))["n"] or 0
    extract = EvaluationExtract(
        programs=list(programs),
        evaluator=evaluator,
        start=start,
        end=end,
        min_cell=min_cell,
        include_treatment=include_treatment,
        rows_total=totals["rows"],
        people=totals["people"],
        phases=phases,
        suppressed=suppressed,
        # Its rows are read while the response streams, after the caller's replica scope
        # (tjp.db_routers) has ended: pinned to the database the counts above came from.
        queryset=_query(cohort, phases=phases, include_treatment=include_treatment).using(
            cohort.db
        ),
        as_of={p.pk: program_today(p) for p in programs},
    )
    audit.record(
        actor=acting_user,
        action=AuditEvent.Action.EXPORT,
        program=programs[0] if len(programs) == 1 else None,
        request=request,
        detail={
            "evaluation_extract": True,
            "evaluator": evaluator,
            "programs": sorted(p.code for p in programs),
            "period": [start.isoformat() if start else None, end.isoformat() if end else None],
            "rows": extract.rows_total,
            "people": extract.people,
            "min_cell": min_cell,
            "treatment_counts": include_treatment,
            "suppressed_values": {k: len(v) for k, v in suppressed.items()},
        },
    )
    return extract
