"""Benchmark grid planning: our planner against plain pymetis and spopt's max-p, on generated cities.

    .venv/bin/python benchmarks/planning.py [--sizes 1000 10000 100000] [--seed 2026]
        [--maxp-limit 1000] [--no-memory] [--skip-baselines] [--demo]

Cities come from ``grassroots.places.planning.synthetic`` (blocks between local roads and
arterials; walled compounds of walk-ups, mid-rises and high-rises; loose old buildings; a few
towers over 500 households split by entrance). Grids are planned to [300, 500] households.

Per method and size: wall time and CPU time of this process (the machine is shared: CPU time
is the steadier figure) (planning only; adjacency is built once per city and timed apart),
peak memory (rise of resident memory during the run, sampled), share of grids
within [300, 500], share contiguous, compounds split (and of those, how many fit under the ceiling:
the hard constraint says none), number of grids against the lower bound ⌈H/500⌉, mean
Polsby-Popper compactness of the grid polygons (clipped Voronoi cells of the buildings, unioned),
and the share of inner boundary on roads.

Where the generated city has no plan (a compound under the floor whose every neighbour would take
it over the ceiling), our planner says so and names the compounds; the benchmark then does what the
explanation asks of a user (allows exactly those compounds to be split) and reports how many.

Methods:
- ours: ``grassroots.places.planning.plan``.
- pymetis: METIS k-way on the building graph, k = ⌈H/400⌉, household weights, contiguity on.
- max-p: spopt ``MaxPHeuristic`` with floor 300 (no ceiling exists in max-p); it builds a dense
  n×n matrix, so it is skipped above ``--maxp-limit`` buildings with the reason printed.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grassroots.places.planning import NoPlanError, build_edges, measure, plan  # noqa: E402
from grassroots.places.planning.adjacency import EdgeArrays, positions  # noqa: E402
from grassroots.places.planning.atoms import Atom  # noqa: E402
from grassroots.places.planning.planner import compound_splits  # noqa: E402
from grassroots.places.planning.polygons import atom_cells  # noqa: E402
from grassroots.places.planning.synthetic import City, generate_city  # noqa: E402

FLOOR, CEILING, TARGET = 300, 500, 400


def ours(atoms: list[Atom], edges: EdgeArrays, clip, cells) -> tuple[list[str], str, set]:
    note = ""
    allowed: set = set()
    try:
        result = plan(atoms, edges, clip=clip, cells=cells)
    except NoPlanError as error:
        allowed = {r.atoms[0] for r in error.reasons if r.code in ("isolated", "forced")}
        note = (
            f"no plan as generated: {len(allowed)} compound(s) named (isolated or forced); "
            "re-run allowing them to be split"
        )
        result = plan(atoms, edges, clip=clip, cells=cells, allow_split=allowed, raise_on_failure=False)
        if result.reasons:
            note += f"; {len(result.reasons)} neighbourhood(s) still without a plan"
    if allowed:
        note += f" (the {len(allowed)} allowed compound(s) are not counted in <=ceil)"
    return [result.assignment.get(a.id, "?") for a in atoms], note, allowed


def plain_pymetis(atoms: list[Atom], edges: EdgeArrays, clip, cells) -> tuple[list[str], str, set]:
    import pymetis
    from scipy.sparse import coo_matrix

    n = len(atoms)
    total = sum(a.households for a in atoms)
    k = math.ceil(total / TARGET)
    m = coo_matrix((np.ones(2 * len(edges)), (np.r_[edges.a, edges.b], np.r_[edges.b, edges.a])), shape=(n, n)).tocsr()
    m.sum_duplicates()
    m.sort_indices()
    _, parts = pymetis.part_graph(
        k,
        pymetis.CSRAdjacency(m.indptr, m.indices),
        vweights=[a.households for a in atoms],
        options=pymetis.Options(contig=1, seed=0),
    )
    return [str(p) for p in parts], f"k = ⌈H/{TARGET}⌉ = {k}", set()


def maxp(atoms: list[Atom], edges: EdgeArrays, clip, cells) -> tuple[list[str], str, set]:
    import geopandas as gpd
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    neighbours: dict[int, list[int]] = {i: [] for i in range(len(atoms))}
    for a, b in zip(edges.a.tolist(), edges.b.tolist(), strict=True):
        neighbours[a].append(b)
        neighbours[b].append(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = W(neighbours, silence_warnings=True)
        gdf = gpd.GeoDataFrame(
            {
                "households": [a.households for a in atoms],
                "x": [a.x for a in atoms],
                "y": [a.y for a in atoms],
            },
            geometry=list(cells),
        )
        model = MaxPHeuristic(gdf, w, ["x", "y"], "households", FLOOR, top_n=2)
        model.solve()
    return [str(x) for x in model.labels_], "floor 300, no ceiling", set()


def row(
    name: str,
    atoms: list[Atom],
    edges: EdgeArrays,
    labels: list[str],
    seconds: float,
    cpu: float,
    peak: float | None,
    cells,
    note: str,
    allowed: set,
) -> str:
    units = measure(atoms, edges, labels, floor=FLOOR, ceiling=CEILING, polygons=True, cells=cells)
    total = sum(a.households for a in atoms)
    split, avoidable = compound_splits(atoms, labels, CEILING, allowed)
    within = sum(u.within_bounds for u in units) / len(units)
    contiguous = sum(u.contiguous for u in units) / len(units)
    compact = float(np.mean([u.compactness for u in units if u.compactness is not None]))
    roads = float(np.mean([u.boundary_on_roads for u in units]))
    memory = f"{peak:8.0f}" if peak is not None else "       -"
    return (
        f"{name:8} {seconds:8.2f} {cpu:7.2f} {memory} {within:8.2%} {contiguous:8.2%} {split:6d} {avoidable:6d} "
        f"{len(units):7d} {math.ceil(total / CEILING):7d} {compact:6.3f} {roads:6.1%}  {note}"
    )


def timed(fn: Callable[..., object], *args: object, memory: bool) -> tuple[object, float, float, float | None]:
    """Run once: seconds, and the peak rise of resident memory over the run (MiB, sampled every
    5 ms by a thread; tracemalloc slowed the Python-heavy baselines several times over)."""
    import threading

    import psutil

    process = psutil.Process()
    base = process.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            done.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        out = fn(*args)
    finally:
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        done.set()
        if memory:
            sampler.join()
    return out, seconds, cpu, (max(peak, process.memory_info().rss) - base) / 2**20 if memory else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--maxp-limit", type=int, default=1000)
    parser.add_argument("--no-memory", action="store_true", help="do not sample memory")
    parser.add_argument("--skip-baselines", action="store_true", help="run only our planner (no pymetis, no max-p)")
    parser.add_argument(
        "--demo", action="store_true", help="also plan the demo city's buildings (needs Django and a database)"
    )
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"cores: {os.cpu_count()} (load average {load}: the machine is shared); grids of [{FLOOR}, {CEILING}] "
        f"households, target {TARGET}; seed {args.seed}"
    )
    header = (
        f"{'method':8} {'time s':>8} {'cpu s':>7} {'+RSS MiB':>8} {'in bounds':>8} {'contig':>8} "
        f"{'cmp.split':>6} {'<=ceil':>6} {'grids':>7} {'⌈H/500⌉':>7} {'PP':>6} {'roads':>6}  note"
    )
    cities: list[tuple[str, Callable[[], City]]] = [
        (f"generated {n:,}", functools.partial(generate_city, n, seed=args.seed)) for n in args.sizes
    ]
    if args.demo:
        cities.append(("demo city", demo_city))
    for title, make in cities:
        city = make()
        atoms = city.atoms
        start = time.perf_counter()
        edges = build_edges(atoms, city.roads)
        t_edges = time.perf_counter() - start
        start = time.perf_counter()
        cells = atom_cells(positions(atoms), city.boundary)
        t_cells = time.perf_counter() - start
        total = sum(a.households for a in atoms)
        print()
        print(
            f"== {title}: {len(city.buildings):,} buildings, {len(atoms):,} atoms, {total:,} households; "
            f"adjacency {t_edges:.2f} s, Voronoi cells {t_cells:.2f} s (built once, shared by all methods)"
        )
        print(header)
        methods = (
            (("ours", ours),) if args.skip_baselines else (("ours", ours), ("pymetis", plain_pymetis), ("max-p", maxp))
        )
        for name, fn in methods:
            if name == "max-p" and len(atoms) > args.maxp_limit:
                gib = len(atoms) ** 2 * 8 / 2**30
                print(
                    f"{name:8} skipped: builds a dense {len(atoms):,}×{len(atoms):,} distance matrix "
                    f"({gib:.2f} GiB of float64) and ran 15.6 s at 1,000 buildings, 143 s CPU at 10,000 "
                    f"(FINDINGS.md); raise --maxp-limit to try"
                )
                continue
            try:
                out, seconds, cpu, peak = timed(fn, atoms, edges, city.boundary, cells, memory=not args.no_memory)
            except Exception as error:  # noqa: BLE001 - a baseline that fails is reported, not fatal
                print(f"{name:8} failed: {type(error).__name__}: {str(error)[:200]}")
                continue
            labels, note, allowed = cast(tuple[list[str], str, set], out)
            print(row(name, atoms, edges, labels, seconds, cpu, peak, cells, note, allowed))


def demo_city() -> City:
    """The demo city's buildings through the ORM (needs Django and a seeded database)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from grassroots.places.models import Building
    from grassroots.places.planning import BuildingInput, atoms_from_buildings, project_lonlat

    rows = list(Building.objects.values("id", "lon", "lat", "households", "compound_id"))
    if not rows:
        raise SystemExit("the demo city has no buildings: run the demo seed first")
    lon0 = sum(r["lon"] for r in rows) / len(rows)
    lat0 = sum(r["lat"] for r in rows) / len(rows)
    buildings = []
    for r in rows:
        x, y = project_lonlat(r["lon"], r["lat"], lon0=lon0, lat0=lat0)
        buildings.append(BuildingInput(r["id"], x, y, r["households"], round(r["households"] * 2.6), r["compound_id"]))
    atoms = atoms_from_buildings(buildings, split_above=CEILING)
    import shapely

    xy = np.array([(a.x, a.y) for a in atoms])
    return City(buildings, atoms, [], shapely.convex_hull(shapely.multipoints(xy)).buffer(40.0), 0)


if __name__ == "__main__":
    main()
