#!/usr/bin/env bash
# One read of ../shared/peers/side-by-side.sh against PostGraphile v4 and two TraceTrack builds
# (before and after a change), interleaved in the same minutes, with each one's CPU per request:
# the server's (for PostGraphile its cluster's processes) and its PostgreSQL backends', from
# /proc. On a shared machine the CPU per request moves far less than req/s and p99.
# Usage (after one run of side-by-side.sh with KEEP=1 made tt_peer, peer_ref and PostGraphile v4):
#   BEFORE=/tmp/tt-before AFTER=/tmp/tt-after bench/peer-ab.sh    (binaries built with go build)
# env: QUERY (billpage | bagtree | recentscans; billpage), DUR (15 s), ROUNDS (2),
#      PGHOST_URL (postgres://postgres@127.0.0.1:5432), PEER_PORT (5443, beside side-by-side.sh's).
set -u
cd "$(dirname "$0")/.."
Q=${QUERY:-billpage}; DUR=${DUR:-15}; ROUNDS=${ROUNDS:-2}; PEER_PORT=${PEER_PORT:-5443}
BASE=${PGHOST_URL:-postgres://postgres@127.0.0.1:5432}
TT_DB="$BASE/tt_peer?sslmode=disable"
lua=../shared/peers/wrk-gql.lua; cache=${XDG_CACHE_HOME:-$HOME/.cache}/tracetrack-peers
(cd "$cache" && exec setsid ./node_modules/.bin/postgraphile -c "$BASE/peer_ref" -s public -n 127.0.0.1 -p "$PEER_PORT" \
  --append-plugins @graphile-contrib/pg-simplify-inflector --disable-query-log --cluster-workers 2) >/dev/null 2>&1 &
pgpid=$!
serve() { ( exec setsid env DATABASE_URL="$TT_DB" LISTEN_ADDR=127.0.0.1:$2 RATE_LIMIT_USER=0 RATE_LIMIT_IP=0 LOG_LEVEL=warn "$1" ) >/dev/null 2>&1 & }
serve "$BEFORE" 18311; beforepid=$!
serve "$AFTER" 18312; afterpid=$!
trap 'for p in $pgpid $beforepid $afterpid; do kill -- -$p 2>/dev/null; done' EXIT
up() { curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' "$1" 2>/dev/null; }
for _ in $(seq 120); do up http://127.0.0.1:$PEER_PORT/graphql && curl -fs http://127.0.0.1:18311/readyz >/dev/null &&
  curl -fs http://127.0.0.1:18312/readyz >/dev/null && break; sleep 0.5; done
TOKEN=$(curl -s -X POST http://127.0.0.1:18311/graphql -H 'Content-Type: application/json' \
  -d '{"query":"mutation{login(username:\"admin_1\",password:\"Seed!pass1\"){token}}"}' | jq -r '.data.login.token // empty')
[ -n "$TOKEN" ] || { echo "cannot log in as the seeded admin_1"; exit 1; }
BILLS=$(psql "$TT_DB" -Atc "select count(*) from bills")
export TOKEN BILLS
ticks() { local t=0; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
backends() { psql "$BASE/postgres" -Atc "select pid from pg_stat_activity where datname = '$1' and backend_type = 'client backend' and pid <> pg_backend_pid()"; }
hz=$(getconf CLK_TCK)
run() { # name, wrk target, port, database, server pids
  local name=$1 target=$2 port=$3 db=$4; shift 4
  TARGET=$target QUERY=$Q wrk -t2 -c50 -d3s -s $lua http://127.0.0.1:$port/graphql >/dev/null
  local pids="$* $(backends "$db")" t0 t1 out n
  t0=$(ticks $pids)
  out=$(TARGET=$target QUERY=$Q wrk -t2 -c50 -d${DUR}s --latency -s $lua http://127.0.0.1:$port/graphql | grep RESULT)
  t1=$(ticks $pids)
  n=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
  echo "$name $out cpu_us_per_req=$(( (t1 - t0) * 1000000 / hz / (n > 0 ? n : 1) )) load=$(cut -d' ' -f1 /proc/loadavg)"
}
for _ in $(seq "$ROUNDS"); do
  run postgraphile4 postgraphile "$PEER_PORT" peer_ref $pgpid $(pgrep -g $pgpid)
  run before tracetrack 18311 tt_peer $beforepid
  run after tracetrack 18312 tt_peer $afterpid
done
