#!/usr/bin/env python3
"""Service Ping generation benchmark.

Builds tables of ROWS rows in SQLite and in PostgreSQL, writes METRICS database
metric definitions over them, and measures in the same run:

  baseline  the same SQL (printed by `furrow ping queries`) run one statement after
            another by the database's own CLI (sqlite3, psql);
  furrow    `furrow ping generate` computing every metric (batched, concurrent);

then prints both times, their ratio (target <= 0.6 on 2 cores) and furrow's peak RSS
(target <= 100 MB).

  bench/ping/run.py --furrow build/src/app/furrow [--rows 10000000] [--metrics 1000]
                    [--threads 2] [--skip-postgres] [--workdir DIR]

The PostgreSQL server is started here (initdb + pg_ctl, as the postgres user when
run as root) on a free port in the work directory and stopped at the end.
"""
import argparse
import json
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flatten(prefix, node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            flatten(prefix + "." + k if prefix else k, v, out)
    else:
        out.append((prefix, node))


def write_definitions(directory, metrics, seed=7):
    """Metrics over two tables: mostly 7d/28d windows (indexed created_at), some
    all-time counts with conditions, distinct counts over indexed columns, sums."""
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    for i in range(metrics):
        table = "issues" if i % 2 == 0 else "events"
        kind = i % 10
        frame = "28d" if kind < 4 else "7d" if kind < 8 else "all"
        op = ["count", "count", "count", "distinct_count", "sum"][i % 5]
        lines = ["operation: " + op, "relation: " + table]
        if op == "distinct_count":
            lines.append("column: author_id")
        elif op == "sum":
            lines.append("column: weight")
        condition = rng.choice(["state = %d" % rng.randrange(4), "weight > %d" % rng.randrange(10),
                                "project_id %% %d = 0" % rng.randrange(2, 9), ""])
        if frame == "all" and not condition:
            condition = "state = 1"
        if condition:
            lines.append('where: "%s"' % condition)
        with open(os.path.join(directory, "m%04d.yml" % i), "w") as f:
            f.write("key_path: counts.bench.m%04d\ndescription: bench\nproduct_group: bench\n"
                    "value_type: number\nstatus: active\ntime_frame: %s\ndata_source: database\n"
                    "data_category: operational\nmilestone: '1.0'\nintroduced_by_url: bench\ntiers: [free]\n"
                    "instrumentation_class: DatabaseMetric\noptions:\n%s\n"
                    % (i, frame, "\n".join("  " + l for l in lines)))


def table_sql(name, rows, now_expr, days, pg):
    # ids increase with created_at, as in a product database.
    if pg:
        return ("CREATE TABLE {n}(id bigint PRIMARY KEY, author_id int, project_id int, state int, weight int,"
                " created_at timestamp);"
                "INSERT INTO {n} SELECT g, (g * 7919) % 50000, (g * 31) % 1000, g % 4, g % 13,"
                " {now} - make_interval(secs => ({rows} - g)::float8 * {span} / {rows})"
                " FROM generate_series(1::bigint, {rows}::bigint) g;"
                "CREATE INDEX {n}_created_at ON {n}(created_at); CREATE INDEX {n}_author ON {n}(author_id);"
                "VACUUM ANALYZE {n};").format(n=name, rows=rows, now=now_expr, span=days * 86400)
    return ("CREATE TABLE {n}(id INTEGER PRIMARY KEY, author_id INTEGER, project_id INTEGER, state INTEGER,"
            " weight INTEGER, created_at TEXT);"
            "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {rows})"
            " INSERT INTO {n} SELECT x, (x * 7919) % 50000, (x * 31) % 1000, x % 4, x % 13,"
            " datetime('now', '-' || CAST(({rows} - x) * {span} / {rows} AS INTEGER) || ' seconds') FROM g;"
            "CREATE INDEX {n}_created_at ON {n}(created_at); CREATE INDEX {n}_author ON {n}(author_id);"
            "ANALYZE;").format(n=name, rows=rows, span=days * 86400)


def run_furrow(args, database_url, defs, data_dir):
    cmd = [args.furrow, "ping", "generate", "--definitions", defs, "--database", database_url, "--data-dir",
           data_dir, "--threads", str(args.threads), "--deadline", "7200", "--metric-timeout", "3600",
           "--query-timeout", "600", "--output", os.path.join(data_dir, "payload.json"), "--log-level", "warn"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    if status != 0:
        sys.exit("furrow ping generate failed")
    with open(os.path.join(data_dir, "payload.json")) as f:
        payload = json.load(f)
    values = []
    flatten("", payload.get("counts", {}).get("bench", {}), values)
    failed = sum(1 for _, v in values if v == -1)
    return elapsed, usage.ru_maxrss / 1024.0, failed, dict(values)


def queries(args, database_url, defs, data_dir):
    out = subprocess.run([args.furrow, "ping", "queries", "--definitions", defs, "--database", database_url,
                          "--data-dir", data_dir, "--log-level", "warn"], check=True, capture_output=True, text=True)
    flat = []
    flatten("", json.loads(out.stdout), flat)
    return flat


def report(name, cli_seconds, furrow_seconds, rss_mb, failed, metrics):
    ratio = furrow_seconds / cli_seconds if cli_seconds > 0 else float("inf")
    print("%-10s metrics=%d  %s sequential: %.1f s   furrow: %.1f s   ratio: %.2f (target <= 0.60)   "
          "furrow peak RSS: %.0f MB (target <= 100)   failed metrics: %d"
          % (name, metrics, "sqlite3" if name == "sqlite" else "psql", cli_seconds, furrow_seconds, ratio, rss_mb,
             failed))
    sys.stdout.flush()


def bench_sqlite(args, work, defs):
    db = os.path.join(work, "app.db")
    if not os.path.exists(db):
        t = time.monotonic()
        sql = table_sql("issues", args.rows, None, args.days, False) + table_sql("events", args.rows, None,
                                                                                 args.days, False)
        subprocess.run(["sqlite3", db], input="PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + sql,
                       text=True, check=True)
        print("sqlite: built 2 tables of %d rows in %.1f s" % (args.rows, time.monotonic() - t))
    url = "sqlite://" + db
    flat = queries(args, url, defs, work)
    script = "".join(sql + ";\n" for _, sql in flat)
    start = time.monotonic()
    subprocess.run(["sqlite3", db], input=script, text=True, check=True, stdout=subprocess.DEVNULL)
    cli = time.monotonic() - start
    elapsed, rss, failed, _ = run_furrow(args, url, defs, work)
    report("sqlite", cli, elapsed, rss, failed, len(flat))


def bench_postgres(args, work, defs):
    base = os.path.join(work, "pg")
    data = os.path.join(base, "data")
    os.makedirs(base, exist_ok=True)
    prefix = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(work, pw.pw_uid, pw.pw_gid)
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    if not os.path.exists(data):
        subprocess.run(prefix + [PG_BIN + "initdb", "-D", data, "-A", "trust", "-U", "furrow", "--no-sync",
                                 "--no-instructions"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(prefix + [PG_BIN + "pg_ctl", "-D", data, "-l", os.path.join(base, "log"), "-w", "-o",
                             "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB"
                             " -c max_parallel_workers_per_gather=0" % (port, base), "start"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        url = "postgresql://furrow@127.0.0.1:%d/postgres" % port
        psql = ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", url]
        t = time.monotonic()
        subprocess.run(psql, input="DROP TABLE IF EXISTS issues, events;" +
                       table_sql("issues", args.rows, "now()::timestamp", args.days, True) +
                       table_sql("events", args.rows, "now()::timestamp", args.days, True),
                       text=True, check=True, stdout=subprocess.DEVNULL)
        print("postgres: built 2 tables of %d rows in %.1f s" % (args.rows, time.monotonic() - t))
        flat = queries(args, url, defs, work)
        script = "".join(sql + ";\n" for _, sql in flat)
        start = time.monotonic()
        subprocess.run(psql, input=script, text=True, check=True, stdout=subprocess.DEVNULL)
        cli = time.monotonic() - start
        elapsed, rss, failed, _ = run_furrow(args, url, defs, work)
        report("postgres", cli, elapsed, rss, failed, len(flat))
    finally:
        subprocess.run(prefix + [PG_BIN + "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--furrow", default="build/src/app/furrow")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--metrics", type=int, default=1000)
    p.add_argument("--days", type=int, default=1000, help="days the created_at values span")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--workdir", help="keep data here (reused by later runs); default a temporary directory")
    args = p.parse_args()
    args.furrow = os.path.abspath(args.furrow)
    work = args.workdir or tempfile.mkdtemp(prefix="furrow-ping-bench-")
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    defs = os.path.join(work, "definitions")
    shutil.rmtree(defs, ignore_errors=True)
    write_definitions(defs, args.metrics)
    try:
        if not args.skip_sqlite:
            bench_sqlite(args, work, defs)
        if not args.skip_postgres:
            bench_postgres(args, work, defs)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
