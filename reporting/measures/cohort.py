"""The cohort a measure counts: the period's episodes, who was enrolled in it and their days,
moments in the period, and how figures are rounded."""

from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least, Lower, Trim

from participants.models import (
    IN_PROGRAM_STATUSES,
    Participant,
)
from reporting.measures.sql import DaysBetween
from reporting.params import ReportParams
from tjp import clock
from tjp.clock import program_today
from tjp.models import Program


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


def enrolled_days_sql(
    params: ReportParams, within: QuerySet | None, *, columns: tuple[str, ...] = ()
) -> tuple[str, list]:
    """The participants enrolled in the period as SQL for a WITH clause: each one's id, the
    program's time zone, `columns` of the participant row (alias p), and their first and last
    day in the program within the period (`first_day`, `last_day`). Raises EmptyResultSet when
    nobody can be enrolled (the caller answers zero)."""
    cohort_sql, cohort_params = (
        enrolled_in_period(params, within).values("pk").query.sql_with_params()
    )
    extra = "".join(f"{column}, " for column in columns)
    sql = f"""
        SELECT p.id, {extra}pr.time_zone,
               GREATEST(p.entry_date, %s::date) AS first_day,
               LEAST(COALESCE(p.exit_date, %s::date), %s::date) AS last_day
        FROM {Participant._meta.db_table} p
        JOIN {Program._meta.db_table} pr ON pr.id = p.program_id
        WHERE p.id IN ({cohort_sql})
    """  # noqa: S608 (table names from the models; every value is a parameter)
    return sql, [params.start, params.end, params.end, *cohort_params]


def in_program_at_end(params: ReportParams, within: QuerySet | None) -> QuerySet[Participant]:
    return episodes_of(params, within).filter(
        Q(exit_date__isnull=True) | Q(exit_date__gt=params.end), entry_date__lte=params.end
    )


def participant_days(params: ReportParams):
    start, end = Value(params.start, DateField()), Value(params.end, DateField())
    return DaysBetween(Least(Coalesce("exit_date", end), end), Greatest("entry_date", start)) + 1


def exposure(params: ReportParams, within: QuerySet | None) -> tuple[int, int]:
    """(participants enrolled in the period, their participant-days)."""
    totals = enrolled_in_period(params, within).aggregate(
        n=Count("pk"), days=Sum(participant_days(params), output_field=IntegerField())
    )
    return totals["n"], totals["days"] or 0


def moment_in_period(params: ReportParams, field: str, program_field: str) -> Q:
    """`field` (a timestamp) falls on a day of the period in its program's time zone."""
    during = Q(pk__in=[])
    for program in params.programs:
        zone = clock.zone(program)
        during |= Q(
            **{
                program_field: program.pk,
                f"{field}__gte": datetime.combine(params.start, time(), zone),
                f"{field}__lt": datetime.combine(params.end + timedelta(days=1), time(), zone),
            }
        )
    return during


def ends_today(params: ReportParams) -> bool:
    return all(params.end >= program_today(program) for program in params.programs)


def count_at_end(
    params: ReportParams, within: QuerySet | None, current: str, history, value: str
) -> dict:
    """Participants in the program at the end of the period, counted by `current` (a field of
    theirs) as it stood then: as it is now when the period ends today (changes cannot be
    dated ahead), else the `value` of the last `history` row effective on or before the end."""
    episodes = in_program_at_end(params, within)
    if ends_today(params):
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


def months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def rounded(value, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)


def ratio(part, whole, scale: int = 1, places: int = 2) -> float | None:
    return round(scale * float(part) / whole, places) if whole else None


def percent(part, whole) -> float | None:
    return ratio(part, whole, scale=100, places=1)
