#!/usr/bin/env python3
"""End-to-end benchmark of `furrow pipeline` (pseudonymization and gzip on).

1. Baseline: nginx (Debian's nginx-light) serving a 1x1 GIF, driven by wrk with the
   same connections and duration: requests/s.
2. furrow pipeline on a fresh data dir (--max-file-age-s 1): wrk POSTs tp2 batches
   (post_tp2.lua, BATCH events each) for --seconds; acknowledged events/s at the
   collector, then the time until every acknowledged event is in a lake file:
   end-to-end events/s = events / (last event visible - load start).
3. During the load a probe sends one event every 100 ms and a watcher scans new lake
   files every 50 ms: median and p99 delay from the 200 to the file being visible.
4. Peak RSS of the pipeline process (VmHWM).

Usage: bench/pipeline/pipeline_bench.py [--seconds 20] [--connections 64] [--batch 10]
Needs: wrk, nginx, a built furrow ($FURROW_BINARY or build/src/app/furrow).
"""
import argparse, glob, gzip, http.client, json, os, re, socket, subprocess, sys, tempfile
import shutil, threading, time, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, seconds, connections, script=None, env=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    acked = re.search(r"acknowledged_requests (\d+)", out)
    return rps, int(acked.group(1)) if acked else None, out


def nginx_baseline(tmp, seconds, connections):
    port = free_port()
    root = os.path.join(tmp, "nginx")
    os.makedirs(root)
    with open(os.path.join(root, "i.gif"), "wb") as f:
        f.write(bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b"))
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 2; daemon off; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; client_body_temp_path {root}; proxy_temp_path {root};
  fastcgi_temp_path {root}; uwsgi_temp_path {root}; scgi_temp_path {root};
  server {{ listen 127.0.0.1:{port}; location / {{ root {root}; }} }} }}""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", root])
    time.sleep(1)
    try:
        rps, _, _ = wrk(f"http://127.0.0.1:{port}/i.gif", seconds, connections)
    finally:
        proc.terminate()
        proc.wait()
    return rps


def lake_files(lake):
    return [p for p in glob.glob(os.path.join(lake, "output", "**", "*.gz"), recursive=True)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--batch", type=int, default=10)
    a = ap.parse_args()
    binary = os.environ.get("FURROW_BINARY", os.path.join(ROOT, "build/src/app/furrow"))
    tmp = tempfile.mkdtemp(prefix="furrow-pipeline-bench-")

    nginx_rps = nginx_baseline(tmp, a.seconds, a.connections)

    data = os.path.join(tmp, "data")
    log = open(os.path.join(tmp, "pipeline.log"), "w")
    proc = subprocess.Popen([binary, "pipeline", "--data-dir", data, "--port", "0", "--bind",
                             "127.0.0.1", "--max-file-age-s", "1"],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])
    lake = os.path.join(data, "lake")

    probes_acked, probes_seen, stop = {}, {}, threading.Event()

    def probe():
        while not stop.is_set():
            eid = str(uuid.uuid4())
            body = json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
                               "data": [{"e": "pv", "eid": eid, "tv": "probe", "p": "web"}]})
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", "/com.snowplowanalytics.snowplow/tp2", body, {"Content-Type": "application/json"})
            if c.getresponse().status == 200:
                probes_acked[eid] = time.monotonic()
            c.close()
            time.sleep(0.1)

    def watch():
        seen_files = set()
        while not stop.is_set() or len(probes_seen) < len(probes_acked):
            for f in lake_files(lake):
                if f in seen_files:
                    continue
                seen_files.add(f)
                now = time.monotonic()
                for line in gzip.open(f, "rt"):
                    eid = line.split("\t")[6]
                    if eid in probes_acked and eid not in probes_seen:
                        probes_seen[eid] = now
            time.sleep(0.05)
            if stop.is_set() and time.monotonic() - stop_time[0] > 60:
                break

    stop_time = [0.0]
    threads = [threading.Thread(target=probe), threading.Thread(target=watch)]
    for t in threads:
        t.start()
    start = time.monotonic()
    env = dict(os.environ, BATCH=str(a.batch))
    rps, acked_requests, _ = wrk(f"http://127.0.0.1:{port}", a.seconds, a.connections,
                                 os.path.join(HERE, "post_tp2.lua"), env)
    load_end = time.monotonic()
    stop_time[0] = load_end
    stop.set()
    threads[0].join()
    acked_events = acked_requests * a.batch + len(probes_acked)
    # Wait until every acknowledged event is in a lake file.
    count, last = 0, load_end
    while time.monotonic() - load_end < 120:
        count = sum(sum(1 for _ in gzip.open(f, "rt")) for f in lake_files(lake))
        if count >= acked_events:
            last = time.monotonic()
            break
        time.sleep(0.2)
    threads[1].join()
    rss_kb = int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1))
    proc.terminate()
    proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)

    delays = sorted(probes_seen[e] - probes_acked[e] for e in probes_seen)
    def pct(p):
        return delays[min(len(delays) - 1, int(p * len(delays)))] if delays else float("nan")
    print(f"nginx pixel (baseline): {nginx_rps:,.0f} requests/s")
    print(f"collector: {rps:,.0f} requests/s x {a.batch} events = {rps * a.batch:,.0f} events/s acknowledged")
    print(f"end to end: {acked_events:,} events in the lake after {last - start:.1f} s = "
          f"{acked_events / (last - start):,.0f} events/s (all in lake: {count >= acked_events})")
    print(f"delay 200 -> file visible: median {pct(0.5):.2f} s, p99 {pct(0.99):.2f} s "
          f"({len(delays)} probes)")
    print(f"peak RSS: {rss_kb / 1024:.0f} MB")
    print(f"requests/s ratio furrow / nginx pixel: {rps / nginx_rps:.2f} "
          f"(events/s ratio: {rps * a.batch / nginx_rps:.2f})")


if __name__ == "__main__":
    main()
