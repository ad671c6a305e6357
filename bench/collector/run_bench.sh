#!/usr/bin/env bash
# Collector benchmark: furrow collector against nginx (baseline) in one run, both
# loaded by wrk over loopback with keep-alive.
#
#   bench/collector/run_bench.sh [FURROW_BINARY] [--seconds N] [--connections N]
#
# 1. nginx (Debian nginx-light, access log on) serves a 1x1 GIF at /i;
#    wrk GET /i with a ~400-byte page-view query string (get.lua).
# 2. furrow collector (embedded file streams in a temp dir, fdatasync group commit):
#    the same GET load, then POST tp2 batches of 10 events (~4 KB, post.lua).
# 3. GET at half of furrow's measured peak: every connection paced with wrk's
#    delay() (wrk2 is not in Debian), p99 reported; on a fresh collector and data
#    directory after `sync`, so that it does not measure the writeback of the
#    full-load runs.
# Prints requests/s, the furrow/nginx ratio, POST events/s, p99 latencies and furrow's
# peak RSS (VmHWM). Loopback only; everything it starts it stops.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
furrow="$root/build/src/app/furrow"
seconds=10
connections=128
threads=2
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) furrow="$1"; shift ;;
  esac
done
for tool in nginx wrk python3; do
  command -v "$tool" >/dev/null || { echo "run_bench: $tool is missing (scripts/deps installs it)" >&2; exit 1; }
done
[[ -x "$furrow" ]] || { echo "run_bench: no furrow binary at $furrow" >&2; exit 1; }

work="$(mktemp -d /tmp/furrow-collector-bench-XXXXXX)"
chmod 755 "$work"  # nginx workers (www-data) must read the pixel
nginx_pid=""
furrow_pid=""
cleanup() {
  [[ -n "$furrow_pid" ]] && kill "$furrow_pid" 2>/dev/null && wait "$furrow_pid" 2>/dev/null || true
  [[ -n "$nginx_pid" ]] && kill "$nginx_pid" 2>/dev/null || true
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
run_wrk() {  # URL SCRIPT [extra env]
  local out
  out="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 10s -s "$2" "$1" 2>&1)" || true
  grep '^RESULT' <<<"$out" || { echo "$out" >&2; echo "RESULT rps=0 p99_ms=0 errors=-1"; }
}

# --- nginx baseline ---------------------------------------------------------------
mkdir -p "$work/nginx/www" "$work/nginx/tmp"
printf 'GIF89a\x01\x00\x01\x00\xf0\x00\x00\xff\xff\xff\x00\x00\x00\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b' >"$work/nginx/www/pixel.gif"
nginx_port="$(free_port)"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/www;
    location = /i {
      default_type image/gif;
      add_header Cache-Control "no-cache, no-store, must-revalidate";
      try_files /pixel.gif =404;
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nginx_port/i" -o /dev/null 2>/dev/null && break; sleep 0.05; done
nginx_get="$(run_wrk "http://127.0.0.1:$nginx_port" "$here/get.lua")"
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
nginx_statuses="$(awk '{print $9}' "$work/nginx/access.log" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')"

# --- furrow collector -------------------------------------------------------------
start_furrow() {  # DATA_DIR LOG_NAME: starts the collector, sets furrow_pid and furrow_port
  "$furrow" collector --data-dir "$1" --port 0 --bind 127.0.0.1 \
    --stream-budget-bytes $((32 << 30)) --stream-retention-bytes $((256 << 20)) \
    >"$work/$2.out" 2>"$work/$2.err" &
  furrow_pid=$!
  for _ in $(seq 200); do grep -q '^listening on' "$work/$2.out" 2>/dev/null && break; sleep 0.05; done
  furrow_port="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$2.out")"
  [[ -n "$furrow_port" ]] || { cat "$work/$2.err" >&2; exit 1; }
}
stop_furrow() {  # adds the process's 503s and peak RSS to the totals
  local m kb
  m="$(curl -s "http://127.0.0.1:$furrow_port/metrics")"
  unavailable=$((unavailable + $(grep -E '^furrow_collector_unavailable_total' <<<"$m" | awk '{s+=$2} END {print s+0}')))
  kb="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$furrow_pid/status")"
  (( kb > rss_kb )) && rss_kb=$kb
  kill -TERM "$furrow_pid"; wait "$furrow_pid" 2>/dev/null || true; furrow_pid=""
}
unavailable=0
rss_kb=0
start_furrow "$work/furrow" furrow
furrow_get="$(run_wrk "http://127.0.0.1:$furrow_port" "$here/get.lua")"
furrow_post="$(run_wrk "http://127.0.0.1:$furrow_port" "$here/post.lua")"
stop_furrow

# The half-load run gets a fresh collector on a fresh data directory after `sync`:
# otherwise it would measure the kernel writing back the gigabytes the full-load runs
# left dirty (fdatasync then waits behind that writeback), not the collector at half
# load.
peak_rps="$(field rps "$furrow_get")"
half_rate="$(python3 -c "print(max(1.0, $peak_rps / 2))")"
delay_ms="$(python3 -c "print(max(1, round($connections * 1000 / $half_rate)))")"
rm -rf "$work/furrow"
sync
start_furrow "$work/furrow-half" furrow-half
furrow_half="$(WRK_DELAY_MS=$delay_ms run_wrk "http://127.0.0.1:$furrow_port" "$here/get.lua")"
stop_furrow

# --- furrow with its streams on tmpfs: the same code without the disk's fdatasync ----
# cost (not durable across power loss; shows how much of the gap is the disk).
tmpfs_get="RESULT rps=0 p50_ms=0 p99_ms=0 errors=0 non2xx=0"
tmpfs_post="$tmpfs_get"
if [[ -d /dev/shm && -w /dev/shm ]]; then
  shm="$(mktemp -d /dev/shm/furrow-collector-bench-XXXXXX)"
  "$furrow" collector --data-dir "$shm" --port 0 --bind 127.0.0.1 \
    --stream-budget-bytes $((1 << 30)) --stream-retention-bytes $((128 << 20)) \
    >"$work/tmpfs.out" 2>"$work/tmpfs.err" &
  furrow_pid=$!
  for _ in $(seq 200); do grep -q '^listening on' "$work/tmpfs.out" 2>/dev/null && break; sleep 0.05; done
  tmpfs_port="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/tmpfs.out")"
  if [[ -n "$tmpfs_port" ]]; then
    tmpfs_get="$(run_wrk "http://127.0.0.1:$tmpfs_port" "$here/get.lua")"
    tmpfs_post="$(run_wrk "http://127.0.0.1:$tmpfs_port" "$here/post.lua")"
  fi
  kill -TERM "$furrow_pid"; wait "$furrow_pid" 2>/dev/null || true; furrow_pid=""
  rm -rf "$shm"
fi

# --- report -----------------------------------------------------------------------
ratio="$(python3 -c "n=float('$(field rps "$nginx_get")' or 0); f=float('$peak_rps' or 0); print('%.2f' % (f/n if n else 0))")"
post_events="$(python3 -c "print('%.0f' % (float('$(field rps "$furrow_post")' or 0) * 10))")"
echo "collector benchmark: $seconds s per run, wrk -t$threads -c$connections, keep-alive, loopback, $(nproc) cores shared with wrk"
printf '%-34s %12s %10s %10s %8s\n' "run" "requests/s" "p50 ms" "p99 ms" "errors"
show() { printf '%-34s %12s %10s %10s %8s\n' "$1" "$(field rps "$2")" "$(field p50_ms "$2")" "$(field p99_ms "$2")" "$(( $(field errors "$2") + $(field non2xx "$2") ))"; }
show "nginx GET /i (baseline)" "$nginx_get"
show "furrow GET /i" "$furrow_get"
show "furrow POST tp2 (10 events)" "$furrow_post"
show "furrow GET /i at half peak (paced)" "$furrow_half"
show "furrow GET /i, streams on tmpfs" "$tmpfs_get"
show "furrow POST tp2, streams on tmpfs" "$tmpfs_post"
echo "nginx access log statuses: $nginx_statuses"
echo "GET ratio furrow/nginx: $ratio (target >= 1.0)"
echo "POST events/s: $post_events (target >= 300000; body $(field body_bytes "$furrow_post") bytes)"
echo "p99 at half peak: $(field p99_ms "$furrow_half") ms at $(field rps "$furrow_half") req/s, each connection paced to one request per ${delay_ms} ms (target <= 10 ms)"
echo "furrow peak RSS (VmHWM): $((rss_kb / 1024)) MiB (target <= 100 MiB)"
echo "furrow 503 answers: $unavailable"
echo "fdatasync on the data dir's disk bounds durable throughput at about connections / commit latency;"
echo "the tmpfs rows show the same code without that cost (not durable across power loss)."
