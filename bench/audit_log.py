"""The audit trail at scale: fill it, then EXPLAIN ANALYZE the audit page's queries.

    DEBUG=1 DATABASE_URL=postgres://…/scratch .venv/bin/python bench/audit_log.py fill [--rows N]
    DEBUG=1 DATABASE_URL=postgres://…/scratch .venv/bin/python bench/audit_log.py explain
    DEBUG=1 DATABASE_URL=postgres://…/scratch .venv/bin/python manage.py audit_verify

`fill` adds N generated events (default 2,000,000) over six years, in transactions of 200,000,
each sealed at commit by the real triggers, to 20 programs of very different sizes (one active
in the first year only) and 2,000 staff; run it on a scratch database, never a real one.
`explain` runs the page's own queries (captured from `event_page` and the filters) under
EXPLAIN (ANALYZE, BUFFERS) for a manager and an administrator. Timings are printed here,
never asserted in tests.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tjp.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tests.factories import ProgramFactory  # noqa: E402
from tjp.audit_log import event_page  # noqa: E402
from tjp.filters import AuditEventFilter  # noqa: E402
from tjp.models import AuditEvent, Program, User  # noqa: E402

BATCH = 200_000
PROGRAMS = 20
STAFF = 2_000

# One batch of generated events: rows $start+1 … $start+$count of $total, in time order.
# Programs: 40% of events in program 0, 20% in 1, 10% in 2, the rest spread over 3-18, 5% in
# none, and sign-ins in none; program 19 only in the first year. Actions weighted like a
# working court.
FILL_SQL = """
INSERT INTO tjp_auditevent (uuid, occurred_at, actor_id, actor_label, action, object_type,
    object_id, object_repr, program_id, participant_uuid, ip_address, user_agent, path, detail)
SELECT gen_random_uuid(), at, staff.id, staff.email, action, 'participants.participant',
    '', 'Participant ' || (g %% 2500),
    CASE WHEN action IN ('login', 'logout', 'login_failed', 'lockout') THEN NULL
         ELSE program_id END,
    CASE WHEN program_id IS NOT NULL AND action <> 'login'
         THEN md5(program_id || '-' || (g %% 2500))::uuid END,
    ('10.0.' || (g %% 250) || '.' || (g %% 200))::inet, 'Mozilla/5.0', '/participants/', '{"n": 1}'
FROM (
    SELECT g,
        '2021-01-01'::timestamptz + (g::float8 / %(total)s) * interval '6 years'
            + random() * interval '1 minute' AS at,
        CASE WHEN g < %(total)s / 6 AND g %% 50 = 0 THEN %(last_program)s
             ELSE (%(programs)s::bigint[])[CASE
                WHEN r < 0.40 THEN 1 WHEN r < 0.60 THEN 2 WHEN r < 0.70 THEN 3
                WHEN r < 0.95 THEN 4 + (g %% 16) ELSE NULL END] END AS program_id,
        CASE WHEN a < 0.60 THEN 'view' WHEN a < 0.75 THEN 'update' WHEN a < 0.85 THEN 'create'
             WHEN a < 0.88 THEN 'export' WHEN a < 0.93 THEN 'disclose'
             WHEN a < 0.97 THEN 'login' WHEN a < 0.99 THEN 'logout'
             WHEN a < 0.998 THEN 'login_failed' WHEN a < 0.999 THEN 'denied'
             WHEN a < 0.9995 THEN 'grant' ELSE 'lockout' END AS action,
        1 + (g::bigint * 7919) %% %(staff)s AS staff_n
    -- random() in a select list is drawn per row (in a LATERAL subquery that does not
    -- mention g, PostgreSQL would draw it once for the whole batch).
    FROM (
        SELECT g, random() AS r, random() AS a
        FROM generate_series(%(start)s + 1, %(start)s + %(count)s) AS g
    ) AS draw
) AS e
JOIN (SELECT id, email, row_number() OVER (ORDER BY id) AS n FROM tjp_user) AS staff
    ON staff.n = e.staff_n
ORDER BY at
"""


def fill(rows: int) -> None:
    if connection.settings_dict["NAME"].startswith("test_"):
        raise SystemExit("refusing to fill a test database")
    programs = [ProgramFactory(code=f"bench{n}", name=f"Bench program {n}") for n in range(20)]
    User.objects.bulk_create(
        [User(email=f"staff{n}@bench.test", password="!") for n in range(STAFF)],  # noqa: S106
        ignore_conflicts=True,
    )
    ids = [p.pk for p in programs]
    done = AuditEvent.objects.count()
    for start in range(0, rows, BATCH):
        count = min(BATCH, rows - start)
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                FILL_SQL,
                {
                    "total": rows,
                    "start": start,
                    "count": count,
                    "programs": ids[:19],
                    "last_program": ids[19],
                    "staff": STAFF,
                },
            )
            inserted = time.perf_counter()
        sealed = time.perf_counter()
        print(
            f"{start + count:>9} rows: insert {inserted - began:.1f} s, "
            f"commit (sealing {count}) {sealed - inserted:.1f} s"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tjp_auditevent")
    print(f"{AuditEvent.objects.count() - done} events added")


def explain_page(label: str, events, scope, **position) -> None:
    with CaptureQueriesContext(connection) as captured:
        page = event_page(events, scope=scope, **position)
    page_sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + page_sql)
        plan = [line for (line,) in cursor.fetchall()]
    print(f"\n### {label} — {len(page.events)} events")
    print("\n".join(plan))


def explain() -> None:
    programs = list(Program.objects.filter(code__startswith="bench").order_by("id"))
    everything = AuditEvent.objects.all()
    big, small, ended = programs[0], programs[7], programs[19]
    staff = User.objects.get(email="staff7@bench.test")
    participant = (
        AuditEvent.objects.filter(program=small).exclude(participant_uuid=None).first()
    ).participant_uuid

    def filtered(scope, params):
        filters = AuditEventFilter(params, queryset=scope)
        assert filters.is_valid(), filters.errors
        return filters.qs

    scopes = {
        "manager of the biggest program": AuditEvent.objects.filter(program__in=[big.pk]),
        "manager of a small program": AuditEvent.objects.filter(program__in=[small.pk]),
        "manager of two programs": AuditEvent.objects.filter(program__in=[small.pk, big.pk]),
        "manager of a program that ended years ago": AuditEvent.objects.filter(
            program__in=[ended.pk]
        ),
        "administrator": everything,
    }
    for label, scope in scopes.items():
        explain_page(f"{label}: newest page", scope, scope)
    middle = AuditEvent.objects.filter(program=small).order_by("id")[20_000]
    explain_page(
        "manager of a small program: a page deep in 2023",
        scopes["manager of a small program"],
        scopes["manager of a small program"],
        before=middle.uuid,
    )
    cases = [
        ("manager, participant", "manager of a small program", {"participant": participant}),
        ("manager, user", "manager of a small program", {"user": staff.email}),
        ("manager, rare action (denied)", "manager of a small program", {"action": "denied"}),
        ("manager of the biggest, user", "manager of the biggest program", {"user": staff.email}),
        (
            "manager of the biggest, rare action",
            "manager of the biggest program",
            {"action": "denied"},
        ),
        ("manager of two, rare action", "manager of two programs", {"action": "denied"}),
        (
            "manager, action + period",
            "manager of the biggest program",
            {"action": "export", "since": "2023-03-01", "until": "2023-03-31"},
        ),
        ("administrator, user", "administrator", {"user": staff.email}),
        ("administrator, rare action (lockout)", "administrator", {"action": "lockout"}),
        (
            "administrator, one day",
            "administrator",
            {"since": "2022-06-01", "until": "2022-06-01"},
        ),
    ]
    for label, scope_name, params in cases:
        scope = scopes[scope_name]
        explain_page(label, filtered(scope, params), scope)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["fill", "explain"])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    fill(args.rows) if args.step == "fill" else explain()
