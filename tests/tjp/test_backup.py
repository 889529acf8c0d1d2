"""Restore drill: real data backed up with `manage.py backup`, restored with `manage.py restore`
into a new database, and found there as it was — every table's row count, the audit trail row
for row, and the uploaded document byte for byte.

The checks below query both databases themselves (information_schema, md5 in SQL) rather than
reuse the counting and digest code of `tjp.backup`, so a fault there cannot hide here.
Transactional: pg_dump reads from its own connection, which sees only committed rows.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from participants import services
from tjp import audit
from tjp.models import AuditEvent
from tjp.roles import Role

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _connect(dbname: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=dbname,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        # The embedded server is reached through its socket folder, given in OPTIONS.
        host=settings["HOST"] or settings["OPTIONS"].get("host") or None,
        port=settings["PORT"] or None,
        autocommit=True,
    )


def _url(dbname: str) -> str:
    settings = connection.settings_dict
    host = settings["HOST"] or settings["OPTIONS"].get("host", "")
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    if host.startswith("/"):
        return f"postgres://{auth}@/{dbname}?host={host}"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{dbname}"


def _row_counts(dbname: str) -> dict[str, int]:
    with _connect(dbname) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


def _audit_verify(dbname: str) -> str:
    """`manage.py audit_verify` run against `dbname` as an operator would; its head line."""
    result = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        env={**os.environ, "DATABASE_URL": _url(dbname), "DEBUG": "1"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return next(line for line in result.stdout.splitlines() if line.startswith("head "))


def _audit_md5(dbname: str) -> tuple[int, str]:
    """Every whole row of the audit table, in id order: covers columns added later (the hash
    chain) without a change here."""
    with _connect(dbname) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return conn.execute(
            "SELECT count(*), md5(string_agg(a::text, E'\\n' ORDER BY a.id)) FROM tjp_auditevent a"
        ).fetchone()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def new_database(transactional_db):
    """A database nobody has used, on the test server; dropped at the end."""
    name = f"tjp_drill_{uuid.uuid4().hex[:12]}"
    with _connect(connection.settings_dict["NAME"]) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with _connect(connection.settings_dict["NAME"]) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _backup(tmp_path: Path) -> Path:
    out = StringIO()
    call_command("backup", "--backup-dir", str(tmp_path / "backups"), stdout=out)
    (folder,) = (tmp_path / "backups").iterdir()
    assert str(folder) in out.getvalue()
    return folder


def test_restore_drill(transactional_db, participant, personas, media, new_database, tmp_path):
    coordinator = personas[Role.COORDINATOR]
    document = services.document_upload(
        acting_user=coordinator,
        participant=participant,
        kind="agreement",
        title="Participation agreement",
        uploaded_file=SimpleUploadedFile("agreement.pdf", PDF),
    )
    audit.record(
        actor=personas[Role.JUDGE],
        action=AuditEvent.Action.VIEW,
        obj=participant,
        participant_uuid=participant.uuid,
        detail={"note": "ñandú — «quoted»\nsecond line"},
    )
    source = connection.settings_dict["NAME"]

    backup = _backup(tmp_path)

    before = _row_counts(source)
    # The data under test is really there (and the backup recorded itself in the trail).
    assert before["participants_participant"] == 1
    assert before["participants_document"] == 1
    assert before["tjp_auditevent"] >= 4
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["tables"] == before
    assert manifest["media_files"] == 1
    assert sorted(p.name for p in backup.iterdir()) == [
        "database.dump",
        "manifest.json",
        "media.tar",
    ]

    restored_media = tmp_path / "restored-media"
    out = StringIO()
    call_command(
        "restore",
        str(backup),
        "--database",
        new_database,
        "--media-root",
        str(restored_media),
        stdout=out,
    )

    assert "everything matches" in out.getvalue()
    assert _row_counts(new_database) == before
    source_audit = _audit_md5(source)
    assert source_audit[0] == before["tjp_auditevent"]
    assert _audit_md5(new_database) == source_audit
    # The audit chain verifies in the restored database, to the same head as the source's.
    heads = [_audit_verify(source), _audit_verify(new_database)]
    assert heads[0] == heads[1] and heads[0].startswith("head ")
    assert (restored_media / document.file.name).read_bytes() == PDF

    # Restoring again over what is now a database in use needs --force, and then replaces it:
    # a row added since is gone, every count is the backup's again.
    with _connect(new_database) as conn:
        conn.execute("INSERT INTO auth_group (name) VALUES ('added after the restore')")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup), "--database-url", _url(new_database), stdout=out)
    call_command(
        "restore",
        str(backup),
        "--database-url",
        _url(new_database),
        "--media-root",
        str(restored_media),
        "--force",
        stdout=out,
    )
    assert _row_counts(new_database) == before
    assert _audit_md5(new_database) == source_audit


def test_restore_refuses_a_database_that_is_not_empty(
    transactional_db, participant, media, tmp_path
):
    backup = _backup(tmp_path)
    source = connection.settings_dict["NAME"]
    before = _row_counts(source)

    with pytest.raises(CommandError, match="is not empty") as refused:
        call_command("restore", str(backup), "--media-root", str(tmp_path / "m"), stdout=StringIO())

    assert "--force" in str(refused.value)
    assert _row_counts(source) == before


def test_restore_refuses_a_media_folder_that_holds_files(
    transactional_db, media, new_database, tmp_path
):
    backup = _backup(tmp_path)
    occupied = tmp_path / "occupied"
    (occupied / "documents").mkdir(parents=True)
    (occupied / "documents" / "kept.pdf").write_bytes(PDF)

    with pytest.raises(CommandError, match="already holds files"):
        call_command(
            "restore",
            str(backup),
            "--database",
            new_database,
            "--media-root",
            str(occupied),
            stdout=StringIO(),
        )

    assert _row_counts(new_database) == {}


def _truncate_dump(backup: Path) -> None:
    dump = backup / "database.dump"
    dump.write_bytes(dump.read_bytes()[:1000])


def _garbage_dump_with_matching_checksum(backup: Path) -> None:
    garbage = b"not a pg_dump archive\n" * 100
    (backup / "database.dump").write_bytes(garbage)
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["files"]["database.dump"]["sha256"] = hashlib.sha256(garbage).hexdigest()
    (backup / "manifest.json").write_text(json.dumps(manifest))


DAMAGES = [
    ("no manifest", lambda backup: (backup / "manifest.json").unlink(), "is not a TJP backup"),
    ("no media", lambda backup: (backup / "media.tar").unlink(), "media.tar is missing"),
    ("truncated dump", _truncate_dump, "database.dump does not match its checksum"),
    ("bad manifest", lambda backup: (backup / "manifest.json").write_text("{"), "cannot be read"),
    ("not an archive", _garbage_dump_with_matching_checksum, "pg_restore failed"),
]


def test_damaged_backup_is_refused_with_a_clear_error(
    transactional_db, participant, media, tmp_path, capsys, subtests
):
    """Each damage on its own copy of one real backup; the target is the current database,
    which each refusal must leave as it was (they all come before the not-empty check)."""
    backup = _backup(tmp_path)
    source = connection.settings_dict["NAME"]
    before = _row_counts(source)
    for name, damage, message in DAMAGES:
        with subtests.test(name):
            copy = shutil.copytree(backup, tmp_path / name)
            damage(copy)

            with pytest.raises(SystemExit) as exited:
                execute_from_command_line(["manage.py", "restore", str(copy), "--force"])

            assert exited.value.code == 1
            assert message in capsys.readouterr().err
    assert _row_counts(source) == before


def test_missing_backup_is_refused_with_a_clear_error(db, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "restore", str(tmp_path / "nothing-here")])

    assert exited.value.code == 1
    assert "No backup at" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["FileSystemStorage", "InMemoryStorage"])
def test_a_backup_says_when_the_documents_are_not_in_it(
    transactional_db, media, tmp_path, settings, backend
):
    """With documents in an object storage bucket (the S3 settings), `backup` holds none of them
    and says so, rather than reporting "0 documents" as if that were all."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"django.core.files.storage.{backend}"},
    }
    out, err = StringIO(), StringIO()
    call_command("backup", "--backup-dir", str(tmp_path / "backups"), stdout=out, stderr=err)
    warned = "not in this backup" in err.getvalue()
    assert warned == (backend == "InMemoryStorage")
