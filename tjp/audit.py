"""Writing the audit trail. Every service and every sensitive read calls `record`."""

from typing import Any
from uuid import UUID

from django.http import HttpRequest

from tjp.models import AuditEvent, Program


def request_origin(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {}
    from axes.helpers import get_client_ip_address

    return {
        "ip_address": get_client_ip_address(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        "path": request.get_full_path()[:500],
    }


def record(
    *,
    actor,
    action: str,
    obj=None,
    program: Program | None = None,
    participant_uuid: UUID | None = None,
    consent_uuid: UUID | None = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label or (actor.email if actor is not None else ""),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(getattr(obj, "uuid", getattr(obj, "pk", ""))) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        program=program,
        participant_uuid=participant_uuid,
        consent_uuid=consent_uuid,
        detail=detail or {},
        **request_origin(request),
    )


def record_many(
    *, actor, action: str, rows: list[dict[str, Any]], request: HttpRequest | None = None
) -> None:
    """One audit row per record of a batch, inserted together (a lab's thousands of results, a
    staffing packet's disclosures). A row may name the consent it was made under."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    origin = request_origin(request)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_label=actor.email if actor is not None else "",
            action=action,
            object_type=row["obj"]._meta.label_lower,
            object_id=str(row["obj"].uuid),
            object_repr=str(row["obj"])[:200],
            program=row.get("program"),
            participant_uuid=row.get("participant_uuid"),
            consent_uuid=row.get("consent_uuid"),
            detail=row.get("detail") or {},
            **origin,
        )
        for row in rows
    )


def record_about(
    actor, action: str, obj, participant, request: HttpRequest | None = None, **detail: Any
) -> AuditEvent:
    """An event about one participant's record: the program and the participant's public id
    come from the participant (any object with `program` and `uuid`; `tjp` does not import the
    app that owns participants)."""
    return record(
        actor=actor,
        action=action,
        obj=obj,
        program=participant.program,
        participant_uuid=participant.uuid,
        request=request,
        detail=detail or None,
    )
