"""The staffing packet of a session: a printable page and the same packet as a PDF."""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hearings.access import get_session_for_user
from hearings.packet import staffing_packet as build_packet
from hearings.pdf import packet_pdf
from tjp import clock

PERM = "hearings.view_hearingsession"


@require_GET
@never_cache
def staffing_packet(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=PERM)
    packet = build_packet(request.user, session, request=request)
    with clock.program_zone(session.program):
        return render(request, "hearings/packet.html", {"packet": packet})


@require_GET
@never_cache
def staffing_packet_pdf(request, session_uuid):
    session = get_session_for_user(request.user, session_uuid, perm=PERM)
    packet = build_packet(request.user, session, request=request, export=True)
    response = HttpResponse(packet_pdf(packet), content_type="application/pdf")
    starts = clock.local(session.starts_at, session.program)
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
