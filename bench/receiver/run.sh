#!/usr/bin/env bash
# bench/receiver: the Service Ping receiver under load, and the warehouse load rate.
#
#   bench/receiver/run.sh [FURROW_BINARY] [SECONDS]
#
# 1. A 2,000-metric payload (~150 KB) POSTed at concurrency 32 by wrk (2 threads)
#    to `furrow receiver` on SQLite, then on PostgreSQL: payloads/s and p99.
# 2. Baseline in the same run: pgbench inserting the same JSON row into the same
#    PostgreSQL (32 clients), transactions/s.
# 3. `furrow receiver extract` then `furrow warehouse load --source pings` of what was
#    stored (SQLite): metric rows/s of the load.
# Everything runs on 127.0.0.1 in a temporary directory that is removed at the end.
set -euo pipefail
furrow=$(realpath "${1:-build/src/app/furrow}")
seconds=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -f "$tmp/pg/PG_VERSION" ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

python3 "$here/make_payload.py" 2000 > "$tmp/payload.json"
echo "payload: $(wc -c < "$tmp/payload.json") bytes, 2000 metrics; load average $(load_average)"

start_receiver() {  # $1 = data dir, rest = extra options; sets port
  local dir=$1; shift
  mkdir -p "$dir"
  "$furrow" receiver --port 0 --bind 127.0.0.1 --data-dir "$dir" --extract-at off --load-at off --log-level warn \
    "$@" > "$dir/out" 2> "$dir/err" &
  pids+=($!)
  for _ in $(seq 1 300); do
    if grep -q "listening on" "$dir/out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/out")
}

run_wrk() {  # $1 = label; the receiver is the last pid started
  PAYLOAD_FILE="$tmp/payload.json" wrk -t2 -c32 -d"${seconds}s" --latency -s "$here/post.lua" \
    "http://127.0.0.1:$port" > "$tmp/wrk.txt"
  local rps p99 non2xx requests cpu
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/wrk.txt")
  requests=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
  # The receiver's CPU time (user + system) per payload: steadier than the rate on a
  # machine shared with other work.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/${pids[-1]}/stat")
  echo "$1: ${rps} payloads/s, p99 ${p99}, non-2xx ${non2xx:-0}, receiver CPU" \
    "$(python3 -c "print(f'{1000 * $cpu / $requests:.3f}')") ms/payload; load average $(load_average)"
}

# 1a. SQLite store.
start_receiver "$tmp/sqlite"
run_wrk "receiver on SQLite"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# 3. Extract and load what SQLite received.
"$furrow" receiver extract --data-dir "$tmp/sqlite" --log-level warn > /dev/null
start=$(date +%s.%N)
load=$("$furrow" warehouse load --data-dir "$tmp/sqlite" --source pings --log-level warn)
end=$(date +%s.%N)
rows=$(echo "$load" | sed -n 's/.* \([0-9]*\) metric rows.*/\1/p')
python3 -c "import sys; r, s = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'warehouse load (SQLite): {r} metric rows in {s:.2f} s = {r / s:.0f} rows/s; load average {sys.argv[4]}')" "$rows" "$start" "$end" "$(load_average)"

# 1b and 2. PostgreSQL store and pgbench on the same server.
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/pg" && chown postgres "$tmp/pg"
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$tmp/pg" -A trust -U furrow > /dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$tmp/pg" -l "$tmp/pg/log" -w \
  -o "-p $pgport -k $tmp/pg -c listen_addresses=127.0.0.1 -c max_connections=100 -c synchronous_commit=on" start > /dev/null
url="postgresql://furrow@127.0.0.1:$pgport/postgres"
start_receiver "$tmp/pgrecv" --database "$url"
run_wrk "receiver on PostgreSQL"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
psql -q "$url" -c "CREATE TABLE bench_payload (p json); CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, uuid TEXT, payload JSON, recorded_at TEXT, created_at TEXT);"
psql -q "$url" <<SQL
\\set payload \`cat $tmp/payload.json\`
INSERT INTO bench_payload VALUES (:'payload');
SQL
echo "INSERT INTO bench_raw (uuid, payload, recorded_at, created_at) SELECT md5(random()::text), p, '2026-11-22', now()::text FROM bench_payload;" > "$tmp/insert.sql"
pgbench -n -c32 -j2 -T"$seconds" -f "$tmp/insert.sql" "$url" > "$tmp/pgbench.txt" 2>&1
echo "pgbench baseline (same JSON row, same server): $(awk '/tps =/ {print $3}' "$tmp/pgbench.txt") inserts/s; load average $(load_average)"
