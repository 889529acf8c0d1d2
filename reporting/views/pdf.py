"""The dashboard as a PDF report: /reports/dashboard.pdf?program=<uuid>...&from=&to=, for those
who may see the dashboard, in their language."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reporting.dashboard_pdf import render_dashboard_pdf
from reporting.params import params_from_request
from reporting.views.dashboard import PERM
from tjp import audit
from tjp.access import can
from tjp.db_routers import reading_from_replica
from tjp.models import AuditEvent


@require_GET
@never_cache
def dashboard_pdf(request):
    if not can(request.user, PERM):
        raise PermissionDenied
    form, params = params_from_request(request)
    if params is None:
        errors = [str(e) for errors in form.errors.values() for e in errors]
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    with reading_from_replica():
        pdf = render_dashboard_pdf(params)
    response = HttpResponse(pdf, content_type="application/pdf")
    if params.programs:
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            program=params.programs[0] if len(params.programs) == 1 else None,
            request=request,
            detail={"dashboard_pdf": params.as_query()},
        )
    codes = "-".join(p.code for p in params.programs) or "none"
    filename = f"program-performance-{codes}-{params.start:%Y-%m-%d}-{params.end:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [path("dashboard.pdf", dashboard_pdf, name="reporting_dashboard_pdf")]
