#!/bin/bash
# Capacity at the service level (issue 12): sweeps the think time of 1,000 field-test users
# (bench/field-test.sh with cmd/loadgen's default mix) from slow to fast and reports, for each
# step, the request rate, p95, p99 and errors, and the highest rate that meets p95 <= 50 ms,
# p99 <= 200 ms and 0 errors. The sweep stops after the first step that misses by more than 2x
# (faster users only queue more). Server, PostgreSQL and the load generator share the machine.
# Usage: DATABASE_URL=postgres://.../tt10m bench/capacity.sh
# env: THINKS ("2s 1.5s 1s 800ms 600ms 500ms 400ms 300ms"), USERS (1000), DURATION (60s),
#      PASSWORD (the seed's, Seed!pass1), OUT (/tmp/capacity), P95_MS (50), P99_MS (200).
set -eu
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a database filled by cmd/seed}"
THINKS=${THINKS:-2s 1.5s 1s 800ms 600ms 500ms 400ms 300ms}
USERS=${USERS:-1000}; DURATION=${DURATION:-60s}
P95_MS=${P95_MS:-50}; P99_MS=${P99_MS:-200}
OUT=${OUT:-/tmp/capacity}
export PASSWORD=${PASSWORD:-Seed!pass1}
mkdir -p "$OUT"
: >"$OUT/sweep.txt"
for think in $THINKS; do
  echo "== think $think: $USERS users, $DURATION" >&2
  OUT="$OUT/think-$think" bench/field-test.sh -users "$USERS" -duration "$DURATION" -think "$think" >"$OUT/think-$think.log" 2>&1 ||
    { echo "field-test.sh failed at think $think; see $OUT/think-$think.log" >&2; tail -5 "$OUT/think-$think.log" >&2; exit 1; }
  line=$(jq -r --arg think "$think" --arg cpu "$(cat "$OUT/think-$think/cpu.txt")" \
    '"think=\($think) rps=\(.total.rps) p50_ms=\(.total.p50_ms) p95_ms=\(.total.p95_ms) p99_ms=\(.total.p99_ms) requests=\(.total.requests) errors=\(.total.errors) cpu=\"\($cpu)\""' \
    "$OUT/think-$think/run.json")
  echo "$line" | tee -a "$OUT/sweep.txt"
  # far past the knee: stop
  jq -e --argjson p95 "$P95_MS" '.total.p95_ms > 2 * $p95' "$OUT/think-$think/run.json" >/dev/null && break
done

python3 - "$OUT/sweep.txt" "$P95_MS" "$P99_MS" <<'PY'
import sys, re
p95max, p99max = float(sys.argv[2]), float(sys.argv[3])
rows = [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', l)) for l in open(sys.argv[1]) if l.strip()]
print(f"\n| think | req/s | p50 ms | p95 ms | p99 ms | requests | errors | meets p95 <= {p95max:.0f}, p99 <= {p99max:.0f}, 0 errors | CPU |")
print("|---|---|---|---|---|---|---|---|---|")
best = None
for r in rows:
    ok = float(r['p95_ms']) <= p95max and float(r['p99_ms']) <= p99max and r['errors'] == '0'
    if ok and (best is None or float(r['rps']) > float(best['rps'])):
        best = r
    print(f"| {r['think']} | {float(r['rps']):.0f} | {float(r['p50_ms']):.1f} | {float(r['p95_ms']):.1f} | {float(r['p99_ms']):.1f} | "
          f"{r['requests']} | {r['errors']} | {'yes' if ok else 'no'} | {r['cpu'].strip(chr(34)).split(': ', 1)[-1]} |")
print("\nhighest rate within the targets:", f"{float(best['rps']):.0f} req/s at think {best['think']}" if best else "none")
PY
