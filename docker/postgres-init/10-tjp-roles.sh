#!/bin/sh
# Runs once, when the postgres container starts on an empty data directory (the official
# image runs /docker-entrypoint-initdb.d/*.sh as the bootstrap superuser POSTGRES_USER).
#
# Two roles, so the application never owns the audit trail's table (docs/audit.md):
#   tjp_owner  owns the database and every table; used only by `manage.py migrate` (the
#              `migrate` service). The owner of a table can disable its triggers.
#   tjp_app    the web, worker and beat processes. Reads and writes every table the owner
#              creates (default privileges below); migration tjp 0006 then takes UPDATE,
#              DELETE and TRUNCATE on tjp_auditevent back from it, leaving SELECT and INSERT.
#              It cannot ALTER any table, so it cannot disable the audit triggers.
set -eu

: "${TJP_OWNER_PASSWORD:?set TJP_OWNER_PASSWORD}"
: "${TJP_APP_PASSWORD:?set TJP_APP_PASSWORD}"

# Passwords go in as psql variables (:'name' quotes them as literals); the here-document is
# quoted, so the shell expands nothing inside it.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$TJP_OWNER_PASSWORD" -v app_password="$TJP_APP_PASSWORD" <<'SQL'
CREATE ROLE tjp_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE tjp_app LOGIN PASSWORD :'app_password';

-- The owner owns the database and so (PostgreSQL 15+) the public schema's CREATE right.
ALTER DATABASE :"DBNAME" OWNER TO tjp_owner;
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"DBNAME" TO tjp_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO tjp_app;

-- Whatever the owner creates later (every migration) is readable and writable by the app.
ALTER DEFAULT PRIVILEGES FOR ROLE tjp_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tjp_app;
ALTER DEFAULT PRIVILEGES FOR ROLE tjp_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO tjp_app;
SQL
