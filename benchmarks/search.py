"""Search latency over a demo city's registry, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/search.py [--households 400000] [--queries 200] [--backends sqlite postgres]

For each backend: an empty database (SQLite in a temporary directory, PostgreSQL in a temporary
database dropped after), ``demo_city`` (400,000 households ≈ 1,000,000 persons), then one child
process times ``registry.selectors.person_search`` for random persons' ID numbers, phones,
Chinese names and full pinyin, as a district leader scope sees them (the widest scope a
search normally has). Prints p50/p95/max in ms. Faster to rerun than ``benchmarks/registry.py``,
which also measures the import.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def child(queries: int) -> None:
    """Runs inside a child with Django set up against the benchmark database."""
    import random

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection

    from grassroots.audit.services import SYSTEM
    from grassroots.core import crypto
    from grassroots.core.scope import Scope
    from grassroots.places.models import Area
    from grassroots.registry.models import Person
    from grassroots.registry.sealing import ID_CONTEXT, PHONE_CONTEXT
    from grassroots.registry.selectors import person_search

    # Fresh tables have no planner statistics; PostgreSQL's autovacuum would gather them soon.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    district = Area.objects.get(level="district")
    scope = Scope(area_path=district.path)
    top = Person.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rng = random.Random(7)
    sample = list(
        Person.objects.filter(id__in=[rng.randint(1, top) for _ in range(queries * 3)], phone_hash__gt="").values_list(
            "id", "name", "name_pinyin", "id_number_cipher", "phone_cipher"
        )[:queries]
    )
    kinds = {
        "id": [crypto.decrypt(r[3], context=ID_CONTEXT) for r in sample],
        "phone": [crypto.decrypt(r[4], context=PHONE_CONTEXT) for r in sample],
        "name": [r[1] for r in sample],
        "pinyin": [r[2] for r in sample],
    }
    ids = [r[0] for r in sample]
    report = {}
    for kind, values in kinds.items():
        times, found = [], 0
        for pk, value in zip(ids, values, strict=True):
            started = time.perf_counter()
            people = person_search(actor=SYSTEM, scope=scope, query=value, limit=50)
            times.append((time.perf_counter() - started) * 1000)
            found += any(p.pk == pk for p in people)
        times.sort()
        report[kind] = {
            "p50": statistics.median(times),
            "p95": times[int(len(times) * 0.95) - 1],
            "max": times[-1],
            "found": found,
            "n": len(times),
        }
    print(json.dumps({"persons": Person.objects.count(), "search": report}))


def run(backend: str, households: int, queries: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="grassroots-search-") as tmp:
        env = {**os.environ, "GRASSROOTS_VAR_DIR": tmp, "GRASSROOTS_DEBUG": "0"}
        database = f"grassroots_bench_search_{os.getpid()}"
        if backend == "postgres":
            _pg(f'DROP DATABASE IF EXISTS "{database}"')
            _pg(f'CREATE DATABASE "{database}"')
            env["DATABASE_URL"] = f"{PG_ADMIN_URL}/{database}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        try:
            _run(env, "manage.py", "migrate", "--noinput", "-v0")
            _run(env, "manage.py", "init_keys")
            started = time.monotonic()
            _run(env, "manage.py", "demo_city", "--households", str(households), "--seed", "2026")
            print(
                f"[{backend}] demo city of {households:,} households in {time.monotonic() - started:.0f} s", flush=True
            )
            return {"backend": backend, **json.loads(_run(env, __file__, "_child", str(queries)))}
        finally:
            if backend == "postgres":
                _pg(f'DROP DATABASE IF EXISTS "{database}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=400_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    args = parser.parse_args()
    results = [run(backend, args.households, args.queries) for backend in args.backends]
    print()
    print(f"{'backend':<10}{'persons':>11}  {'search':<8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'found':>8}")
    for r in results:
        for kind, s in r["search"].items():
            print(
                f"{r['backend']:<10}{r['persons']:>11,}  {kind:<8}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}"
                f"{s['found']:>5}/{s['n']}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(int(sys.argv[2]))
    else:
        main()
