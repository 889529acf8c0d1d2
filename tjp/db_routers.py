"""Reports read from the replica; everything else reads and writes the primary.

With DATABASE_REPLICA_URL set, settings add a `replica` database and install `ReplicaRouter`.
Reads go to the replica only inside `reading_from_replica()`, which the reporting entry points
enter around their computations (the dashboard, equity and standards pages, the dashboard PDF,
the export job, the evaluation extract). They enter it after their access checks, which read
the primary: a grant or a consent changed a second ago counts at once. A replica is a few
seconds behind (asynchronous streaming replication): a report may miss the very latest rows,
which is fine for figures over months and not for deciding who may see what.

Inside the scope these still go to the primary:
- every write (audit events, export job rows, disclosures), and reads that lock rows
  (`select_for_update`) or are Django's own read-before-write (`get_or_create`): Django asks
  `db_for_write` for those;
- any read inside a transaction on the primary: it may need that transaction's own uncommitted
  rows or locks, which a replica cannot have.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

REPLICA = "replica"

# A context variable, not a global or a thread-local: each request or task (thread, or
# asyncio task under ASGI) has its own scope.
_reporting_read: ContextVar[bool] = ContextVar("reporting_read", default=False)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads made inside go to the replica (when one is configured; else nothing changes)."""
    token = _reporting_read.set(True)
    try:
        yield
    finally:
        _reporting_read.reset(token)


class ReplicaRouter:
    """Installed by settings only when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model: type[Model], **hints) -> str:
        if not _reporting_read.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool | None:
        # Both hold the same rows: a program read from the replica may be named by an audit
        # event written to the primary.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        # The replica replays the primary's WAL, schema included; it is never migrated itself.
        return db == DEFAULT_DB_ALIAS
