"""What a standard returns, how one is declared, and the helpers the standards share.

Each standard is one function taking `ReportParams` (the programs, and the period in each
program's own days, both ends inclusive) and returning a `Standard`: the setting, the measured
figure, how many of the things counted fall within the standard, an aggregate `Table` (what
exports carry: no names) and the rows **outside** the standard (participant ids, or the staff
and providers named by the caseloads): at most `limit` of them (`OUTSIDE_LIMIT` by default),
the most useful first, with `outside_total` saying how many there are in all. The aggregate
figures and table are always over every row. The definition is written once, in the
`@standard(...)` line above the function: that text is its docstring and, translated, the one
on screen.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from reporting.measures import Definition, percent
from reporting.params import ReportParams
from reporting.tables import Table

# The rows outside a standard fetched and listed at most (`limit` of each standard function;
# None: all of them, 0: none, as the exports ask). The aggregates always count every row, but
# the list is for reading: on a program of 100,000 participants a year has some 425,000 records
# entered late, 20 s to fetch into Python for a page nobody can read. `Standard.outside_total`
# says how many are outside in all, and the page says when the list stops short of it.
OUTSIDE_LIMIT = 200


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
    # The section (treatment.access.SECTIONS) of the provider-reported records the figure was
    # drawn from; None when none of them came from a provider.
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
    outside: list[OutsideRow] = field(default_factory=list)  # at most `limit` of them
    # How many rows are outside in all (records for data entry, phase stays for the tests per
    # week, participants for the other participant standards, staff and providers for the
    # caseloads), counted from the aggregates; len(outside) when not given.
    outside_total: int | None = None
    names_staff: bool = False  # the rows outside name staff or providers, not participants
    enforced: bool = True  # False: reported only (the incentive:sanction ratio)

    def __post_init__(self):
        if self.outside_total is None:
            self.outside_total = len(self.outside)

    @property
    def percent_within(self) -> float | None:
        return percent(self.within, self.counted)


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


def _program_ids(params: ReportParams) -> list[int]:
    return [p.pk for p in params.programs]


def _settings(params: ReportParams, attribute: str, unit: str) -> list[Setting]:
    return [Setting(p.name, getattr(p, attribute), unit) for p in params.programs]


def _person(first: str | None, last: str | None, email: str | None) -> str:
    return " ".join(n for n in (first, last) if n) or email or "—"


def _limited(rows: QuerySet, limit: int | None) -> QuerySet:
    """At most `limit` of `rows` (an ordered queryset): SQL LIMIT; 0 gives none without a
    query, None all."""
    return rows if limit is None else rows[:limit]


def _in_programs(model, params: ReportParams) -> QuerySet:
    return model.objects.filter(participant__program__in=_program_ids(params)).order_by()
