# Sourced by the load scripts (field-test.sh, opcost.sh): CPU seconds of the processes under
# test, from /proc, and which PostgreSQL processes are this run's. Needs DATABASE_URL.

# CPU seconds (user + system) of the processes named, from /proc (clock ticks of 1/100 s)
cpu_seconds() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {printf "%.2f", s / 100}'; }
# PostgreSQL's processes for this run: the cluster's own (checkpointer, WAL writer...) and the
# backends of this database, not those of other databases on a shared cluster or of another
# cluster on the machine (every process named postgres would count other work's CPU as ours)
db_name=$(psql -qAt "$DATABASE_URL" -c "SELECT current_database()")
postmaster=$(ps -o ppid= -p "$(psql -qAt "$DATABASE_URL" -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")" | tr -d ' ')
pg_pids() {
  for p in $(pgrep -P "$postmaster"); do
    cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
    case "$cmd" in *"("*) [[ "$cmd" == *" $db_name "* ]] && echo "$p" ;; *) [ -z "${1:-}" ] && echo "$p" ;; esac
  done
}
# backend_pids: this database's backends alone (the cluster's WAL writer and checkpointer
# also work for every other database of a shared cluster)
backend_pids() { pg_pids backends; }

# sample_cpu DIR SERVER_PID: from the first progress line of DIR/loadgen (DIR/progress.log)
# until it exits, "time server postgres loadgen backends" CPU seconds into DIR/cpu.start and
# DIR/cpu.end (the loop only: the sign-ins before it hash passwords).
sample_cpu() {
  until grep -q requests "$1/progress.log"; do sleep 0.2; done
  local loadgen
  loadgen=$(pgrep -f "^$1/loadgen" | head -1)
  echo "$(date +%s.%N) $(cpu_seconds "$2") $(cpu_seconds $(pg_pids)) $(cpu_seconds "$loadgen") $(cpu_seconds $(backend_pids))" >"$1/cpu.start"
  local sample
  while kill -0 "$loadgen" 2>/dev/null; do
    sample="$(date +%s.%N) $(cpu_seconds "$2") $(cpu_seconds $(pg_pids)) $(cpu_seconds "$loadgen") $(cpu_seconds $(backend_pids))"
    # kept only if loadgen was still there after it was read: a sample taken as it exited
    # would count its CPU as 0 (the loop's share came out negative)
    kill -0 "$loadgen" 2>/dev/null && echo "$sample" >"$1/cpu.end"
    sleep 1
  done
}

# cpu_report DIR: the loop's CPU from sample_cpu, as shares of the machine (DIR/cpu.txt) and
# per request (DIR/cpu-per-request.txt; DIR/run.json is the loadgen's report). The samples
# span less than the loop (from its first progress line), so the requests they cover are the
# loop's rate times their span.
cpu_report() {
  local t0 s0 p0 l0 b0 t1 s1 p1 l1 b1
  read -r t0 s0 p0 l0 b0 <"$1/cpu.start"; read -r t1 s1 p1 l1 b1 <"$1/cpu.end"
  awk -v t="$(echo "$t1 - $t0" | bc)" -v s="$(echo "$s1 - $s0" | bc)" -v p="$(echo "$p1 - $p0" | bc)" -v l="$(echo "$l1 - $l0" | bc)" \
    'BEGIN {printf "CPU over the loop (%.0f s, 2 cores = 200 %%): server %.0f %%, PostgreSQL %.0f %%, loadgen %.0f %%\n", t, 100*s/t, 100*p/t, 100*l/t}' | tee "$1/cpu.txt"
  awk -v r="$(jq .total.rps "$1/run.json")" -v t="$(echo "$t1 - $t0" | bc)" -v s="$(echo "$s1 - $s0" | bc)" -v p="$(echo "$p1 - $p0" | bc)" -v b="$(echo "$b1 - $b0" | bc)" \
    'BEGIN {n = r * t; printf "CPU per request: server %.3f ms, PostgreSQL %.3f ms, together %.3f ms (%.0f requests in %.0f s); the database'"'"'s backends alone %.3f ms\n", 1000*s/n, 1000*p/n, 1000*(s+p)/n, n, t, 1000*b/n}' | tee "$1/cpu-per-request.txt"
}
