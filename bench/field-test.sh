#!/bin/bash
# The field-test load against a seeded database, with everything the bench README reports:
# the loadgen table and JSON, the server's RSS every 2 s, CPU, block and mutex profiles taken
# in the middle of the run, and (when the extension is loaded) pg_stat_statements' top
# statements, and the wait events of the database's active backends (pg_stat_activity every
# 0.2 s over the loop). Results go to OUT (default /tmp/field-test).
# Usage: DATABASE_URL=postgres://.../tt_bench bench/field-test.sh [loadgen flags...]
#   e.g. bench/field-test.sh -users 1000 -duration 60s -subscribers 50
# SERVER_BIN and LOADGEN_BIN run binaries built beforehand instead of building this tree's
# (an A/B of two trees inside one lock slot: build both, then take the lock for the runs).
set -eu
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a database filled by cmd/seed}"
PORT=${PORT:-18200}
OUT=${OUT:-/tmp/field-test}
PASSWORD=${PASSWORD:-Seed#Pass1}
PROFILE_SECONDS=${PROFILE_SECONDS:-20}
mkdir -p "$OUT"
if [ -n "${SERVER_BIN:-}" ]; then cp "$SERVER_BIN" "$OUT/tracetrack"; else go build -o "$OUT/tracetrack" .; fi
if [ -n "${LOADGEN_BIN:-}" ]; then cp "$LOADGEN_BIN" "$OUT/loadgen"; else go build -o "$OUT/loadgen" ./cmd/loadgen; fi

# another server on the port (an earlier run still shutting down) would take this run's load
if curl -s -o /dev/null "http://127.0.0.1:$PORT/readyz"; then
  echo "field-test: port $PORT already answers: stop that server or set PORT" >&2; exit 1
fi
# rate limits off: every virtual user comes from one address and several share a user
RATE_LIMIT_IP=0 RATE_LIMIT_USER=0 DEBUG_ADDR=127.0.0.1:$((PORT + 1)) LOG_LEVEL=warn \
  LISTEN_ADDR=127.0.0.1:$PORT "$OUT/tracetrack" >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
  kill -0 $server 2>/dev/null || { echo "field-test: the server exited:" >&2; tail -5 "$OUT/server.log" >&2; exit 1; }
  sleep 0.1
done

stmts=$(psql -qAt "$DATABASE_URL" -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'
  AND current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'" 2>/dev/null || echo 0)
if [ "$stmts" = 1 ]; then psql -qAt "$DATABASE_URL" -c "SELECT pg_stat_statements_reset()" >/dev/null; fi

(while kill -0 $server 2>/dev/null; do ps -o rss= -p $server; sleep 2; done) >"$OUT/rss.kb" &
: >"$OUT/progress.log"
# profiles from 10 s into the timed loop (loadgen's progress lines start with it)
(until grep -q requests "$OUT/progress.log"; do sleep 0.5; done
 sleep 10
 base=http://127.0.0.1:$((PORT + 1))/debug/pprof
 curl -s -o "$OUT/cpu.pprof" "$base/profile?seconds=$PROFILE_SECONDS" &
 curl -s -o "$OUT/block.pprof" "$base/block?seconds=$PROFILE_SECONDS" &
 curl -s -o "$OUT/mutex.pprof" "$base/mutex?seconds=$PROFILE_SECONDS" &
 wait) &
profiles=$!

. bench/cpu.sh
"$OUT/loadgen" -url "http://127.0.0.1:$PORT/graphql" -password "$PASSWORD" -json "$OUT/run.json" "$@" \
  2> >(tee "$OUT/progress.log" >&2) | tee "$OUT/run.txt" &
run=$!
sample_cpu "$OUT" $server &
# what the database's active backends wait for, every 0.2 s while loadgen runs ("CPU": nothing)
(until grep -q requests "$OUT/progress.log"; do sleep 0.2; done
 while kill -0 $run 2>/dev/null; do
   psql -qAt "$DATABASE_URL" -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' | ' ||
       left(regexp_replace(query, '\s+', ' ', 'g'), 60) FROM pg_stat_activity
     WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
   sleep 0.2
 done) >"$OUT/waits.txt" 2>/dev/null &
waits=$!
wait $run $profiles $waits
echo "wait events of active backends ($(wc -l <"$OUT/waits.txt") samples over the loop):" | tee "$OUT/waits.top"
cut -d'|' -f1 "$OUT/waits.txt" | sort | uniq -c | sort -rn | head -8 | tee -a "$OUT/waits.top"
echo "lock waits by statement:" | tee -a "$OUT/waits.top"
grep '^Lock' "$OUT/waits.txt" | sort | uniq -c | sort -rn | head -5 | tee -a "$OUT/waits.top"
cpu_report "$OUT"

echo "server RSS peak: $(sort -n "$OUT/rss.kb" | tail -1) KiB"
for p in cpu block mutex; do
  echo "== $p profile (top 15)"
  go tool pprof -top -nodecount=15 "$OUT/tracetrack" "$OUT/$p.pprof" 2>/dev/null | tail -n +5
done | tee "$OUT/profiles.txt"
if [ "$stmts" = 1 ]; then
  psql -q "$DATABASE_URL" -c "
    SELECT round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct, calls,
           round(mean_exec_time::numeric, 2) AS mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time DESC LIMIT 12" | tee "$OUT/statements.txt"
fi
