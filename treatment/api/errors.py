"""How the API answers a service's refusal: 400 with field errors, or 409 for a reused external
id; and the 413 of an oversize batch. The body is always tjp.api_errors' one error shape."""

from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from tjp.api_errors import Conflict
from treatment import services


class BatchTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The batch is too large.")
    default_code = "too_many_items"


def service_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as API field errors (`non_field_errors` for the rest)."""
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def is_conflict(exc: DjangoValidationError) -> bool:
    return not hasattr(exc, "error_dict") and any(
        e.code == services.CONFLICT for e in exc.error_list
    )


def submit(record: Callable[[], services.Submission]) -> services.Submission:
    """Run a service; its refusals become a 409 (external id reused) or a 400."""
    try:
        return record()
    except DjangoValidationError as exc:
        if is_conflict(exc):
            raise Conflict(detail=" ".join(exc.messages)) from exc
        raise exceptions.ValidationError(service_errors(exc)) from exc
