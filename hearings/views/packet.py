"""The staffing packet of a session: a printable page and the same packet as a PDF."""

from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hearings.access import get_session_for_user
from hearings.packet import staffing_packet as build_packet
from hearings.pdf import packet_pdf

PERM = "hearings.view_hearingsession"


@require_GET
@never_cache
def staffing_packet(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=PERM)
    packet = build_packet(request.user, session, request=request)
    with timezone.override(ZoneInfo(session.program.time_zone)):
        return render(request, "hearings/packet.html", {"packet": packet})


@require_GET
@never_cache
def staffing_packet_pdf(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=PERM)
    packet = build_packet(request.user, session, request=request, export=True)
    response = HttpResponse(packet_pdf(packet), content_type="application/pdf")
    starts = timezone.localtime(session.starts_at, ZoneInfo(session.program.time_zone))
    filename = f"staffing-packet-{session.program.code}-{starts:%Y-%m-%d-%H%M}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path(
        "sessions/<uuid:session_uuid>/packet/",
        staffing_packet,
        name="staffing_packet",
    ),
    path(
        "sessions/<uuid:session_uuid>/packet.pdf",
        staffing_packet_pdf,
        name="staffing_packet_pdf",
    ),
]
