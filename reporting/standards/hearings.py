"""Hearing frequency and judicial minutes: those of `hearings.compliance`, not recomputed.

Neither lists rows outside (the participants overdue are listed on the hearing compliance
page): `limit` is taken, like every standard's, and has nothing to cut.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hearings.compliance import HearingCompliance, hearing_compliance
from reporting.measures import rounded
from reporting.params import ReportParams
from reporting.standards.declare import (
    OUTSIDE_LIMIT,
    Setting,
    Standard,
    _declared,
    _settings,
    standard,
)
from tjp.clock import program_today


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
    params: ReportParams,
    reports: list[HearingCompliance] | None = None,
    *,
    limit: int | None = OUTSIDE_LIMIT,  # nothing listed: see the module docstring
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
                    rounded(r.percent_within),
                    rounded(r.mean_interval),
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
        figure=rounded(sum(intervals) / len(intervals)) if intervals else None,
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
    params: ReportParams,
    reports: list[HearingCompliance] | None = None,
    *,
    limit: int | None = OUTSIDE_LIMIT,  # nothing listed: see the module docstring
) -> Standard:
    reports = hearing_reports(params) if reports is None else reports
    rows, minutes = [], []
    meeting = 0
    for report in reports:
        m = report.minutes
        meeting += m.meeting
        minutes += m.minutes
        rows.append(
            [report.program.name, m.target, m.hearings, rounded(m.mean), rounded(m.percent_meeting)]
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
        figure=rounded(sum(minutes) / len(minutes)) if minutes else None,
        within=meeting,
        counted=len(minutes),
        table=(columns, rows),
    )
