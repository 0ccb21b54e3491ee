"""Benchmark the insight dashboards over a district of 1,000,000 residents and 1,000,000 past cases.

    .venv/bin/python benchmarks/insights.py [--backend sqlite postgres] [--residents 1000000]
        [--cases 1000000] [--requests 30] [--quick]

Per backend, a temporary database (SQLite file, or PostgreSQL ``grassroots_bench_insights_<pid>``
dropped after) is migrated and gets ``seed_categories``; then, in a child process:

1. build: a district of 10 subdistricts × 12 communities × 6 comprehensive grids (720 grids, each a
   0.005° square; households per grid spread over 280–560 so the size check has both outcomes),
   8 buildings per grid, ``--residents`` persons and one household per 2.8 of them, and
   ``--cases`` cases spread over the last 36 months with their timelines (submit; accept for the
   40 % the community handled, whistle and report-in for the rest; 92 % of old cases closed,
   70 % of those rated). Bulk inserts (COPY on PostgreSQL, executemany on SQLite), not the services.
2. refresh: ``rollups_refresh(full=True)`` (what ``refresh_insights --full`` runs), then an
   incremental refresh after 10,000 cases of the last 60 days changed (``updated_at`` = now), then
   one with nothing changed (the current and the previous month only).
3. dashboard: through the Django test client (full request: session, middleware, template),
   ``--requests`` GETs each of the district leader's district dashboard, a subdistrict's, a
   community's and the district big screen; p50 and p95 in ms, after one warm-up request. The
   selector alone (``area_measures`` of the district) is timed beside it.

``--quick``: 50,000 residents, 50,000 cases, 10 requests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
SUBDISTRICTS, COMMUNITIES, GRIDS, BUILDINGS = 10, 12, 6, 8
CELL = 0.005
ORIGIN = (120.90, 31.30)
MONTHS = 36


def _pg(sql: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/{database}", autocommit=True) as conn:
        conn.execute(sql)


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


def _run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def _last_json(out: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# --- bulk inserts ------------------------------------------------------------------------------


def _insert(table: str, columns: list[str], rows: Any) -> int:
    """Rows (tuples of Python values) into ``table``: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection

    n = 0
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
                n += 1
        raw.commit()
        return n

    def text(value: Any) -> Any:  # Django's SQLite storage: naive UTC "YYYY-MM-DD HH:MM:SS.ffffff"
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value

    from django.db import transaction

    batch: list[list[Any]] = []
    marks = ", ".join(["%s"] * len(columns))
    with transaction.atomic(), connection.cursor() as cur:
        for r in rows:
            batch.append([text(v) for v in r])
            if len(batch) == 20000:
                cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)  # noqa: S608
                n += len(batch)
                batch = []
        if batch:
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)  # noqa: S608
            n += len(batch)
    return n


def _defaults(model: Any, given: list[str]) -> tuple[list[str], list[Any]]:
    """The model's other columns and their defaults (so a new column does not break the benchmark)."""
    from django.db.models import JSONField

    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in given:
            continue
        default = f.get_default()
        if isinstance(f, JSONField):
            default = json.dumps(default if default is not None else {})
        names.append(f.column)
        values.append(default)
    return names, values


def _square(col: int, row: int) -> dict[str, Any]:
    x0, y0 = ORIGIN[0] + col * CELL, ORIGIN[1] + row * CELL
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x0 + CELL, y0], [x0 + CELL, y0 + CELL], [x0, y0 + CELL], [x0, y0]]],
    }


def child_build(residents: int, cases: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from grassroots.accounts.models import User
    from grassroots.cases.models import Case, CaseEvent, Category
    from grassroots.places.models import Area, Building
    from grassroots.registry.models import Household, Person

    rng = random.Random(2026)
    started = time.perf_counter()
    city = Area.objects.create(level="city", code="3205", name="苏州市", path="3205", depth=0)
    district = Area.objects.create(
        parent=city, level="district", code="320583", name="昆山市", path="3205.320583", depth=1
    )
    grids: list[Area] = []
    g = 0
    for s in range(SUBDISTRICTS):
        sub = Area.objects.create(
            parent=district,
            level="subdistrict",
            code=f"{s + 1:03d}",
            name=f"第{s + 1}街道",
            path=f"{district.path}.{s + 1:03d}",
            depth=2,
        )
        for c in range(COMMUNITIES):
            com = Area.objects.create(
                parent=sub,
                level="community",
                code=f"{c + 1:03d}",
                name=f"{s + 1}街{c + 1}社区",
                path=f"{sub.path}.{c + 1:03d}",
                depth=3,
            )
            batch = []
            for k in range(GRIDS):
                col, row = g % 30, g // 30
                batch.append(
                    Area(
                        parent=com,
                        level="grid",
                        grid_kind="comprehensive",
                        code=f"{k + 1:02d}",
                        name=f"{s + 1}-{c + 1}-{k + 1}网格",
                        path=f"{com.path}.{k + 1:02d}",
                        depth=4,
                        geometry=_square(col, row),
                        lon=ORIGIN[0] + (col + 0.5) * CELL,
                        lat=ORIGIN[1] + (row + 0.5) * CELL,
                    )
                )
                g += 1
            grids.extend(Area.objects.bulk_create(batch))
    User.objects.create(username="bench_leader", role="district_leader", area=district, display_name="区领导")
    # Buildings: households spread 280–560 per grid.
    buildings = []
    for grid in grids:
        households = rng.randint(280, 560)
        for b in range(BUILDINGS):
            share = households // BUILDINGS + (1 if b < households % BUILDINGS else 0)
            buildings.append(
                Building(
                    grid=grid,
                    path=grid.path,
                    name=f"{b + 1}幢",
                    typology="multi_storey",
                    floors=6,
                    households=share,
                    lon=grid.lon + rng.uniform(-0.002, 0.002),
                    lat=grid.lat + rng.uniform(-0.002, 0.002),
                )
            )
    Building.objects.bulk_create(buildings, batch_size=5000)
    tree_s = time.perf_counter() - started

    started = time.perf_counter()
    paths = [grid.path for grid in grids]
    household_count = int(residents / 2.8)
    h_cols = ["path", "head_name"]
    extra, extra_values = _defaults(Household, h_cols)
    _insert(
        Household._meta.db_table,
        h_cols + extra,
        ((paths[i % len(paths)], f"户主{i}", *extra_values) for i in range(household_count)),
    )
    first_household = Household.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    now = datetime.now(UTC)
    p_cols = [
        "name",
        "sex",
        "birth_date",
        "id_number_cipher",
        "id_number_hash",
        "id_number_masked",
        "path",
        "household_id",
        "ethnicity",
        "phone_hash",
        "updated_at",
    ]
    extra, extra_values = _defaults(Person, p_cols)

    def people() -> Any:
        for i in range(residents):
            h = i * household_count // residents
            yield (
                f"居民{i}",
                "M" if i % 2 else "F",
                f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
                b"sealed",
                f"h{i:012d}",
                "3205**********123X",
                paths[h % len(paths)],
                first_household + h,
                "汉族" if i % 3 else "",
                f"p{i}" if i % 4 else "",
                now,
                *extra_values,
            )

    _insert(Person._meta.db_table, p_cols + extra, people())
    people_s = time.perf_counter() - started

    started = time.perf_counter()
    categories = list(Category.objects.filter(children__isnull=True).values_list("pk", flat=True))
    grid_ids = [(grid.pk, grid.path, grid.lon, grid.lat) for grid in grids]
    c_cols = [
        "channel",
        "category_id",
        "description",
        "lon",
        "lat",
        "grid_id",
        "path",
        "state",
        "whistle_kind",
        "level",
        "dispatched_at",
        "acknowledge_by",
        "handle_by",
        "overdue",
        "closed_at",
        "rating",
        "created_at",
        "updated_at",
    ]
    extra, extra_values = _defaults(Case, c_cols)
    span = timedelta(days=30 * MONTHS).total_seconds()
    plan: list[tuple[datetime, bool, str, datetime | None, int]] = []

    def case_rows() -> Any:
        for i in range(cases):
            gid, path, lon, lat = grid_ids[rng.randrange(len(grid_ids))]
            created = now - timedelta(seconds=rng.random() * span)
            whistled = rng.random() < 0.6
            dispatched = created + timedelta(hours=1) if whistled else None
            recent = now - created < timedelta(days=10)
            r = rng.random()
            state = (
                ("in_progress" if r < 0.5 else "closed")
                if recent
                else ("closed" if r < 0.92 else "cancelled" if r < 0.95 else "in_progress")
            )
            closed = created + timedelta(hours=rng.uniform(2, 400)) if state == "closed" else None
            if closed is not None and closed > now:
                closed, state = None, "in_progress"
            rating = (
                rng.choice(["satisfied", "satisfied", "basically_satisfied", "unsatisfied"])
                if closed and rng.random() < 0.7
                else ""
            )
            plan.append((created, whistled, state, dispatched, i % 31))
            yield (
                "grid_patrol",
                rng.choice(categories),
                f"巡查发现 {i}",
                lon + rng.uniform(-0.0024, 0.0024),
                lat + rng.uniform(-0.0024, 0.0024),
                gid,
                path,
                state,
                "routine" if whistled else "",
                2 if whistled else 1,
                dispatched,
                dispatched + timedelta(hours=24) if dispatched else None,
                dispatched + timedelta(days=7) if dispatched else None,
                rng.random() < 0.04,
                closed,
                rating,
                created,
                closed or created,
                *extra_values,
            )

    first_case = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    _insert(Case._meta.db_table, c_cols + extra, case_rows())
    e_cols = ["case_id", "at", "actor_label", "role", "action", "from_state", "to_state"]
    extra, extra_values = _defaults(CaseEvent, e_cols)

    def events() -> Any:
        for i, (created, whistled, _state, dispatched, late) in enumerate(plan):
            cid = first_case + i
            yield (cid, created, "bench", "resident", "submit", "", "submitted", *extra_values)
            if whistled and dispatched is not None:
                yield (cid, dispatched, "bench", "community", "whistle", "submitted", "dispatched", *extra_values)
                yield (
                    cid,
                    dispatched + timedelta(hours=late),
                    "bench",
                    "department",
                    "acknowledge",
                    "dispatched",
                    "acknowledged",
                    *extra_values,
                )
            else:
                yield (
                    cid,
                    created + timedelta(hours=late),
                    "bench",
                    "community",
                    "accept",
                    "submitted",
                    "accepted",
                    *extra_values,
                )

    n_events = _insert(CaseEvent._meta.db_table, e_cols + extra, events())
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    cases_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "grids": len(grids),
                "buildings": len(buildings),
                "households": household_count,
                "residents": residents,
                "cases": cases,
                "events": n_events,
                "tree_s": tree_s,
                "people_s": people_s,
                "cases_s": cases_s,
            }
        )
    )


def child_refresh() -> None:
    import django

    django.setup()
    from grassroots.cases.models import Case
    from grassroots.insights.services.rollups import rollups_refresh

    started = time.perf_counter()
    full = rollups_refresh(full=True)
    full_s = time.perf_counter() - started
    # A day's worth of change: 10,000 cases of the last 60 days touched (cases change while they are young).
    recent = Case.objects.filter(created_at__gte=datetime.now(UTC) - timedelta(days=60)).order_by("pk")
    ids = list(recent.values_list("pk", flat=True)[:10000])
    Case.objects.filter(pk__in=ids).update(updated_at=datetime.now(UTC))
    started = time.perf_counter()
    incremental = rollups_refresh()
    inc_s = time.perf_counter() - started
    # The usual run every few minutes: only the current and previous month.
    started = time.perf_counter()
    quiet = rollups_refresh()
    quiet_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "full_s": full_s,
                "full_rows": full.case_rows,
                "months": len(full.months),
                "incremental_s": inc_s,
                "incremental_months": len(incremental.months),
                "quiet_s": quiet_s,
                "quiet_months": len(quiet.months),
                "touched": len(ids),
            }
        )
    )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def child_dashboard(requests: int) -> None:
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from grassroots.accounts.models import User
    from grassroots.cases.selectors.measures import period_for
    from grassroots.insights.selectors.measures import area_measures
    from grassroots.places.models import Area

    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(username="bench_leader"))
    district = Area.objects.get(level="district")
    sub = Area.objects.filter(level="subdistrict").order_by("path").first()
    com = Area.objects.filter(level="community").order_by("path").first()
    assert sub is not None and com is not None
    out: dict[str, Any] = {}
    targets = [
        ("district dashboard (month)", "/insights/dashboard/", {"period": "month"}),
        ("district dashboard (year)", "/insights/dashboard/", {"period": "year"}),
        ("subdistrict dashboard", "/insights/dashboard/", {"area": sub.pk}),
        ("community dashboard", "/insights/dashboard/", {"area": com.pk}),
        ("district big screen", "/insights/bigscreen/", {"period": "month"}),
    ]
    for label, url, params in targets:
        response = client.get(url, params)
        assert response.status_code == 200, (label, response.status_code)
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        out[label] = {"p50": statistics.median(times), "p95": _pct(times, 0.95), "bytes": len(response.content)}
    today = datetime.now(UTC).date()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        area_measures(area=district, period=period_for("year", today), today=today)
        times.append((time.perf_counter() - started) * 1000)
    out["selector area_measures (district, year)"] = {
        "p50": statistics.median(times),
        "p95": _pct(times, 0.95),
        "bytes": 0,
    }
    print(json.dumps(out))


def bench(backend: str, residents: int, cases: int, requests: int, keep: str = "") -> None:
    database = f"grassroots_bench_insights_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="grassroots-insights-") as scratch:
        tmp = keep or scratch
        if backend == "postgres":
            _pg(f'DROP DATABASE IF EXISTS "{database}"')
            _pg(f'CREATE DATABASE "{database}"')
            url = f"{PG_ADMIN_URL}/{database}"
        else:
            url = f"sqlite:///{tmp}/bench.sqlite3"
        try:
            env = _env(tmp, url)
            _run(env, "manage.py", "migrate", "--noinput", "-v0")
            _run(env, "manage.py", "init_keys")
            _run(env, "manage.py", "seed_categories")
            built = _last_json(_run(env, __file__, "_child", "build", str(residents), str(cases)))
            print(
                f"[{backend}] built {built['grids']} grids, {built['buildings']:,} buildings, "
                f"{built['households']:,} households, {built['residents']:,} residents "
                f"({built['people_s']:.0f} s), {built['cases']:,} cases + {built['events']:,} events "
                f"({built['cases_s']:.0f} s)",
                flush=True,
            )
            r = _last_json(_run(env, __file__, "_child", "refresh"))
            print(
                f"[{backend}] refresh: full {r['full_s']:.1f} s "
                f"({r['full_rows']:,} grid-month rows, {r['months']} months); "
                f"incremental after {r['touched']:,} changed cases {r['incremental_s']:.1f} s "
                f"({r['incremental_months']} months); "
                f"quiet incremental {r['quiet_s']:.2f} s ({r['quiet_months']} months)",
                flush=True,
            )
            d = _last_json(_run(env, __file__, "_child", "dashboard", str(requests)))
            print(f"[{backend}] {requests} requests each, Django test client (full request), warm:")
            for label, figures in d.items():
                size = f", {figures['bytes'] / 1024:.0f} KiB" if figures["bytes"] else ""
                print(f"  {label:42s} p50 {figures['p50']:7.1f} ms   p95 {figures['p95']:7.1f} ms{size}", flush=True)
        finally:
            if backend == "postgres" and not keep:
                _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        mode, args = sys.argv[2], sys.argv[3:]
        if mode == "build":
            child_build(int(args[0]), int(args[1]))
        elif mode == "refresh":
            child_refresh()
        else:
            child_dashboard(int(args[0]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", nargs="*", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", default="", help="keep the database (SQLite file in this directory)")
    args = parser.parse_args()
    if args.quick:
        args.residents, args.cases, args.requests = 50_000, 50_000, 10
    for backend in args.backend:
        bench(backend, args.residents, args.cases, args.requests, args.keep)


if __name__ == "__main__":
    main()
