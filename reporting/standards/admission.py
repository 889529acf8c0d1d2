"""Admission: time from arrest to program entry."""

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from participants.models import Participant
from reporting.measures import DaysBetween, Median, percent, rounded
from reporting.params import ReportParams
from reporting.standards.declare import (
    OUTSIDE_LIMIT,
    OutsideRow,
    Standard,
    _declared,
    _limited,
    _program_ids,
    _settings,
    standard,
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
def arrest_to_entry(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> Standard:
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
                percent(r["n"] - r["late"], r["n"]),
                rounded(r["median"]),
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
    # Outside, the most days beyond the program's days first, then by entry date and participant.
    outside = [
        OutsideRow(
            program_id=r["program"],
            participant_id=r["pk"],
            values=[r["arrest_date"], r["entry_date"], r["days"]],
        )
        for r in _limited(
            admitted.filter(late)
            .annotate(excess=F("days") - F("program__arrest_to_entry_days"))
            .values("pk", "program", "arrest_date", "entry_date", "days")
            .order_by("-excess", "entry_date", "pk"),
            limit,
        )
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
        outside_total=late_n,
    )
