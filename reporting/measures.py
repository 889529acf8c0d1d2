"""The performance measures of a program (DOMAIN.md, "Performance measures").

Each measure is one function taking `ReportParams` (the programs, and the period in the
programs' own days, both ends inclusive) and optionally `within`, a queryset of participants
the measure is restricted to (an equity split reuses the measure on one group). It returns a
`reporting.tables.Table`. Its definition is written once, in the `@measure(...)` line above
the function: that text is the function's docstring and, translated, the table's definition.

Every figure is computed from the recorded facts by the database (COUNT, SUM, AVG and
PostgreSQL's PERCENTILE_CONT), in a fixed number of queries whatever the number of
participants or tests: nothing loops over participants or tests in Python.

Shared definitions, used by several measures:
- An episode is **in the program on a day** from its entry date to its exit date, both
  counted; **enrolled in the period** means in the program on at least one day of it.
- **Participant-days** of an episode are its days in the program within the period.
- A drug test **fails** when it was missed, refused or adulterated, or any substance was not
  negative: `treatment.models.DrugTest.counts_as_positive`, mirrored in SQL here.
- Moments (test collections, hearings) fall on the day of their program's time zone.
- Each episode counts on its own: a person admitted twice is two admissions.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, Lower, Trim, TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hearings.models import APPEARED, DocketEntry, Response, ResponseKind, Unit
from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    NEUTRAL_EXITS,
    NewArrest,
    Participant,
    PhaseChange,
    ScreeningDecision,
    Status,
    StatusChange,
    program_today,
)
from reporting.params import ReportParams
from reporting.tables import Table
from tjp.models import Phase, Program
from treatment.models import DrugTest, DrugTestResult, TestingHoliday, TreatmentSession


# --- SQL building blocks ---------------------------------------------------------------------
class Median(Aggregate):
    """PostgreSQL's continuous median (interpolated between the two middle values)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY (%(expressions)s)::double precision)"
    output_field = FloatField()


class DaysBetween(Func):
    """later - earlier, in days (PostgreSQL: date - date is an integer)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


class HoursBetween(Func):
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    arg_joiner = " - "
    output_field = FloatField()


class LocalDate(Func):
    """The day of a timestamp in the time zone named by another column."""

    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()


def _positive_result() -> Exists:
    return Exists(
        DrugTestResult.objects.filter(test=OuterRef("pk")).exclude(
            result=DrugTestResult.Result.NEGATIVE
        )
    )


# --- the cohort ------------------------------------------------------------------------------
def primary_substance():
    """A participant's primary substance as reports group it: the free text recorded at
    referral, trimmed and in lower case ("Meth " and "meth" are one substance)."""
    return Lower(Trim("primary_substance"))


def episodes_of(params: ReportParams, within: QuerySet | None) -> QuerySet[Participant]:
    """Every episode of the programs (restricted to `within`), whatever its status."""
    episodes = Participant.objects.filter(program__in=[p.pk for p in params.programs])
    if within is not None:
        episodes = episodes.filter(pk__in=within.values("pk"))
    return episodes.order_by()


def enrolled_in_period(params: ReportParams, within: QuerySet | None) -> QuerySet[Participant]:
    return episodes_of(params, within).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gte=params.start), entry_date__lte=params.end
    )


def _in_program_at_end(params: ReportParams, within: QuerySet | None) -> QuerySet[Participant]:
    return episodes_of(params, within).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gt=params.end), entry_date__lte=params.end
    )


def _participant_days(params: ReportParams):
    start, end = Value(params.start, DateField()), Value(params.end, DateField())
    return DaysBetween(Least(Coalesce("exit_date", end), end), Greatest("entry_date", start)) + 1


def _exposure(params: ReportParams, within: QuerySet | None) -> tuple[int, int]:
    """(participants enrolled in the period, their participant-days)."""
    totals = enrolled_in_period(params, within).aggregate(
        n=Count("pk"), days=Sum(_participant_days(params), output_field=IntegerField())
    )
    return totals["n"], totals["days"] or 0


def _moment_in_period(params: ReportParams, field: str, program_field: str) -> Q:
    """`field` (a timestamp) falls on a day of the period in its program's time zone."""
    during = Q(pk__in=[])
    for program in params.programs:
        zone = ZoneInfo(program.time_zone)
        during |= Q(
            **{
                program_field: program.pk,
                f"{field}__gte": datetime.combine(params.start, time(), zone),
                f"{field}__lt": datetime.combine(params.end + timedelta(days=1), time(), zone),
            }
        )
    return during


def _ends_today(params: ReportParams) -> bool:
    return all(params.end >= program_today(program) for program in params.programs)


def _count_at_end(
    params: ReportParams, within: QuerySet | None, current: str, history, value: str
) -> dict:
    """Participants in the program at the end of the period, counted by `current` (a field of
    theirs) as it stood then: as it is now when the period ends today (changes cannot be
    dated ahead), else the `value` of the last `history` row effective on or before the end."""
    episodes = _in_program_at_end(params, within)
    if _ends_today(params):
        at_end = F(current)
        episodes = episodes.filter(status__in=IN_PROGRAM_STATUSES)
    else:
        last_change = (
            history.objects.filter(participant=OuterRef("pk"), effective_on__lte=params.end)
            .order_by("-effective_on", "-created_at", "-pk")
            .values(value)[:1]
        )
        at_end = Coalesce(Subquery(last_change), F(current))
    return dict(
        episodes.annotate(at=at_end).values("at").annotate(n=Count("pk")).values_list("at", "n")
    )


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _round(value, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)


def _ratio(part, whole, scale: int = 1, places: int = 2) -> float | None:
    return round(scale * float(part) / whole, places) if whole else None


def _percent(part, whole) -> float | None:
    return _ratio(part, whole, scale=100, places=1)


# --- the measure declaration -----------------------------------------------------------------
@dataclass(frozen=True)
class Definition:
    key: str
    title: str  # English: translated when the table is built
    text: str


def measure(key: str, *, title: str, definition: str) -> Callable:
    """Declare a measure: its key, title and definition (which becomes its docstring)."""

    def declare(fn):
        fn.definition = Definition(key, title, definition)
        fn.__doc__ = f"{title}. {definition}"
        return fn

    return declare


def _table(fn, columns: list[str], rows: list[list], notes: list[str] = ()) -> Table:
    d = fn.definition
    return Table(d.key, _(d.title), _(d.text), columns, rows, list(notes))


def _status_label(status: str) -> str:
    return str(Status(status).label)


# --- the measures ----------------------------------------------------------------------------
@measure(
    "census_status",
    title=gettext_noop("Census by status"),
    definition=gettext_noop(
        "Participants in the program at the end of the period (entered on or before it, not "
        "exited by then), by their status on that day. When the period ends today this is "
        "their current status; for a period that ended earlier it is the last status change "
        "effective on or before the end."
    ),
)
def census_status(params: ReportParams, within: QuerySet | None = None) -> Table:
    counts = _count_at_end(params, within, "status", StatusChange, "to_status")
    rows = [[_status_label(s), counts.get(s, 0)] for s in IN_PROGRAM_STATUSES]
    total = sum(n for _label, n in rows)
    notes = [_("Total in the program at the end of the period: %(n)s") % {"n": total}]
    return _table(census_status, [_("Status"), _("Participants")], rows, notes)


@measure(
    "census_phase",
    title=gettext_noop("Census by phase"),
    definition=gettext_noop(
        "The same participants as the census by status (in the program at the end of the "
        "period), by their phase on that day: the current phase when the period ends today, "
        "otherwise the last phase change effective on or before the end. Across programs, "
        "phases are grouped by number."
    ),
)
def census_phase(params: ReportParams, within: QuerySet | None = None) -> Table:
    counts = _count_at_end(params, within, "phase__number", PhaseChange, "to_phase__number")
    phases = Phase.objects.filter(program__in=[p.pk for p in params.programs]).order_by("number")
    labels: dict[int, str] = {}
    for phase in phases:
        if len(params.programs) == 1:
            labels[phase.number] = str(phase)
        else:
            labels[phase.number] = _("Phase %(number)s") % {"number": phase.number}
    rows = [[label, counts.get(number, 0)] for number, label in labels.items()]
    if counts.get(None):
        rows.append([_("No phase recorded"), counts[None]])
    return _table(census_phase, [_("Phase"), _("Participants")], rows)


@measure(
    "admissions_exits",
    title=gettext_noop("Admissions and exits per month"),
    definition=gettext_noop(
        "Admissions: episodes whose program entry date falls in the month. Exits: episodes "
        "whose exit date (graduation, termination, withdrawal, discharge, death or transfer) "
        "falls in the month. Only the days of the month inside the period count, so the first "
        "and last months may be partial."
    ),
)
def admissions_exits(params: ReportParams, within: QuerySet | None = None) -> Table:
    episodes = episodes_of(params, within)
    period = (params.start, params.end)

    def per_month(queryset, field: str) -> dict[date, int]:
        return dict(
            queryset.annotate(month=TruncMonth(field))
            .values("month")
            .annotate(n=Count("pk"))
            .values_list("month", "n")
        )

    admitted = per_month(episodes.filter(entry_date__range=period), "entry_date")
    exited = per_month(
        episodes.filter(status__in=EXIT_STATUSES, exit_date__range=period), "exit_date"
    )
    rows = [[m, admitted.get(m, 0), exited.get(m, 0)] for m in _months(*period)]
    return _table(admissions_exits, [_("Month"), _("Admissions"), _("Exits")], rows)


def referred_in_period(params: ReportParams, within: QuerySet | None) -> QuerySet[Participant]:
    return episodes_of(params, within).filter(referred_on__range=(params.start, params.end))


def admitted_by_end(params: ReportParams) -> Q:
    return Q(entry_date__lte=params.end)


def declined_by_end(params: ReportParams) -> Q:
    # Declined, unless the status history dates the decision after the end of the period.
    later = StatusChange.objects.filter(
        participant=OuterRef("pk"), to_status=Status.DECLINED, effective_on__gt=params.end
    )
    return Q(status=Status.DECLINED) & ~Exists(later)


@measure(
    "admission_rate",
    title=gettext_noop("Admission rate among referrals"),
    definition=gettext_noop(
        "Of the referrals in the period (referral date in the period) decided by its end: "
        "those admitted (program entry on or before the end of the period) divided by all of "
        "them. Declined referrals, whether found not eligible or eligible but not admitted, "
        "count against the rate. Referrals not decided by the end of the period are left out "
        "of the rate and reported apart."
    ),
)
def admission_rate(params: ReportParams, within: QuerySet | None = None) -> Table:
    c = referred_in_period(params, within).aggregate(
        referred=Count("pk"),
        admitted=Count("pk", filter=admitted_by_end(params)),
        declined=Count("pk", filter=declined_by_end(params)),
    )
    decided = c["admitted"] + c["declined"]
    columns = [
        _("Referrals decided"),
        _("Admitted"),
        _("Declined"),
        _("Admission rate (%)"),
        _("Not decided by the end of the period (apart)"),
    ]
    row = [decided, c["admitted"], c["declined"], _percent(c["admitted"], decided)]
    return _table(admission_rate, columns, [[*row, c["referred"] - decided]])


@measure(
    "retention",
    title=gettext_noop("Retention"),
    definition=gettext_noop(
        "Of the episodes admitted (program entry) in the period: those that graduated by the "
        "end of the period plus those still in the program at its end, divided by all of them. "
        "Every other exit, neutral ones included, counts against retention."
    ),
)
def retention(params: ReportParams, within: QuerySet | None = None) -> Table:
    end = params.end
    counts = (
        episodes_of(params, within)
        .filter(entry_date__range=(params.start, end))
        .aggregate(
            admitted=Count("pk"),
            graduated=Count("pk", filter=Q(status=Status.GRADUATED, exit_date__lte=end)),
            still=Count("pk", filter=Q(exit_date__isnull=True) | Q(exit_date__gt=end)),
        )
    )
    admitted, graduated, still = counts["admitted"], counts["graduated"], counts["still"]
    row = [admitted, graduated, still, _percent(graduated + still, admitted)]
    columns = [_("Admitted"), _("Graduated"), _("Still in the program"), _("Retention (%)")]
    return _table(retention, columns, [row])


@measure(
    "graduation",
    title=gettext_noop("Graduation rate"),
    definition=gettext_noop(
        "Of the exits in the period (exit date in the period): graduates divided by the "
        "exits that say something about the program — graduation, termination and voluntary "
        "withdrawal. Neutral exits (administrative discharge, death, transfer) are left out "
        "of the rate and reported apart."
    ),
)
def graduation(params: ReportParams, within: QuerySet | None = None) -> Table:
    counts = dict(
        episodes_of(params, within)
        .filter(status__in=EXIT_STATUSES, exit_date__range=(params.start, params.end))
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    graduated = counts.get(Status.GRADUATED, 0)
    terminated = counts.get(Status.TERMINATED, 0)
    withdrew = counts.get(Status.VOLUNTARY_WITHDRAWAL, 0)
    counted = graduated + terminated + withdrew
    neutral = sum(counts.get(s, 0) for s in NEUTRAL_EXITS)
    columns = [
        _status_label(Status.GRADUATED),
        _status_label(Status.TERMINATED),
        _status_label(Status.VOLUNTARY_WITHDRAWAL),
        _("Exits counted"),
        _("Graduation rate (%)"),
        _("Neutral exits (apart)"),
    ]
    row = [graduated, terminated, withdrew, counted, _percent(graduated, counted), neutral]
    return _table(graduation, columns, [row])


@measure(
    "length_of_stay",
    title=gettext_noop("Length of stay by exit type"),
    definition=gettext_noop(
        "For the exits in the period, the days from program entry to exit, by the kind of "
        "exit: median and mean."
    ),
)
def length_of_stay(params: ReportParams, within: QuerySet | None = None) -> Table:
    exits = episodes_of(params, within).filter(
        status__in=EXIT_STATUSES,
        exit_date__range=(params.start, params.end),
        entry_date__isnull=False,
    )
    days = DaysBetween("exit_date", "entry_date")
    stats = {"n": Count("pk"), "median": Median(days), "mean": Avg(days)}
    by_type = {r["status"]: r for r in exits.values("status").annotate(**stats)}
    everyone = exits.aggregate(**stats)
    rows = []
    for status in EXIT_STATUSES:
        r = by_type.get(status, {"n": 0, "median": None, "mean": None})
        rows.append([_status_label(status), r["n"], _round(r["median"]), _round(r["mean"])])
    rows.append(
        [_("All exits"), everyone["n"], _round(everyone["median"]), _round(everyone["mean"])]
    )
    columns = [_("Exit"), _("Exits"), _("Median days"), _("Mean days")]
    return _table(length_of_stay, columns, rows)


@measure(
    "time_to_admission",
    title=gettext_noop("Time from arrest to admission"),
    definition=gettext_noop(
        "For the episodes admitted in the period: days from the arrest to the referral, from "
        "the referral to eligibility (the latest eligible legal or clinical screening "
        "decision), from eligibility to program entry, and from the arrest to program entry. "
        "Episodes without the dates an interval needs are left out of that interval."
    ),
)
def time_to_admission(params: ReportParams, within: QuerySet | None = None) -> Table:
    # Aggregating over this annotation makes Django group the episodes in a subquery first,
    # so the eligibility date is worked out once per episode.
    eligible = Q(
        screening_decisions__kind__in=[
            ScreeningDecision.Kind.LEGAL,
            ScreeningDecision.Kind.CLINICAL,
        ],
        screening_decisions__outcome=ScreeningDecision.Outcome.ELIGIBLE,
    )
    admitted = (
        episodes_of(params, within)
        .filter(entry_date__range=(params.start, params.end))
        .annotate(eligible_on=Max("screening_decisions__decided_on", filter=eligible))
    )
    intervals = [
        (_("Arrest to referral"), "referred_on", "arrest_date"),
        (_("Referral to eligibility"), "eligible_on", "referred_on"),
        (_("Eligibility to admission"), "entry_date", "eligible_on"),
        (_("Arrest to admission"), "entry_date", "arrest_date"),
    ]
    stats = {}
    for i, (_label, later, earlier) in enumerate(intervals):
        known = Q(**{f"{later}__isnull": False, f"{earlier}__isnull": False})
        days = DaysBetween(later, earlier)
        stats |= {
            f"n{i}": Count("pk", filter=known),
            f"median{i}": Median(days, filter=known),
            f"mean{i}": Avg(days, filter=known),
        }
    values = admitted.aggregate(**stats)
    rows = [
        [label, values[f"n{i}"], _round(values[f"median{i}"]), _round(values[f"mean{i}"])]
        for i, (label, _later, _earlier) in enumerate(intervals)
    ]
    columns = [_("Interval"), _("Participants"), _("Median days"), _("Mean days")]
    return _table(time_to_admission, columns, rows)


@measure(
    "sobriety",
    title=gettext_noop("Sobriety"),
    definition=gettext_noop(
        "For the participants enrolled in the period, over their days in the program within "
        "it: failed drug tests (positive, missed, refused or adulterated) per participant, "
        "participants without any failed test, and the median of each participant's longest "
        "run of consecutive days without a failed test."
    ),
)
def sobriety(params: ReportParams, within: QuerySet | None = None) -> Table:
    try:
        cohort_sql, cohort_params = (
            enrolled_in_period(params, within).values("pk").query.sql_with_params()
        )
    except EmptyResultSet:
        enrolled, failed, clean, median = 0, 0, 0, None
    else:
        # Failed as in DrugTest.counts_as_positive. Each participant's failed-test days, with
        # a mark the day before their first day in the period and the day after their last:
        # the gaps between consecutive marks are the runs without a failed test.
        sql = f"""
            WITH enrolled AS (
                SELECT p.id, pr.time_zone,
                       GREATEST(p.entry_date, %s::date) AS first_day,
                       LEAST(COALESCE(p.exit_date, %s::date), %s::date) AS last_day
                FROM {Participant._meta.db_table} p
                JOIN {Program._meta.db_table} pr ON pr.id = p.program_id
                WHERE p.id IN ({cohort_sql})
            ),
            failed AS (
                SELECT e.id, (t.collected_at AT TIME ZONE e.time_zone)::date AS day
                FROM enrolled e
                JOIN {DrugTest._meta.db_table} t ON t.participant_id = e.id
                WHERE t.collected_at >= (e.first_day::timestamp AT TIME ZONE e.time_zone)
                  AND t.collected_at < ((e.last_day + 1)::timestamp AT TIME ZONE e.time_zone)
                  AND (t.missed OR t.refused OR t.adulterated OR EXISTS (
                      SELECT 1 FROM {DrugTestResult._meta.db_table} r
                      WHERE r.test_id = t.id AND r.result <> %s
                  ))
            ),
            marks AS (
                SELECT id, day FROM failed
                UNION ALL SELECT id, first_day - 1 FROM enrolled
                UNION ALL SELECT id, last_day + 1 FROM enrolled
            ),
            runs AS (
                SELECT id, MAX(gap) AS longest FROM (
                    SELECT id, day - LAG(day) OVER (PARTITION BY id ORDER BY day) - 1 AS gap
                    FROM marks
                ) gaps
                GROUP BY id
            )
            SELECT (SELECT COUNT(*) FROM enrolled),
                   (SELECT COUNT(*) FROM failed),
                   -- NOT EXISTS, not NOT IN: at 100,000 participants the failed set outgrows
                   -- work_mem and NOT IN rescans it per participant (265 s vs 6 s).
                   (SELECT COUNT(*) FROM enrolled e
                    WHERE NOT EXISTS (SELECT 1 FROM failed f WHERE f.id = e.id)),
                   (SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY longest) FROM runs)
        """  # noqa: S608 (table names from the models; every value is a parameter)
        sql_params = [
            params.start,
            params.end,
            params.end,
            *cohort_params,
            DrugTestResult.Result.NEGATIVE.value,
        ]
        # Raw SQL on the database the ORM would read from (the replica in a report).
        with connections[router.db_for_read(DrugTest)].cursor() as cursor:
            cursor.execute(sql, sql_params)
            enrolled, failed, clean, median = cursor.fetchone()
    columns = [
        _("Participants enrolled"),
        _("Failed tests"),
        _("Failed tests per participant"),
        _("Participants without a failed test"),
        _("Median longest run without a failed test (days)"),
    ]
    row = [enrolled, failed, _ratio(failed, enrolled), clean, _round(median)]
    return _table(sobriety, columns, [row])


@measure(
    "recidivism",
    title=gettext_noop("In-program recidivism"),
    definition=gettext_noop(
        "New arrests dated in the period while the participant was in the program (from entry "
        "to exit), per participant enrolled in the period and per 1,000 participant-days in "
        "the program within the period (every day in the program counts as a day at risk, "
        "custody included)."
    ),
)
def recidivism(params: ReportParams, within: QuerySet | None = None) -> Table:
    enrolled = enrolled_in_period(params, within)
    participants, days = _exposure(params, within)
    arrests = (
        NewArrest.objects.filter(
            participant__in=enrolled,
            arrested_on__range=(params.start, params.end),
            arrested_on__gte=F("participant__entry_date"),
        )
        .filter(
            Q(participant__exit_date__isnull=True) | Q(arrested_on__lte=F("participant__exit_date"))
        )
        .aggregate(
            n=Count("pk"),
            people=Count("participant", distinct=True),
            convicted=Count("pk", filter=Q(convicted=True)),
        )
    )
    n = arrests["n"]
    columns = [
        _("Participants enrolled"),
        _("Participant-days"),
        _("New arrests"),
        _("Participants arrested"),
        _("Convictions recorded"),
        _("Arrests per participant"),
        _("Arrests per 1,000 participant-days"),
    ]
    row = [
        participants,
        days,
        n,
        arrests["people"],
        arrests["convicted"],
        _ratio(n, participants),
        _ratio(n, days, scale=1000),
    ]
    return _table(recidivism, columns, [row])


@measure(
    "units_of_service",
    title=gettext_noop("Units of service"),
    definition=gettext_noop(
        "Services received in the period: treatment sessions attended (on time or late) and "
        "their hours, drug tests collected (missed and refused tests are not a service), and "
        "court appearances (present or remote at a session that was not cancelled); in total "
        "and per participant enrolled in the period."
    ),
)
def units_of_service(params: ReportParams, within: QuerySet | None = None) -> Table:
    episodes = episodes_of(params, within)
    participants, _days = _exposure(params, within)
    sessions = TreatmentSession.objects.filter(
        participant__in=episodes,
        session_date__range=(params.start, params.end),
        attendance__in=[
            TreatmentSession.Attendance.ATTENDED,
            TreatmentSession.Attendance.LATE,
        ],
    ).aggregate(n=Count("pk"), hours=Sum("hours"))
    tests = (
        DrugTest.objects.filter(participant__in=episodes, missed=False, refused=False)
        .filter(_moment_in_period(params, "collected_at", "participant__program"))
        .count()
    )
    appearances = (
        DocketEntry.objects.filter(
            participant__in=episodes, session__cancelled=False, attendance__in=APPEARED
        )
        .filter(_moment_in_period(params, "session__starts_at", "session__program"))
        .count()
    )
    units = [
        (_("Treatment sessions attended"), sessions["n"]),
        (_("Treatment hours"), _round(sessions["hours"] or 0, 2)),
        (_("Drug tests collected"), tests),
        (_("Court appearances"), appearances),
    ]
    rows = [[label, total, _ratio(total, participants)] for label, total in units]
    columns = [_("Service"), _("Total"), _("Per participant enrolled")]
    return _table(units_of_service, columns, rows)


def _tests_in_period(params: ReportParams, within: QuerySet | None) -> QuerySet[DrugTest]:
    return (
        DrugTest.objects.filter(participant__in=episodes_of(params, within))
        .filter(_moment_in_period(params, "collected_at", "participant__program"))
        .order_by()
    )


@measure(
    "testing",
    title=gettext_noop("Drug testing"),
    definition=gettext_noop(
        "Drug tests whose collection (or, for a missed test, due) time falls in the period, "
        "missed and refused tests included; tests per participant-week in the program within "
        "the period; and the median hours from collection to result, over the tests with a "
        "result time."
    ),
)
def testing(params: ReportParams, within: QuerySet | None = None) -> Table:
    _participants_enrolled, days = _exposure(params, within)
    totals = _tests_in_period(params, within).aggregate(
        n=Count("pk"),
        turnaround=Median(
            HoursBetween("resulted_at", "collected_at"), filter=Q(resulted_at__isnull=False)
        ),
    )
    weeks = days / 7
    columns = [
        _("Tests"),
        _("Participant-weeks"),
        _("Tests per participant-week"),
        _("Median hours from collection to result"),
    ]
    row = [totals["n"], _round(weeks), _ratio(totals["n"], weeks), _round(totals["turnaround"])]
    return _table(testing, columns, [row])


@measure(
    "testing_rates",
    title=gettext_noop("Drug-testing rates"),
    definition=gettext_noop(
        "Over the drug tests of the period: random (answering a random selection), on a "
        "weekend or one of the program's holidays, and missed, out of every test; observed, "
        "positive (any substance not negative) and dilute out of the specimens collected (not "
        "missed or refused); failed (positive, missed, refused or adulterated) out of every "
        "test."
    ),
)
def testing_rates(params: ReportParams, within: QuerySet | None = None) -> Table:
    specimen = Q(missed=False, refused=False)
    missed_refused_adulterated = Q(missed=True) | Q(refused=True) | Q(adulterated=True)
    weekend_or_holiday = Q(day__iso_week_day__gte=6) | Q(holiday=True)
    tests = _tests_in_period(params, within).annotate(
        day=LocalDate("collected_at", "participant__program__time_zone"),
        holiday=Exists(
            TestingHoliday.objects.filter(
                program=OuterRef("participant__program"), date=OuterRef("day")
            )
        ),
        off_day=ExpressionWrapper(weekend_or_holiday, output_field=BooleanField()),
    )
    # Grouped by the one flag that takes a lookup (the holiday table is small), so it is worked
    # out once per test; the (at most two) groups are added up here. `random` is set on a test
    # exactly when it is linked to the TestSelection it answers (treatment.services), so no join
    # is needed. Positive results are counted by a second query that filters on them: a
    # semi-join the planner runs in parallel, where a per-test EXISTS in the SELECT list probed
    # the results index once per test (1.6 million probes, 13 s, at 100,000 participants).
    counts: Counter = Counter()
    for group in tests.values("off_day").annotate(
        n_all=Count("pk"),
        n_specimens=Count("pk", filter=specimen),
        n_random=Count("pk", filter=Q(random=True)),
        n_missed=Count("pk", filter=Q(missed=True)),
        n_observed=Count("pk", filter=specimen & Q(observed=True)),
        n_dilute=Count("pk", filter=specimen & Q(dilute=True)),
        n_missed_refused_adulterated=Count("pk", filter=missed_refused_adulterated),
    ):
        off_day = group.pop("off_day")
        counts.update(group)
        counts["n_weekend"] += group["n_all"] if off_day else 0
    positives = (
        _tests_in_period(params, within)
        .filter(_positive_result())
        .aggregate(
            n_positive=Count("pk", filter=specimen),
            n_positive_only=Count("pk", filter=~missed_refused_adulterated),
        )
    )
    counts["n_positive"] = positives["n_positive"]
    # Failed as in DrugTest.counts_as_positive: missed, refused, adulterated, or else positive.
    counts["n_failed"] = counts["n_missed_refused_adulterated"] + positives["n_positive_only"]
    rates = [
        (_("Random"), "random", "all"),
        (_("Weekend or holiday"), "weekend", "all"),
        (_("Missed"), "missed", "all"),
        (_("Observed collection"), "observed", "specimens"),
        (_("Positive"), "positive", "specimens"),
        (_("Dilute"), "dilute", "specimens"),
        (_("Failed (positive, missed, refused or adulterated)"), "failed", "all"),
    ]
    rows = []
    for label, part, whole in rates:
        n, out_of = counts[f"n_{part}"], counts[f"n_{whole}"]
        rows.append([label, n, out_of, _percent(n, out_of)])
    columns = [_("Rate"), _("Tests"), _("Out of"), _("Percent")]
    return _table(testing_rates, columns, rows)


@measure(
    "responses",
    title=gettext_noop("Responses to behaviour"),
    definition=gettext_noop(
        "Incentives, sanctions and service adjustments given in the period (date of the "
        "response); incentives per sanction; mean days from the behaviour to the response; "
        "jail sanctions, their total days and mean days."
    ),
)
def responses(params: ReportParams, within: QuerySet | None = None) -> Table:
    jail = Q(unit=Unit.JAIL_DAYS)
    c = Response.objects.filter(
        participant__in=episodes_of(params, within),
        responded_on__range=(params.start, params.end),
    ).aggregate(
        incentives=Count("pk", filter=Q(kind=ResponseKind.INCENTIVE)),
        sanctions=Count("pk", filter=Q(kind=ResponseKind.SANCTION)),
        services=Count("pk", filter=Q(kind=ResponseKind.SERVICE)),
        delay=Avg(DaysBetween("responded_on", "behavior_on")),
        jail=Count("pk", filter=jail),
        jail_days=Sum("magnitude", filter=jail),
    )
    jail_days = c["jail_days"] or 0
    rows = [
        [_("Incentives"), c["incentives"]],
        [_("Sanctions"), c["sanctions"]],
        [_("Service adjustments"), c["services"]],
        [_("Incentives per sanction"), _ratio(c["incentives"], c["sanctions"])],
        [_("Mean days from behaviour to response"), _round(c["delay"])],
        [_("Jail sanctions"), c["jail"]],
        [_("Jail-sanction days"), int(jail_days)],
        [_("Mean days per jail sanction"), _ratio(jail_days, c["jail"], places=1)],
    ]
    return _table(responses, [_("Measure"), _("Value")], rows)


MEASURES = [
    census_status,
    census_phase,
    admissions_exits,
    admission_rate,
    retention,
    graduation,
    length_of_stay,
    time_to_admission,
    sobriety,
    recidivism,
    units_of_service,
    testing,
    testing_rates,
    responses,
]


def all_tables(params: ReportParams, within: QuerySet | None = None) -> list[Table]:
    """Every measure, in dashboard order."""
    return [fn(params, within) for fn in MEASURES]
