#!/bin/bash
# CPU per request of each operation of the field-test mix on its own (issue 12: which
# operations cost the mix most): one server, then for each operation a short loadgen loop of
# only that operation (`-mix <op>=1`), and the server's and this database's PostgreSQL CPU
# (bench/cpu.sh, as bench/field-test.sh counts it) over the loop's requests. `bill` records
# bill-create and bill-link, `child-scan` also the parent scans it needs: CPU is per request
# of the loop, whatever its rows.
# Usage: DATABASE_URL=postgres://.../tt_cap bench/opcost.sh
# env: OPS (the mix's eight), USERS (100), THINK (100ms), DURATION (10s), PASSWORD (Seed!pass1),
#      OUT (/tmp/opcost), PORT (18300), SERVER_BIN and LOADGEN_BIN (binaries built beforehand
#      instead of this tree's: A/B inside one lock slot). The loops write (scans, bills).
set -eu
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a database filled by cmd/seed}"
OPS=${OPS:-dashboard bag-list bill-list stats parent-scan child-scan bill bag-tree}
USERS=${USERS:-100}; THINK=${THINK:-100ms}; DURATION=${DURATION:-10s}
PASSWORD=${PASSWORD:-Seed!pass1}; PORT=${PORT:-18300}; OUT=${OUT:-/tmp/opcost}
mkdir -p "$OUT"
if [ -n "${SERVER_BIN:-}" ]; then cp "$SERVER_BIN" "$OUT/tracetrack"; else go build -o "$OUT/tracetrack" .; fi
if [ -n "${LOADGEN_BIN:-}" ]; then cp "$LOADGEN_BIN" "$OUT/loadgen"; else go build -o "$OUT/loadgen" ./cmd/loadgen; fi

RATE_LIMIT_IP=0 RATE_LIMIT_USER=0 LOG_LEVEL=warn LISTEN_ADDR=127.0.0.1:$PORT \
  "$OUT/tracetrack" >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
. bench/cpu.sh

printf '| operation | req/s | p50 ms | p95 ms | server ms/req | PostgreSQL ms/req | together | the database backends alone |\n|---|---|---|---|---|---|---|---|\n' | tee "$OUT/table.md"
for op in $OPS; do
  dir=$OUT/$op
  mkdir -p "$dir"; cp "$OUT/loadgen" "$dir/loadgen"; : >"$dir/progress.log"
  "$dir/loadgen" -url "http://127.0.0.1:$PORT/graphql" -password "$PASSWORD" -json "$dir/run.json" \
    -users "$USERS" -think "$THINK" -duration "$DURATION" -mix "$op=1" 2>"$dir/progress.log" >"$dir/run.txt" &
  run=$!
  sample_cpu "$dir" $server &
  sampler=$!
  wait $run $sampler
  cpu_report "$dir" >/dev/null
  read -r _ _ _ _ server_ms _ _ pg_ms _ _ both_ms _ <"$dir/cpu-per-request.txt"
  backends_ms=$(grep -o 'alone [0-9.]*' "$dir/cpu-per-request.txt" | cut -d' ' -f2)
  jq -r --arg op "$op" --arg s "$server_ms" --arg p "$pg_ms" --arg b "$both_ms" --arg k "$backends_ms" \
    '"| \($op) | \(.total.rps | floor) | \(.total.p50_ms) | \(.total.p95_ms) | \($s) | \($p) | \($b) | \($k) |"' "$dir/run.json" | tee -a "$OUT/table.md"
done
