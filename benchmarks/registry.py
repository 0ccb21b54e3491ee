"""Benchmark the population registry at a million persons: import, then search.

    .venv/bin/python benchmarks/registry.py [--rows 1000000] [--backends sqlite postgres]
        [--queries 200] [--chunk 50000] [--rotate] [--keep]

For each backend, against an empty database (SQLite in a temporary directory, PostgreSQL
in a temporary database ``grassroots_bench_registry`` dropped afterwards unless --keep):

1. ``demo_city`` builds the place tree, sized so there are about 2.5 rows per dwelling;
   its people are then deleted, so the import lands in an empty registry.
2. Synthetic department files are written: CSV with Chinese headers (姓名, 身份证号, 手机号,
   性别, 出生日期, 民族, 现住址), checksum-valid unique ID numbers and phones, addresses of
   the demo city's dwellings (building address + 单元 + 室), ``--chunk`` rows per file.
3. ``manage.py import_people`` runs once per file, each in its own child process; the
   figures are total rows / total wall time (process start-up included) and the largest
   peak RSS of any child.
4. One child process with Django set up times ``person_search`` (scope: the district) for
   ``--queries`` random ID numbers, phones, Chinese names and pinyin names: p50/p95 in ms.
5. With --rotate, ``rotate_keys --new-key`` re-encrypts the imported registry: rows/s.

The child processes are this same file run as ``registry.py _child MODE ...``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "grassroots_bench_registry"
PERSONS_PER_DWELLING = 2.5
DISTRICT_PATH = "3205.320583"  # grassroots.demo.generator CITY_CODE.DISTRICT_CODE
HEADERS = ["姓名", "身份证号", "手机号", "性别", "出生日期", "民族", "现住址"]
SOURCE_CODE = "bench-gaj"


# --- parent side ----------------------------------------------------------------------------


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql.format(db=PG_DATABASE))


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def _measured(env: dict[str, str], argv: list[str], label: str, echo: bool = False) -> tuple[str, float, float]:
    """Run a child; returns its output, wall seconds and peak RSS in MiB (wait4: this child only)."""
    started = time.monotonic()
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        lines.append(line)
        if echo:
            print(f"  [{label}] {line.rstrip()}", flush=True)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{label} failed ({code}):\n{''.join(lines[-30:])}")
    peak_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return "".join(lines), seconds, peak_kib / 1024


def _child(env: dict[str, str], *args: str) -> str:
    return _manage_like([PYTHON, str(Path(__file__).resolve()), "_child", *args], env)


def _manage_like(argv: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def write_files(
    dwellings_file: Path, out_dir: Path, rows: int, chunk: int, queries: int, seed: int
) -> tuple[list[Path], dict[str, list[str]]]:
    """Department CSV files of ``chunk`` rows, and the search samples (queries per kind)."""
    from grassroots.core.ids import make_id_number
    from grassroots.demo import names
    from grassroots.registry.search_keys import name_keys

    rng = random.Random(f"bench-registry:{seed}")
    addresses = dwellings_file.read_text(encoding="utf-8").splitlines()
    # A few more rows than queries: some have no phone.
    sampled = set(rng.sample(range(rows), min(rows, queries * 5 // 4 + 5)))
    samples: dict[str, list[str]] = {"id": [], "phone": [], "name": [], "pinyin": []}
    # Unique IDs: a counter per (region, birth date, sex), as the demo city does; unique phones:
    # a permutation of a counter onto 8-digit suffixes.
    counters: dict[tuple[str, str, str], int] = {}
    regions = [names.LOCAL_REGION, *names.MIGRANT_REGIONS]
    files = []
    dwelling = 0
    left_in_dwelling = 0
    for start in range(0, rows, chunk):
        path = out_dir / f"people-{start // chunk + 1:04d}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            for i in range(start, min(rows, start + chunk)):
                if left_in_dwelling == 0:
                    dwelling = (dwelling + 1) % len(addresses)
                    left_in_dwelling = rng.choice((1, 2, 2, 3, 3, 4))
                left_in_dwelling -= 1
                sex = "M" if rng.random() < 0.51 else "F"
                year = rng.randint(1930, 2024)
                region = names.LOCAL_REGION if rng.random() < 0.6 else rng.choice(regions)
                while True:
                    birth = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    key = (region, birth, sex)
                    seq = counters.get(key, 0) + 1
                    if seq < 500:  # three-digit sequence, odd for men, even for women
                        counters[key] = seq
                        break
                    year = rng.randint(1930, 2024)
                number = make_id_number(region, date.fromisoformat(birth), seq, sex)
                phone = ""
                if rng.random() < 0.85:
                    suffix = (48_271_913 * i + 12_345) % 100_000_000
                    phone = f"{names.PHONE_PREFIXES[i % len(names.PHONE_PREFIXES)]}{suffix:08d}"
                name = names.full_name(rng, sex, year)
                writer.writerow([name, number, phone, "男" if sex == "M" else "女", birth, "汉", addresses[dwelling]])
                if i in sampled:
                    for kind, value in (("id", number), ("phone", phone), ("name", name)):
                        if value and len(samples[kind]) < queries:
                            samples[kind].append(value)
                    if len(samples["pinyin"]) < queries:
                        samples["pinyin"].append(name_keys(name)[0])
        files.append(path)
    return files, samples


def run_one(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"grassroots-bench-registry-{backend}-"))
    env = {**os.environ, "GRASSROOTS_VAR_DIR": str(tmp), "GRASSROOTS_DEBUG": "0", "PYTHONPATH": str(ROOT)}
    env.pop("GRASSROOTS_KEYS_FILE", None)
    if args.chunk > 50_000:
        env["GRASSROOTS_IMPORT_MAX_ROWS"] = str(args.chunk)
        env["GRASSROOTS_IMPORT_MAX_BYTES"] = str(args.chunk * 400)
    if backend == "postgres":
        _pg('DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        _pg('CREATE DATABASE "{db}"')
        env["DATABASE_URL"] = f"{PG_ADMIN_URL}/{PG_DATABASE}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    result: dict[str, Any] = {"backend": backend, "rows": args.rows}
    log = print
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "init_keys")
        households = min(2_000_000, max(2_000, math.ceil(args.rows / PERSONS_PER_DWELLING)))
        log(f"[{backend}] demo_city --households {households:,} (place tree)", flush=True)
        _, seconds, _ = _measured(
            env, [PYTHON, "manage.py", "demo_city", "--households", str(households), "--seed", str(args.seed)], "demo"
        )
        log(f"[{backend}] demo city in {seconds:.0f} s; deleting its people", flush=True)
        _child(env, "wipe")
        dwellings_file = tmp / "dwellings.txt"
        _child(env, "dwellings", str(dwellings_file))
        files_dir = tmp / "files"
        files_dir.mkdir()
        started = time.monotonic()
        files, samples = write_files(dwellings_file, files_dir, args.rows, args.chunk, args.queries, args.seed)
        size = sum(f.stat().st_size for f in files)
        log(
            f"[{backend}] wrote {len(files)} files, {size / 2**20:.0f} MiB, in {time.monotonic() - started:.0f} s",
            flush=True,
        )

        total_seconds, peak = 0.0, 0.0
        for n, path in enumerate(files):
            argv = [PYTHON, "manage.py", "import_people", str(path), "--source", SOURCE_CODE, "--area", DISTRICT_PATH]
            if n == 0:
                argv += ["--create-source", "公安分局(基准测试)"]
            output, seconds, rss = _measured(env, argv, f"import {path.name}")
            total_seconds += seconds
            peak = max(peak, rss)
            done = (n + 1) * args.chunk if (n + 1) * args.chunk < args.rows else args.rows
            tail = output.strip().splitlines()[-1] if output.strip() else ""
            log(
                f"[{backend}] {path.name}: {seconds:.1f} s, peak {rss:.0f} MiB; {done:,} rows so far "
                f"({done / total_seconds:,.0f} rows/s) | {tail[:160]}",
                flush=True,
            )
        counts = json.loads(_child(env, "count"))
        result.update(
            import_seconds=total_seconds,
            import_rows_per_s=args.rows / total_seconds,
            import_peak_mib=peak,
            persons=counts["persons"],
            source_records=counts["source_records"],
            with_dwelling=counts["with_dwelling"],
        )

        samples_file = tmp / "samples.json"
        samples_file.write_text(json.dumps(samples, ensure_ascii=False), encoding="utf-8")
        result["search"] = json.loads(_child(env, "search", str(samples_file)))

        if args.rotate:
            output, seconds, rss = _measured(env, [PYTHON, "manage.py", "rotate_keys", "--new-key"], "rotate")
            match = re.search(r"registry_person: ([\d,]+) rows \(", output)
            rotated = int(match.group(1).replace(",", "")) if match else 0
            result.update(rotate_seconds=seconds, rotate_rows=rotated, rotate_peak_mib=rss)
    finally:
        if args.keep:
            log(f"[{backend}] kept: {tmp} ({env['DATABASE_URL']})")
        else:
            if backend == "postgres":
                _pg('DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--queries", type=int, default=200, help="searches per kind")
    parser.add_argument("--chunk", type=int, default=50_000, help="rows per file")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rotate", action="store_true", help="also time rotate_keys --new-key")
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    results = [run_one(args, backend) for backend in args.backends]
    print()
    print(f"rows: {args.rows:,} in files of {args.chunk:,}; {args.queries} queries per kind")
    print(f"{'backend':<10}{'persons':>11}{'in dwelling':>13}{'import s':>10}{'rows/s':>9}{'peak RSS MiB':>14}")
    for r in results:
        print(
            f"{r['backend']:<10}{r['persons']:>11,}{r['with_dwelling']:>13,}{r['import_seconds']:>10.0f}"
            f"{r['import_rows_per_s']:>9,.0f}{r['import_peak_mib']:>14.0f}"
        )
    print()
    print(f"{'backend':<10}{'search':<8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'found':>8}")
    for r in results:
        for kind, s in r["search"].items():
            print(f"{r['backend']:<10}{kind:<8}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}{s['found']:>8}")
    if args.rotate:
        print()
        print(f"{'backend':<10}{'rotate rows':>12}{'seconds':>9}{'rows/s':>9}{'peak RSS MiB':>14}")
        for r in results:
            rate = r["rotate_rows"] / r["rotate_seconds"]
            print(
                f"{r['backend']:<10}{r['rotate_rows']:>12,}{r['rotate_seconds']:>9.1f}{rate:>9,.0f}"
                f"{r['rotate_peak_mib']:>14.0f}"
            )


# --- child side (Django set up) -----------------------------------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def child_wipe() -> None:
    """Delete the demo city's people (and what hangs on them), keep its place tree."""
    from django.db import connection, transaction

    from grassroots.registry.models import Household, Person, PersonChange, Residence, SourceRecord, Visit

    tables = [
        m._meta.db_table for m in (Person.tags.through, Residence, PersonChange, SourceRecord, Visit, Person, Household)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (model table names)


def child_dwellings(out: str) -> None:
    """Every dwelling's address as a department would write it: building address + 单元 + 室."""
    from grassroots.places.models import Dwelling

    rows = (
        Dwelling.objects.exclude(building__address="")
        .order_by("id")
        .values_list("building__address", "entrance__number", "room")
    )
    with open(out, "w", encoding="utf-8") as handle:
        for address, entrance, room in rows.iterator(chunk_size=10_000):
            handle.write(f"{address}{entrance}单元{room}室\n")


def child_count() -> None:
    from grassroots.registry.models import Person, SourceRecord

    print(
        json.dumps(
            {
                "persons": Person.objects.count(),
                "with_dwelling": Person.objects.exclude(dwelling=None).count(),
                "source_records": SourceRecord.objects.count(),
            }
        )
    )


def child_search(samples_file: str) -> None:
    from grassroots.audit.services import SYSTEM
    from grassroots.core.scope import Scope
    from grassroots.registry.selectors import person_search

    samples: dict[str, list[str]] = json.loads(Path(samples_file).read_text(encoding="utf-8"))
    scope = Scope(area_path=DISTRICT_PATH)
    for query in [*samples["id"][:3], *samples["name"][:3]]:  # warm caches and imports
        person_search(actor=SYSTEM, scope=scope, query=query)
    report = {}
    for kind, queries in samples.items():
        timings, found = [], 0
        for query in queries:
            started = time.perf_counter()
            people = person_search(actor=SYSTEM, scope=scope, query=query)
            timings.append((time.perf_counter() - started) * 1000)
            found += bool(people)
        timings.sort()
        report[kind] = {
            "p50": statistics.median(timings),
            "p95": timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)],
            "max": timings[-1],
            "found": found,
            "n": len(timings),
        }
    print(json.dumps(report))


def child_main(argv: list[str]) -> None:
    _setup_django()
    mode, *rest = argv
    modes: dict[str, Callable[..., None]] = {
        "wipe": child_wipe,
        "dwellings": child_dwellings,
        "count": child_count,
        "search": child_search,
    }
    modes[mode](*rest)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child_main(sys.argv[2:])
    else:
        main()
