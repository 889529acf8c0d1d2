#!/bin/sh
# Runs once, when the primary (`db`) starts on an empty data directory: what the streaming
# replica (`postgres-replica`, docker/postgres-replica/entrypoint.sh) connects with.
#
#   tjp_replicator  may open replication connections only (it reads no table itself: the
#                   replica receives the WAL, and replays every table, role and grant).
#   tjp_replica     a physical replication slot: the primary keeps the WAL the replica has not
#                   received yet, so a replica that was down catches up instead of needing a
#                   new copy. `max_slot_wal_keep_size` (docker-compose.yml) caps what it keeps:
#                   past that the slot is given up rather than the primary's disk filled.
#
# On a primary initialised before this file existed, run the SQL below by hand as the
# superuser, append the pg_hba.conf line, and `SELECT pg_reload_conf();`.
set -eu

: "${TJP_REPLICATION_PASSWORD:?set TJP_REPLICATION_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v replication_password="$TJP_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE tjp_replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
SELECT pg_create_physical_replication_slot('tjp_replica');
SQL

# Replication connections match only pg_hba.conf lines naming the "replication" database,
# never "all". Read when the server restarts at the end of the initialisation.
echo "host replication tjp_replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
