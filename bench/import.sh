#!/bin/bash
# Import throughput and memory: cmd/import loads a generated child-to-parent workbook of ROWS
# rows (30 children per `Parent Code` row) into DB, a database already holding bags (seed it
# first: go run ./cmd/seed -database-url .../DB -bags 1000000 -password 'Seed!pass1').
# Prints the CLI's summary, its peak RSS and CPU seconds, and the CPU seconds of its database
# backends (utime+stime of /proc/PID/stat, sampled while the import runs), so that the
# figure that does not depend on the machine's load is rows per CPU second.
# The imported bags (M444- parents and their children) are deleted again at the end, and the
# table vacuumed, so that the next run does not probe a million dead index entries.
# Usage: bench/import.sh   (PGURL, DB, ROWS, CHUNK (rows per transaction), WORKERS override;
# BOOK=path reuses a workbook written before by this script's generator, of ROWS rows)
set -eu
cd "$(dirname "$0")/.."
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=${DB:-import_bench}
ROWS=${ROWS:-1000000}
CHUNK=${CHUNK:-20000}
WORKERS=${WORKERS:-3}
WORK=$(mktemp -d)
if [ -z "${BOOK:-}" ]; then
  BOOK=$WORK/children-$ROWS.xlsx
  go test ./importer -run TestWriteBenchWorkbook -count=1 -args -bench-workbook="$BOOK" -bench-rows="$ROWS" >/dev/null
fi
go build -o "$WORK/import" ./cmd/import
psql -q "$PGURL/$DB" -c "DELETE FROM bags WHERE qr LIKE 'M444-%'" -c "VACUUM ANALYZE bags" >/dev/null
echo "database $DB holds $(psql -Atq "$PGURL/$DB" -c 'SELECT count(*) FROM bags') bags; workbook $(du -h "$BOOK" | cut -f1), $ROWS rows"

APP=import_bench_$$
/usr/bin/time -v -o "$WORK/time" setsid "$WORK/import" -database-url "$PGURL/$DB?sslmode=disable&application_name=$APP" -chunk-rows "$CHUNK" -workers "$WORKERS" "$BOOK" \
  >"$WORK/out" 2>"$WORK/progress" &
cli=$!
declare -A backend
while kill -0 $cli 2>/dev/null; do
  for pid in $(psql -Atq "$PGURL/$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$APP'"); do
    ticks=$(awk '{print $14 + $15}' /proc/$pid/stat 2>/dev/null || true)
    [ -n "$ticks" ] && backend[$pid]=$ticks
  done
  sleep 0.5
done
wait $cli || true
cat "$WORK/out"
backend_ticks=0
for pid in "${!backend[@]}"; do backend_ticks=$((backend_ticks + backend[$pid])); done
cli_cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$WORK/time")
rss=$(awk -F': ' '/Maximum resident/ {print int($2 / 1024)}' "$WORK/time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time")
echo "load average $(cut -d" " -f1-3 /proc/loadavg)"
echo "wall $wall; cmd/import: peak RSS $rss MB, CPU ${cli_cpu} s; database backends: CPU $(echo "scale=2; $backend_ticks / 100" | bc) s"
echo "rows per CPU second (cmd/import + backends): $(echo "$ROWS / ($cli_cpu + $backend_ticks / 100)" | bc)"
psql -q "$PGURL/$DB" -c "DELETE FROM bags WHERE qr LIKE 'M444-%'" -c "VACUUM ANALYZE bags" >/dev/null
rm -rf "$WORK"
