#!/bin/bash
# Start-up time of the server: from exec until /readyz answers 200, on an empty database
# (migrations + first admin) and then on the same, migrated database. Five rounds.
# Usage: bench/auth-startup.sh   (PGURL, PORT override the local server and port 18102)
set -eu
cd "$(dirname "$0")/.."
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18102}
BIN=$(mktemp -d)/tracetrack
go build -o "$BIN" .
for i in 1 2 3 4 5; do
  DB=tt_bench_startup_$i
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
  for state in empty migrated; do
    t0=$(date +%s%N)
    ADMIN_PASSWORD='Bench#Pass1' DATABASE_URL="$PGURL/$DB?sslmode=disable" LISTEN_ADDR=127.0.0.1:$PORT "$BIN" >/dev/null 2>&1 &
    pid=$!
    until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.005; done
    echo "$state database: $(( ($(date +%s%N) - t0) / 1000000 )) ms to ready"
    kill -TERM $pid; wait $pid
  done
  psql -q "$PGURL/postgres" -c "DROP DATABASE $DB"
done
