"""What happens during the program: recidivism, units of service, the court's responses."""

from django.db.models import (
    Avg,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hearings.models import APPEARED, DocketEntry, Response, ResponseKind, Unit
from participants.models import (
    NewArrest,
)
from reporting.measures.cohort import (
    enrolled_in_period,
    episodes_of,
    exposure,
    moment_in_period,
    ratio,
    rounded,
)
from reporting.measures.declare import measure, table_of
from reporting.measures.sql import DaysBetween
from reporting.params import ReportParams
from reporting.tables import Table
from treatment.models import (
    DrugTest,
    TreatmentSession,
)


@measure(
    "recidivism",
    title=gettext_noop("In-program recidivism"),
    definition=gettext_noop(
        "New arrests dated in the period while the participant was in the program (from entry "
        "to exit), per participant enrolled in the period and per 1,000 participant-days in "
        "the program within the period (every day in the program counts as a day at risk, "
        "custody included)."
    ),
)
def recidivism(params: ReportParams, within: QuerySet | None = None) -> Table:
    enrolled = enrolled_in_period(params, within)
    participants, days = exposure(params, within)
    arrests = (
        NewArrest.objects.filter(
            participant__in=enrolled,
            arrested_on__range=(params.start, params.end),
            arrested_on__gte=F("participant__entry_date"),
        )
        .filter(
            Q(participant__exit_date__isnull=True) | Q(arrested_on__lte=F("participant__exit_date"))
        )
        .aggregate(
            n=Count("pk"),
            people=Count("participant", distinct=True),
            convicted=Count("pk", filter=Q(convicted=True)),
        )
    )
    n = arrests["n"]
    columns = [
        _("Participants enrolled"),
        _("Participant-days"),
        _("New arrests"),
        _("Participants arrested"),
        _("Convictions recorded"),
        _("Arrests per participant"),
        _("Arrests per 1,000 participant-days"),
    ]
    row = [
        participants,
        days,
        n,
        arrests["people"],
        arrests["convicted"],
        ratio(n, participants),
        ratio(n, days, scale=1000),
    ]
    return table_of(recidivism, columns, [row])


@measure(
    "units_of_service",
    title=gettext_noop("Units of service"),
    definition=gettext_noop(
        "Services received in the period: treatment sessions attended (on time or late) and "
        "their hours, drug tests collected (missed and refused tests are not a service), and "
        "court appearances (present or remote at a session that was not cancelled); in total "
        "and per participant enrolled in the period."
    ),
)
def units_of_service(params: ReportParams, within: QuerySet | None = None) -> Table:
    episodes = episodes_of(params, within)
    participants, _days = exposure(params, within)
    sessions = TreatmentSession.objects.filter(
        participant__in=episodes,
        session_date__range=(params.start, params.end),
        attendance__in=[
            TreatmentSession.Attendance.ATTENDED,
            TreatmentSession.Attendance.LATE,
        ],
    ).aggregate(n=Count("pk"), hours=Sum("hours"))
    tests = (
        DrugTest.objects.filter(participant__in=episodes, missed=False, refused=False)
        .filter(moment_in_period(params, "collected_at", "participant__program"))
        .count()
    )
    appearances = (
        DocketEntry.objects.filter(
            participant__in=episodes, session__cancelled=False, attendance__in=APPEARED
        )
        .filter(moment_in_period(params, "session__starts_at", "session__program"))
        .count()
    )
    units = [
        (_("Treatment sessions attended"), sessions["n"]),
        (_("Treatment hours"), rounded(sessions["hours"] or 0, 2)),
        (_("Drug tests collected"), tests),
        (_("Court appearances"), appearances),
    ]
    rows = [[label, total, ratio(total, participants)] for label, total in units]
    columns = [_("Service"), _("Total"), _("Per participant enrolled")]
    return table_of(units_of_service, columns, rows)


@measure(
    "responses",
    title=gettext_noop("Responses to behaviour"),
    definition=gettext_noop(
        "Incentives, sanctions and service adjustments given in the period (date of the "
        "response); incentives per sanction; mean days from the behaviour to the response; "
        "jail sanctions, their total days and mean days."
    ),
)
def responses(params: ReportParams, within: QuerySet | None = None) -> Table:
    jail = Q(unit=Unit.JAIL_DAYS)
    c = Response.objects.filter(
        participant__in=episodes_of(params, within),
        responded_on__range=(params.start, params.end),
    ).aggregate(
        incentives=Count("pk", filter=Q(kind=ResponseKind.INCENTIVE)),
        sanctions=Count("pk", filter=Q(kind=ResponseKind.SANCTION)),
        services=Count("pk", filter=Q(kind=ResponseKind.SERVICE)),
        delay=Avg(DaysBetween("responded_on", "behavior_on")),
        jail=Count("pk", filter=jail),
        jail_days=Sum("magnitude", filter=jail),
    )
    jail_days = c["jail_days"] or 0
    rows = [
        [_("Incentives"), c["incentives"]],
        [_("Sanctions"), c["sanctions"]],
        [_("Service adjustments"), c["services"]],
        [_("Incentives per sanction"), ratio(c["incentives"], c["sanctions"])],
        [_("Mean days from behaviour to response"), rounded(c["delay"])],
        [_("Jail sanctions"), c["jail"]],
        [_("Jail-sanction days"), int(jail_days)],
        [_("Mean days per jail sanction"), ratio(jail_days, c["jail"], places=1)],
    ]
    return table_of(responses, [_("Measure"), _("Value")], rows)
