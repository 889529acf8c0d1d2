import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from tjp.signals import SESSION_STARTED_KEY
from tjp.text import HAS_CONTROL_CHARACTER


class AbsoluteSessionLimitMiddleware:
    """Ends a session a fixed time after sign-in, however active it is.

    The idle timeout is Django's own sliding SESSION_COOKIE_AGE; Django has no setting for a
    hard limit, so this small middleware adds one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = timezone.now().timestamp()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, _("Your session has ended. Please sign in again."))
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)


def control_character_fields(request: HttpRequest) -> list[str]:
    """The inputs of the request — query string, form fields — holding a control character
    (tjp.text), by name. The API's JSON bodies are checked field by field by its own fields
    (tjp.api_fields), so that a lab's batch can report the one bad item; its form bodies are
    left unread (it accepts JSON only, and reading them here would make REST framework accept
    them). Uploaded file names need no check: Django's parser strips what is not printable."""
    texts = [(k, v) for k, vs in request.GET.lists() for v in [k, *vs]]
    form = ("application/x-www-form-urlencoded", "multipart/form-data")
    api = request.path.startswith("/api/")
    if request.method == "POST" and request.content_type in form and not api:
        texts += [(k, v) for k, vs in request.POST.lists() for v in [k, *vs]]
    return sorted({name for name, text in texts if HAS_CONTROL_CHARACTER.search(text)})


class RejectControlCharactersMiddleware:
    """Every text input is refused whole, with a clear message, when it holds control
    characters: a NUL byte in a search was a server error (PostgreSQL refuses it), and nothing
    is half-saved when the whole request is turned away first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = control_character_fields(request)
        if fields:
            message = _(
                "The request contains control characters (such as a null byte) that cannot be "
                "stored. Remove them and try again."
            )
            if request.path.startswith("/api/"):
                from tjp.api_errors import error_body

                body = error_body(
                    status_code=400,
                    code="invalid",
                    message=message,
                    details={field: [message] for field in fields},
                )
                return JsonResponse(body, status=400)
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)


# What a session that has passed only the password step may reach (view names: the admin's
# "admin:logout" is not our "logout").
HALF_SIGNED_IN_ALLOWED = {
    "second_factor",
    "second_factor_enrol",
    "logout",
    "login",
    "set_language",
    "healthz",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


class SecondFactorRequiredMiddleware:
    """A signed-in session that has not passed the second factor reaches the verification and
    enrolment pages and nothing else (CJIS IA-2): pages, htmx fragments, downloads, /admin/ and
    the API through the session alike. API tokens (the machine credential) do not come through
    here: the token is authenticated by the API view, where the user is anonymous for us."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in HALF_SIGNED_IN_ALLOWED:
            return None
        message = _("Finish signing in with your second factor first.")
        if request.path.startswith("/api/"):
            from tjp.api_errors import error_body

            body = error_body(status_code=403, code="second_factor_required", message=message)
            return JsonResponse(body, status=403)
        target = f"{reverse('second_factor')}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=403)
            response["HX-Redirect"] = target
            return response
        return redirect(target)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in user (pages, PDFs, exports,
    API): none of them may be kept by a browser's or a proxy's cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # REST framework sets request.user to the token's owner after authenticating it.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


# A record URL names a record by its public id.
RECORD_URL = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(/|\.|$)")


class DeniedAuditMiddleware:
    """Refused requests on record URLs (403, 404) and refused sign-ins of a locked account (429)
    are `denied` events: the trail shows who tried what, not only what was done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        denied = (status in (403, 404) and RECORD_URL.search(request.path)) or (
            status == 429 and request.resolver_match and request.resolver_match.url_name == "login"
        )
        if denied:
            from tjp import audit
            from tjp.models import AuditEvent, canonical_email

            user = getattr(request, "user", None)
            audit.record(
                actor=user if user is not None and user.is_authenticated else None,
                actor_label=""
                if user is not None and user.is_authenticated
                else canonical_email(request.POST.get("username", ""))[:254],
                action=AuditEvent.Action.DENIED,
                request=request,
                detail={"status": status, "method": request.method},
            )
        return response
