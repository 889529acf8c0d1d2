"""One participant's hearings, as a panel the participant's page loads with htmx.

`participants` may not import `hearings` (the dependency order), so the participant's page only
reverses this URL by name and lets the browser fetch the panel. What a user sees here is what
the hearings pages give them: the participant through participants.access, their docket entries
through hearings.access (the full entry only), and the session linked when the session is theirs
to see. Court facts only: no staffing notes, nothing a treatment provider reported.
"""

from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from hearings.access import full_entries_visible_to, sessions_visible_to
from hearings.models import Response
from participants.access import get_participant_for_user
from tjp import audit, clock
from tjp.models import AuditEvent

VIEW = "hearings.view_hearingsession"
# Past appearances shown before "see all" (a participant in a long program has dozens).
PAST_SHOWN = 20


def _entries(user, participant):
    return (
        full_entries_visible_to(user)
        .filter(participant=participant)
        .select_related("session__judge", "phase")
        .annotate(
            session_visible=Exists(sessions_visible_to(user).filter(pk=OuterRef("session_id")))
        )
    )


@require_GET
def participant_hearings(request, participant_uuid):
    user = request.user
    participant = get_participant_for_user(user, participant_uuid, perm=VIEW)
    now = timezone.now()
    upcoming = list(
        _entries(user, participant)
        .filter(session__starts_at__gte=now)
        .order_by("session__starts_at", "pk")
    )
    show_all = request.GET.get("past") == "all"
    past_qs = (
        _entries(user, participant)
        .filter(session__starts_at__lt=now)
        .order_by("-session__starts_at", "-pk")
        .prefetch_related(
            Prefetch("responses", queryset=Response.objects.select_related("response_type"))
        )
    )
    past = list(past_qs if show_all else past_qs[: PAST_SHOWN + 1])
    more = not show_all and len(past) > PAST_SHOWN
    audit.record(
        actor=user,
        action=AuditEvent.Action.VIEW,
        obj=participant,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
        detail={"hearings": [str(e.uuid) for e in upcoming + past[:PAST_SHOWN]]},
    )
    context = {
        "participant": participant,
        "upcoming": upcoming,
        "past": past if show_all else past[:PAST_SHOWN],
        "more": more,
        "past_shown": PAST_SHOWN,
    }
    with clock.program_zone(participant.program):
        return render(request, "hearings/participant_hearings.html", context)


urlpatterns = [
    path(
        "participants/<uuid:participant_uuid>/hearings/",
        participant_hearings,
        name="participant_hearings",
    ),
]
