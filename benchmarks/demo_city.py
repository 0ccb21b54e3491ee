"""Benchmark ``manage.py demo_city`` on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/demo_city.py [--sizes 100000 1000000] [--backends sqlite postgres]

Each (size, backend) runs in a fresh child process against an empty database: SQLite
in a temporary directory, PostgreSQL in a temporary database that is dropped after.
Prints backend, households, rows inserted, seconds, rows/s and the child's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def _pg(database: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql.format(db=database))


def run_one(backend: str, households: int, seed: int) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory(prefix="grassroots-bench-") as tmp:
        env = {**os.environ, "GRASSROOTS_VAR_DIR": tmp, "GRASSROOTS_DEBUG": "0"}
        database = f"grassroots_bench_{os.getpid()}"
        if backend == "postgres":
            _pg(database, 'DROP DATABASE IF EXISTS "{db}"')
            _pg(database, 'CREATE DATABASE "{db}"')
            env["DATABASE_URL"] = f"{PG_ADMIN_URL}/{database}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        try:
            _manage(env, "migrate", "--noinput", "-v0")
            _manage(env, "init_keys")
            started = time.monotonic()
            # wait4 gives the peak RSS of exactly this child, not of every child so far.
            child = subprocess.Popen(
                [PYTHON, "manage.py", "demo_city", "--households", str(households), "--seed", str(seed)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert child.stdout is not None
            lines = []
            for line in child.stdout:
                lines.append(line)
                print(f"  [{backend} {households:,}] {line.rstrip()}", flush=True)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.monotonic() - started
            if child.returncode != 0:
                raise RuntimeError(f"demo_city failed ({child.returncode}):\n{''.join(lines[-20:])}")
        finally:
            if backend == "postgres":
                _pg(database, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    match = re.search(r"([\d,]+) rows \(", "".join(lines))
    rows = int(match.group(1).replace(",", "")) if match else 0
    peak_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return {
        "backend": backend,
        "households": households,
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_mib": peak_kib / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    results = []
    for households in args.sizes:
        for backend in args.backends:
            results.append(run_one(backend, households, args.seed))
    print()
    print(f"{'backend':<10}{'households':>12}{'rows':>12}{'seconds':>10}{'rows/s':>10}{'peak RSS MiB':>14}")
    for r in results:
        print(
            f"{r['backend']:<10}{r['households']:>12,}{r['rows']:>12,}{r['seconds']:>10.1f}"
            f"{r['rows_per_s']:>10,.0f}{r['peak_mib']:>14.0f}"
        )


if __name__ == "__main__":
    main()
