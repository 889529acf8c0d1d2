"""The audit trail proves itself: sealed at commit into a hash chain, append-only, no TRUNCATE,
and `audit_verify` recomputes the chain in Python and names the first broken event.

Sealing happens at commit (deferred triggers), and the `db` fixture never commits: these
tests use real transactions, or `SET CONSTRAINTS ALL IMMEDIATE` where sealing inside the
test's transaction is enough.
"""

import threading
import time
from datetime import UTC, datetime
from io import StringIO
from uuid import UUID

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection, transaction

from tests.factories import PhaseFactory
from tjp import audit
from tjp.audit_chain import GENESIS_HASH, canonical_text, chain_verify, event_hash
from tjp.models import AuditEvent, Program

TIMEOUT = 10


def _write(n: int = 1, **fields) -> list[AuditEvent]:
    return [audit.record(actor=None, action=AuditEvent.Action.VIEW, **fields) for _ in range(n)]


def _sealed() -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(chain_seq=None).order_by("chain_seq"))


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _tamper(sql: str, params: list) -> None:
    """What only a superuser (or the table's owner, with its triggers disabled) can do."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


# --- the canonical form: Python and SQL agree ------------------------------------------------

AWKWARD = [
    {
        "actor_label": "José Núñez <jn@example.org>",
        "object_repr": "emoji 🧪, quotes \" ', backslash \\, tab\t, newline\n, LS \u2028",
        "ip_address": "192.168.10.1",
        "detail": {"b": [1, 1.5, 1e20, -0.0, None, True], "a": {"ñ": "\u0001\u001f\u007f"}},
        "path": "/p/?q=a%20b&x=ü",
    },
    {"ip_address": "2001:db8::1", "detail": {"": "", "long" * 10: 12345678901234567890}},
    {"ip_address": "::ffff:10.0.0.1", "detail": {}, "user_agent": ""},
    {"ip_address": None, "participant_uuid": UUID(int=0), "consent_uuid": UUID(int=2**128 - 1)},
]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 8, 8, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # before the epoch
    ],
)
def test_python_and_sql_hash_the_same_text(db, program, moment):
    with time_machine.travel(moment, tick=False):
        events = [
            AuditEvent.objects.create(action=AuditEvent.Action.EXPORT, program=program, **fields)
            for fields in AWKWARD
        ]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT id, tjp_auditevent_canonical(e) FROM tjp_auditevent e WHERE id = ANY(%s)",
            [[e.pk for e in events]],
        )
        in_sql = dict(cursor.fetchall())
    report = chain_verify()
    assert report.ok and report.count == len(AWKWARD)
    for event in _sealed():
        row = {
            **{f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields},
            "detail": _detail_text(event.pk),
        }
        assert canonical_text(row) == in_sql[event.pk]
        assert event_hash(event.prev_hash, row) == event.hash


def _detail_text(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT detail::text FROM tjp_auditevent WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_canonical_text_is_spelled_out():
    """The format, written out (not computed by the code under test): a change to it would
    make every sealed event unverifiable."""
    row = {
        "id": 7,
        "uuid": UUID("00000000-0000-0000-0000-00000000000a"),
        "occurred_at": datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC),
        "actor_id": None,
        "actor_label": "ñ",
        "action": "view",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "program_id": 3,
        "participant_uuid": None,
        "consent_uuid": None,
        "ip_address": "10.0.0.1",
        "user_agent": "",
        "path": "",
        "detail": "{}",
    }
    assert canonical_text(row) == (
        "tjp-audit-v1:1:736:00000000-0000-0000-0000-00000000000a7:1000005-2:ñ4:view0:0:0:1:3--"
        "8:10.0.0.10:0:2:{}"
    )


# --- append-only ----------------------------------------------------------------------------


def test_a_sealed_event_cannot_be_changed_or_deleted(db):
    (event,) = _write()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    event.refresh_from_db()
    assert event.chain_seq == 1
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(detail={"x": 1}),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(hash=GENESIS_HASH),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            attempt()


def test_nobody_but_the_sealing_trigger_may_seal(db):
    """An unsealed row (only ever seen by its own transaction) cannot be sealed by hand."""
    (event,) = _write()
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(
            chain_seq=1, prev_hash=GENESIS_HASH, hash="f" * 64
        )


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused():
    _write(2)
    with pytest.raises(ProgrammingError, match="Cannot truncate"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE tjp_auditevent")
    with pytest.raises(ProgrammingError, match="Cannot truncate"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE tjp_user CASCADE")  # would reach the trail through its FK
    assert AuditEvent.objects.count() == 2


# --- the chain and audit_verify ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_commit_seals_its_events_into_one_chain():
    _write(2)
    with transaction.atomic():
        _write(3)  # one transaction, several events: sealed in insert order
    events = _sealed()
    assert [e.chain_seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert not AuditEvent.objects.filter(chain_seq=None).exists()


@pytest.mark.django_db(transaction=True)
def test_verify_passes_an_intact_chain_and_prints_its_head():
    _write(3)
    head = _sealed()[-1]
    out = _verify()
    assert "3 sealed events checked" in out
    assert f"head 3 {head.hash}" in out
    assert _verify("--anchor", f"3:{head.hash}")


@pytest.mark.django_db(transaction=True)
def test_verify_names_an_event_changed_behind_the_triggers():
    events = _write(5)
    target = events[2]
    _tamper("UPDATE tjp_auditevent SET detail = %s WHERE id = %s", ['{"forged": true}', target.pk])
    with pytest.raises(CommandError) as failure:
        _verify()
    assert failure.value.returncode == 1
    assert str(failure.value).startswith(
        f"audit chain broken at event {target.uuid} (seq 3): content changed: stored hash "
    )


@pytest.mark.django_db(transaction=True)
def test_verify_names_the_gap_left_by_a_deleted_event():
    events = _write(5)
    _tamper("DELETE FROM tjp_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError) as failure:
        _verify()
    assert failure.value.returncode == 1
    assert str(failure.value) == (
        f"audit chain broken at event {events[3].uuid} (seq 4): rows missing: no event at seq 3"
    )


@pytest.mark.django_db(transaction=True)
def test_verify_names_a_rewritten_hash_by_the_broken_link():
    """Someone who recomputes a forged event's own hash still breaks the next event's link."""
    events = _write(3)
    _tamper("UPDATE tjp_auditevent SET hash = %s WHERE id = %s", ["a" * 64, events[1].pk])
    report = chain_verify()
    assert [(b.problem, b.seq, b.uuid) for b in report.breaks] == [
        ("content changed", 2, events[1].uuid),
        ("link broken", 3, events[2].uuid),
    ]


@pytest.mark.django_db(transaction=True)
def test_verify_catches_a_chain_cut_short_by_its_anchor():
    _write(3)
    head = _sealed()[-1]
    _tamper("DELETE FROM tjp_auditevent WHERE chain_seq = 3", [])
    assert _verify()  # the chain left is intact on its own...
    with pytest.raises(CommandError, match="seq 3: anchored event missing"):
        _verify("--anchor", f"3:{head.hash}")  # ...but the head logged elsewhere is gone


@pytest.mark.django_db(transaction=True)
def test_verify_starts_after_an_archived_stretch():
    """Archived events (exported, verified, then removed by the owner) leave a gap at the
    start of the chain; the live chain verifies from the last archived event's hash."""
    events = _write(4)
    archived_head = _sealed()[1]
    _tamper("DELETE FROM tjp_auditevent WHERE chain_seq <= 2", [])
    with pytest.raises(CommandError, match="rows missing: no event at seq 1 to 2"):
        _verify()
    assert "2 sealed events checked" in _verify("--start", f"2:{archived_head.hash}")
    with pytest.raises(CommandError, match=f"event {events[2].uuid} \\(seq 3\\): link broken"):
        _verify("--start", f"2:{'0' * 64}")


@pytest.mark.django_db(transaction=True)
def test_verify_fails_on_events_written_with_sealing_off():
    _write(1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        (unsealed,) = _write(1)
    with pytest.raises(CommandError, match="not protected") as failure:
        _verify()
    assert failure.value.returncode == 1
    report = chain_verify()
    assert (report.intact, report.unsealed_count, report.first_unsealed) == (
        True,
        1,
        unsealed.uuid,
    )


@pytest.mark.django_db(transaction=True)
def test_verify_fails_while_a_protecting_trigger_is_disabled():
    _write(1)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tjp_auditevent DISABLE TRIGGER tjp_auditevent_append_only")
    try:
        assert chain_verify().triggers_off == ["tjp_auditevent.tjp_auditevent_append_only"]
        with pytest.raises(CommandError, match="not protected"):
            _verify()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE tjp_auditevent ENABLE TRIGGER tjp_auditevent_append_only")


# --- concurrency: sealing serialises commits only, and never forks ----------------------------


def _in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_does_not_hold_up_other_writers():
    """The chain's lock is taken at commit: a long transaction that wrote an event blocks
    nobody while it works."""
    inserted, other_committed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def long_service():
        try:
            with transaction.atomic():
                _write(1, detail={"by": "long"})
                inserted.set()
                # Would time out if the other writer waited for this transaction's lock.
                assert other_committed.wait(TIMEOUT)
        except BaseException as exc:
            errors.append(exc)

    thread = _in_thread(long_service)
    assert inserted.wait(TIMEOUT)
    _write(1, detail={"by": "quick"})
    other_committed.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive() and not errors
    assert [(e.chain_seq, e.detail["by"]) for e in _sealed()] == [(1, "quick"), (2, "long")]
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_commits_racing_for_the_chain_get_consecutive_seqs():
    """Two transactions commit while a third holds the chain's lock; both queue on it, and
    each sees the head its predecessor sealed once the lock passes on (READ COMMITTED)."""
    ready = threading.Barrier(3, timeout=TIMEOUT)
    errors: list[BaseException] = []
    pids: list[int] = []

    def writer(n: int):
        try:
            with transaction.atomic():
                _write(n)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pids.append(cursor.fetchone()[0])
                ready.wait()
        except BaseException as exc:
            errors.append(exc)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(8388640819814623604)")
        threads = [_in_thread(lambda n=n: writer(n)) for n in (3, 2)]
        ready.wait()
        _wait_for_lock_waiters(pids, 2)
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert not errors
    assert [e.chain_seq for e in _sealed()] == [1, 2, 3, 4, 5]
    report = chain_verify()
    assert report.ok and report.count == 5


def _wait_for_lock_waiters(pids: list[int], count: int, locktype: str = "advisory") -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks "
                "WHERE locktype = %s AND NOT granted AND pid = ANY(%s)",
                [locktype, pids],
            )
            if cursor.fetchone()[0] == count:
                return
        time.sleep(0.01)
    raise AssertionError(f"never saw {count} transaction(s) queued on a {locktype} lock")


@pytest.mark.django_db(transaction=True)
def test_a_commit_waiting_for_a_row_lock_does_not_hold_the_chain(program):
    """A writes its audit event, then a row referencing a program B has locked; Django
    defers the foreign-key check to commit, so A's commit waits for B. B then commits its
    own audit event. Had A sealed (taken the chain's lock) before that check, B would wait
    for A and A for B: a deadlock. Sealing comes after every other deferred check."""
    b_locked, a_committing, b_may_commit = threading.Event(), threading.Event(), threading.Event()
    outcome: dict[str, object] = {}
    pids: dict[str, int] = {}

    def pid() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def a():
        try:
            assert b_locked.wait(TIMEOUT)
            with transaction.atomic():
                pids["a"] = pid()
                _write(1, detail={"by": "a"})
                PhaseFactory(program=program, number=9)
                a_committing.set()
            outcome["a"] = "committed"
        except BaseException as exc:
            outcome["a"] = exc

    def b():
        try:
            with transaction.atomic():
                Program.objects.select_for_update().get(pk=program.pk)
                _write(1, detail={"by": "b"})
                b_locked.set()
                assert b_may_commit.wait(TIMEOUT)
            outcome["b"] = "committed"
        except BaseException as exc:
            outcome["b"] = exc

    threads = [_in_thread(b), _in_thread(a)]
    assert a_committing.wait(TIMEOUT)
    _wait_for_lock_waiters([pids["a"]], 1, locktype="transactionid")  # A waits on B's lock
    b_may_commit.set()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert outcome == {"a": "committed", "b": "committed"}
    assert [(e.chain_seq, e.detail["by"]) for e in _sealed()] == [(1, "b"), (2, "a")]
    assert chain_verify().ok
