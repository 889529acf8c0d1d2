"""A participant's case summary as a PDF download (program managers)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from participants.access import get_participant_for_user
from reporting.case_summary import case_summary, case_summary_pdf
from tjp.clock import program_today

PERM = "reporting.export_reports"


@require_GET
@never_cache
def case_summary_download(request, participant_uuid):
    participant = get_participant_for_user(request.user, participant_uuid, perm=PERM)
    summary = case_summary(request.user, participant, request=request)
    response = HttpResponse(case_summary_pdf(summary), content_type="application/pdf")
    # No name in the file name: it shows in download lists and browser histories.
    today = program_today(participant.program)
    filename = f"case-summary-{participant.program.code}-{participant.uuid}-{today:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path(
        "participants/<uuid:participant_uuid>/summary.pdf",
        case_summary_download,
        name="case_summary_pdf",
    ),
]
