#!/bin/sh
# The `postgres-replica` service: a hot standby of `db`, by streaming replication.
#
# First start (no data directory yet): copy the primary with pg_basebackup into a staging
# folder and move it into place only once complete, so an interrupted copy is simply started
# over. `-R` writes standby.signal and primary_conninfo (host, user, slot): PostgreSQL then
# starts as a read-only standby and streams from the primary. The password comes from
# PGPASSWORD, in the container's environment, never on a command line.
# Later starts: the data directory is there; the official entrypoint starts it as it is.
set -eu

: "${PGDATA:?PGDATA is set by the postgres image}"
: "${PGPASSWORD:?set TJP_REPLICATION_PASSWORD}"
primary="${TJP_PRIMARY_HOST:-db}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
        echo "$PGDATA is neither empty nor a PostgreSQL data directory: refusing to replace it" >&2
        exit 1
    fi
    parent="$(dirname "$PGDATA")"
    staging="$parent/basebackup.partial"
    mkdir -p "$parent"
    rm -rf "$staging"
    mkdir -m 700 "$staging"
    chown postgres:postgres "$parent" "$staging"
    until pg_isready -q -h "$primary" -p 5432; do
        echo "waiting for the primary ($primary) ..."
        sleep 2
    done
    echo "copying the primary ($primary) with pg_basebackup ..."
    gosu postgres pg_basebackup --host="$primary" --port=5432 --username=tjp_replicator \
        --no-password --pgdata="$staging" --wal-method=stream --write-recovery-conf \
        --slot=tjp_replica --checkpoint=fast --progress
    if [ -d "$PGDATA" ]; then
        rmdir "$PGDATA"
    fi
    mv "$staging" "$PGDATA"
fi

exec docker-entrypoint.sh "$@"
