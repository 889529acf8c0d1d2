"""Drug testing: sobriety (failed tests and the runs between them), tests and their rates."""

from collections import Counter

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from reporting.measures.cohort import (
    enrolled_days_sql,
    episodes_of,
    exposure,
    moment_in_period,
    percent,
    ratio,
    rounded,
)
from reporting.measures.declare import measure, table_of
from reporting.measures.sql import HoursBetween, LocalDate, Median
from reporting.params import ReportParams
from reporting.tables import Table
from treatment.models import (
    DrugTest,
    TestingHoliday,
    failed_flag_q,
    failed_test_sql,
    positive_result_exists,
)


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
        enrolled_sql, enrolled_params = enrolled_days_sql(params, within)
    except EmptyResultSet:
        enrolled, failed, clean, median = 0, 0, 0, None
    else:
        # Failed as in treatment.models.failed_test_sql. Each participant's failed-test days, with
        # a mark the day before their first day in the period and the day after their last:
        # the gaps between consecutive marks are the runs without a failed test.
        failed_sql, failed_params = failed_test_sql("t")
        sql = f"""
            WITH enrolled AS ({enrolled_sql}),
            failed AS (
                SELECT e.id, (t.collected_at AT TIME ZONE e.time_zone)::date AS day
                FROM enrolled e
                JOIN {DrugTest._meta.db_table} t ON t.participant_id = e.id
                WHERE t.collected_at >= (e.first_day::timestamp AT TIME ZONE e.time_zone)
                  AND t.collected_at < ((e.last_day + 1)::timestamp AT TIME ZONE e.time_zone)
                  AND {failed_sql}
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
        sql_params = [*enrolled_params, *failed_params]
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
    row = [enrolled, failed, ratio(failed, enrolled), clean, rounded(median)]
    return table_of(sobriety, columns, [row])


def tests_in_period(params: ReportParams, within: QuerySet | None) -> QuerySet[DrugTest]:
    return (
        DrugTest.objects.filter(participant__in=episodes_of(params, within))
        .filter(moment_in_period(params, "collected_at", "participant__program"))
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
    _participants_enrolled, days = exposure(params, within)
    totals = tests_in_period(params, within).aggregate(
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
    row = [totals["n"], rounded(weeks), ratio(totals["n"], weeks), rounded(totals["turnaround"])]
    return table_of(testing, columns, [row])


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
    missed_refused_adulterated = failed_flag_q()
    weekend_or_holiday = Q(day__iso_week_day__gte=6) | Q(holiday=True)
    tests = tests_in_period(params, within).annotate(
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
        tests_in_period(params, within)
        .filter(positive_result_exists())
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
        rows.append([label, n, out_of, percent(n, out_of)])
    columns = [_("Rate"), _("Tests"), _("Out of"), _("Percent")]
    return table_of(testing_rates, columns, rows)
