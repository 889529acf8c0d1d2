"""Every write on the court calendar and dockets. Each service takes the acting user, is
atomic, and leaves an audit row; status and phase changes made in court go through the
participants services, so the rules are written once.

One module per subject; callers import from here (`from hearings import services`)."""

from hearings.services.catalog import (
    DEFAULT_CATALOG,
    catalog_ensure,
    response_type_save,
)
from hearings.services.conflicts import (
    session_conflicts,
)
from hearings.services.court import (
    ENTRY_FIELDS,
    STALE_FIELD,
    bench_warrant,
    entry_update,
    exceeds_jail_standard,
    response_add,
    staffing_note_add,
)
from hearings.services.dockets import (
    HearingDue,
    docket_add,
    docket_add_due,
    docket_remove,
    due_participants,
    hearing_due,
)
from hearings.services.rules import (
    MAX_SERIES_SESSIONS,
    SCHEDULABLE_STATUSES,
    venue_of,
)
from hearings.services.sessions import (
    STALE_SESSION,
    series_create,
    series_dates,
    session_cancel,
    session_create,
    session_update,
)

__all__ = [
    "DEFAULT_CATALOG",
    "ENTRY_FIELDS",
    "MAX_SERIES_SESSIONS",
    "SCHEDULABLE_STATUSES",
    "STALE_FIELD",
    "STALE_SESSION",
    "HearingDue",
    "bench_warrant",
    "catalog_ensure",
    "docket_add",
    "docket_add_due",
    "docket_remove",
    "due_participants",
    "entry_update",
    "exceeds_jail_standard",
    "hearing_due",
    "response_add",
    "response_type_save",
    "series_create",
    "series_dates",
    "session_cancel",
    "session_conflicts",
    "session_create",
    "session_update",
    "staffing_note_add",
    "venue_of",
]
