"""Who is in the program and how they leave it: census, admissions and exits, admission rate,
retention, graduation, length of stay, time to admission."""

from datetime import date

from django.db.models import (
    Avg,
    Count,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from participants.models import (
    EXIT_STATUSES,
    IN_PROGRAM_STATUSES,
    NEUTRAL_EXITS,
    Participant,
    PhaseChange,
    ScreeningDecision,
    Status,
    StatusChange,
)
from reporting.measures.cohort import count_at_end, episodes_of, months, percent, rounded
from reporting.measures.declare import measure, status_label, table_of
from reporting.measures.sql import DaysBetween, Median
from reporting.params import ReportParams
from reporting.tables import Table
from tjp.models import Phase


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
    counts = count_at_end(params, within, "status", StatusChange, "to_status")
    rows = [[status_label(s), counts.get(s, 0)] for s in IN_PROGRAM_STATUSES]
    total = sum(n for _label, n in rows)
    notes = [_("Total in the program at the end of the period: %(n)s") % {"n": total}]
    return table_of(census_status, [_("Status"), _("Participants")], rows, notes)


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
    counts = count_at_end(params, within, "phase__number", PhaseChange, "to_phase__number")
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
    return table_of(census_phase, [_("Phase"), _("Participants")], rows)


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
    rows = [[m, admitted.get(m, 0), exited.get(m, 0)] for m in months(*period)]
    return table_of(admissions_exits, [_("Month"), _("Admissions"), _("Exits")], rows)


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
    row = [decided, c["admitted"], c["declined"], percent(c["admitted"], decided)]
    return table_of(admission_rate, columns, [[*row, c["referred"] - decided]])


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
    row = [admitted, graduated, still, percent(graduated + still, admitted)]
    columns = [_("Admitted"), _("Graduated"), _("Still in the program"), _("Retention (%)")]
    return table_of(retention, columns, [row])


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
        status_label(Status.GRADUATED),
        status_label(Status.TERMINATED),
        status_label(Status.VOLUNTARY_WITHDRAWAL),
        _("Exits counted"),
        _("Graduation rate (%)"),
        _("Neutral exits (apart)"),
    ]
    row = [graduated, terminated, withdrew, counted, percent(graduated, counted), neutral]
    return table_of(graduation, columns, [row])


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
        rows.append([status_label(status), r["n"], rounded(r["median"]), rounded(r["mean"])])
    rows.append(
        [_("All exits"), everyone["n"], rounded(everyone["median"]), rounded(everyone["mean"])]
    )
    columns = [_("Exit"), _("Exits"), _("Median days"), _("Mean days")]
    return table_of(length_of_stay, columns, rows)


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
        [label, values[f"n{i}"], rounded(values[f"median{i}"]), rounded(values[f"mean{i}"])]
        for i, (label, _later, _earlier) in enumerate(intervals)
    ]
    columns = [_("Interval"), _("Participants"), _("Median days"), _("Mean days")]
    return table_of(time_to_admission, columns, rows)
