"""Compliance with the practice standards (DOMAIN.md, "Practice standards"), each held to the
program's own setting (tjp.models.Program, tjp.models.Phase), never to a number in code.

Each standard is one function taking `ReportParams` (the programs, and the period in each
program's own days, both ends inclusive) and returning a `Standard`: the setting, the measured
figure, how many of the things counted fall within the standard, an aggregate `Table` (what
exports carry: no names) and the rows **outside** the standard (participant ids, or the staff
and providers named by the caseloads). The definition is written once, in the `@standard(...)`
line above the function: that text is its docstring and, translated, the one on screen.

Everything is counted by the database in a fixed number of queries per program whatever the
number of participants or records: nothing here loops over participants issuing queries.
Hearing frequency and judicial minutes are those of `hearings.compliance`, not recomputed.

`outside_lists` turns the rows outside into what one reader may see: only participants
visible to them (participants.access), and a figure drawn from provider-reported records only
under a live consent covering it (treatment.access), each such showing logged as a disclosure.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    F,
    Func,
    Max,
    Q,
    QuerySet,
)
from django.db.models.functions import Now
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from hearings.compliance import HearingCompliance, hearing_compliance
from hearings.models import Response, ResponseKind, Unit
from participants.access import participants_visible_to
from participants.models import Participant, PhaseChange, StatusChange, program_today
from reporting.measures import (
    DaysBetween,
    Definition,
    HoursBetween,
    Median,
    _in_program_at_end,
    _moment_in_period,
    _percent,
    _ratio,
    _round,
    enrolled_in_period,
)
from reporting.params import ReportParams
from reporting.tables import Table
from tjp import audit
from tjp.models import AuditEvent, Phase, Program, ProgramGroupObjectPermission
from tjp.models import ProgramUserObjectPermission as ProgramUserGrant
from tjp.roles import Role
from treatment.access import GATED, consent_for
from treatment.models import DrugTest, ProviderAssignment, TreatmentSession


# --- what a standard returns -----------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One program's (or one phase's) setting for a standard."""

    label: str  # the program, or "program — phase"
    value: Any
    unit: str  # translated, e.g. "hours"


@dataclass
class OutsideRow:
    """One row outside the standard: a participant's figure, or a staff member's/provider's
    caseload (then `participant_id` is None and `name` says who)."""

    program_id: int
    values: list  # under Standard.outside_columns
    participant_id: int | None = None
    name: str = ""
    # The consent key (treatment.access.GATED) of the provider-reported records the figure
    # was drawn from; None when none of them came from a provider.
    category: str | None = None


@dataclass
class Standard:
    key: str
    title: str  # translated
    definition: str  # translated
    settings: list[Setting]
    figure_label: str  # translated: what the measured figure is
    figure: Any
    within: int  # things counted that are within the standard
    counted: int  # things counted
    table: Table  # aggregate only: what exports carry
    outside_columns: list[str] = field(default_factory=list)
    outside: list[OutsideRow] = field(default_factory=list)
    names_staff: bool = False  # the rows outside name staff or providers, not participants
    enforced: bool = True  # False: reported only (the incentive:sanction ratio)

    @property
    def percent_within(self) -> float | None:
        return _percent(self.within, self.counted)


def standard(key: str, *, title: str, definition: str) -> Callable:
    """Declare a standard: its key, title and definition (which becomes its docstring)."""

    def declare(fn):
        fn.definition = Definition(key, title, definition)
        fn.__doc__ = f"{title}. {definition}"
        return fn

    return declare


def _declared(fn, *, table: tuple, **kwargs) -> Standard:
    """The Standard of `fn`, its table made of `table` (columns, rows[, notes])."""
    d = fn.definition
    return Standard(
        key=d.key,
        title=_(d.title),
        definition=_(d.text),
        table=Table(d.key, _(d.title), _(d.text), *table),
        **kwargs,
    )


# --- SQL building blocks ---------------------------------------------------------------------
class DayEnd(Func):
    """The moment a day ends (midnight after it) in the time zone named by another column."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection, **extra_context):
        day, zone = self.source_expressions
        day_sql, day_params = compiler.compile(day)
        zone_sql, zone_params = compiler.compile(zone)
        sql = f"((({day_sql}) + 1)::timestamp AT TIME ZONE {zone_sql})"
        return sql, [*day_params, *zone_params]


def _program_ids(params: ReportParams) -> list[int]:
    return [p.pk for p in params.programs]


def _settings(params: ReportParams, attribute: str, unit: str) -> list[Setting]:
    return [Setting(p.name, getattr(p, attribute), unit) for p in params.programs]


def _person(first: str | None, last: str | None, email: str | None) -> str:
    return " ".join(n for n in (first, last) if n) or email or "—"


def _local(moment: datetime, program: Program) -> datetime:
    """The wall-clock time in the program's zone (naive: templates show it as it is)."""
    return timezone.localtime(moment, ZoneInfo(program.time_zone)).replace(tzinfo=None)


# Read from the stays of tests_per_week: per phase and (the empty grouping set) in all; and the
# stays below the requirement.
PER_PHASE = """
    SELECT GROUPING(phase_id) = 1, phase_id, COUNT(DISTINCT id), COUNT(*),
           SUM(days)::int, SUM(tests)::int, COUNT(*) FILTER (WHERE meets),
           COUNT(DISTINCT id) FILTER (WHERE NOT meets)
    FROM counted GROUP BY GROUPING SETS ((phase_id), ())
"""
BELOW = """
    SELECT id, phase_id, first_day, last_day, tests, days, required, provider
    FROM counted WHERE NOT meets ORDER BY id, first_day
"""


# --- the standards ---------------------------------------------------------------------------
@standard(
    "tests_per_week",
    title=gettext_noop("Drug tests per week"),
    definition=gettext_noop(
        "For each participant enrolled in the period, their days in the program within it are "
        "split into phase stays by the phase history (each phase change starts a stay that "
        "lasts until the next change). Over each stay in a phase that asks for drug tests, the "
        "tests whose collection (or, for a missed test, due) time falls in it count — "
        "collected, missed and refused alike, since a missed test was still scheduled. A stay "
        "meets the phase's tests per week when its tests reach the requirement pro rata of its "
        "days, rounded down (2 a week over 10 days: 2 tests). Within the standard: "
        "participants all of whose stays meet it; outside: those with a stay below it."
    ),
)
def tests_per_week(params: ReportParams) -> Standard:
    phases = {
        ph.pk: ph
        for ph in Phase.objects.filter(program__in=_program_ids(params)).select_related("program")
    }
    several = len(params.programs) > 1

    def phase_label(ph: Phase) -> str:
        return f"{ph.program.name} — {ph}" if several else str(ph)

    aggregate, outside_rows = [], []
    try:
        cohort_sql, cohort_params = (
            enrolled_in_period(params, None).values("pk").query.sql_with_params()
        )
    except EmptyResultSet:
        pass
    else:
        # Phase stays from the phase history: each change lasts until the next one (the day
        # before it). A participant without any recorded change stays in their current phase.
        stays = f"""
            WITH enrolled AS (
                SELECT p.id, p.phase_id, pr.time_zone,
                       GREATEST(p.entry_date, %s::date) AS first_day,
                       LEAST(COALESCE(p.exit_date, %s::date), %s::date) AS last_day
                FROM {Participant._meta.db_table} p
                JOIN {Program._meta.db_table} pr ON pr.id = p.program_id
                WHERE p.id IN ({cohort_sql})
            ),
            history AS (
                SELECT c.participant_id AS id, c.to_phase_id AS phase_id, c.effective_on AS since,
                       LEAD(c.effective_on) OVER (
                           PARTITION BY c.participant_id
                           ORDER BY c.effective_on, c.created_at, c.id
                       ) AS until
                FROM {PhaseChange._meta.db_table} c
                WHERE c.participant_id IN (SELECT id FROM enrolled)
                UNION ALL
                SELECT e.id, e.phase_id, NULL, NULL FROM enrolled e
                WHERE e.phase_id IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM {PhaseChange._meta.db_table} c WHERE c.participant_id = e.id
                )
            ),
            stays AS (
                SELECT e.id, e.time_zone, h.phase_id, ph.tests_per_week AS required,
                       GREATEST(e.first_day, COALESCE(h.since, e.first_day)) AS first_day,
                       LEAST(e.last_day, COALESCE(h.until - 1, e.last_day)) AS last_day
                FROM enrolled e
                JOIN history h ON h.id = e.id
                JOIN {Phase._meta.db_table} ph ON ph.id = h.phase_id
                WHERE ph.tests_per_week > 0
            ),
            counted AS (
                SELECT s.id, s.phase_id, s.required, s.first_day, s.last_day,
                       s.last_day - s.first_day + 1 AS days,
                       COUNT(t.id) AS tests,
                       COALESCE(BOOL_OR(t.provider_id IS NOT NULL), FALSE) AS provider,
                       COUNT(t.id) >= FLOOR(s.required * (s.last_day - s.first_day + 1) / 7.0)
                           AS meets
                FROM stays s
                LEFT JOIN {DrugTest._meta.db_table} t ON t.participant_id = s.id
                    AND t.collected_at >= (s.first_day::timestamp AT TIME ZONE s.time_zone)
                    AND t.collected_at < ((s.last_day + 1)::timestamp AT TIME ZONE s.time_zone)
                WHERE s.first_day <= s.last_day
                GROUP BY s.id, s.phase_id, s.required, s.first_day, s.last_day
            )
        """  # noqa: S608 (table names from the models; every value is a parameter)
        sql_params = [params.start, params.end, params.end, *cohort_params]
        with connection.cursor() as cursor:
            cursor.execute(
                stays + PER_PHASE,
                sql_params,
            )
            aggregate = cursor.fetchall()
            cursor.execute(
                stays + BELOW,
                sql_params,
            )
            outside_rows = cursor.fetchall()

    by_phase = {row[1]: row for row in aggregate if not row[0]}
    total = next((row for row in aggregate if row[0]), None)
    rows = []
    for ph in sorted(phases.values(), key=lambda ph: (ph.program.name, ph.number)):
        if ph.tests_per_week == 0:
            continue
        _t, _p, people, stays_n, days, tests, meeting, _below = by_phase.get(
            ph.pk, (True, ph.pk, 0, 0, 0, 0, 0, 0)
        )
        weeks = (days or 0) / 7
        rows.append(
            [
                phase_label(ph),
                ph.tests_per_week,
                people,
                _round(weeks),
                tests or 0,
                _ratio(tests or 0, weeks),
                _percent(meeting, stays_n),
            ]
        )
    people, stays_n, days, tests, meeting, below = (total or (0,) * 8)[2:]
    weeks = (days or 0) / 7
    rows.append(
        [
            _("All phases"),
            None,
            people,
            _round(weeks),
            tests or 0,
            _ratio(tests or 0, weeks),
            _percent(meeting, stays_n),
        ]
    )
    columns = [
        _("Phase"),
        _("Required tests a week"),
        _("Participants"),
        _("Participant-weeks"),
        _("Tests"),
        _("Tests a week"),
        _("Phase stays meeting it (%)"),
    ]
    outside = [
        OutsideRow(
            program_id=phases[phase_id].program_id,
            participant_id=pid,
            values=[
                phase_label(phases[phase_id]),
                first,
                last,
                n,
                _ratio(n, d / 7, places=1),
                required,
            ],
            category="drug_tests" if provider else None,
        )
        for pid, phase_id, first, last, n, d, required, provider in outside_rows
    ]
    return _declared(
        tests_per_week,
        settings=[
            Setting(phase_label(ph), ph.tests_per_week, _("tests a week"))
            for ph in sorted(phases.values(), key=lambda ph: (ph.program.name, ph.number))
        ],
        figure_label=_("Tests per participant-week"),
        figure=_ratio(tests or 0, weeks),
        within=(people or 0) - (below or 0),
        counted=people or 0,
        table=(columns, rows),
        outside_columns=[
            _("Phase"),
            pgettext("start of a period", "From"),
            pgettext("end of a period", "To"),
            _("Tests"),
            _("Tests a week"),
            _("Required a week"),
        ],
        outside=outside,
    )


@standard(
    "result_turnaround",
    title=gettext_noop("Drug-test result turnaround"),
    definition=gettext_noop(
        "Specimens collected in the period (missed and refused tests have none): on time when "
        "the result time recorded falls within the program's hours from collection to result; "
        "late when it falls later, or none is recorded although those hours have passed. "
        "Specimens still within their hours without a result time are pending and not "
        "counted. Outside: participants with a late result."
    ),
)
def result_turnaround(params: ReportParams) -> Standard:
    limit = F("participant__program__result_turnaround_hours")
    specimens = (
        DrugTest.objects.filter(
            participant__program__in=_program_ids(params), missed=False, refused=False
        )
        .filter(_moment_in_period(params, "collected_at", "participant__program"))
        .annotate(
            took=HoursBetween("resulted_at", "collected_at"),
            waited=HoursBetween(Now(), "collected_at"),
        )
        .order_by()
    )
    resulted = Q(resulted_at__isnull=False)
    on_time = resulted & Q(took__lte=limit)
    never = Q(resulted_at__isnull=True, waited__gt=limit)
    late = (resulted & Q(took__gt=limit)) | never
    pending = Q(resulted_at__isnull=True, waited__lte=limit)
    by_program = {
        r["participant__program"]: r
        for r in specimens.values("participant__program").annotate(
            on_time=Count("pk", filter=on_time),
            late=Count("pk", filter=late),
            never=Count("pk", filter=never),
            pending=Count("pk", filter=pending),
            median=Median("took", filter=resulted),
        )
    }
    rows, totals = [], defaultdict(int)
    for program in params.programs:
        r = by_program.get(program.pk, {"on_time": 0, "late": 0, "never": 0, "pending": 0})
        for k in ("on_time", "late", "never", "pending"):
            totals[k] += r[k]
        rows.append(
            [
                program.name,
                program.result_turnaround_hours,
                r["on_time"] + r["late"],
                r["on_time"],
                r["late"],
                r["never"],
                _percent(r["on_time"], r["on_time"] + r["late"]),
                _round(r.get("median")),
                r["pending"],
            ]
        )
    columns = [
        _("Program"),
        _("Hours allowed"),
        _("Results due"),
        _("On time"),
        pgettext("after the standard's hours", "Late"),
        _("Of which no result yet"),
        _("On time (%)"),
        _("Median hours to result"),
        _("Pending"),
    ]
    late_by = (
        specimens.values("participant", "participant__program")
        .annotate(
            late=Count("pk", filter=late),
            never=Count("pk", filter=never),
            from_provider=Count("pk", filter=late & Q(provider__isnull=False)),
        )
        .filter(late__gt=0)
        .order_by("participant")
    )
    outside = [
        OutsideRow(
            program_id=r["participant__program"],
            participant_id=r["participant"],
            values=[r["late"], r["never"]],
            category="drug_tests" if r["from_provider"] else None,
        )
        for r in late_by
    ]
    counted = totals["on_time"] + totals["late"]
    return _declared(
        result_turnaround,
        settings=_settings(params, "result_turnaround_hours", _("hours")),
        figure_label=_("Results late"),
        figure=totals["late"],
        within=totals["on_time"],
        counted=counted,
        table=(columns, rows),
        outside_columns=[_("Late results"), _("Of which no result yet")],
        outside=outside,
    )


@dataclass(frozen=True)
class _Entered:
    """One kind of record whose entry is held to the data-entry hours."""

    label: str  # English; translated when shown
    queryset: Callable[[ReportParams], QuerySet]
    event: Callable[[], Any]  # the event's moment, as an expression
    shown: str  # the field shown as the event: a day, or a moment
    category: str | None  # consent key when a provider reported it; None: never a provider's


def _dated(field_name: str) -> Callable[[], Any]:
    return lambda: DayEnd(field_name, "participant__program__time_zone")


def _in_programs(model, params: ReportParams) -> QuerySet:
    return model.objects.filter(participant__program__in=_program_ids(params)).order_by()


ENTERED = [
    _Entered(
        gettext_noop("Drug tests"),
        lambda params: _in_programs(DrugTest, params).filter(
            _moment_in_period(params, "collected_at", "participant__program")
        ),
        lambda: F("collected_at"),
        "collected_at",
        "drug_tests",
    ),
    _Entered(
        gettext_noop("Treatment sessions"),
        lambda params: _in_programs(TreatmentSession, params).filter(
            session_date__range=(params.start, params.end)
        ),
        _dated("session_date"),
        "session_date",
        "attendance",
    ),
    _Entered(
        gettext_noop("Court responses"),
        lambda params: _in_programs(Response, params).filter(
            responded_on__range=(params.start, params.end)
        ),
        _dated("responded_on"),
        "responded_on",
        None,
    ),
    _Entered(
        gettext_noop("Status changes"),
        lambda params: _in_programs(StatusChange, params).filter(
            effective_on__range=(params.start, params.end)
        ),
        _dated("effective_on"),
        "effective_on",
        None,
    ),
]


@standard(
    "data_entry",
    title=gettext_noop("Data-entry timeliness"),
    definition=gettext_noop(
        "Records of events in the period entered within the program's hours after the event: "
        "drug tests (from collection, or the due time of a missed test), treatment sessions, "
        "court responses and status changes (from the end of the session, response or "
        "effective day, in the program's time zone). Entered means saved in this system. "
        "Docket attendance is not counted: the system does not record when attendance was "
        "entered. Outside: each record entered late."
    ),
)
def data_entry(params: ReportParams) -> Standard:
    programs = {p.pk: p for p in params.programs}
    limit = F("participant__program__data_entry_hours")
    rows, outside = [], []
    all_records = all_late = 0
    for kind in ENTERED:
        records = kind.queryset(params).annotate(
            entry_delay=HoursBetween("created_at", kind.event())
        )
        is_late = Q(entry_delay__gt=limit)
        counts = records.aggregate(n=Count("pk"), late=Count("pk", filter=is_late))
        all_records, all_late = all_records + counts["n"], all_late + counts["late"]
        rows.append(
            [
                _(kind.label),
                counts["n"],
                counts["n"] - counts["late"],
                counts["late"],
                _percent(counts["n"] - counts["late"], counts["n"]),
            ]
        )
        provider = ["provider_id"] if kind.category else []
        for r in (
            records.filter(is_late)
            .values(
                "participant_id",
                "participant__program",
                kind.shown,
                "created_at",
                "entry_delay",
                "created_by__first_name",
                "created_by__last_name",
                "created_by__email",
                *provider,
            )
            .order_by("participant_id", kind.shown)
        ):
            program = programs[r["participant__program"]]
            event = r[kind.shown]
            outside.append(
                OutsideRow(
                    program_id=program.pk,
                    participant_id=r["participant_id"],
                    values=[
                        _(kind.label),
                        _local(event, program) if isinstance(event, datetime) else event,
                        _local(r["created_at"], program),
                        _person(
                            r["created_by__first_name"],
                            r["created_by__last_name"],
                            r["created_by__email"],
                        ),
                        _round(r["entry_delay"]),
                    ],
                    category=kind.category if r.get("provider_id") else None,
                )
            )
    rows.append([_("All records"), all_records, all_records - all_late, all_late, None])
    rows[-1][-1] = _percent(all_records - all_late, all_records)
    columns = [
        _("Records"),
        _("Entered"),
        _("On time"),
        pgettext("after the standard's hours", "Late"),
        _("On time (%)"),
    ]
    return _declared(
        data_entry,
        settings=_settings(params, "data_entry_hours", _("hours")),
        figure_label=_("Records entered late"),
        figure=all_late,
        within=all_records - all_late,
        counted=all_records,
        table=(columns, rows),
        outside_columns=[
            _("Record"),
            _("Event"),
            _("Entered at"),
            _("Entered by"),
            _("Hours after the event"),
        ],
        outside=outside,
    )


def _responses(params: ReportParams) -> QuerySet[Response]:
    return _in_programs(Response, params).filter(responded_on__range=(params.start, params.end))


@standard(
    "incentive_sanction_ratio",
    title=gettext_noop("Incentives per sanction"),
    definition=gettext_noop(
        "Incentives and sanctions given in the period (date of the response), and incentives "
        "per sanction, against the program's target. The target is reported, not enforced: "
        "no response is refused because of it. Within: participants given at least as many "
        "incentives as sanctions; outside: those given more sanctions than incentives."
    ),
)
def incentive_sanction_ratio(params: ReportParams) -> Standard:
    incentive, sanction = Q(kind=ResponseKind.INCENTIVE), Q(kind=ResponseKind.SANCTION)
    responses = _responses(params).filter(incentive | sanction)
    by_program = {
        r["participant__program"]: r
        for r in responses.values("participant__program").annotate(
            incentives=Count("pk", filter=incentive),
            sanctions=Count("pk", filter=sanction),
            people=Count("participant", distinct=True),
        )
    }
    rows = []
    incentives = sanctions = people = 0
    for program in params.programs:
        r = by_program.get(program.pk, {"incentives": 0, "sanctions": 0, "people": 0})
        incentives, sanctions = incentives + r["incentives"], sanctions + r["sanctions"]
        people += r["people"]
        rows.append(
            [
                program.name,
                float(program.incentive_sanction_ratio_target),
                r["incentives"],
                r["sanctions"],
                _ratio(r["incentives"], r["sanctions"]),
            ]
        )
    more_sanctions = (
        responses.values("participant", "participant__program")
        .annotate(incentives=Count("pk", filter=incentive), sanctions=Count("pk", filter=sanction))
        .filter(sanctions__gt=F("incentives"))
        .order_by("participant")
    )
    outside = [
        OutsideRow(
            program_id=r["participant__program"],
            participant_id=r["participant"],
            values=[r["incentives"], r["sanctions"]],
        )
        for r in more_sanctions
    ]
    columns = [
        _("Program"),
        _("Target (incentives per sanction)"),
        _("Incentives"),
        _("Sanctions"),
        _("Incentives per sanction"),
    ]
    return _declared(
        incentive_sanction_ratio,
        settings=_settings(params, "incentive_sanction_ratio_target", _("incentives per sanction")),
        figure_label=_("Incentives per sanction"),
        figure=_ratio(incentives, sanctions),
        within=people - len(outside),
        counted=people,
        table=(columns, rows),
        outside_columns=[_("Incentives"), _("Sanctions")],
        outside=outside,
        enforced=False,
    )


@standard(
    "jail_sanctions",
    title=gettext_noop("Length of jail sanctions"),
    definition=gettext_noop(
        "Jail sanctions (responses given in days in jail) in the period, against the "
        "program's longest jail sanction. Outside: participants given a jail sanction longer "
        "than it."
    ),
)
def jail_sanctions(params: ReportParams) -> Standard:
    jail = _responses(params).filter(unit=Unit.JAIL_DAYS)
    over = Q(magnitude__gt=F("participant__program__max_jail_sanction_days"))
    by_program = {
        r["participant__program"]: r
        for r in jail.values("participant__program").annotate(
            n=Count("pk"), over=Count("pk", filter=over), longest=Max("magnitude")
        )
    }
    rows = []
    counted = over_n = 0
    longest = None
    for program in params.programs:
        r = by_program.get(program.pk, {"n": 0, "over": 0, "longest": None})
        counted, over_n = counted + r["n"], over_n + r["over"]
        if r["longest"] is not None:
            longest = max(longest or 0, r["longest"])
        rows.append(
            [
                program.name,
                program.max_jail_sanction_days,
                r["n"],
                r["over"],
                _round(r["longest"]),
            ]
        )
    columns = [
        _("Program"),
        _("Longest allowed (days)"),
        _("Jail sanctions"),
        _("Longer than allowed"),
        _("Longest given (days)"),
    ]
    outside = [
        OutsideRow(
            program_id=r["participant__program"],
            participant_id=r["participant"],
            values=[
                r["over"],
                _round(r["longest"]),
                r["participant__program__max_jail_sanction_days"],
            ],
        )
        for r in jail.filter(over)
        .values(
            "participant", "participant__program", "participant__program__max_jail_sanction_days"
        )
        .annotate(over=Count("pk"), longest=Max("magnitude"))
        .order_by("participant")
    ]
    return _declared(
        jail_sanctions,
        settings=_settings(params, "max_jail_sanction_days", _("days")),
        figure_label=_("Longest jail sanction (days)"),
        figure=_round(longest),
        within=counted - over_n,
        counted=counted,
        table=(columns, rows),
        outside_columns=[_("Jail sanctions too long"), _("Longest (days)"), _("Allowed (days)")],
        outside=outside,
    )


@standard(
    "arrest_to_entry",
    title=gettext_noop("Time from arrest to program entry"),
    definition=gettext_noop(
        "Episodes admitted in the period (program entry date in it) whose arrest date is "
        "recorded: days from the arrest to program entry, against the program's days. "
        "Outside: admissions that took longer."
    ),
)
def arrest_to_entry(params: ReportParams) -> Standard:
    admitted = Participant.objects.filter(
        program__in=_program_ids(params),
        entry_date__range=(params.start, params.end),
        arrest_date__isnull=False,
    ).annotate(days=DaysBetween("entry_date", "arrest_date"))
    late = Q(days__gt=F("program__arrest_to_entry_days"))
    by_program = {
        r["program"]: r
        for r in admitted.order_by()
        .values("program")
        .annotate(n=Count("pk"), late=Count("pk", filter=late), median=Median("days"))
    }
    rows = []
    counted = late_n = 0
    for program in params.programs:
        r = by_program.get(program.pk, {"n": 0, "late": 0, "median": None})
        counted, late_n = counted + r["n"], late_n + r["late"]
        rows.append(
            [
                program.name,
                program.arrest_to_entry_days,
                r["n"],
                r["late"],
                _percent(r["n"] - r["late"], r["n"]),
                _round(r["median"]),
            ]
        )
    columns = [
        _("Program"),
        _("Days allowed"),
        _("Admissions"),
        _("Took longer"),
        _("Within (%)"),
        _("Median days"),
    ]
    outside = [
        OutsideRow(
            program_id=r["program"],
            participant_id=r["pk"],
            values=[r["arrest_date"], r["entry_date"], r["days"]],
        )
        for r in admitted.filter(late)
        .values("pk", "program", "arrest_date", "entry_date", "days")
        .order_by("entry_date", "pk")
    ]
    return _declared(
        arrest_to_entry,
        settings=_settings(params, "arrest_to_entry_days", _("days")),
        figure_label=_("Admissions that took longer"),
        figure=late_n,
        within=counted - late_n,
        counted=counted,
        table=(columns, rows),
        outside_columns=[_("Arrest"), _("Program entry"), _("Days")],
        outside=outside,
    )


def _coordinators(params: ReportParams) -> dict[int, dict[int, str]]:
    """{program id: {user id: name}}: active users of the coordinator role who work in the
    program (a staff grant to them or to one of their groups, as tjp.access reads it)."""
    ids = _program_ids(params)
    found: dict[int, dict[int, str]] = defaultdict(dict)
    direct = ProgramUserGrant.objects.filter(
        content_object__in=ids,
        permission__codename="view_program",
        permission__content_type__app_label="tjp",
        user__is_active=True,
        user__groups__name=Role.COORDINATOR.value,
    ).values_list(
        "content_object_id", "user_id", "user__first_name", "user__last_name", "user__email"
    )
    via_group = ProgramGroupObjectPermission.objects.filter(
        content_object__in=ids,
        permission__codename="view_program",
        permission__content_type__app_label="tjp",
        group__user__is_active=True,
        group__user__groups__name=Role.COORDINATOR.value,
    ).values_list(
        "content_object_id",
        "group__user__id",
        "group__user__first_name",
        "group__user__last_name",
        "group__user__email",
    )
    for rows in (direct, via_group):
        for program_id, user_id, first, last, email in rows:
            found[program_id][user_id] = _person(first, last, email)
    return found


@standard(
    "caseloads",
    title=gettext_noop("Caseloads"),
    definition=gettext_noop(
        "Participants in the program at the end of the period (entered on or before it, not "
        "exited by then), counted within each program: per judge (the participant's assigned "
        "judge); per clinician of each treatment provider (participants with an assignment to "
        "the provider open at the end of the period, divided by the clinicians of the "
        "provider); per case manager (the participants divided by the program's "
        "coordinators). Each against the program's maximum. Outside: the judges, providers "
        "and coordinators over it."
    ),
)
def caseloads(params: ReportParams) -> Standard:
    programs = {p.pk: p for p in params.programs}
    active = _in_program_at_end(params, None)
    end = params.end
    judges = (
        active.values("program", "judge", "judge__first_name", "judge__last_name", "judge__email")
        .annotate(n=Count("pk"))
        .order_by("program", "judge__last_name", "judge__first_name")
    )
    providers = (
        ProviderAssignment.objects.filter(participant__in=active, assigned_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=end))
        .values("participant__program", "provider", "provider__name")
        .annotate(
            n=Count("participant", distinct=True),
            staff=Count(
                "provider__group__user",
                distinct=True,
                filter=Q(provider__group__user__is_active=True),
            ),
        )
        .order_by("participant__program", "provider__name")
    )
    per_program = dict(active.values("program").annotate(n=Count("pk")).values_list("program", "n"))
    coordinators = _coordinators(params)

    rows, outside = [], []
    unassigned = 0

    def add(kind: str, name: str, program: Program, n: int, staff: int, maximum: int, who):
        per_person = _ratio(n, staff, places=1) if staff else None
        over = staff == 0 or n > maximum * staff
        rows.append([kind, name, program.name, n, staff, per_person, maximum])
        if over:
            for person in who:
                outside.append(
                    OutsideRow(
                        program_id=program.pk,
                        name=person,
                        values=[kind, n, staff, per_person, maximum],
                    )
                )
        return over

    overs = 0
    for r in judges:
        program = programs[r["program"]]
        if r["judge"] is None:
            unassigned += r["n"]
            continue
        name = _person(r["judge__first_name"], r["judge__last_name"], r["judge__email"])
        overs += add(_("Judge"), name, program, r["n"], 1, program.judge_caseload_max, [name])
    for r in providers:
        program = programs[r["participant__program"]]
        name = r["provider__name"]
        overs += add(
            _("Clinicians of a provider"),
            name,
            program,
            r["n"],
            r["staff"],
            program.clinician_caseload_max,
            [name],
        )
    for program in params.programs:
        n = per_program.get(program.pk, 0)
        if not n:
            continue
        names = sorted(coordinators.get(program.pk, {}).values())
        overs += add(
            _("Case managers (coordinators)"),
            ", ".join(names) or "—",
            program,
            n,
            len(names),
            program.case_manager_caseload_max,
            names or [_("No coordinator")],
        )
    notes = []
    if unassigned:
        notes.append(_("Participants without an assigned judge: %(n)s") % {"n": unassigned})
    columns = [
        _("Caseload"),
        _("Who"),
        _("Program"),
        _("Participants"),
        _("People"),
        _("Participants per person"),
        _("Maximum per person"),
    ]
    settings = []
    for program in params.programs:
        settings += [
            Setting(
                f"{program.name} — {_('judge')}", program.judge_caseload_max, _("participants")
            ),
            Setting(
                f"{program.name} — {_('clinician')}",
                program.clinician_caseload_max,
                _("participants"),
            ),
            Setting(
                f"{program.name} — {_('case manager')}",
                program.case_manager_caseload_max,
                _("participants"),
            ),
        ]
    return _declared(
        caseloads,
        settings=settings,
        figure_label=_("Caseloads over the maximum"),
        figure=overs,
        within=len(rows) - overs,
        counted=len(rows),
        table=(columns, rows, notes),
        outside_columns=[
            _("Caseload"),
            _("Participants"),
            _("People"),
            _("Participants per person"),
            _("Maximum per person"),
        ],
        outside=outside,
        names_staff=True,
    )


def hearing_reports(params: ReportParams) -> list[HearingCompliance]:
    """hearings.compliance's report of each program over the period (four queries each)."""
    return [
        hearing_compliance(p, start=params.start, end=params.end, today=program_today(p))
        for p in params.programs
    ]


@standard(
    "hearing_frequency",
    title=gettext_noop("Hearing frequency by phase"),
    definition=gettext_noop(
        "As on the hearing compliance page: each hearing a participant attended in the period "
        "ends an interval from their previous appearance (or program entry), held to the "
        "days between hearings of the phase recorded on the hearing. Overdue now: "
        "participants whose next hearing is past due today. The participants overdue are "
        "listed on the hearing compliance page."
    ),
)
def hearing_frequency(
    params: ReportParams, reports: list[HearingCompliance] | None = None
) -> Standard:
    reports = hearing_reports(params) if reports is None else reports
    rows, settings = [], []
    within = counted = 0
    intervals: list[int] = []
    for report in reports:
        for r in report.phases:
            label = str(r.phase) if r.phase is not None else _("Phase not recorded")
            if r.phase is not None:
                settings.append(
                    Setting(f"{report.program.name} — {label}", r.target_days, _("days"))
                )
            rows.append(
                [
                    report.program.name,
                    label,
                    r.target_days,
                    r.participants_heard,
                    r.hearings,
                    len(r.intervals),
                    _round(r.percent_within),
                    _round(r.mean_interval),
                    r.overdue,
                ]
            )
        within += report.total.within
        counted += len(report.total.intervals)
        intervals += report.total.intervals
    columns = [
        _("Program"),
        _("Phase"),
        _("Days between hearings"),
        _("Participants heard"),
        _("Hearings attended"),
        _("Intervals"),
        _("Within (%)"),
        _("Mean days between hearings"),
        _("Overdue now"),
    ]
    return _declared(
        hearing_frequency,
        settings=settings,
        figure_label=_("Mean days between hearings"),
        figure=_round(sum(intervals) / len(intervals)) if intervals else None,
        within=within,
        counted=counted,
        table=(columns, rows),
    )


@standard(
    "judicial_minutes",
    title=gettext_noop("Judicial minutes per participant"),
    definition=gettext_noop(
        "As on the hearing compliance page: over the hearings attended in the period whose "
        "minutes with the judge were recorded, the mean minutes per participant per hearing, "
        "and the hearings that reached the program's target."
    ),
)
def judicial_minutes(
    params: ReportParams, reports: list[HearingCompliance] | None = None
) -> Standard:
    reports = hearing_reports(params) if reports is None else reports
    rows, minutes = [], []
    meeting = 0
    for report in reports:
        m = report.minutes
        meeting += m.meeting
        minutes += m.minutes
        rows.append(
            [report.program.name, m.target, m.hearings, _round(m.mean), _round(m.percent_meeting)]
        )
    columns = [
        _("Program"),
        _("Target minutes"),
        _("Hearings with minutes recorded"),
        _("Mean minutes"),
        _("Reaching the target (%)"),
    ]
    return _declared(
        judicial_minutes,
        settings=_settings(params, "judicial_minutes_target", _("minutes")),
        figure_label=_("Mean minutes per participant per hearing"),
        figure=_round(sum(minutes) / len(minutes)) if minutes else None,
        within=meeting,
        counted=len(minutes),
        table=(columns, rows),
    )


STANDARDS = [
    hearing_frequency,
    judicial_minutes,
    tests_per_week,
    result_turnaround,
    data_entry,
    incentive_sanction_ratio,
    jail_sanctions,
    arrest_to_entry,
    caseloads,
]


def all_standards(params: ReportParams) -> list[Standard]:
    """Every standard, in page order (the hearing reports computed once for both of theirs)."""
    reports = hearing_reports(params)
    return [
        fn(params, reports) if fn in (hearing_frequency, judicial_minutes) else fn(params)
        for fn in STANDARDS
    ]


def standards_tables(params: ReportParams) -> list[Table]:
    """The aggregate table of every standard (no names: what exports carry)."""
    return [s.table for s in all_standards(params)]


# --- who may see which rows outside ----------------------------------------------------------
@dataclass
class ShownRow:
    program: Program
    values: list
    participant: Participant | None = None  # None: a staff member or provider
    name: str = ""


@dataclass
class OutsideList:
    rows: list[ShownRow]
    not_visible: int = 0  # participants outside the reader may not see
    withheld: int = 0  # participants whose figure needs a consent the reader lacks


def outside_lists(
    user,
    params: ReportParams,
    standards: list[Standard],
    *,
    request: HttpRequest | None = None,
) -> tuple[dict[str, OutsideList], bool]:
    """What of each standard's rows outside `user` may see ({key: OutsideList}), and whether
    any row was shown under a consent (the redisclosure notice then goes with the page).

    Participants only as participants.access lets the user see them. A row whose figure was
    drawn from provider-reported records only under a live consent covering that category
    (treatment.access.consent_for; consents prefetched, no query per row); every such row
    shown is logged as a disclosure under its consent, one audit row per participant and
    consent. Three queries whatever the number of rows (participants, consents, audit)."""
    programs = {p.pk: p for p in params.programs}
    ids = {r.participant_id for s in standards for r in s.outside if r.participant_id}
    visible = {}
    if ids:
        visible = {
            p.pk: p
            for p in participants_visible_to(user)
            .filter(pk__in=ids)
            .select_related("person", "program")
            .prefetch_related("consents")
        }
    consents: dict[tuple[int, str], Any] = {}
    disclosed: dict[tuple[int, Any], dict] = {}
    lists = {}
    for s in standards:
        shown, hidden, withheld = [], set(), set()
        for row in s.outside:
            if row.participant_id is None:
                program = programs.get(row.program_id)
                shown.append(ShownRow(program=program, values=row.values, name=row.name))
                continue
            p = visible.get(row.participant_id)
            if p is None:
                hidden.add(row.participant_id)
                continue
            if row.category is not None:
                key = (p.pk, row.category)
                if key not in consents:
                    consents[key] = consent_for(user, p, GATED[row.category])
                consent = consents[key]
                if consent is None:
                    withheld.add(p.pk)
                    continue
                entry = disclosed.setdefault((p.pk, consent), {"categories": [], "keys": []})
                category = str(GATED[row.category])
                if category not in entry["categories"]:
                    entry["categories"].append(category)
                if s.key not in entry["keys"]:
                    entry["keys"].append(s.key)
            shown.append(ShownRow(program=p.program, values=row.values, participant=p))
        if not s.names_staff:
            shown.sort(
                key=lambda r: (r.participant.person.last_name, r.participant.person.first_name)
            )
        lists[s.key] = OutsideList(rows=shown, not_visible=len(hidden), withheld=len(withheld))
    if disclosed:
        audit.record_many(
            actor=user,
            action=AuditEvent.Action.DISCLOSE,
            rows=[
                {
                    "obj": visible[pk],
                    "program": visible[pk].program,
                    "participant_uuid": visible[pk].uuid,
                    "consent_uuid": consent.uuid,
                    "detail": {
                        "categories": entry["categories"],
                        "export": False,
                        "standards": entry["keys"],
                    },
                }
                for (pk, consent), entry in disclosed.items()
            ],
            request=request,
        )
    return lists, bool(disclosed)
