"""Benchmark the case loop: HTTP submissions against a real server, and the SLA sweep at a million open cases.

    .venv/bin/python benchmarks/cases.py [--households 20000] [--sweep-households 2000]
        [--clients 1 8 32] [--seconds 15]
        [--raw-rows 100000] [--open-cases 1000000] [--due-window-hours 6]
        [--sweep-backends postgres sqlite] [--skip-http] [--quick]

1. HTTP (PostgreSQL only): a temporary database ``grassroots_bench_cases_<pid>`` (dropped after)
   gets ``demo_city`` (``--households``, seed 2026), ``seed_categories`` and ``demo_accounts``;
   the demo resident gets an API token. ``gunicorn config.wsgi -w 2`` serves it (DEBUG off,
   persistent connections); for 1, 8 and 32 concurrent clients (threads here, one request at a
   time each, a new TCP connection per request as gunicorn's sync workers close it) POST
   ``/api/v1/cases/`` JSON for ``--seconds`` each: random leaf category, a random building's
   point. Printed: submissions/s, p50/p99 latency, errors.
   Beside it, the raw INSERT rate of equivalent ``cases_case`` rows with psycopg: ``COPY`` and
   ``executemany`` (rows deleted after): what a case costs on its own, without the service's
   grid lookup, duplicate check, numbering, timeline event, audit entry and HTTP.
2. The sweep, per backend in ``--sweep-backends``: ``--open-cases`` open cases are bulk-inserted
   directly (not through the services): created uniformly over the last 30 days, dispatched
   within 2 hours, report-in deadline 24 h and handling deadline 7 days after dispatch, 70 %
   reported in. The state is what a sweep run ``--due-window-hours`` ago would have left
   (earlier reminders sent, earlier misses flagged), so only the cases that fell due in the window
   are due now (about 0.8 % of each kind for 6 hours); their timelines (submit, whistle and the
   report-in of the 70 %) are inserted too. ``manage.py sla_sweep`` then runs twice in
   a child process: wall time (with Django start-up), the sweep's own time and the child's peak
   RSS (VmHWM); the second run has nothing to do but what fell due in the minutes between.
   Then the measures page's selector (``area_report``) is timed over the same cases, for the
   district (all of them) and for one community.

``--quick``: 2,000 households, 3 s per client level, 10,000 raw rows, 50,000 open cases.
Child steps are this file run as ``cases.py _child MODE ...``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
OPEN_SPREAD = timedelta(days=30)
ACK_SPAN, HANDLE_SPAN = timedelta(hours=24), timedelta(days=7)


# --- helpers ---------------------------------------------------------------------------------


def _pg(sql: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/{database}", autocommit=True) as conn:
        conn.execute(sql)


def _run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def _measured(env: dict[str, str], argv: list[str]) -> tuple[str, float]:
    """Run a child; its output and wall seconds (process start-up included)."""
    started = time.monotonic()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[1:]} failed:\n{result.stderr[-3000:]}")
    return result.stdout, time.monotonic() - started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp: str, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
    env.update(
        GRASSROOTS_VAR_DIR=tmp,
        GRASSROOTS_ENV="development",
        GRASSROOTS_DEBUG="0",
        GRASSROOTS_LOG_LEVEL="WARNING",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def _prepare(env: dict[str, str], households: int) -> dict[str, Any]:
    _run(env, "manage.py", "migrate", "--noinput", "-v0")
    _run(env, "manage.py", "init_keys")
    started = time.monotonic()
    _run(env, "manage.py", "demo_city", "--households", str(households), "--seed", "2026", "--replace")
    _run(env, "manage.py", "seed_categories")
    _run(env, "manage.py", "demo_accounts")
    print(f"  demo city of {households:,} households ready in {time.monotonic() - started:.0f} s", flush=True)
    setup: dict[str, Any] = json.loads(_run(env, __file__, "_child", "setup").strip().splitlines()[-1])
    total = len(setup["points"]) + setup["outside"]
    print(
        f"  {setup['outside']} of {total} sampled buildings lie outside every comprehensive grid: not used", flush=True
    )
    return setup


# --- children (Django set up against the benchmark database) ----------------------------------


def child_setup() -> None:
    import django

    django.setup()
    from grassroots.accounts.models import User
    from grassroots.accounts.services import api_token_create
    from grassroots.audit.services import SYSTEM
    from grassroots.cases.models import Category
    from grassroots.core.errors import NotFound
    from grassroots.core.scope import Scope
    from grassroots.places.models import Area, Building
    from grassroots.places.selectors import grid_at_point

    resident = User.objects.get(username="demo_resident")
    _, raw = api_token_create(actor=SYSTEM, user=resident, name="bench", days=1)
    leaves = list(Category.objects.filter(is_active=True, children__isnull=True).values_list("pk", flat=True))
    rng = random.Random(2026)
    top = Building.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = [rng.randint(1, top) for _ in range(3000)]
    candidates = list(
        Building.objects.filter(pk__in=ids, lon__isnull=False).values_list("lon", "lat", "grid_id", "path")[:2000]
    )
    # case_submit places a point in a comprehensive grid; buildings of dedicated grids may lie outside all of them.
    points = []
    for lon, lat, grid_id, path in candidates:
        try:
            grid_at_point(scope=Scope.everything(), lon=lon, lat=lat)
        except NotFound:
            continue
        points.append((lon, lat, grid_id, path))
    grids = list(Area.objects.grids().values_list("pk", "path"))
    outside = len(candidates) - len(points)
    print(json.dumps({"token": raw, "categories": leaves, "points": points, "grids": grids, "outside": outside}))


def child_sweep() -> None:
    import django

    django.setup()
    from grassroots.cases.services import sla_sweep

    started = time.perf_counter()
    report = sla_sweep()
    inner = time.perf_counter() - started
    print(json.dumps({"reminded": report.reminded, "overdue": report.overdue, "inner": inner, "rss": _peak_rss_mib()}))


def child_measures() -> None:
    """Time the measures page's selector over the open cases: the district, then its first community."""
    import django

    django.setup()
    from grassroots.cases.selectors.measures import area_report
    from grassroots.places.models import Area

    now = datetime.now(UTC)
    out = {}
    for level in ("district", "community"):
        area = Area.objects.filter(level=level).order_by("path").first()
        assert area is not None
        started = time.perf_counter()
        report = area_report(area=area, start=now - OPEN_SPREAD, end=now, now=now)
        out[level] = {"cases": report.measures.received, "seconds": time.perf_counter() - started}
    print(json.dumps(out))


def _peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM). Not wait4's ru_maxrss: on Linux that keeps the high-water
    mark of the parent at fork time, and the parent holds the million generated rows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- 1. HTTP submissions ---------------------------------------------------------------------


def _wait_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz")


def _load(port: int, setup: dict[str, Any], clients: int, seconds: float) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {setup['token']}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors: dict[str, int] = {}
    samples: dict[str, str] = {}  # one answer per failing status, to say what went wrong
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        rng = random.Random(n)
        mine: list[float] = []
        failed: dict[str, int] = {}
        while time.monotonic() < stop_at:
            lon, lat, _, _ = rng.choice(setup["points"])
            body = json.dumps(
                {
                    "category_id": rng.choice(setup["categories"]),
                    "description": f"压测上报 {n}-{len(mine)}",
                    "lon": lon,  # a building's point: always inside a grid
                    "lat": lat,
                }
            )
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", "/api/v1/cases/", body=body.encode(), headers=headers)
                response = conn.getresponse()
                answer = response.read()
                conn.close()
                status = str(response.status)
                if status != "201" and status not in samples:
                    samples[status] = answer.decode(errors="replace")[:300]
            except OSError as error:
                status = type(error).__name__
            if status == "201":
                mine.append(time.perf_counter() - started)
            else:
                failed[status] = failed.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in failed.items():
                errors[k] = errors.get(k, 0) + v

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients,
        "ok": len(ms),
        "rate": len(ms) / wall,
        "p50": statistics.median(ms) if ms else None,
        "p99": ms[max(0, int(len(ms) * 0.99) - 1)] if ms else None,
        "errors": errors,
        "samples": samples,
    }


def _raw_inserts(database: str, setup: dict[str, Any], rows: int) -> list[dict[str, Any]]:
    import psycopg

    columns = (
        "channel, category_id, description, lon, lat, grid_id, path, state, whistle_kind, level, "
        "acknowledge_missed, handle_missed, overdue, provisional, evaluation_reopens, evaluated_since_close, "
        "rating, external_ref, contact_name, contact_phone_masked, address_text, version, created_at, updated_at"
    )
    now = datetime.now(UTC)
    rng = random.Random(1)

    def row(i: int) -> tuple[Any, ...]:
        lon, lat, grid_id, path = rng.choice(setup["points"])
        cat = rng.choice(setup["categories"])
        return (
            "resident_h5",
            cat,
            f"原始插入 {i}",
            lon,
            lat,
            grid_id,
            path,
            "submitted",
            "",
            0,
            False,
            False,
            False,
            False,
            0,
            False,
            "",
            "",
            "",
            "",
            "",
            1,
            now,
            now,
        )

    data = [row(i) for i in range(rows)]
    results = []
    with psycopg.connect(f"{PG_ADMIN_URL}/{database}") as conn:
        first = conn.execute("SELECT coalesce(max(id), 0) FROM cases_case").fetchone()[0]  # type: ignore[index]
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY cases_case ({columns}) FROM STDIN") as copy:
            for r in data:
                copy.write_row(r)
        conn.commit()
        results.append({"method": "COPY", "rows": rows, "rate": rows / (time.perf_counter() - started)})
        placeholders = ", ".join(["%s"] * len(data[0]))
        started = time.perf_counter()
        with conn.cursor() as cur:
            sql = f"INSERT INTO cases_case ({columns}) VALUES ({placeholders})"  # noqa: S608 - our own columns
            cur.executemany(sql, data)
        conn.commit()
        results.append({"method": "executemany", "rows": rows, "rate": rows / (time.perf_counter() - started)})
        conn.execute("DELETE FROM cases_case WHERE id > %s", (first,))
        conn.commit()
    return results


def bench_http(households: int, clients: list[int], seconds: float, raw_rows: int) -> dict[str, Any]:
    database = f"grassroots_bench_cases_{os.getpid()}"
    _pg(f'DROP DATABASE IF EXISTS "{database}"')
    _pg(f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="grassroots-cases-") as tmp:
            env = _env(tmp, f"{PG_ADMIN_URL}/{database}")
            setup = _prepare(env, households)
            port = _free_port()
            server = subprocess.Popen(
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "config.wsgi",
                    "-w",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "--backlog",
                    "256",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env={**env, "GRASSROOTS_CONN_MAX_AGE": "60"},
            )
            try:
                _wait_healthy(port, server)
                _load(port, setup, 2, 1.0)  # warm both workers (imports, first connections)
                levels = []
                for n in clients:
                    levels.append(_load(port, setup, n, seconds))
                    print(f"  {n} clients: {levels[-1]['rate']:.1f}/s", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
            raw = _raw_inserts(database, setup, raw_rows)
            return {"levels": levels, "raw": raw}
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- 2. the sweep ----------------------------------------------------------------------------


def _open_rows(count: int, setup: dict[str, Any], window: timedelta, now: datetime) -> list[tuple[Any, ...]]:
    """Open cases as a sweep ``window`` ago would have left them; see the module docstring."""
    rng = random.Random(2026)
    grids, categories = setup["grids"], setup["categories"]
    previous = now - window
    rows = []
    for i in range(count):
        grid_id, path = grids[i % len(grids)]
        created = now - OPEN_SPREAD * rng.random()
        dispatched = created + timedelta(seconds=rng.uniform(0, 7200))
        ack_by, handle_by = dispatched + ACK_SPAN, dispatched + HANDLE_SPAN
        reported = rng.random() < 0.7
        if reported:
            state = "in_progress" if rng.random() < 0.6 else "acknowledged"
            remind = dispatched + HANDLE_SPAN * 0.8
            ack_missed = False
        else:
            state = "dispatched"
            remind = dispatched + ACK_SPAN * 0.8
            ack_missed = ack_by < previous
        handle_missed = handle_by < previous
        remind_at = remind if remind > previous else None
        level = min(2, int(ack_missed) + int(handle_missed))
        rows.append(
            (
                "grid_patrol",
                rng.choice(categories),
                f"巡检 {i}",
                grid_id,
                path,
                state,
                "routine",
                level,
                dispatched,
                ack_by,
                handle_by,
                remind_at,
                ack_missed,
                handle_missed,
                ack_missed or handle_missed,
                False,
                0,
                False,
                "",
                "",
                "",
                "",
                "",
                2,
                created,
                dispatched,
            )
        )
    return rows


OPEN_COLUMNS = (
    "channel, category_id, description, grid_id, path, state, whistle_kind, level, dispatched_at, acknowledge_by, "
    "handle_by, remind_at, acknowledge_missed, handle_missed, overdue, provisional, evaluation_reopens, "
    "evaluated_since_close, rating, external_ref, contact_name, contact_phone_masked, address_text, version, "
    "created_at, updated_at"
)


EVENT_COLUMNS = "case_id, at, actor_label, role, action, from_state, to_state, note, rating, payload"


def _events(rows: list[tuple[Any, ...]], first_id: int) -> Any:
    """The timeline rows the measures read: submit, whistle and, for 70 %, a report-in (about a
    quarter of them later than 24 h). Case ids follow the insert order from ``first_id``."""
    for i, r in enumerate(rows):
        case_id, state, dispatched, created = first_id + i, r[5], r[8], r[24]
        yield (case_id, created, "bench", "resident", "submit", "", "submitted", "", "", "{}")
        yield (case_id, dispatched, "bench", "community", "whistle", "submitted", "dispatched", "", "", "{}")
        if state != "dispatched":
            at = dispatched + timedelta(hours=i % 31)
            yield (case_id, at, "bench", "department", "acknowledge", "dispatched", "acknowledged", "", "", "{}")


def _insert_open(backend: str, target: str, rows: list[tuple[Any, ...]]) -> float:
    started = time.perf_counter()
    if backend == "postgres":
        import psycopg

        with psycopg.connect(target) as conn:
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases_case").fetchone()[0]  # type: ignore[index]
            with conn.cursor() as cur, cur.copy(f"COPY cases_case ({OPEN_COLUMNS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            with conn.cursor() as cur, cur.copy(f"COPY cases_caseevent ({EVENT_COLUMNS}) FROM STDIN") as copy:
                for e in _events(rows, first):
                    copy.write_row(e)
            conn.commit()
            conn.execute("ANALYZE cases_case")
            conn.execute("ANALYZE cases_caseevent")
            conn.commit()
    else:
        import sqlite3

        def text(value: Any) -> Any:  # Django's SQLite storage: naive UTC "YYYY-MM-DD HH:MM:SS.ffffff"
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value

        lite = sqlite3.connect(target)
        first = lite.execute("SELECT coalesce(max(id), 0) + 1 FROM cases_case").fetchone()[0]
        for table, columns, data in (
            ("cases_case", OPEN_COLUMNS, iter(rows)),
            ("cases_caseevent", EVENT_COLUMNS, _events(rows, first)),
        ):
            placeholders = ", ".join(["?"] * len(columns.split(",")))
            lite.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 - our own columns
                ([text(v) for v in r] for r in data),
            )
        lite.commit()
        lite.execute("ANALYZE")
        lite.close()
    return time.perf_counter() - started


def bench_sweep(backend: str, households: int, count: int, window: timedelta) -> dict[str, Any]:
    database = f"grassroots_bench_sweep_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="grassroots-sweep-") as tmp:
        if backend == "postgres":
            _pg(f'DROP DATABASE IF EXISTS "{database}"')
            _pg(f'CREATE DATABASE "{database}"')
            url = target = f"{PG_ADMIN_URL}/{database}"
        else:
            target = f"{tmp}/bench.sqlite3"
            url = f"sqlite:///{target}"
        try:
            env = _env(tmp, url)
            setup = _prepare(env, households)
            now = datetime.now(UTC)
            rows = _open_rows(count, setup, window, now)
            due = {
                "remind": sum(1 for r in rows if r[11] is not None and r[11] <= now),
                "acknowledge": sum(1 for r in rows if r[5] == "dispatched" and not r[12] and r[9] < now),
                "handle": sum(1 for r in rows if not r[13] and r[10] < now),
            }
            inserted = _insert_open(backend, target, rows)
            del rows
            print(
                f"  [{backend}] {count:,} open cases and their events inserted in {inserted:.0f} s; due {due}",
                flush=True,
            )
            runs = []
            for _ in range(2):
                out, wall = _measured(env, [PYTHON, __file__, "_child", "sweep"])
                runs.append({**json.loads(out.strip().splitlines()[-1]), "wall": wall})
            measures = json.loads(_measured(env, [PYTHON, __file__, "_child", "measures"])[0].strip().splitlines()[-1])
            return {"backend": backend, "open": count, "due": due, "runs": runs, "measures": measures}
        finally:
            if backend == "postgres":
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000, help="demo city for the HTTP run")
    parser.add_argument("--sweep-households", type=int, default=2_000, help="demo city (grids) for the sweep")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--raw-rows", type=int, default=100_000)
    parser.add_argument("--open-cases", type=int, default=1_000_000)
    parser.add_argument("--due-window-hours", type=float, default=6.0)
    parser.add_argument("--sweep-backends", nargs="*", choices=["sqlite", "postgres"], default=["postgres"])
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.households, args.seconds, args.raw_rows, args.open_cases = 2_000, 3.0, 10_000, 50_000
    http_result = None
    if not args.skip_http:
        print("HTTP submissions on PostgreSQL", flush=True)
        http_result = bench_http(args.households, args.clients, args.seconds, args.raw_rows)
    sweeps = []
    for backend in args.sweep_backends:
        print(f"SLA sweep on {backend}", flush=True)
        sweeps.append(
            bench_sweep(backend, args.sweep_households, args.open_cases, timedelta(hours=args.due_window_hours))
        )

    print()
    if http_result:
        print(f"POST /api/v1/cases/ on PostgreSQL, gunicorn -w 2, {args.seconds:.0f} s per level")
        print(f"{'clients':>8}{'ok':>8}{'subm/s':>9}{'p50 ms':>9}{'p99 ms':>9}  errors")
        for r in http_result["levels"]:
            p50 = f"{r['p50']:.1f}" if r["p50"] is not None else "—"
            p99 = f"{r['p99']:.1f}" if r["p99"] is not None else "—"
            print(f"{r['clients']:>8}{r['ok']:>8}{r['rate']:>9.1f}{p50:>9}{p99:>9}  {r['errors'] or '-'}")
            for status, sample in r["samples"].items():
                print(f"{'':>8}  {status}: {sample}")
        print()
        print(f"{'raw INSERT into cases_case':<28}{'rows':>9}{'rows/s':>11}")
        for r in http_result["raw"]:
            print(f"{r['method']:<28}{r['rows']:>9,}{r['rate']:>11,.0f}")
        print()
    if sweeps:
        print(f"sla_sweep over open cases (due window {args.due_window_hours:g} h)")
        print(
            f"{'backend':<10}{'open':>11}{'run':>5}{'reminded':>10}{'overdue':>9}"
            f"{'wall s':>8}{'sweep s':>9}{'RSS MiB':>9}"
        )
        for s in sweeps:
            for n, r in enumerate(s["runs"], start=1):
                print(
                    f"{s['backend']:<10}{s['open']:>11,}{n:>5}{r['reminded']:>10,}{r['overdue']:>9,}"
                    f"{r['wall']:>8.1f}{r['inner']:>9.2f}{r['rss']:>9.0f}"
                )
        print()
        print("measures (selectors.measures.area_report) over the same open cases, last 30 days")
        print(f"{'backend':<10}{'area':<11}{'cases':>11}{'seconds':>9}")
        for s in sweeps:
            for level, m in s["measures"].items():
                print(f"{s['backend']:<10}{level:<11}{m['cases']:>11,}{m['seconds']:>9.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        {"setup": child_setup, "sweep": child_sweep, "measures": child_measures}[sys.argv[2]]()
    else:
        main()
