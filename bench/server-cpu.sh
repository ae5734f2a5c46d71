#!/bin/bash
# Server CPU seconds per 1,000 bag-tree requests under wrk -c50 (../shared/peers/wrk-gql.lua),
# read from /proc/PID/stat (utime + stime) around each timed run, so the figure depends on the
# server's own work rather than on how busy the shared machine is.
#   bench/server-cpu.sh BINARY LABEL [VAR=value ...]     (RUNS=3 timed runs of 15 s; PORT=18517)
# The database is DATABASE_URL (default: the shared tt_peer of side-by-side.sh, seeded admin_1).
# To compare builds, alternate them (before, after, before, after): the load of the machine
# drifts between runs.
set -u
BIN=$1; LABEL=$2; shift 2
PORT=${PORT:-18517}
DB=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tt_peer?sslmode=disable}
peers=$(cd "$(dirname "$0")/../../shared/peers" 2>/dev/null && pwd || echo "$(dirname "$0")/../../shared/peers")
ss -ltn | grep -q ":$PORT " && { echo "port $PORT is in use; set PORT"; exit 1; }
log=$(mktemp)
( exec setsid env DATABASE_URL="$DB" LISTEN_ADDR=127.0.0.1:$PORT RATE_LIMIT_USER=0 RATE_LIMIT_IP=0 LOG_LEVEL=warn "$@" "$BIN" ) >"$log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 120); do curl -fs http://127.0.0.1:$PORT/readyz >/dev/null 2>&1 && break; sleep 0.5; done
kill -0 $pid 2>/dev/null || { echo "the server did not start:"; cat "$log"; exit 1; }
TOKEN=$(curl -s -X POST http://127.0.0.1:$PORT/graphql -H 'Content-Type: application/json' \
  -d '{"query":"mutation{login(username:\"admin_1\",password:\"Seed!pass1\"){token}}"}' | jq -r '.data.login.token // empty')
[ -n "$TOKEN" ] || { echo "cannot log in as admin_1"; exit 1; }
export TOKEN TARGET=tracetrack QUERY=bagtree
wrk -t2 -c50 -d5s -s "$peers/wrk-gql.lua" http://127.0.0.1:$PORT/graphql >/dev/null
for run in $(seq "${RUNS:-3}"); do
  c0=$(awk '{print $14+$15}' /proc/$pid/stat)
  out=$(wrk -t2 -c50 -d15s --latency -s "$peers/wrk-gql.lua" http://127.0.0.1:$PORT/graphql)
  c1=$(awk '{print $14+$15}' /proc/$pid/stat)
  reqs=$(grep -Eo '^ +[0-9]+ requests' <<<"$out" | awk '{print $1}')
  echo "$LABEL run$run: requests=$reqs $(grep Requests/sec <<<"$out" | tr -s ' ') p99=$(grep ' 99%' <<<"$out" | awk '{print $2}')" \
    "cpu_s_per_1000=$(python3 -c "print(round(($c1-$c0)/100/$reqs*1000,3))") $(grep -i non-2xx <<<"$out")"
done
