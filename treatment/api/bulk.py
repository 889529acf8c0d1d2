"""The labs' bulk endpoint: thousands of drug test results in one request, recorded through
`drug_tests_record` (idempotent on external ids, bulk inserts) as one batch that is saved only
if every item is good, unless the client allows a partial batch."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

from participants.access import participants_visible_to
from tjp.api_errors import error_body
from treatment import services
from treatment.access import is_clinician
from treatment.api.errors import BatchTooLarge, service_errors
from treatment.api.serializers import DrugTestInSerializer, drug_test_arguments
from treatment.models import Source

# A generous ceiling for one bulk item as JSON (pretty-printed, every substance): bodies larger
# than max_items times this are refused before they are parsed.
BULK_BYTES_PER_ITEM = 4096


def _items(request) -> tuple[list, bool]:
    """The batch's items and allow_partial; oversize batches are refused before any work."""
    max_items = settings.API_BULK_MAX_ITEMS
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_items * BULK_BYTES_PER_ITEM:
        raise BatchTooLarge(_("The request body is too large for one batch."))
    body = request.data
    if not isinstance(body, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": [_("Send an object with an “items” list.")]}
        )
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise exceptions.ValidationError({"items": [_("Give a non-empty list of items.")]})
    if len(items) > max_items:
        raise BatchTooLarge(
            _("At most %(max)d items per batch; this one has %(count)d. Nothing was saved.")
            % {"max": max_items, "count": len(items)}
        )
    allow_partial = body.get("allow_partial", False)
    if not isinstance(allow_partial, bool):
        raise exceptions.ValidationError({"allow_partial": [_("Must be true or false.")]})
    return items, allow_partial


def _record(request, items: list, allow_partial: bool) -> list[dict[str, Any]]:
    """Check every item, then record them in one batch (`drug_tests_record`): all or nothing,
    unless the client allows partial batches. Returns one result per item."""
    user = request.user
    checked = []  # (valid, validated data or errors), item by item
    serializer = DrugTestInSerializer()  # one instance: building its fields costs more than a check
    for item in items:
        try:
            checked.append((True, serializer.run_validation(item)))
        except exceptions.ValidationError as exc:
            errors = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
            checked.append((False, errors))
    wanted = {data["participant"] for valid, data in checked if valid}
    # One query for the batch's participants; any outside the caller's scope is reported as
    # not found, like a 404.
    visible = {
        p.uuid: p
        for p in participants_visible_to(user).filter(uuid__in=wanted).select_related("program")
    }
    # A lab's results sent by the court team are lab results; a provider's are provider-reported
    # (and shown to the court only under consent), whichever endpoint they come through.
    source = None if is_clinician(user) else Source.LAB
    results = []
    batch, positions = [], []
    for index, (item, (valid, data)) in enumerate(zip(items, checked, strict=True)):
        row = {"index": index, "external_id": _external_id(item, valid, data)}
        results.append(row)
        if not valid:
            row.update(status="error", errors=_plain(data))
            continue
        participant = visible.get(data["participant"])
        if participant is None:
            row.update(status="error", errors={"participant": [str(_("Not found."))]})
            continue
        batch.append({"participant": participant, **drug_test_arguments(data)})
        positions.append(index)
    # An item that fails the checks above stops a non-partial batch: the others are still
    # checked (every problem is reported at once) but nothing is saved.
    stopped = not allow_partial and any(row.get("status") == "error" for row in results)
    outcomes, saved = (
        services.drug_tests_record(
            acting_user=user,
            items=batch,
            source=source,
            request=request,
            allow_partial=allow_partial,
            check_only=stopped,
        )
        if batch
        else ([], False)
    )
    for index, outcome in zip(positions, outcomes, strict=False):
        row = results[index]
        if outcome.status == "conflict":
            row.update(status="conflict", errors={"external_id": outcome.error.messages})
        elif outcome.status == "error":
            row.update(status="error", errors=service_errors(outcome.error))
        elif saved or outcome.status == "duplicate":
            row.update(status=outcome.status, uuid=str(outcome.test.uuid))
        else:  # would have been created, but the batch was not saved
            row.update(status="not_saved")
    for index in positions:
        results[index].setdefault("status", "not_saved")
    return results


def _external_id(item: Any, valid: bool, data: dict) -> str | None:
    """The item's external id as the answer repeats it: only one that passed the field's checks
    (a text of any length, or with a NUL, would otherwise come back in the answer)."""
    if valid:
        return data["external_id"]
    if "external_id" in data or not isinstance(item, dict):
        return None
    external_id = item.get("external_id")
    return external_id.strip() if isinstance(external_id, str) else None


def _plain(errors) -> Any:
    """DRF's ErrorDetail tree as plain JSON (lists of strings, nested by field or index)."""
    if isinstance(errors, dict):
        return {str(k): _plain(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [_plain(v) for v in errors]
    return str(errors)


def _summary(results: list[dict[str, Any]], saved: bool) -> dict[str, Any]:
    counts = dict.fromkeys(("created", "duplicate", "error", "conflict", "not_saved"), 0)
    for row in results:
        counts[row["status"]] += 1
    return {"received": len(results), **counts, "saved": saved}


def respond(request) -> Response:
    """The whole bulk request: 200 with every item's status when the batch is saved (in full,
    or its valid items with allow_partial); otherwise nothing is saved and the error shape
    carries the same per-item statuses (400, or 409 when every problem is a conflict)."""
    items, allow_partial = _items(request)
    results = _record(request, items, allow_partial)
    summary = _summary(results, saved=True)
    problems = summary["error"] + summary["conflict"]
    if not problems or allow_partial:
        return Response({"summary": summary, "results": results})
    summary["saved"] = False
    status_code, code = (400, "invalid") if summary["error"] else (409, "conflict")
    message = _(
        "Nothing was saved: %(bad)d of %(count)d items are not valid or conflict with stored "
        "data. See the details."
    ) % {"bad": problems, "count": len(results)}
    body = error_body(
        status_code=status_code,
        code=code,
        message=message,
        details={"summary": summary, "results": results},
    )
    return Response(body, status=status_code)
