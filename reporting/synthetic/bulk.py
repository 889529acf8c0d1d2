"""Writing rows fast: COPY in PostgreSQL's text format, ids from the tables' sequences,
indexes and constraints re-created after the load, and a background thread that feeds the COPYs
while the main thread draws the next rows."""

import queue
import threading
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from django.db import connection

NULL = "\\N"


def esc(value: str) -> str:
    """A value in COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "")


class Clock:
    """COPY text for dates and times, in the program's zone, by day ordinal."""

    def __init__(self, tz: ZoneInfo, first: int, last: int):
        self.base = first
        self.days, self.offsets = [], []
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            noon = datetime.combine(day, clock_time(12), tzinfo=tz)
            seconds = int(noon.utcoffset().total_seconds())
            sign = "-" if seconds < 0 else "+"
            hours, minutes = divmod(abs(seconds) // 60, 60)
            self.days.append(day.isoformat())
            self.offsets.append(f"{sign}{hours:02d}:{minutes:02d}")
        self.hm = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(1440)]

    def day(self, ordinal: int) -> str:
        return self.days[ordinal - self.base]

    def at(self, ordinal: int, minute: int) -> str:
        """Local time `minute` after midnight of the day (may run into later days)."""
        if minute >= 1440:
            ordinal, minute = ordinal + minute // 1440, minute % 1440
        i = ordinal - self.base
        return f"{self.days[i]} {self.hm[minute]}{self.offsets[i]}"


class Writer:
    """COPY into tables whose ids this run takes from their identity sequences.

    While the activity is generated, the COPYs run on a background thread (on the same
    connection and transaction, which the main thread leaves alone meanwhile): PostgreSQL
    ingests one batch while Python draws the next.
    """

    def __init__(self):
        self.next_id: dict[type, int] = {}
        self.counts: dict[str, int] = {}
        self.jobs: queue.Queue | None = None
        self.failed: BaseException | None = None

    def reserve(self, model) -> None:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            # Nobody else inserts into the table until the generation commits: the ids taken
            # here from its sequence stay ours.
            cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [f'"{table}"'])
            self.next_id[model] = cursor.fetchone()[0]

    def ids(self, model, count: int) -> int:
        first = self.next_id[model]
        self.next_id[model] = first + count
        return first

    def finish(self) -> None:
        with connection.cursor() as cursor:
            for model, following in self.next_id.items():
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                    [f'"{model._meta.db_table}"', following],
                )

    def copy(self, model, columns: str, lines: list[str]) -> None:
        if not lines:
            return
        if self.jobs is not None:
            if self.failed is not None:
                raise self.failed
            self.jobs.put((model, columns, lines))
            return
        with connection.cursor() as cursor:
            # Through Django's cursor once, so the trigger/context settings of the wrappers
            # (pgtrigger.ignore, pghistory.context) are set in this transaction for the COPY.
            cursor.execute("SELECT 1")
            self._copy(cursor.cursor, model, columns, lines)

    def _copy(self, cursor, model, columns: str, lines: list[str]) -> None:
        table = model._meta.db_table
        with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
            for start in range(0, len(lines), 50_000):
                copy.write("".join(lines[start : start + 50_000]))
        self.counts[table] = self.counts.get(table, 0) + len(lines)

    @contextmanager
    def indexed_after(self, models):
        """Drop the secondary indexes, unique and foreign-key constraints of `models`' tables,
        load, then re-create them: PostgreSQL's advice for bulk loads ("Populating a Database"),
        one sort per index and one join per foreign key instead of millions of per-row index
        updates and key checks. All in the transaction: a row that breaks a constraint makes
        its re-creation fail and the whole load roll back, and nobody sees the tables without
        them (they stay locked until the commit)."""
        tables = [m._meta.db_table for m in models]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
                "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') "
                "ORDER BY contype, conname",
                [tables],
            )
            constraints = cursor.fetchall()  # foreign keys first
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) "
                # Partial indexes stay: few of the rows enter them, and PostgreSQL would print
                # a re-created predicate differently from the migration's.
                "AND i.indpred IS NULL AND NOT EXISTS ("
                "  SELECT 1 FROM pg_constraint c"
                "  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid"
                "  AND c.contype IN ('p', 'u', 'x')"
                ") ORDER BY 1",
                [tables],
            )
            indexes = cursor.fetchall()
            for table, name, _definition, _kind in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition, _kind in reversed(constraints):  # unique ones first
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    @contextmanager
    def in_background(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the wrappers' settings, as in copy()
        raw = connection.connection
        self.jobs = queue.Queue(maxsize=8)

        def drain():
            with raw.cursor() as cursor:
                while (job := self.jobs.get()) is not None:
                    if self.failed is None:
                        try:
                            self._copy(cursor, *job)
                        except BaseException as exc:  # handed to the main thread
                            self.failed = exc

        thread = threading.Thread(target=drain, name="synthetic-copy", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self.jobs.put(None)
            thread.join()
            self.jobs = None
        if self.failed is not None:
            raise self.failed
