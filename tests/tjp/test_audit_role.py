"""The application's database role (docker/postgres-init/) cannot touch the audit trail.

A fresh role gets what the init script's default privileges give it on every table the owner
creates, and then what migration 0006 takes back (tjp_auditevent_restrict_privileges). It then
connects on its own and tries everything.
"""

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from tjp.audit_chain import chain_verify
from tjp.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

INSERT = """
    INSERT INTO tjp_auditevent (uuid, occurred_at, actor_label, action, object_type,
        object_id, object_repr, user_agent, path, detail)
    VALUES (gen_random_uuid(), now(), 'app@example.org', 'view', '', '', '', '', '', '{}')
    RETURNING id
"""


@pytest.fixture
def app_role() -> Iterator[str]:
    role = f"tjp_audit_test_app_{secrets.token_hex(4)}"
    name = sql.Identifier(role)
    statements = [
        sql.SQL("CREATE ROLE {} LOGIN").format(name),
        # The init script's grants, as its default privileges apply them to each new table.
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        # What migration 0006 does once the tables exist.
        sql.SQL("SELECT tjp_auditevent_restrict_privileges()"),
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(name).as_string(cursor.connection))
            cursor.execute(sql.SQL("DROP ROLE {}").format(name).as_string(cursor.connection))


@pytest.fixture
def as_app(app_role) -> Iterator[psycopg.Connection]:
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=app_role,
    ) as conn:
        yield conn


def test_the_app_role_inserts_and_its_events_are_sealed(as_app):
    (event_id,) = as_app.execute(INSERT).fetchone()
    as_app.commit()
    sealed = AuditEvent.objects.get(pk=event_id)
    assert sealed.chain_seq == 1 and sealed.hash
    report = chain_verify()
    assert report.ok, report


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE tjp_auditevent SET detail = '{}'", "permission denied for table"),
        ("DELETE FROM tjp_auditevent", "permission denied for table"),
        ("TRUNCATE tjp_auditevent", "permission denied for table"),
        ("ALTER TABLE tjp_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE tjp_auditevent DISABLE TRIGGER tjp_auditevent_seal", "must be owner"),
        ("DROP TRIGGER tjp_auditevent_append_only ON tjp_auditevent", "must be owner"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("INSERT INTO tjp_auditevent_sealing VALUES (1)", "permission denied for table"),
        (
            "CREATE TRIGGER hook BEFORE INSERT ON tjp_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION tjp_auditevent_append_only()",
            "permission denied for table",
        ),
        ("SELECT tjp_auditevent_restrict_privileges()", "permission denied for function"),
    ],
)
def test_the_app_role_cannot_change_or_unprotect_the_trail(as_app, statement, refusal):
    (event_id,) = as_app.execute(INSERT).fetchone()
    as_app.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
        as_app.execute(statement)
    as_app.rollback()
    assert AuditEvent.objects.get(pk=event_id).chain_seq == 1
    assert chain_verify().ok
