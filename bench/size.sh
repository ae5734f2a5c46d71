#!/bin/bash
# Cost flat in size (issue 12): the same read queries against databases of different sizes,
# one server per database, rounds interleaved so that machine noise hits every size alike.
# For each query and size it prints p50/p95 (one client: the latency is the cost, no queueing),
# the server's CPU milliseconds per request (from /proc: far less sensitive to a loaded machine
# than latency), and the ratios of the largest size to the smallest.
# Usage: DBS="tt_peer tt10m" bench/size.sh    (databases filled by cmd/seed; default as shown)
# env: PGHOST_URL (postgres://postgres@127.0.0.1:5432), DUR (10 s a run), ROUNDS (2),
#      QUERIES (all of bench/wrk/size.lua), PASSWORD (the seed's, Seed!pass1), PORT (18300).
set -eu
cd "$(dirname "$0")/.."
BASE=${PGHOST_URL:-postgres://postgres@127.0.0.1:5432}
DBS=${DBS:-tt_peer tt10m}
DUR=${DUR:-10}; ROUNDS=${ROUNDS:-2}; PORT=${PORT:-18300}
PASSWORD=${PASSWORD:-Seed!pass1}
QUERIES=${QUERIES:-bagtree billpage recentscans stats baglist billlist scansummary}
OUT=$(mktemp -d)
go build -o "$OUT/tracetrack" .

pids=(); ports=(); tokens=(); parents=(); bills=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$OUT"; }
trap cleanup EXIT
i=0
for db in $DBS; do
  url="$BASE/$db?sslmode=disable"
  port=$((PORT + i))
  # rate limits off: every request comes from one address and one user
  ( exec setsid env DATABASE_URL="$url" LISTEN_ADDR=127.0.0.1:$port RATE_LIMIT_IP=0 RATE_LIMIT_USER=0 LOG_LEVEL=warn \
      "$OUT/tracetrack" ) >"$OUT/server-$db.log" 2>&1 &
  pids+=($!); ports+=($port)
  # the parents in cmd/seed's numbering (SB + 5, then M444- + 5, then SB + 7), so every key exists
  parents+=("$(psql -qAt "$url" -c "SELECT CASE WHEN n < 100000 THEN n ELSE n + 100000 END
    FROM (SELECT count(*) AS n FROM bags WHERE type = 'PARENT' AND qr LIKE 'SB%') sb")")
  bills+=("$(psql -qAt "$url" -c "SELECT count(*) FROM bills")")
  i=$((i + 1))
done
i=0
for db in $DBS; do
  until curl -sf "http://127.0.0.1:${ports[$i]}/readyz" >/dev/null; do
    kill -0 "${pids[$i]}" 2>/dev/null || { tail -5 "$OUT/server-$db.log"; exit 1; }
    sleep 0.2
  done
  token=$(curl -s -X POST "http://127.0.0.1:${ports[$i]}/graphql" -H 'Content-Type: application/json' \
    -d "{\"query\":\"mutation{login(username:\\\"admin_1\\\",password:\\\"$PASSWORD\\\"){token}}\"}" | jq -r '.data.login.token // empty')
  [ -n "$token" ] || { echo "cannot log in as admin_1 on $db"; exit 1; }
  tokens+=("$token")
  echo "$db: ${parents[$i]} parents, ${bills[$i]} bills, server pid ${pids[$i]}"
  i=$((i + 1))
done

# CPU ticks (user + system, 1/100 s) of a process
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # query db-index seconds
  QUERY=$1 TOKEN=${tokens[$2]} PARENTS=${parents[$2]} BILLS=${bills[$2]} \
    wrk -t1 -c1 -d"$3"s --latency -s bench/wrk/size.lua "http://127.0.0.1:${ports[$2]}/graphql" | grep RESULT
}
for q in $QUERIES; do
  i=0; for db in $DBS; do run "$q" $i 3 >/dev/null; i=$((i + 1)); done # warm up
  for _ in $(seq "$ROUNDS"); do
    i=0
    for db in $DBS; do
      before=$(ticks "${pids[$i]}")
      line=$(run "$q" $i "$DUR")
      after=$(ticks "${pids[$i]}")
      echo "$line db=$db cpu_ticks=$((after - before))" | tee -a "$OUT/results"
      i=$((i + 1))
    done
  done
done

python3 - "$OUT/results" $DBS <<'PY'
import sys, re, statistics
rows, dbs = {}, sys.argv[2:]
for line in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    rows.setdefault((kv['query'], kv['db']), []).append(kv)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
cpu = lambda rs: 10 * sum(float(r['cpu_ticks']) for r in rs) / sum(float(r['requests']) for r in rs)
head = " | ".join(f"{d} p50 / p95 ms | {d} server CPU ms/req" for d in dbs)
print(f"\n| query | {head} | {dbs[-1]} / {dbs[0]} p50 | p95 | server CPU |")
print("|---|" + "---|---|" * len(dbs) + "---|---|---|")
queries = list(dict.fromkeys(q for q, _ in rows))
for q in queries:
    cells = []
    for d in dbs:
        rs = rows[(q, d)]
        cells.append(f"{med(rs,'p50_ms'):.2f} / {med(rs,'p95_ms'):.2f} | {cpu(rs):.2f}")
    a, b = rows[(q, dbs[0])], rows[(q, dbs[-1])]
    ratio = lambda x, y: f"{x / y:.2f}x" if y else "-"
    print(f"| {q} | " + " | ".join(cells) +
          f" | {ratio(med(b,'p50_ms'), med(a,'p50_ms'))} | {ratio(med(b,'p95_ms'), med(a,'p95_ms'))} | {ratio(cpu(b), cpu(a))} |")
bad = [r for rs in rows.values() for r in rs if r['errors'] != '0']
print("\nfailed requests:", "none" if not bad else bad)
PY
