#!/bin/bash
# EPCIS export: 1,000,000 scans (50,000 parents registered, 950,000 child links) in a scratch
# database, the server under setsid, one GET /export/epcis.jsonld; prints curl's status, bytes
# and time, the server's CPU over the download (utime+stime, 1/100 s ticks) and its peak RSS.
# Usage: bench/epcis-export.sh   (PGURL, PORT override the local server and port 18631)
set -eu
cd "$(dirname "$0")/.."
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18631}
TMP=$(mktemp -d)
go build -o "$TMP/tracetrack" .
DB=tt_bench_epcis
psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
ADMIN_PASSWORD='Bench#Pass1' RATE_LIMIT_USER=0 DATABASE_URL="$PGURL/$DB?sslmode=disable" LISTEN_ADDR=127.0.0.1:$PORT \
  setsid "$TMP/tracetrack" >/dev/null 2>&1 &
pid=$!
trap 'kill -TERM $pid; wait $pid; psql -q "$PGURL/postgres" -c "DROP DATABASE $DB"; rm -rf "$TMP"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.1; done
psql -q "$PGURL/$DB" <<'SQL'
INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 1 + i % 10 FROM generate_series(1, 50000) i;
INSERT INTO scans (kind, bag_qr, bag_id, area_id, at) SELECT 'PARENT_SCANNED', qr, id, area_id, now() - interval '1 day' FROM bags;
INSERT INTO scans (kind, bag_qr, parent_id, area_id, at)
  SELECT 'CHILD_LINKED', 'C' || lpad((b.id * 19 + k)::text, 8, '0'), b.id, b.area_id, now() - interval '1 day' + k * interval '1 s'
  FROM bags b, generate_series(1, 19) k;
ANALYZE;
SQL
token=$(curl -s "http://127.0.0.1:$PORT/graphql" -H 'Content-Type: application/json' \
  -d '{"query":"mutation { login(username: \"admin\", password: \"Bench#Pass1\") { token } }"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/export/epcis.jsonld" -o /dev/null \
  -w 'status %{http_code}, %{size_download} bytes, %{time_total} s\n'
echo "server CPU over the download: $(( $(ticks) - before )) ticks of 1/100 s"
grep VmHWM "/proc/$pid/status"
