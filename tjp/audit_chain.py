"""The audit trail's hash chain, recomputed outside the database.

The database seals each AuditEvent when its transaction commits (migration 0006): the event
gets the next `chain_seq`, the previous event's hash as `prev_hash`, and
`hash = sha256(prev_hash + canonical text of the event)`. This module defines that canonical
text in Python and walks the chain, so a verification never relies on the database's own
trigger function: a changed column, a deleted row or a rewritten link shows as a break.

The canonical text (version `tjp-audit-v1`) is the tag `tjp-audit-v1:` followed by each column
of CHAIN_COLUMNS, in order, written as `<UTF-8 byte length>:<text>`, or `-` for NULL. The text
of a column is what PostgreSQL outputs for it (what psycopg hands Django: `inet` and `jsonb`
arrive as their output text), except `occurred_at`, which is integer microseconds since the
Unix epoch. tests/tjp/test_audit_chain.py checks this against the SQL for awkward values.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db import connection, transaction

CANONICAL_TAG = "tjp-audit-v1:"
GENESIS_HASH = "0" * 64
CHAIN_COLUMNS = (
    "id",
    "uuid",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "program_id",
    "participant_uuid",
    "consent_uuid",
    "ip_address",
    "user_agent",
    "path",
    "detail",
)
# The triggers migration 0006 installs, by table; audit_verify checks they are there and on.
PROTECTING_TRIGGERS = (
    ("tjp_auditevent", "tjp_auditevent_append_only"),
    ("tjp_auditevent", "tjp_auditevent_no_truncate"),
    ("tjp_auditevent", "tjp_auditevent_seal"),
    ("tjp_auditevent_sealing", "tjp_auditevent_sealing_seal"),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _text(value: Any) -> str | None:
    """A column's text as PostgreSQL writes it, for the values psycopg returns."""
    if value is None:
        return None
    if isinstance(value, datetime):
        # Integer arithmetic on timedelta: exact, whatever the value's time zone.
        return str((value - _EPOCH) // _MICROSECOND)
    if isinstance(value, UUID | int | str):
        return str(value)
    raise TypeError(f"no canonical text for {type(value).__name__}")


def _field(text: str | None) -> str:
    if text is None:
        return "-"
    return f"{len(text.encode('utf-8'))}:{text}"


def canonical_text(row: dict[str, Any]) -> str:
    """The text an event's hash covers. `row` maps CHAIN_COLUMNS to the values read from the
    database, with `detail` as jsonb's text (psycopg's loader under Django gives exactly that)."""
    return CANONICAL_TAG + "".join(_field(_text(row[column])) for column in CHAIN_COLUMNS)


def event_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_text(row)).encode("utf-8")).hexdigest()


class Problem(StrEnum):
    ROWS_MISSING = "rows missing"
    LINK_BROKEN = "link broken"
    CONTENT_CHANGED = "content changed"
    ANCHOR_MISSING = "anchored event missing"
    ANCHOR_CHANGED = "anchored event changed"


@dataclass(frozen=True)
class ChainBreak:
    problem: Problem
    seq: int
    uuid: UUID | None
    explanation: str

    def __str__(self) -> str:
        who = f"event {self.uuid} (seq {self.seq})" if self.uuid else f"seq {self.seq}"
        return f"{who}: {self.problem}: {self.explanation}"


@dataclass
class ChainReport:
    """What a walk of the chain found. `intact` is the verdict on the chain itself; unsealed
    rows and disabled triggers are failures of protection, reported beside it."""

    count: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    breaks: list[ChainBreak] = field(default_factory=list)
    break_count: int = 0
    unsealed_count: int = 0
    first_unsealed: UUID | None = None
    triggers_off: list[str] = field(default_factory=list)
    # "role: privileges" for roles other than the owner that may change or hook the tables.
    excess_privileges: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.break_count == 0

    @property
    def ok(self) -> bool:
        return (
            self.intact
            and self.unsealed_count == 0
            and not self.triggers_off
            and not self.excess_privileges
        )


# CHAIN_COLUMNS and the chain's own; jsonb as its output text, whatever loader is installed.
_SELECT = """
    SELECT chain_seq, prev_hash, hash, id, uuid, occurred_at, actor_id, actor_label, action,
           object_type, object_id, object_repr, program_id, participant_uuid, consent_uuid,
           ip_address, user_agent, path, detail::text AS detail
    FROM tjp_auditevent WHERE chain_seq > %s ORDER BY chain_seq LIMIT %s
"""


def _sealed_rows(after: int, batch_size: int) -> Iterator[dict[str, Any]]:
    """The sealed events after seq `after` in chain order, in keyset batches on the unique
    chain_seq index: constant memory, and each batch is one short index range scan."""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_SELECT, [after, batch_size])
            names = [col.name for col in cursor.description]
            batch = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1]["chain_seq"]


def _record(report: ChainReport, found: ChainBreak, keep: int) -> None:
    report.break_count += 1
    if len(report.breaks) < keep:
        report.breaks.append(found)


def _check_protection(report: ChainReport) -> None:
    with connection.cursor() as cursor:
        # Committed rows are sealed by their own commit, so any unsealed row visible here was
        # written with the sealing trigger off. Both queries use the partial unsealed index.
        cursor.execute("SELECT count(*) FROM tjp_auditevent WHERE chain_seq IS NULL")
        (report.unsealed_count,) = cursor.fetchone()
        if report.unsealed_count:
            cursor.execute(
                "SELECT uuid FROM tjp_auditevent WHERE chain_seq IS NULL ORDER BY id LIMIT 1"
            )
            (report.first_unsealed,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname IN ('tjp_auditevent', 'tjp_auditevent_sealing') "
            "AND pg_table_is_visible(c.oid) AND t.tgenabled <> 'D'"
        )
        enabled = set(cursor.fetchall())
        # A role that may UPDATE/DELETE/TRUNCATE is still stopped by the triggers, but one with
        # TRIGGER could hook rows before they are sealed, and none should hold them (0006).
        cursor.execute(
            "SELECT a.grantee::regrole::text, c.relname, "
            "string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type) "
            "FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.oid IN ('tjp_auditevent'::regclass, 'tjp_auditevent_sealing'::regclass) "
            "AND a.grantee <> c.relowner AND (c.relname = 'tjp_auditevent_sealing' "
            "OR a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES')) "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
        report.excess_privileges = [
            f"{'PUBLIC' if role == '-' else role} on {table}: {privileges}"
            for role, table, privileges in cursor.fetchall()
        ]
    report.triggers_off = [
        f"{table}.{name}" for table, name in PROTECTING_TRIGGERS if (table, name) not in enabled
    ]


def chain_verify(
    *,
    anchors: Iterable[tuple[int, str]] = (),
    start: tuple[int, str] = (0, GENESIS_HASH),
    batch_size: int = 10_000,
    keep: int = 20,
) -> ChainReport:
    """Walk the sealed events in chain order and recompute every hash.

    Each event must follow the previous one (`chain_seq` one higher: a gap is a deleted row),
    name its hash (`prev_hash`: else a row was replaced or the chain rewritten), and hash to its
    stored `hash` from its own columns (else its content changed). After a break the walk goes
    on from the stored values, so one edit shows as one break. `anchors` are (seq, hash) pairs
    recorded elsewhere earlier: they catch a chain rewritten from some point on, or cut short.
    `start` is where the walk begins, (seq, hash) of the last event before it: the genesis by
    default, or the last event of an archived, verified stretch (docs/audit.md).
    The walk reads one snapshot (REPEATABLE READ, read only) so concurrent sealing cannot make
    it see half a commit.
    """
    report = ChainReport()
    expected_anchors = dict(anchors)
    seen_anchors: set[int] = set()
    prev_seq, prev_hash = start
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if own_transaction:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _check_protection(report)
        for row in _sealed_rows(prev_seq, batch_size):
            seq, uuid = row["chain_seq"], row["uuid"]
            if seq != prev_seq + 1:
                gap = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1} to {seq - 1}"
                _record(
                    report,
                    ChainBreak(Problem.ROWS_MISSING, seq, uuid, f"no event at seq {gap}"),
                    keep,
                )
            elif row["prev_hash"] != prev_hash:
                _record(
                    report,
                    ChainBreak(
                        Problem.LINK_BROKEN,
                        seq,
                        uuid,
                        f"prev_hash {row['prev_hash']} is not seq {prev_seq}'s hash {prev_hash}",
                    ),
                    keep,
                )
            recomputed = event_hash(row["prev_hash"] or "", row)
            if recomputed != row["hash"]:
                _record(
                    report,
                    ChainBreak(
                        Problem.CONTENT_CHANGED,
                        seq,
                        uuid,
                        f"stored hash {row['hash']}, its columns hash to {recomputed}",
                    ),
                    keep,
                )
            if seq in expected_anchors:
                seen_anchors.add(seq)
                if expected_anchors[seq] != row["hash"]:
                    _record(
                        report,
                        ChainBreak(
                            Problem.ANCHOR_CHANGED,
                            seq,
                            uuid,
                            f"anchored hash {expected_anchors[seq]}, now {row['hash']}",
                        ),
                        keep,
                    )
            report.count += 1
            prev_seq, prev_hash = seq, row["hash"]
    for seq in sorted(set(expected_anchors) - seen_anchors):
        _record(
            report,
            ChainBreak(Problem.ANCHOR_MISSING, seq, None, f"the chain ends at seq {prev_seq}"),
            keep,
        )
    report.head_seq, report.head_hash = prev_seq, prev_hash
    return report
