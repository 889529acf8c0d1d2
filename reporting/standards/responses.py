"""Court responses: the incentive:sanction ratio (reported, not enforced) and the length of
jail sanctions."""

from django.db.models import Count, F, Max, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hearings.models import Response, ResponseKind, Unit
from reporting.measures import ratio, rounded
from reporting.params import ReportParams
from reporting.standards.declare import (
    OUTSIDE_LIMIT,
    OutsideRow,
    Standard,
    _declared,
    _in_programs,
    _limited,
    _settings,
    standard,
)


def _responses(params: ReportParams) -> QuerySet[Response]:
    return _in_programs(Response, params).filter(responded_on__range=(params.start, params.end))


@standard(
    "incentive_sanction_ratio",
    title=gettext_noop("Incentives per sanction"),
    definition=gettext_noop(
        "Incentives and sanctions given in the period (date of the response), and incentives "
        "per sanction, against the program's target. The target is reported, not enforced: "
        "no response is refused because of it. Within: participants given at least as many "
        "incentives as sanctions; outside: those given more sanctions than incentives."
    ),
)
def incentive_sanction_ratio(
    params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT
) -> Standard:
    incentive, sanction = Q(kind=ResponseKind.INCENTIVE), Q(kind=ResponseKind.SANCTION)
    responses = _responses(params).filter(incentive | sanction)
    by_program = {
        r["participant__program"]: r
        for r in responses.values("participant__program").annotate(
            incentives=Count("pk", filter=incentive),
            sanctions=Count("pk", filter=sanction),
            people=Count("participant", distinct=True),
        )
    }
    rows = []
    incentives = sanctions = people = 0
    for program in params.programs:
        r = by_program.get(program.pk, {"incentives": 0, "sanctions": 0, "people": 0})
        incentives, sanctions = incentives + r["incentives"], sanctions + r["sanctions"]
        people += r["people"]
        rows.append(
            [
                program.name,
                float(program.incentive_sanction_ratio_target),
                r["incentives"],
                r["sanctions"],
                ratio(r["incentives"], r["sanctions"]),
            ]
        )
    more_sanctions = (
        responses.values("participant", "participant__program")
        .annotate(incentives=Count("pk", filter=incentive), sanctions=Count("pk", filter=sanction))
        .filter(sanctions__gt=F("incentives"))
    )
    outside_total = more_sanctions.count()  # one query, the participants counted in SQL
    # Outside, the most sanctions beyond the incentives first, then by participant.
    outside = [
        OutsideRow(
            program_id=r["participant__program"],
            participant_id=r["participant"],
            values=[r["incentives"], r["sanctions"]],
        )
        for r in _limited(
            more_sanctions.annotate(excess=F("sanctions") - F("incentives")).order_by(
                "-excess", "participant"
            ),
            limit,
        )
    ]
    columns = [
        _("Program"),
        _("Target (incentives per sanction)"),
        _("Incentives"),
        _("Sanctions"),
        _("Incentives per sanction"),
    ]
    return _declared(
        incentive_sanction_ratio,
        settings=_settings(params, "incentive_sanction_ratio_target", _("incentives per sanction")),
        figure_label=_("Incentives per sanction"),
        figure=ratio(incentives, sanctions),
        within=people - outside_total,
        counted=people,
        table=(columns, rows),
        outside_columns=[_("Incentives"), _("Sanctions")],
        outside=outside,
        outside_total=outside_total,
        enforced=False,
    )


@standard(
    "jail_sanctions",
    title=gettext_noop("Length of jail sanctions"),
    definition=gettext_noop(
        "Jail sanctions (responses given in days in jail) in the period, against the "
        "program's longest jail sanction. Outside: participants given a jail sanction longer "
        "than it."
    ),
)
def jail_sanctions(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> Standard:
    jail = _responses(params).filter(unit=Unit.JAIL_DAYS)
    over = Q(magnitude__gt=F("participant__program__max_jail_sanction_days"))
    by_program = {
        r["participant__program"]: r
        for r in jail.values("participant__program").annotate(
            n=Count("pk"),
            over=Count("pk", filter=over),
            longest=Max("magnitude"),
            people_over=Count("participant", distinct=True, filter=over),
        )
    }
    rows = []
    counted = over_n = people_over = 0
    longest = None
    for program in params.programs:
        r = by_program.get(program.pk, {"n": 0, "over": 0, "longest": None, "people_over": 0})
        counted, over_n = counted + r["n"], over_n + r["over"]
        people_over += r["people_over"]
        if r["longest"] is not None:
            longest = max(longest or 0, r["longest"])
        rows.append(
            [
                program.name,
                program.max_jail_sanction_days,
                r["n"],
                r["over"],
                rounded(r["longest"]),
            ]
        )
    columns = [
        _("Program"),
        _("Longest allowed (days)"),
        _("Jail sanctions"),
        _("Longer than allowed"),
        _("Longest given (days)"),
    ]
    outside = [
        OutsideRow(
            program_id=r["participant__program"],
            participant_id=r["participant"],
            values=[
                r["over"],
                rounded(r["longest"]),
                r["participant__program__max_jail_sanction_days"],
            ],
        )
        # Outside, the longest sanction beyond the program's maximum first, then the most
        # sanctions too long, then by participant.
        for r in _limited(
            jail.filter(over)
            .values(
                "participant",
                "participant__program",
                "participant__program__max_jail_sanction_days",
            )
            .annotate(over=Count("pk"), longest=Max("magnitude"))
            .annotate(excess=F("longest") - F("participant__program__max_jail_sanction_days"))
            .order_by("-excess", "-over", "participant"),
            limit,
        )
    ]
    return _declared(
        jail_sanctions,
        settings=_settings(params, "max_jail_sanction_days", _("days")),
        figure_label=_("Longest jail sanction (days)"),
        figure=rounded(longest),
        within=counted - over_n,
        counted=counted,
        table=(columns, rows),
        outside_columns=[_("Jail sanctions too long"), _("Longest (days)"), _("Allowed (days)")],
        outside=outside,
        outside_total=people_over,
    )
