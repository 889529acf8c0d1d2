"""Caseloads per judge, per clinician of a provider and per case manager."""

from collections import defaultdict

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from reporting.measures import in_program_at_end, ratio
from reporting.params import ReportParams
from reporting.standards.declare import (
    OUTSIDE_LIMIT,
    OutsideRow,
    Setting,
    Standard,
    _declared,
    _person,
    _program_ids,
    standard,
)
from tjp.models import Program, ProgramGroupObjectPermission
from tjp.models import ProgramUserObjectPermission as ProgramUserGrant
from tjp.roles import Role
from treatment.models import ProviderAssignment


def _coordinators(params: ReportParams) -> dict[int, dict[int, str]]:
    """{program id: {user id: name}}: active users of the coordinator role who work in the
    program (a staff grant to them or to one of their groups, as tjp.access reads it)."""
    ids = _program_ids(params)
    found: dict[int, dict[int, str]] = defaultdict(dict)
    direct = ProgramUserGrant.objects.filter(
        content_object__in=ids,
        permission__codename="view_program",
        permission__content_type__app_label="tjp",
        user__is_active=True,
        user__groups__name=Role.COORDINATOR.value,
    ).values_list(
        "content_object_id", "user_id", "user__first_name", "user__last_name", "user__email"
    )
    via_group = ProgramGroupObjectPermission.objects.filter(
        content_object__in=ids,
        permission__codename="view_program",
        permission__content_type__app_label="tjp",
        group__user__is_active=True,
        group__user__groups__name=Role.COORDINATOR.value,
    ).values_list(
        "content_object_id",
        "group__user__id",
        "group__user__first_name",
        "group__user__last_name",
        "group__user__email",
    )
    for rows in (direct, via_group):
        for program_id, user_id, first, last, email in rows:
            found[program_id][user_id] = _person(first, last, email)
    return found


@standard(
    "caseloads",
    title=gettext_noop("Caseloads"),
    definition=gettext_noop(
        "Participants in the program at the end of the period (entered on or before it, not "
        "exited by then), counted within each program: per judge (the participant's assigned "
        "judge); per clinician of each treatment provider (participants with an assignment to "
        "the provider open at the end of the period, divided by the clinicians of the "
        "provider); per case manager (the participants divided by the program's "
        "coordinators). Each against the program's maximum. Outside: the judges, providers "
        "and coordinators over it."
    ),
)
def caseloads(params: ReportParams, *, limit: int | None = OUTSIDE_LIMIT) -> Standard:
    programs = {p.pk: p for p in params.programs}
    active = in_program_at_end(params, None)
    end = params.end
    judges = (
        active.values("program", "judge", "judge__first_name", "judge__last_name", "judge__email")
        .annotate(n=Count("pk"))
        .order_by("program", "judge__last_name", "judge__first_name")
    )
    providers = (
        ProviderAssignment.objects.filter(participant__in=active, assigned_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=end))
        .values("participant__program", "provider", "provider__name")
        .annotate(
            n=Count("participant", distinct=True),
            staff=Count(
                "provider__group__user",
                distinct=True,
                filter=Q(provider__group__user__is_active=True),
            ),
        )
        .order_by("participant__program", "provider__name")
    )
    per_program = dict(active.values("program").annotate(n=Count("pk")).values_list("program", "n"))
    coordinators = _coordinators(params)

    rows, outside = [], []
    unassigned = 0

    def add(kind: str, name: str, program: Program, n: int, staff: int, maximum: int, who):
        per_person = ratio(n, staff, places=1) if staff else None
        over = staff == 0 or n > maximum * staff
        rows.append([kind, name, program.name, n, staff, per_person, maximum])
        if over:
            for person in who:
                outside.append(
                    OutsideRow(
                        program_id=program.pk,
                        name=person,
                        values=[kind, n, staff, per_person, maximum],
                    )
                )
        return over

    overs = 0
    for r in judges:
        program = programs[r["program"]]
        if r["judge"] is None:
            unassigned += r["n"]
            continue
        name = _person(r["judge__first_name"], r["judge__last_name"], r["judge__email"])
        overs += add(_("Judge"), name, program, r["n"], 1, program.judge_caseload_max, [name])
    for r in providers:
        program = programs[r["participant__program"]]
        name = r["provider__name"]
        overs += add(
            _("Clinicians of a provider"),
            name,
            program,
            r["n"],
            r["staff"],
            program.clinician_caseload_max,
            [name],
        )
    for program in params.programs:
        n = per_program.get(program.pk, 0)
        if not n:
            continue
        names = sorted(coordinators.get(program.pk, {}).values())
        overs += add(
            _("Case managers (coordinators)"),
            ", ".join(names) or "—",
            program,
            n,
            len(names),
            program.case_manager_caseload_max,
            names or [_("No coordinator")],
        )
    # Outside (computed from the caseloads above, no query of their own), the most
    # participants per person beyond the maximum first (no one at all to carry them: first of
    # all), in the table's order otherwise; cut to `limit`.
    outside_total = len(outside)
    outside.sort(
        key=lambda r: -float("inf") if r.values[3] is None else -(r.values[3] - r.values[4])
    )
    outside = outside[:limit]
    notes = []
    if unassigned:
        notes.append(_("Participants without an assigned judge: %(n)s") % {"n": unassigned})
    columns = [
        _("Caseload"),
        _("Who"),
        _("Program"),
        _("Participants"),
        _("People"),
        _("Participants per person"),
        _("Maximum per person"),
    ]
    settings = []
    for program in params.programs:
        settings += [
            Setting(
                f"{program.name} — {_('judge')}", program.judge_caseload_max, _("participants")
            ),
            Setting(
                f"{program.name} — {_('clinician')}",
                program.clinician_caseload_max,
                _("participants"),
            ),
            Setting(
                f"{program.name} — {_('case manager')}",
                program.case_manager_caseload_max,
                _("participants"),
            ),
        ]
    return _declared(
        caseloads,
        settings=settings,
        figure_label=_("Caseloads over the maximum"),
        figure=overs,
        within=len(rows) - overs,
        counted=len(rows),
        table=(columns, rows, notes),
        outside_columns=[
            _("Caseload"),
            _("Participants"),
            _("People"),
            _("Participants per person"),
            _("Maximum per person"),
        ],
        outside=outside,
        outside_total=outside_total,
        names_staff=True,
    )
