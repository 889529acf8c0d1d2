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
  negative: the rule is written once, in `treatment.models` (FAILED_FLAGS), and its filters and
  SQL are generated from it there.
- Moments (test collections, hearings) fall on the day of their program's time zone.
- Each episode counts on its own: a person admitted twice is two admissions.

The measures live by subject (outcomes, testing, activity) beside their building blocks (sql,
cohort, declare); this package lists them in dashboard order."""

from django.db.models import QuerySet

from reporting.measures.activity import (
    recidivism,
    responses,
    units_of_service,
)
from reporting.measures.cohort import (
    count_at_end,
    ends_today,
    enrolled_days_sql,
    enrolled_in_period,
    episodes_of,
    exposure,
    in_program_at_end,
    moment_in_period,
    months,
    participant_days,
    percent,
    primary_substance,
    ratio,
    rounded,
)
from reporting.measures.declare import (
    Definition,
    measure,
    status_label,
    table_of,
)
from reporting.measures.outcomes import (
    admission_rate,
    admissions_exits,
    admitted_by_end,
    census_phase,
    census_status,
    declined_by_end,
    graduation,
    length_of_stay,
    referred_in_period,
    retention,
    time_to_admission,
)
from reporting.measures.sql import (
    DaysBetween,
    HoursBetween,
    LocalDate,
    Median,
)
from reporting.measures.testing import (
    sobriety,
    testing,
    testing_rates,
    tests_in_period,
)
from reporting.params import ReportParams
from reporting.tables import Table

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


__all__ = [
    "MEASURES",
    "DaysBetween",
    "Definition",
    "HoursBetween",
    "LocalDate",
    "Median",
    "admission_rate",
    "admissions_exits",
    "admitted_by_end",
    "all_tables",
    "census_phase",
    "census_status",
    "count_at_end",
    "declined_by_end",
    "ends_today",
    "enrolled_days_sql",
    "enrolled_in_period",
    "episodes_of",
    "exposure",
    "graduation",
    "in_program_at_end",
    "length_of_stay",
    "measure",
    "moment_in_period",
    "months",
    "participant_days",
    "percent",
    "primary_substance",
    "ratio",
    "recidivism",
    "referred_in_period",
    "responses",
    "retention",
    "rounded",
    "sobriety",
    "status_label",
    "table_of",
    "testing",
    "testing_rates",
    "tests_in_period",
    "time_to_admission",
    "units_of_service",
]
