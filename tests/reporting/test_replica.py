"""Reports read from the replica (tjp.db_routers): the report pages, the export job and the
evaluation extract send their figures' queries to `replica`, and every write (the audit
event, the export job's row), every access check and every read outside a report to `default`.

The replica here is an alias of the test database itself (TEST MIRROR, as settings make it when
DATABASE_REPLICA_URL is set), so each connection's captured queries show where a query went.
A mirror's connection does not see another connection's open transaction: these tests commit
(transactional)."""

import re

import pytest
from django.db import connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from participants.models import Participant
from reporting import exports
from reporting.models import ReportExport
from tests.reporting.files import stored
from tjp import audit
from tjp.db_routers import REPLICA, reading_from_replica
from tjp.models import AuditEvent
from tjp.roles import Role

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup):
    """The alias and the router, as settings add them. Module-scoped: the alias must exist
    before each test's database fixture checks the databases it names."""
    default = connections["default"].settings_dict
    connections.settings[REPLICA] = {**default, "TEST": {**default["TEST"], "MIRROR": "default"}}
    with override_settings(DATABASE_ROUTERS=["tjp.db_routers.ReplicaRouter"]):
        yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class Captured:
    """The SQL each connection ran inside the block."""

    def __enter__(self):
        self.contexts = {
            alias: CaptureQueriesContext(connections[alias]) for alias in ("default", REPLICA)
        }
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts.values():
            context.__exit__(*exc)

    def sql(self, alias: str) -> list[str]:
        return [q["sql"] for q in self.contexts[alias].captured_queries]

    def touching(self, alias: str, table: str) -> list[str]:
        return [sql for sql in self.sql(alias) if f'"{table}"' in sql or f" {table} " in sql]


# Anywhere in the statement: pghistory puts its context (`SELECT set_config(...); `) before a
# write made during a request.
WRITE = re.compile(r'INSERT INTO |UPDATE "\w+" SET |DELETE FROM ')


def _writes(sql: list[str]) -> list[str]:
    return [s for s in sql if WRITE.search(s)]


@pytest.fixture
def manager(personas):
    return personas[Role.MANAGER]


def test_the_dashboard_computes_on_the_replica_and_audits_on_the_primary(
    as_user, manager, program, participant
):
    client = as_user(manager)
    with Captured() as captured:
        response = client.get(reverse("reporting_dashboard"), {"program": str(program.uuid)})
    assert response.status_code == 200
    # The measures: drug tests, participants, phases... all on the replica, none on the primary.
    assert captured.touching(REPLICA, "treatment_drugtest")
    assert captured.touching(REPLICA, "participants_participant")
    assert captured.touching("default", "treatment_drugtest") == []
    # The sobriety measure's raw SQL follows the ORM's choice.
    assert [s for s in captured.sql(REPLICA) if "PERCENTILE_CONT" in s]
    assert _writes(captured.sql(REPLICA)) == []
    # Its audit event is written to the primary; the programs the manager may see are read
    # there too (before the scope).
    assert [s for s in _writes(captured.sql("default")) if '"tjp_auditevent"' in s]
    assert captured.touching("default", "tjp_program")
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, detail__has_key="dashboard")
    assert event.actor == manager


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("reporting_dashboard_pdf", {}),
        ("reporting_equity", {"by": "sex"}),
        ("reporting_standards", {}),
    ],
)
def test_the_other_report_pages_compute_on_the_replica(
    as_user, manager, program, participant, route, params
):
    client = as_user(manager)
    with Captured() as captured:
        response = client.get(reverse(route), {"program": str(program.uuid), **params})
    assert response.status_code == 200
    assert captured.touching(REPLICA, "participants_participant")
    assert _writes(captured.sql(REPLICA)) == []
    assert [s for s in _writes(captured.sql("default")) if '"tjp_auditevent"' in s]


def test_the_export_job_reads_its_rows_on_the_replica_and_keeps_its_row_on_the_primary(
    manager, participant, monkeypatch
):
    monkeypatch.setattr(exports, "_queue_build", lambda pk: None)  # the job runs here, below
    with Captured() as captured:
        export = exports.export_request(user=manager, kind="roster", format="csv", params={})
        exports.export_build(export_pk=export.pk)
    export.refresh_from_db()
    assert export.status == ReportExport.Status.READY
    assert "Ana Núñez" in stored(export).read_text(encoding="utf-8-sig")
    # The roster's rows came from the replica ...
    assert [s for s in captured.touching(REPLICA, "participants_person") if "SELECT" in s]
    assert _writes(captured.sql(REPLICA)) == []
    # ... the job's row (created, locked, progress, ready) and its audit event are the primary's.
    default_writes = _writes(captured.sql("default"))
    assert [s for s in default_writes if '"reporting_reportexport"' in s]
    assert [s for s in default_writes if '"tjp_auditevent"' in s]
    assert [s for s in captured.sql("default") if "FOR UPDATE" in s]
    assert captured.touching("default", "participants_person") == []


def test_the_evaluation_extract_streams_its_rows_from_the_replica(as_user, manager, program):
    client = as_user(manager)
    data = {"programs": [str(program.uuid)], "evaluator": "cci", "min_cell": 3}
    with Captured() as captured:
        response = client.post(reverse("evaluation_extract"), data)
        # The rows are read as the response streams, after the view has returned.
        body = b"".join(response.streaming_content).decode()
    assert body.startswith("pid,episode,program,")
    assert len(captured.touching(REPLICA, "participants_participant")) >= 2  # counts and rows
    assert captured.touching("default", "participants_participant") == []
    assert [s for s in _writes(captured.sql("default")) if '"tjp_auditevent"' in s]
    assert _writes(captured.sql(REPLICA)) == []


def test_outside_a_report_every_read_goes_to_the_primary(manager, participant):
    with Captured() as captured:
        assert Participant.objects.count() == 1
    assert len(captured.sql("default")) == 1 and captured.sql(REPLICA) == []


def test_inside_a_report_writes_and_reads_in_a_transaction_go_to_the_primary(manager, program):
    with Captured() as captured, reading_from_replica():
        Participant.objects.count()  # a report's read
        audit.record(actor=manager, action=AuditEvent.Action.VIEW, program=program)
        with transaction.atomic():
            # A read in a transaction may need its uncommitted rows: the primary's.
            audit.record(actor=manager, action=AuditEvent.Action.VIEW, program=program)
            assert AuditEvent.objects.filter(actor=manager).count() == 2
    assert [s for s in captured.sql(REPLICA) if '"participants_participant"' in s]
    assert captured.touching(REPLICA, "tjp_auditevent") == []
    assert len([s for s in _writes(captured.sql("default")) if '"tjp_auditevent"' in s]) == 2
    assert [s for s in captured.sql("default") if '"tjp_auditevent"' in s and "COUNT(*)" in s]
