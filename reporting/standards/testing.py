"""Drug testing: tests per week in each phase stay, and result turnaround."""

from collections import defaultdict

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Now
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from participants.models import PhaseChange
from reporting.measures import (
    HoursBetween,
    Median,
    enrolled_days_sql,
    moment_in_period,
    percent,
    ratio,
    rounded,
)
from reporting.params import ReportParams
from reporting.standards.declare import (
    OUTSIDE_LIMIT,
    OutsideRow,
    Setting,
    Standard,
    _declared,
    _limited,
    _program_ids,
    _settings,
    standard,
)
from tjp.models import Phase
from treatment.models import DrugTest

# Read from the stays of tests_per_week: per phase and (the empty grouping set) in all; and the
# stays below the requirement, at most LIMIT of them (NULL: all), the largest shortfall (tests
# short of the pro-rata requirement) first, then by participant and the stay's first day.
PER_PHASE = """
    SELECT GROUPING(phase_id) = 1, phase_id, COUNT(DISTINCT id), COUNT(*),
           SUM(days)::int, SUM(tests)::int, COUNT(*) FILTER (WHERE meets),
           COUNT(DISTINCT id) FILTER (WHERE NOT meets), COUNT(*) FILTER (WHERE NOT meets)
    FROM counted GROUP BY GROUPING SETS ((phase_id), ())
"""
BELOW = """
    SELECT id, phase_id, first_day, last_day, tests, days, required, provider
    FROM counted WHERE NOT meets
    ORDER BY FLOOR(required * days / 7.0) - tests DESC, id, first_day
    LIMIT %s
"""


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
def tests_per_week(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> Standard:
    phases = {
        ph.pk: ph
        for ph in Phase.objects.filter(program__in=_program_ids(params)).select_related("program")
    }
    several = len(params.programs) > 1

    def phase_label(ph: Phase) -> str:
        return f"{ph.program.name} — {ph}" if several else str(ph)

    aggregate, outside_rows = [], []
    try:
        enrolled_sql, enrolled_params = enrolled_days_sql(params, None, columns=("p.phase_id",))
    except EmptyResultSet:
        pass
    else:
        # Phase stays from the phase history: each change lasts until the next one (the day
        # before it). A participant without any recorded change stays in their current phase.
        stays = f"""
            WITH enrolled AS ({enrolled_sql}),
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
        sql_params = enrolled_params
        # Raw SQL on the database the ORM would read from (the replica in a report).
        with connections[router.db_for_read(DrugTest)].cursor() as cursor:
            cursor.execute(
                stays + PER_PHASE,
                sql_params,
            )
            aggregate = cursor.fetchall()
            if limit != 0:
                cursor.execute(stays + BELOW, [*sql_params, limit])
                outside_rows = cursor.fetchall()

    by_phase = {row[1]: row for row in aggregate if not row[0]}
    total = next((row for row in aggregate if row[0]), None)
    rows = []
    for ph in sorted(phases.values(), key=lambda ph: (ph.program.name, ph.number)):
        if ph.tests_per_week == 0:
            continue
        _t, _p, people, stays_n, days, tests, meeting, _below, _stays_below = by_phase.get(
            ph.pk, (True, ph.pk, 0, 0, 0, 0, 0, 0, 0)
        )
        weeks = (days or 0) / 7
        rows.append(
            [
                phase_label(ph),
                ph.tests_per_week,
                people,
                rounded(weeks),
                tests or 0,
                ratio(tests or 0, weeks),
                percent(meeting, stays_n),
            ]
        )
    people, stays_n, days, tests, meeting, below, stays_below = (total or (0,) * 9)[2:]
    weeks = (days or 0) / 7
    rows.append(
        [
            _("All phases"),
            None,
            people,
            rounded(weeks),
            tests or 0,
            ratio(tests or 0, weeks),
            percent(meeting, stays_n),
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
                ratio(n, d / 7, places=1),
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
        figure=ratio(tests or 0, weeks),
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
        outside_total=stays_below or 0,  # a row per stay below the requirement
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
def result_turnaround(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> Standard:
    hours = F("participant__program__result_turnaround_hours")
    specimens = (
        DrugTest.objects.filter(
            participant__program__in=_program_ids(params), missed=False, refused=False
        )
        .filter(moment_in_period(params, "collected_at", "participant__program"))
        .annotate(
            took=HoursBetween("resulted_at", "collected_at"),
            waited=HoursBetween(Now(), "collected_at"),
        )
        .order_by()
    )
    resulted = Q(resulted_at__isnull=False)
    on_time = resulted & Q(took__lte=hours)
    never = Q(resulted_at__isnull=True, waited__gt=hours)
    late = (resulted & Q(took__gt=hours)) | never
    pending = Q(resulted_at__isnull=True, waited__lte=hours)
    by_program = {
        r["participant__program"]: r
        for r in specimens.values("participant__program").annotate(
            on_time=Count("pk", filter=on_time),
            late=Count("pk", filter=late),
            never=Count("pk", filter=never),
            pending=Count("pk", filter=pending),
            median=Median("took", filter=resulted),
            people_late=Count("participant", distinct=True, filter=late),
        )
    }
    rows, totals = [], defaultdict(int)
    for program in params.programs:
        r = by_program.get(
            program.pk, {"on_time": 0, "late": 0, "never": 0, "pending": 0, "people_late": 0}
        )
        for k in ("on_time", "late", "never", "pending", "people_late"):
            totals[k] += r[k]
        rows.append(
            [
                program.name,
                program.result_turnaround_hours,
                r["on_time"] + r["late"],
                r["on_time"],
                r["late"],
                r["never"],
                percent(r["on_time"], r["on_time"] + r["late"]),
                rounded(r.get("median")),
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
    # Outside, the participants with the most recent late specimen first (its collection),
    # then by participant.
    late_by = _limited(
        specimens.values("participant", "participant__program")
        .annotate(
            late=Count("pk", filter=late),
            never=Count("pk", filter=never),
            from_provider=Count("pk", filter=late & Q(provider__isnull=False)),
            last_late=Max("collected_at", filter=late),
        )
        .filter(late__gt=0)
        .order_by("-last_late", "participant"),
        limit,
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
        outside_total=totals["people_late"],
    )
