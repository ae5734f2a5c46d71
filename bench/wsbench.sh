#!/bin/bash
# Live delivery cost: starts INSTANCES servers (1 or 2, one database) each under setsid (its own
# session, so its own CPU scheduling group, as a deployed server is), runs cmd/wsbench against
# them with the servers' pids (CPU seconds per delivery), then stops them and drops the database.
# Usage: bench/wsbench.sh [wsbench flags]   e.g. bench/wsbench.sh -subscribers 1000 -rate 100 -duration 15s
#        INSTANCES=2 bench/wsbench.sh -per-area -subscribers 10000 -rate 100 -duration 15s
# BIN runs a server binary built elsewhere (to compare builds); PGURL, PORT, DB override defaults;
# DEBUG_PORT serves instance i's Go profiles on 127.0.0.1:DEBUG_PORT+i-1 (DEBUG_ADDR).
set -eu
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cd "$(dirname "$0")/.."
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18310}
DB=${DB:-tt_wsbench_$$}
INSTANCES=${INSTANCES:-1}
PASSWORD='Bench#Pass1'
work=$(mktemp -d)
if [ -z "${BIN:-}" ]; then
  BIN=$work/tracetrack
  go build -o "$BIN" .
fi
go build -o "$work/wsbench" ./cmd/wsbench
psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
pids=() servers=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # the database goes only after the servers (a server losing its database mid-shutdown can hang)
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
for i in $(seq 1 "$INSTANCES"); do
  port=$((PORT + i - 1))
  if curl -s "http://127.0.0.1:$port/healthz" >/dev/null; then echo "port $port is taken: set PORT" >&2; exit 1; fi
  ADMIN_PASSWORD=$PASSWORD DATABASE_URL="$PGURL/$DB?sslmode=disable" LISTEN_ADDR=127.0.0.1:$port \
    WS_MAX_PER_USER=100000 RATE_LIMIT_USER=0 RATE_LIMIT_IP=0 LOG_LEVEL=warn \
    DEBUG_ADDR=${DEBUG_PORT:+127.0.0.1:$((DEBUG_PORT + i - 1))} \
    setsid "$BIN" >"$work/server$i.log" 2>&1 &
  pids+=($!) servers+=("http://127.0.0.1:$port")
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.05; done
done
"$work/wsbench" -server "$(IFS=,; echo "${servers[*]}")" -server-pid "$(IFS=,; echo "${pids[*]}")" \
  -database-url "$PGURL/$DB?sslmode=disable" -password "$PASSWORD" "$@"
for i in $(seq 1 "$INSTANCES"); do grep -v '^$' "$work/server$i.log" | tail -5 | sed "s/^/server $i: /"; done
