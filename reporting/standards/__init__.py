"""Compliance with the practice standards (DOMAIN.md, "Practice standards"), each held to the
program's own setting (tjp.models.Program, tjp.models.Phase), never to a number in code.

Everything is counted by the database in a fixed number of queries per program whatever the
number of participants or records: nothing here loops over participants issuing queries.

One module per subject: `declare` (what a standard returns, the `@standard(...)` line, the
helpers the standards share), `testing`, `entry`, `responses`, `admission`, `caseload`,
`hearings`, and `outside` (what of the rows outside one reader may see). `STANDARDS` below
is the page order.
"""

from reporting.params import ReportParams
from reporting.standards.admission import arrest_to_entry
from reporting.standards.caseload import caseloads
from reporting.standards.declare import OUTSIDE_LIMIT, OutsideRow, Setting, Standard, standard
from reporting.standards.entry import data_entry
from reporting.standards.hearings import hearing_frequency, hearing_reports, judicial_minutes
from reporting.standards.outside import OutsideList, ShownRow, outside_lists
from reporting.standards.responses import incentive_sanction_ratio, jail_sanctions
from reporting.standards.testing import result_turnaround, tests_per_week
from reporting.tables import Table

__all__ = [
    "OUTSIDE_LIMIT",
    "STANDARDS",
    "OutsideList",
    "OutsideRow",
    "Setting",
    "ShownRow",
    "Standard",
    "all_standards",
    "arrest_to_entry",
    "caseloads",
    "data_entry",
    "hearing_frequency",
    "hearing_reports",
    "incentive_sanction_ratio",
    "jail_sanctions",
    "judicial_minutes",
    "outside_lists",
    "result_turnaround",
    "standard",
    "standards_tables",
    "tests_per_week",
]


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


def all_standards(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> list[Standard]:
    """Every standard, in page order (the hearing reports computed once for both of theirs),
    each listing at most `limit` rows outside (None: all; 0: none fetched)."""
    reports = hearing_reports(params)
    return [
        fn(params, reports, limit=limit)
        if fn in (hearing_frequency, judicial_minutes)
        else fn(params, limit=limit)
        for fn in STANDARDS
    ]


def standards_tables(params: ReportParams) -> list[Table]:
    """The aggregate table of every standard (no names: what exports carry). The rows
    outside are never fetched (limit=0): the tables are computed from the aggregates alone."""
    return [s.table for s in all_standards(params, limit=0)]
