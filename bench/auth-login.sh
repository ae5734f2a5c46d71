#!/bin/bash
# Login latency: N sequential logins (default 200) of the admin with bcrypt cost 10 (the
# default), then the same for an unknown username; prints percentiles of curl's time_total.
# Usage: bench/auth-login.sh [N]   (PGURL, PORT override the local server and port 18102)
set -eu
cd "$(dirname "$0")/.."
N=${1:-200}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18102}
TMP=$(mktemp -d)
go build -o "$TMP/tracetrack" .
DB=tt_bench_login
psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
ADMIN_PASSWORD='Bench#Pass1' BCRYPT_COST=10 DATABASE_URL="$PGURL/$DB?sslmode=disable" LISTEN_ADDR=127.0.0.1:$PORT "$TMP/tracetrack" >/dev/null 2>&1 &
pid=$!
trap 'kill -TERM $pid; wait $pid; psql -q "$PGURL/postgres" -c "DROP DATABASE $DB"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.01; done
for user in admin nobody_here; do
  body="{\"query\":\"mutation { login(username: \\\"$user\\\", password: \\\"Bench#Pass1\\\") { token } }\"}"
  for _ in $(seq "$N"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$PORT/graphql"
  done | sort -n | awk -v who="$user" '{a[NR]=$1} END {printf "%s: n=%d p50=%.1f ms p95=%.1f ms max=%.1f ms\n", who, NR, a[int(NR*0.5)]*1000, a[int(NR*0.95)]*1000, a[NR]*1000}'
done
