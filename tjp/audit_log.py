"""Reading the audit trail: whose events a user may see, and pages of them fit for millions.

Pages are keyset ("seek") pages on (occurred_at, id), newest first: each page is one index range
scan from where the last one stopped, so the hundredth page costs what the first does. No
COUNT(*) (a count of millions of rows is a scan of millions) and no OFFSET (which reads and
discards every row before the page). The position in URLs is an event's uuid, never its id.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import BigIntegerField, DateTimeField, F, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan

from tjp.access import can, programs_visible_to
from tjp.models import AuditEvent, User

PAGE_SIZE = 50


def events_visible_to(user: User) -> QuerySet[AuditEvent]:
    """Administrators see every event; a program manager their programs' events (events with no
    program — sign-ins, an administrator's own work — belong to no manager)."""
    if not can(user, "tjp.view_auditevent"):
        return AuditEvent.objects.none()
    if can(user, "tjp.administer_all_programs"):
        return AuditEvent.objects.all()
    # The ids, not a subquery: `program_id = X` (or a short IN list) lets PostgreSQL read the
    # (program, occurred_at, id) index in order; a semi-join would sort the program's events.
    return AuditEvent.objects.filter(
        program__in=list(programs_visible_to(user).values_list("id", flat=True))
    )


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    # The events the Newer / Older links continue from; None when there is nothing that way.
    newer_than: AuditEvent | None
    older_than: AuditEvent | None

    @property
    def is_newest(self) -> bool:
        return self.newer_than is None


def _row(*values: Func | F | Value) -> Func:
    # PostgreSQL compares rows lexicographically and reads `(occurred_at, id) < (t, i)` as one
    # range of an index ending in (occurred_at, id); `t < … OR (t = … AND id < …)` it cannot.
    # (The output field only lets Django build the comparison; the SQL is a row comparison.)
    return Func(*values, function="ROW", output_field=DateTimeField())


def _key(event_time: datetime, event_id: int) -> Func:
    return _row(
        Value(event_time, output_field=DateTimeField()),
        Value(event_id, output_field=BigIntegerField()),
    )


def event_page(
    events: QuerySet[AuditEvent],
    *,
    scope: QuerySet[AuditEvent],
    before: UUID | None = None,
    after: UUID | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """A page of `events`, newest first: the newest `size`, or those just older than the event
    `before`, or just newer than the event `after`. The anchoring event is looked up in `scope`
    (what the user may see, whatever the filters): an unknown or invisible anchor gives the
    newest page, and reveals nothing about the event it named."""
    newer = before is None and after is not None
    anchor: tuple[datetime, int] | None = None
    if before is not None or after is not None:
        at = scope.filter(uuid=after if newer else before)
        anchor = at.values_list("occurred_at", "id").first()
    own_key = _row(F("occurred_at"), F("id"))
    events = events.select_related("program")
    if anchor is not None and newer:
        later = events.filter(GreaterThan(own_key, _key(*anchor))).order_by("occurred_at", "id")
        rows = list(later[: size + 1])
        if rows:  # else the newer events are gone from the filter: show the newest page
            shown = rows[:size][::-1]
            return EventPage(
                events=shown,
                newer_than=shown[0] if len(rows) > size else None,
                older_than=shown[-1],
            )
    older = anchor is not None and not newer
    if older:
        events = events.filter(LessThan(own_key, _key(*anchor)))
    rows = list(events.order_by("-occurred_at", "-id")[: size + 1])
    shown = rows[:size]
    return EventPage(
        events=shown,
        newer_than=shown[0] if older and shown else None,
        older_than=shown[-1] if len(rows) > size else None,
    )
