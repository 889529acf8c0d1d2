"""Equity: the program's headline figures for each group of participants, with disparity flags.

Participants are grouped by race / ethnicity, sex, gender, age band at referral and primary
substance (DIMENSIONS). For the whole program and for each group, the headline figures of
FIGURES are read from the measures of `reporting.measures`, each called with `within=` the
group's episodes, so that every definition stays written once, in its measure (the admission
rate among referrals, `measures.admission_rate`, counts declined referrals).

- **Group size**: the group's referrals decided in the period (the admission rate's
  denominator) and its participants enrolled in the period (the other figures' denominator).
  Each episode counts on its own, as in the measures.
- **Suppression**: a group with fewer than `min_group` people in either size (none at all is
  not a group of people) shows neither figures nor sizes, so that nobody can be recognised.
  When that hides exactly one group of a dimension, the next smallest group is hidden too: the
  groups add up to the whole program, so a single hidden group could be worked out by
  subtraction. Hidden groups are never flagged.
- **Disparity flag**: a shown group's figure is flagged when it differs from the whole
  program's by more than `threshold` per cent of the program's figure, above (↑) or below (↓).
  Figures are compared as shown (rounded).

Defaults come from the programs' settings: the smallest `equity_disparity_percent` and the
largest `equity_min_group` among them; `min_group` may be raised, never lowered below that.
The groups of a dimension take two queries, the figures of the program and of each shown group
a fixed number more: nothing grows with the number of participants or of their records.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from participants.models import Participant, Person
from reporting import measures
from reporting.measures import admission_rate, enrolled_in_period, episodes_of
from reporting.params import ReportParams
from reporting.tables import Table
from tjp.models import Program


def _decided(params: ReportParams, within: QuerySet | None) -> QuerySet[Participant]:
    return measures.referred_in_period(params, within).filter(
        measures.admitted_by_end(params) | measures.declined_by_end(params)
    )


# --- dimensions ------------------------------------------------------------------------------
class AgeAtReferral(Func):
    """Whole years from the date of birth to the referral: Person.age_on, in SQL."""

    template = "EXTRACT(YEAR FROM AGE(%(expressions)s))::integer"
    output_field = IntegerField()


# (value, English label, oldest age in the band); the last band has no upper end.
AGE_BANDS = [
    ("under_18", gettext_noop("Under 18"), 17),
    ("18_25", gettext_noop("18 to 25"), 25),
    ("26_35", gettext_noop("26 to 35"), 35),
    ("36_45", gettext_noop("36 to 45"), 45),
    ("46_55", gettext_noop("46 to 55"), 55),
    ("56_plus", gettext_noop("56 and over"), None),
]
NAMED_SUBSTANCES = 8  # the most frequent substances are named, the rest grouped as "Other"


def _age_band() -> Case:
    age = AgeAtReferral("referred_on", "person__date_of_birth")
    bands = [When(LessThanOrEqual(age, oldest), then=Value(v)) for v, _l, oldest in AGE_BANDS[:-1]]
    return Case(*bands, default=Value(AGE_BANDS[-1][0]))


def _choice_labels(choices) -> Callable[[], dict[str, str]]:
    return lambda: {value: str(label) for value, label in choices.choices}


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str  # English: translated when shown
    value: Callable[[], Any]  # the expression an episode is grouped by
    # {value: translated label} in display order; None for free text, whose most frequent
    # values are named and the rest grouped.
    labels: Callable[[], dict[str, str]] | None = None


DIMENSIONS = [
    Dimension(
        "race_ethnicity",
        gettext_noop("Race / ethnicity"),
        lambda: F("person__race_ethnicity"),
        _choice_labels(Person.RaceEthnicity),
    ),
    Dimension("sex", gettext_noop("Sex"), lambda: F("person__sex"), _choice_labels(Person.Sex)),
    Dimension(
        "gender", gettext_noop("Gender"), lambda: F("person__gender"), _choice_labels(Person.Gender)
    ),
    Dimension(
        "age_band",
        gettext_noop("Age at referral"),
        _age_band,
        lambda: {value: _(label) for value, label, _oldest in AGE_BANDS},
    ),
    Dimension(
        "primary_substance",
        gettext_noop("Primary substance"),
        measures.primary_substance,
    ),
]
BY_KEY = {d.key: d for d in DIMENSIONS}


@dataclass(eq=False)
class Group:
    """One group of a dimension: its label, its episodes (for `within=`) and its sizes."""

    label: str
    episodes: QuerySet
    decided: int  # referrals decided in the period
    enrolled: int  # participants enrolled in the period

    def sort_key(self) -> tuple[int, int]:
        """Smallest first: by its smaller size that is not zero, then by both."""
        sizes = [n for n in (self.decided, self.enrolled) if n]
        return (min(sizes, default=0), self.decided + self.enrolled)


def groups(params: ReportParams, dimension: Dimension) -> list[Group]:
    """The groups of `dimension` with anyone in them in the period, in display order: two
    queries (the sizes), whatever the number of participants."""

    def sizes(episodes: QuerySet) -> dict[str, int]:
        counted = episodes.annotate(bucket=dimension.value()).values("bucket")
        return dict(counted.annotate(n=Count("pk")).values_list("bucket", "n"))

    decided, enrolled = sizes(_decided(params, None)), sizes(enrolled_in_period(params, None))
    present = set(decided) | set(enrolled)
    episodes = episodes_of(params, None).alias(bucket=dimension.value())

    def group(label: str, values: Iterable[str], members: QuerySet) -> Group:
        values = list(values)
        return Group(
            label,
            members,
            sum(decided.get(v, 0) for v in values),
            sum(enrolled.get(v, 0) for v in values),
        )

    if dimension.labels is not None:
        labels = dimension.labels()
        ordered = [v for v in labels if v in present] + sorted(present - set(labels))
        return [group(labels.get(v, v), [v], episodes.filter(bucket=v)) for v in ordered]
    # Free text: the most frequent values named, the rest "Other", blank "Not recorded".
    recorded = sorted(
        (v for v in present if v), key=lambda v: (-decided.get(v, 0) - enrolled.get(v, 0), v)
    )
    named, rest = recorded[:NAMED_SUBSTANCES], recorded[NAMED_SUBSTANCES:]
    result = [group(v, [v], episodes.filter(bucket=v)) for v in named]
    if rest:
        others = episodes.exclude(bucket__in=[*named, ""])
        result.append(group(_("Other"), rest, others))
    if "" in present:
        result.append(group(_("Not recorded"), [""], episodes.filter(bucket="")))
    return result


# --- figures ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """A headline figure, read from the table of the measure that defines it."""

    key: str
    label: str  # English column header, translated when shown
    measure: Callable[..., Table]
    column: str  # English header of the measure's column holding the figure
    row: str | None = None  # English label (first cell) of its row, if the table has several

    def read(self, table: Table) -> Any:
        column = table.columns.index(_(self.column))
        rows = table.rows if self.row is None else [r for r in table.rows if r[0] == _(self.row)]
        return rows[0][column]

    def definition(self) -> str:
        return _(self.measure.definition.text)


FIGURES = [
    Figure(
        "admission_rate", gettext_noop("Admission rate (%)"), admission_rate, "Admission rate (%)"
    ),
    Figure("retention", gettext_noop("Retention (%)"), measures.retention, "Retention (%)"),
    Figure(
        "graduation",
        gettext_noop("Graduation rate (%)"),
        measures.graduation,
        "Graduation rate (%)",
    ),
    Figure(
        "length_of_stay",
        gettext_noop("Median length of stay, all exits (days)"),
        measures.length_of_stay,
        "Median days",
        row="All exits",
    ),
    Figure(
        "failed_tests",
        gettext_noop("Failed tests per participant"),
        measures.sobriety,
        "Failed tests per participant",
    ),
    Figure(
        "arrests",
        gettext_noop("Arrests per 1,000 participant-days"),
        measures.recidivism,
        "Arrests per 1,000 participant-days",
    ),
    Figure(
        "tests",
        gettext_noop("Tests per participant-week"),
        measures.testing,
        "Tests per participant-week",
    ),
    Figure(
        "positive",
        gettext_noop("Positive tests (%)"),
        measures.testing_rates,
        "Percent",
        row="Positive",
    ),
    Figure(
        "incentives_per_sanction",
        gettext_noop("Incentives per sanction"),
        measures.responses,
        "Value",
        row="Incentives per sanction",
    ),
    Figure(
        "jail_days",
        gettext_noop("Mean days per jail sanction"),
        measures.responses,
        "Value",
        row="Mean days per jail sanction",
    ),
]


def figures(params: ReportParams, within: QuerySet | None = None) -> list[Any]:
    """The value of each of FIGURES, each measure called once."""
    tables: dict[Callable, Table] = {}
    for figure in FIGURES:
        if figure.measure not in tables:
            tables[figure.measure] = figure.measure(params, within)
    return [figure.read(tables[figure.measure]) for figure in FIGURES]


# --- settings, flags, suppression ------------------------------------------------------------
def _default(field: str) -> int:
    return Program._meta.get_field(field).default


def default_threshold(programs: Iterable[Program]) -> int:
    """The programs' disparity threshold (per cent): the smallest of their settings."""
    settings = [p.equity_disparity_percent for p in programs]
    return min(settings, default=_default("equity_disparity_percent"))


def smallest_group(programs: Iterable[Program]) -> int:
    """The smallest group shown: the largest of the programs' settings (never lowered)."""
    settings = [p.equity_min_group for p in programs]
    return max(settings, default=_default("equity_min_group"))


ABOVE, BELOW = "above", "below"
ARROWS = {ABOVE: "↑", BELOW: "↓"}
SMALL, COMPLEMENTARY = "small", "complementary"


def disparity(value, program_value, threshold: int) -> str:
    """ABOVE or BELOW when `value` differs from `program_value` by more than `threshold` per
    cent of `program_value`, else ""."""
    if value is None or program_value is None:
        return ""
    group, whole = Decimal(str(value)), Decimal(str(program_value))
    if abs(group - whole) * 100 <= threshold * abs(whole):
        return ""
    return ABOVE if group > whole else BELOW


@dataclass
class Cell:
    value: Any
    flag: str = ""  # ABOVE, BELOW or ""


@dataclass
class Row:
    label: str
    decided: int | str  # a number, or for a hidden group the text shown instead
    enrolled: int | str
    cells: list[Cell]
    program: bool = False  # the whole-program row
    suppressed: str = ""  # SMALL, COMPLEMENTARY or ""

    def flagged(self) -> list[str]:
        return [
            f"{_(figure.label)} {ARROWS[cell.flag]}"
            for figure, cell in zip(FIGURES, self.cells, strict=True)
            if cell.flag
        ]


@dataclass
class EquityReport:
    """The rows of one dimension, as the page shows them; `table()` is the exported shape."""

    dimension: Dimension
    threshold: int
    min_group: int
    rows: list[Row]
    small: int  # groups hidden for their size
    complementary: int  # groups hidden so that those cannot be worked out

    @property
    def key(self) -> str:
        return f"equity_{self.dimension.key}"

    def title(self) -> str:
        return _("Equity: %(dimension)s") % {"dimension": _(self.dimension.title)}

    def notes(self) -> list[str]:
        notes = [
            _(
                "Flagged (↑ above, ↓ below): a figure of a group that differs from the whole "
                "program's by more than %(threshold)s%% of the program's figure."
            )
            % {"threshold": self.threshold},
            _(
                "Groups with fewer than %(n)s people referred or enrolled in the period are not "
                "shown, so that nobody can be recognised."
            )
            % {"n": self.min_group},
        ]
        if self.small:
            notes.append(
                ngettext(
                    "%(count)s group not shown: fewer than %(n)s people.",
                    "%(count)s groups not shown: fewer than %(n)s people.",
                    self.small,
                )
                % {"count": self.small, "n": self.min_group}
            )
        if self.complementary:
            notes.append(
                _(
                    "One more group not shown, the next smallest, so that the hidden group "
                    "cannot be worked out from the whole program's numbers."
                )
            )
        return notes

    def table(self) -> Table:
        columns = [
            _(self.dimension.title),
            _("Referrals decided"),
            _("Participants enrolled"),
            *[_(f.label) for f in FIGURES],
            _("Flagged"),
        ]
        rows = [
            [r.label, r.decided, r.enrolled, *[c.value for c in r.cells], ", ".join(r.flagged())]
            for r in self.rows
        ]
        definition = _(
            "For the whole program and for each group of participants: the headline figures of "
            "the performance measures, each computed as its measure defines it. Sizes: the "
            "referrals decided in the period (the admission rate's denominator) and the "
            "participants enrolled in the period (the other figures'). Each episode counts on "
            "its own."
        )
        return Table(self.key, self.title(), definition, columns, rows, self.notes())


def _hidden_size(n: int, min_group: int, reason: str) -> str:
    if reason == SMALL and 0 < n < min_group:
        return _("fewer than %(n)s") % {"n": min_group}
    return _("not shown")


def _report(
    params: ReportParams, dim: Dimension, threshold: int, min_group: int, whole: list
) -> EquityReport:
    found = groups(params, dim)
    small = [g for g in found if any(0 < n < min_group for n in (g.decided, g.enrolled))]
    hidden = {id(g): SMALL for g in small}
    if len(small) == 1:
        shown = sorted((g for g in found if id(g) not in hidden), key=Group.sort_key)
        hidden |= {id(g): COMPLEMENTARY for g in shown[:1]}
    rows = [
        Row(
            _("Whole program"),
            sum(g.decided for g in found),
            sum(g.enrolled for g in found),
            [Cell(value) for value in whole],
            program=True,
        )
    ]
    for g in found:
        if reason := hidden.get(id(g)):
            sizes = [_hidden_size(n, min_group, reason) for n in (g.decided, g.enrolled)]
            cells = [Cell(None) for _figure in FIGURES]
            rows.append(Row(g.label, *sizes, cells, suppressed=reason))
            continue
        values = figures(params, g.episodes)
        cells = [Cell(v, disparity(v, p, threshold)) for v, p in zip(values, whole, strict=True)]
        rows.append(Row(g.label, g.decided, g.enrolled, cells))
    return EquityReport(dim, threshold, min_group, rows, len(small), len(hidden) - len(small))


def equity_reports(
    params: ReportParams,
    dimensions: Iterable[str],
    *,
    threshold: int | None = None,
    min_group: int | None = None,
) -> list[EquityReport]:
    """The whole program and the groups of each of `dimensions` (keys of DIMENSIONS), flagged
    and hidden by the programs' settings, or by `threshold` and a larger `min_group`. The
    whole program's figures are computed once for them all."""
    threshold = threshold or default_threshold(params.programs)
    min_group = max(min_group or 0, smallest_group(params.programs))
    whole = figures(params)
    return [_report(params, BY_KEY[d], threshold, min_group, whole) for d in dimensions]


def equity_table(
    params: ReportParams,
    dimension: str,
    *,
    threshold: int | None = None,
    min_group: int | None = None,
) -> Table:
    """The equity table of one dimension: the whole program first, then each group; numbers
    stay numbers (None when hidden or not computable); the last column names the flagged
    figures with ↑ or ↓."""
    [report] = equity_reports(params, [dimension], threshold=threshold, min_group=min_group)
    return report.table()


def equity_tables(
    params: ReportParams, *, threshold: int | None = None, min_group: int | None = None
) -> list[Table]:
    """The equity table of every dimension (for the exports)."""
    keys = [d.key for d in DIMENSIONS]
    reports = equity_reports(params, keys, threshold=threshold, min_group=min_group)
    return [report.table() for report in reports]
