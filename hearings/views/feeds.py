"""Calendar feeds: the page where a user creates, rotates or stops their secret iCalendar
address, and the feed a calendar application fetches with that address.

The feed is fetched without a session (calendar applications cannot sign in): the secret in the
address is the credential. It is shown once, when created; TJP keeps only its hash. An unknown
secret, an inactive account or a role that may no longer see sessions all get the same 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hearings import notify
from hearings.models import CalendarFeed
from tjp.access import can


def _require_sessions(request) -> None:
    if not can(request.user, notify.VIEW_SESSIONS):
        raise PermissionDenied


@never_cache
@require_http_methods(["GET", "POST"])
def calendar_feed_settings(request):
    """GET: whether the user has a feed. POST: a new address (the old one stops working),
    shown on this response only: it is not put in the session or a message."""
    _require_sessions(request)
    if request.method == "POST":
        token = notify.calendar_feed_rotate(acting_user=request.user, request=request)
        feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
        return render(request, "hearings/feed.html", {"feed_url": feed_url, "has_feed": True})
    feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(request, "hearings/feed.html", {"feed": feed, "has_feed": feed is not None})


@require_POST
def calendar_feed_stop(request):
    _require_sessions(request)
    if notify.calendar_feed_stop(acting_user=request.user, request=request):
        messages.success(request, _("Your calendar feed is stopped: its address no longer works."))
    return redirect("calendar_feed_settings")


@login_not_required
@never_cache
@require_safe
def calendar_feed(request, token: str):
    user = notify.calendar_feed_owner(token)
    if user is None:
        raise Http404
    response = HttpResponse(notify.calendar_ics(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tjp-hearings.ics"'
    return response


urlpatterns = [
    path("calendar-feed/", calendar_feed_settings, name="calendar_feed_settings"),
    path("calendar-feed/stop/", calendar_feed_stop, name="calendar_feed_stop"),
    path("feeds/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
