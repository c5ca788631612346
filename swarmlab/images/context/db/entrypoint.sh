#!/bin/sh
# Initialise the cluster on first start (password from the secret file),
# then run postgres as the postgres user. cluster_name carries the task and
# node names so a client can tell which task answered it.
set -eu
PW_FILE=${POSTGRES_PASSWORD_FILE:-/run/secrets/db_password}
BIN=/usr/lib/postgresql/15/bin
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"
# The mark is written last: a task killed half-way through (a slow host, a failed health
# check) leaves a cluster without its pg_hba line, which is wiped and made again, never used.
if [ ! -e "$PGDATA/.swarmlab-initialised" ]; then
  [ -r "$PW_FILE" ] || { echo "db: no password secret at $PW_FILE" >&2; exit 1; }
  find "$PGDATA" -mindepth 1 -delete
  cp "$PW_FILE" /tmp/pw && chown postgres /tmp/pw
  as_pg "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile=/tmp/pw \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  touch "$PGDATA/.swarmlab-initialised"
fi
ident="${TASK_NAME:-$(hostname)}@${NODE_NAME:-unknown}"
exec setpriv --reuid=postgres --regid=postgres --init-groups \
  "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' -c jit=off -c cluster_name="$ident"
