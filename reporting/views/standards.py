"""Standards compliance: /reports/standards/?program=<uuid>...&from=&to=.

Each practice standard of `reporting.standards` against the programs' settings, with the rows
outside it that the reader may see (`reporting.standards.outside_lists` applies the access and
consent rules and logs the disclosures): at most OUTSIDE_LIMIT of them per standard, the page
saying how many there are in all when there are more.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from participants.disclosures import REDISCLOSURE_NOTICE
from reporting.params import params_from_request
from reporting.standards import OUTSIDE_LIMIT, all_standards, outside_lists
from reporting.tables import cell
from tjp import audit
from tjp.access import can
from tjp.db_routers import reading_from_replica
from tjp.models import AuditEvent

PERM = "reporting.view_dashboard"


@require_GET
def standards(request):
    if not can(request.user, PERM):
        raise PermissionDenied
    form, params = params_from_request(request)
    sections, notice = [], False
    if params is not None and params.programs:
        with reading_from_replica():
            found = all_standards(params, limit=OUTSIDE_LIMIT)
        # Who may see which rows, under which consent, on the primary (and logged there).
        lists, notice = outside_lists(request.user, params, found, request=request)
        for s in found:
            outside = lists[s.key]
            sections.append(
                {
                    "standard": s,
                    "rows": [[cell(v) for v in row] for row in s.table.rows],
                    "outside": outside,
                    "outside_rows": [(r, [cell(v) for v in r.values]) for r in outside.rows],
                }
            )
        shown = {str(r.participant.uuid) for o in lists.values() for r in o.rows if r.participant}
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            program=params.programs[0] if len(params.programs) == 1 else None,
            request=request,
            detail={"standards": params.as_query(), "participants": sorted(shown)},
        )
    context = {
        "form": form,
        "params": params,
        "sections": sections,
        "redisclosure_notice": REDISCLOSURE_NOTICE if notice else None,
    }
    status = 200 if params is not None else 400
    return render(request, "reporting/standards.html", context, status=status)


urlpatterns = [path("standards/", standards, name="reporting_standards")]
