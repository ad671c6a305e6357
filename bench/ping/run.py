#!/usr/bin/env python3
"""Service Ping generation benchmark.

Builds two tables of ROWS rows in SQLite and in PostgreSQL (once: they are cached
under --cache, keyed by schema version, rows and days), writes METRICS database
metric definitions over them, and measures in the same run:

  furrow    `furrow ping generate` computing every metric (batched, --threads
            workers, one connection each), with --sql-log recording every statement;
  baseline  exactly those statements (bounds, batches, single queries) run one
            after another by the database's own CLI (sqlite3, psql);

then prints both times, their ratio (target <= 0.6 on 2 cores), furrow's peak RSS
(target <= 100 MB) and the load average. Both sides read warm files (the database
files are read into the page cache first).

  bench/ping/run.py --furrow build/src/app/furrow [--rows 10000000] [--metrics 1000]
                    [--threads 2] [--skip-postgres] [--skip-sqlite] [--prepare-only]
                    [--cache /tmp/furrow-ping-bench-cache]

The PostgreSQL server (15, fsync off, shared_buffers 256MB, no parallel workers, for
both sides) is started here, as the postgres user when run as root, on a free
loopback port, and stopped at the end.
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
    """Metrics over two tables, mostly windows on the indexed created_at as GitLab's
    usage_activity metrics are: 45% 28d, 45% 7d, 10% all-time. Operations 60% count,
    20% distinct_count (author_id, indexed), 20% sum; three in four have a condition
    on an unindexed column. Every all-time metric with a condition reads the whole
    table (10% of the metrics; they bound the run time of the benchmark)."""
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    for i in range(metrics):
        table = "issues" if i % 2 == 0 else "events"
        kind = i % 20
        frame = "28d" if kind < 9 else "7d" if kind < 18 else "all"
        op = rng.choice(["count", "count", "count", "distinct_count", "sum"])
        lines = ["operation: " + op, "relation: " + table]
        if op == "distinct_count":
            lines.append("column: author_id")
        elif op == "sum":
            lines.append("column: weight")
        condition = rng.choice(["state = %d" % rng.randrange(4), "weight > %d" % rng.randrange(10),
                                "project_id %% %d = 0" % rng.randrange(2, 9), ""])
        if condition:
            lines.append('where: "%s"' % condition)
        with open(os.path.join(directory, "m%04d.yml" % i), "w") as f:
            f.write("key_path: counts.bench.m%04d\ndescription: bench\nproduct_group: bench\n"
                    "value_type: number\nstatus: active\ntime_frame: %s\ndata_source: database\n"
                    "data_category: operational\nmilestone: '1.0'\nintroduced_by_url: bench\ntiers: [free]\n"
                    "instrumentation_class: DatabaseMetric\noptions:\n%s\n"
                    % (i, frame, "\n".join("  " + l for l in lines)))


# Bump when table_sql changes: the cache directory is keyed by it.
SCHEMA_VERSION = 2


def table_sql(name, rows, days, pg):
    """One table of ROWS rows in one INSERT ... SELECT; ids increase with created_at,
    as in a product database, and created_at spans DAYS days up to the build time."""
    if pg:
        return ("CREATE TABLE {n}(id bigint PRIMARY KEY, author_id int, project_id int, state int, weight int,"
                " created_at timestamp);"
                "INSERT INTO {n} SELECT g, (g * 7919) % 50000, (g * 31) % 1000, g % 4, g % 13,"
                " now()::timestamp - make_interval(secs => ({rows} - g)::float8 * {span} / {rows})"
                " FROM generate_series(1::bigint, {rows}::bigint) g;"
                "CREATE INDEX {n}_created_at ON {n}(created_at); CREATE INDEX {n}_author ON {n}(author_id);"
                ).format(n=name, rows=rows, span=days * 86400)
    return ("CREATE TABLE {n}(id INTEGER PRIMARY KEY, author_id INTEGER, project_id INTEGER, state INTEGER,"
            " weight INTEGER, created_at TEXT);"
            "INSERT INTO {n} SELECT value, (value * 7919) % 50000, (value * 31) % 1000, value % 4, value % 13,"
            " datetime((SELECT julianday('now')) - ({rows} - value) * {days}.0 / {rows})"
            " FROM generate_series(1, {rows});"
            "CREATE INDEX {n}_created_at ON {n}(created_at); CREATE INDEX {n}_author ON {n}(author_id);"
            ).format(n=name, rows=rows, days=days)


def run_furrow(args, database_url, defs, work, sql_log):
    """`furrow ping generate` over every metric; returns seconds, peak RSS (MB), the
    number of failed (-1) metrics and the values. SQL_LOG receives every statement run."""
    out = os.path.join(work, "payload.json")
    cmd = [args.furrow, "ping", "generate", "--definitions", defs, "--database", database_url, "--data-dir", work,
           "--threads", str(args.threads), "--deadline", "7200", "--metric-timeout", "3600", "--query-timeout", "600",
           "--sql-log", sql_log, "--output", out, "--log-level", "warn"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    if status != 0:
        sys.exit("furrow ping generate failed")
    with open(out) as f:
        payload = json.load(f)
    values = []
    flatten("", payload.get("counts", {}).get("bench", {}), values)
    failed = sum(1 for _, v in values if v == -1)
    return elapsed, usage.ru_maxrss / 1024.0, failed, len(values), usage.ru_utime + usage.ru_stime


def run_cli(cmd, sql_log):
    """The statements furrow ran, one after another through the database's CLI."""
    with open(sql_log) as f:
        script = f.read()
    statements = script.count(";\n")
    with tempfile.TemporaryFile("w+") as f:
        f.write(script)
        f.seek(0)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=f, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - start
    if status != 0:
        sys.exit("%s failed" % cmd[0])
    return elapsed, statements, usage.ru_utime + usage.ru_stime


def load_average():
    return "%.2f %.2f %.2f" % os.getloadavg()


def report(name, cli, furrow, metrics):
    cli_seconds, statements, cli_cpu = cli
    furrow_seconds, rss_mb, failed, reported, furrow_cpu = furrow
    ratio = furrow_seconds / cli_seconds if cli_seconds > 0 else float("inf")
    print("%-8s metrics=%d statements=%d  %s sequential: %.1f s (client CPU %.1f s)   furrow (%d threads): %.1f s "
          "(client CPU %.1f s)   ratio: %.2f (target <= 0.60)   furrow peak RSS: %.0f MB (target <= 100)   "
          "failed metrics: %d of %d   load average: %s"
          % (name, metrics, statements, "sqlite3" if name == "sqlite" else "psql", cli_seconds, cli_cpu,
             ARGS.threads, furrow_seconds, furrow_cpu, ratio, rss_mb, failed, reported, load_average()))
    sys.stdout.flush()


def warm(paths):
    """Reads files into the page cache, so that neither side pays for a cold disk."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


def ensure_sqlite(args, cache):
    db = os.path.join(cache, "app.db")
    if not os.path.exists(db):
        t = time.monotonic()
        tmp = db + ".tmp"
        if os.path.exists(tmp):
            os.remove(tmp)
        sql = table_sql("issues", args.rows, args.days, False) + table_sql("events", args.rows, args.days, False)
        subprocess.run(["sqlite3", tmp], input="PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                       "PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;" + sql + "ANALYZE;",
                       text=True, check=True, stdout=subprocess.DEVNULL)
        os.rename(tmp, db)
        print("sqlite: built 2 tables of %d rows in %.1f s (cached in %s)" % (args.rows, time.monotonic() - t, cache))
    else:
        print("sqlite: 2 tables of %d rows from the cache %s" % (args.rows, cache))
    return db


def bench_sqlite(args, cache, work, defs):
    db = ensure_sqlite(args, cache)
    warm([db])
    url = "sqlite://" + db
    sql_log = os.path.join(work, "sqlite-statements.sql")
    furrow = run_furrow(args, url, defs, work, sql_log)
    cli = run_cli(["sqlite3", "-readonly", db], sql_log)
    report("sqlite", cli, furrow, args.metrics)


class Postgres:
    """A PostgreSQL 15 server on DATA (run as the postgres user when we are root), on a
    free loopback port, its socket and log in RUN_DIR."""

    def __init__(self, data, run_dir, settings=()):
        self.data, self.run_dir = data, run_dir
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.port = free_port()
        options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB" \
                  " -c max_parallel_workers_per_gather=0" % (self.port, run_dir)
        self.options = " ".join([options] + ["-c " + s for s in settings])
        self.url = "postgresql://furrow@127.0.0.1:%d/postgres" % self.port

    def __enter__(self):
        subprocess.run(self.prefix + [PG_BIN + "pg_ctl", "-D", self.data, "-l", os.path.join(self.run_dir, "pg.log"),
                                      "-w", "-o", self.options, "start"], check=True, stdout=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc):
        subprocess.run(self.prefix + [PG_BIN + "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL)

    def psql(self):
        return ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", self.url]


def give_to_postgres(*paths):
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for path in paths:
            os.chown(path, pw.pw_uid, pw.pw_gid)


def ensure_postgres(args, cache, work):
    data = os.path.join(cache, "pg")
    give_to_postgres(work)
    if not os.path.exists(data):
        t = time.monotonic()
        tmp = data + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        give_to_postgres(cache, tmp)
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + [PG_BIN + "initdb", "-D", tmp, "-A", "trust", "-U", "furrow", "--no-sync",
                                 "--no-instructions"], check=True, stdout=subprocess.DEVNULL)
        # CREATE TABLE and INSERT in one transaction with wal_level=minimal: no WAL for the rows.
        with Postgres(tmp, work, ["wal_level=minimal", "max_wal_senders=0", "maintenance_work_mem=512MB"]) as pg:
            for name in ("issues", "events"):
                subprocess.run(pg.psql(), input="BEGIN;" + table_sql(name, args.rows, args.days, True) + "COMMIT;",
                               text=True, check=True, stdout=subprocess.DEVNULL)
            subprocess.run(pg.psql() + ["-c", "VACUUM ANALYZE"], check=True, stdout=subprocess.DEVNULL)
        os.rename(tmp, data)
        print("postgres: built 2 tables of %d rows in %.1f s (cached in %s)"
              % (args.rows, time.monotonic() - t, cache))
    else:
        print("postgres: 2 tables of %d rows from the cache %s" % (args.rows, cache))
    return data


def bench_postgres(args, cache, work, defs):
    data = ensure_postgres(args, cache, work)
    warm(os.path.join(root, f) for root, _, files in os.walk(os.path.join(data, "base")) for f in files)
    with Postgres(data, work) as pg:
        sql_log = os.path.join(work, "postgres-statements.sql")
        furrow = run_furrow(args, pg.url, defs, work, sql_log)
        cli = run_cli(pg.psql(), sql_log)
        report("postgres", cli, furrow, args.metrics)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--furrow", default="build/src/app/furrow")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--metrics", type=int, default=1000)
    p.add_argument("--days", type=int, default=1000, help="days the created_at values span")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--prepare-only", action="store_true", help="build the cached databases and stop")
    p.add_argument("--cache", default="/tmp/furrow-ping-bench-cache",
                   help="generated databases are kept here, keyed by schema version, rows and days")
    args = ARGS = p.parse_args()
    args.furrow = os.path.abspath(args.furrow)
    cache = os.path.join(args.cache, "v%d-%drows-%ddays" % (SCHEMA_VERSION, args.rows, args.days))
    os.makedirs(cache, exist_ok=True)
    for path in (args.cache, cache):
        os.chmod(path, 0o755)
    work = tempfile.mkdtemp(prefix="furrow-ping-bench-")
    os.chmod(work, 0o755)
    defs = os.path.join(work, "definitions")
    write_definitions(defs, args.metrics)
    print("load average before: %s" % load_average())
    try:
        if args.prepare_only:
            if not args.skip_sqlite:
                ensure_sqlite(args, cache)
            if not args.skip_postgres:
                ensure_postgres(args, cache, work)
            return
        if not args.skip_sqlite:
            bench_sqlite(args, cache, work, defs)
        if not args.skip_postgres:
            bench_postgres(args, cache, work, defs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
