import json
import re
from collections.abc import Iterator
from contextlib import suppress
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


# C0 controls except tab, line feed and carriage return, and DEL. PostgreSQL cannot store NUL
# in text at all, and the others have no business in a name, a note or a search.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same characters written as JSON escapes (a JSON body cannot carry them raw).
JSON_CONTROL_ESCAPE = re.compile(r"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")


def _json_strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every key and string in a JSON document; paths like `items.3.lab`."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key)
            yield from _json_strings(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}.{index}" if path else str(index))


def control_character_fields(request: HttpRequest) -> list[str] | None:
    """The inputs of the request — query string, form fields, JSON strings — holding a control
    character, by name (None when there is none)."""
    texts: list[tuple[str, str]] = [(k, v) for k, vs in request.GET.lists() for v in [k, *vs]]
    if request.method in ("POST", "PUT", "PATCH"):
        api = request.path.startswith("/api/")
        # Form bodies of the API are left unread: its views accept JSON only, and reading them
        # here would make REST framework accept them. Uploaded file names need no check:
        # Django's parser strips what is not printable.
        form = ("application/x-www-form-urlencoded", "multipart/form-data")
        if request.content_type in form and not api:
            texts += [(k, v) for k, vs in request.POST.lists() for v in [k, *vs]]
        elif request.content_type == "application/json":
            body = request.body.decode("utf-8", errors="replace")
            # Not JSON at all: the API's parser answers that.
            if JSON_CONTROL_ESCAPE.search(body):
                with suppress(ValueError):
                    texts += list(_json_strings(json.loads(body)))
    fields = sorted({name for name, text in texts if CONTROL_CHARACTERS.search(text)})
    return fields or None


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
