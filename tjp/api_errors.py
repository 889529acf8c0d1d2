"""One error shape for the whole API.

Every error the API answers with has this body::

    {"error": {"status": 404, "code": "not_found", "message": "Not found.", "details": null}}

`code` is stable and machine-readable; `message` is for people, in the request's language;
`details` holds the field errors of a 400 (a dict by field, or a list), the wait of a 429
(`{"wait_seconds": 12}`), or null. Django's `Http404` and `PermissionDenied` raised in API views
get the same shape (with generic messages: the exception's own text may name models), and so
does a path under /api/ that names no endpoint (`page_not_found`, Django's handler404). Anything
else is a server error and propagates to Django (logged, a plain 500).
"""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    """The request contradicts what is stored, e.g. an external id re-sent with other content."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with data already stored.")
    default_code = "conflict"


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return exceptions.ValidationError.default_code  # "invalid"; per-field codes vary
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _message_and_details(exc: exceptions.APIException):
    if isinstance(exc, exceptions.ValidationError):
        return _("The request is not valid. See the details."), exc.detail
    if isinstance(exc, exceptions.Throttled):
        return str(exc.detail), {"wait_seconds": exc.wait}  # whole seconds
    detail = exc.detail
    if isinstance(detail, list | dict):  # an APIException raised with structured detail
        return str(exc.default_detail), detail
    return str(detail), None


def error_body(*, status_code: int, code: str, message, details=None) -> dict:
    return {
        "error": {"status": status_code, "code": code, "message": str(message), "details": details}
    }


def exception_handler(exc, context):
    """DRF's handler (headers such as WWW-Authenticate and Retry-After, transaction rollback),
    with the body replaced by the one error shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    message, details = _message_and_details(exc)
    response.data = error_body(
        status_code=response.status_code, code=_code(exc), message=message, details=details
    )
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 (handler404): for a path under /api/ that names no endpoint, or a malformed
    uuid in one, the one error shape, as the API's own views answer; elsewhere the page."""
    if request.path.startswith("/api/"):
        body = error_body(
            status_code=404, code="not_found", message=exceptions.NotFound.default_detail
        )
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


# --- for the OpenAPI schema ------------------------------------------------------------------
class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text=_("The HTTP status code."))
    code = serializers.CharField(
        help_text=_(
            "Machine-readable: invalid, parse_error, not_authenticated, authentication_failed, "
            "permission_denied, not_found, method_not_allowed, conflict, throttled…"
        )
    )
    message = serializers.CharField(help_text=_("For people, in the request's language."))
    details = serializers.JSONField(
        allow_null=True,
        help_text=_(
            "Field errors of a 400 (by field, or a list), the wait of a 429, otherwise null."
        ),
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_EXAMPLES = {
    400: ("invalid", "The request is not valid. See the details.", {"phase": ["Enter a number."]}),
    401: ("not_authenticated", "Authentication credentials were not provided.", None),
    403: ("permission_denied", "You do not have permission to perform this action.", None),
    404: ("not_found", "Not found.", None),
    405: ("method_not_allowed", 'Method "POST" not allowed.', None),
    409: ("conflict", "The request conflicts with data already stored.", None),
    415: ("unsupported_media_type", 'Unsupported media type "text/plain" in request.', None),
    429: (
        "throttled",
        "Request was throttled. Expected available in 12 seconds.",
        {"wait_seconds": 12},
    ),
}


def error_response(
    status_code: int, code: str, message, details=None, *, description=None
) -> OpenApiResponse:
    """One documented error answer, in the one shape, with its example; `description` says
    when this endpoint gives it (the example's message by default)."""
    return OpenApiResponse(
        response=ErrorSerializer,
        description=str(description or message),
        examples=[
            OpenApiExample(
                code,
                value=error_body(
                    status_code=status_code, code=code, message=message, details=details
                ),
                response_only=True,
                status_codes=[str(status_code)],
            )
        ],
    )


def error_responses(*status_codes: int, **descriptions) -> dict[int, OpenApiResponse]:
    """`responses=` entries for extend_schema, e.g. `{200: X, **error_responses(400, 404)}`;
    `not_found=_("No such participant within your scope.")` says when this endpoint gives one
    (keyed by the error's code)."""
    out = {}
    for status_code in status_codes:
        code, message, details = _EXAMPLES.get(
            status_code,
            (
                HTTPStatus(status_code).phrase.lower().replace(" ", "_"),
                HTTPStatus(status_code).phrase,
                None,
            ),
        )
        out[status_code] = error_response(
            status_code, code, message, details, description=descriptions.get(code)
        )
    return out
