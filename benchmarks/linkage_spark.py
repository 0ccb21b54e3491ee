"""Benchmark record linkage on Spark local mode, for the capacity plan in docs/linkage.md.

    nice -n 10 .venv/bin/python benchmarks/linkage_spark.py [--sizes 20000 100000] [--seed 1]
        [--master local[2]] [--partitions 8] [--driver-memory 3g] [--skip-duckdb] [--json FILE]
    nice -n 10 .venv/bin/python benchmarks/linkage_spark.py --rule-counts | --wide | --incremental SIZES

For each size, the generated population (``synthetic.generate``, the generator of
benchmarks/linkage.py) is linked twice, each in its own child process:

1. on Spark (``LinkSettings(backend="spark")``) in local mode, with the shipped model
   (``registry/linkage/default_model.json``, trained on 20,000 generated records: production
   trains once and reuses the model, so training is not measured) and the term frequencies
   Splink computes on Spark from the whole population, as a full run does;
2. on DuckDB with the same model and as many threads as the Spark master has cores: the
   one-machine line to compare with.

Printed per run: records, candidate pairs, wall seconds per stage (features in pandas on the
driver, table hand-over, blocking + scoring on Spark, clustering in Python), CPU seconds of the
whole process tree (driver Python, the JVM that is the local executor, the Python workers that
run the pandas UDFs), peak RSS of the tree, precision/recall/F1 against the generator's truth,
records and pairs per core-hour, the load average at start and end, and whether Spark gave the
same pairs and clusters as DuckDB.

Three other modes print the figures of the capacity plan that need no Spark (DuckDB only):
``--rule-counts SIZES`` (candidate pairs each blocking rule adds, per record), ``--wide SIZES``
(pairs and precision/recall with the two ID-typo rules as they were before 2026-11-30, on every
pair instead of only pairs where one ID fails its check digit: the comparison the change rests
on) and ``--incremental SIZES`` (the size of one 5,000-row import's run, neighbours found as
the registry finds them, by pinyin name or by pinyin name + birth date).

The machine this runs on is shared: wall time moves with the load average, CPU time far less,
so the capacity plan uses core-hours (CPU seconds / 3600). CPU per stage is sampled from the
process tree every half second (each process's own time, kept after it ends), so stage
figures are good to about a second of CPU; a process that ends loses at most its last half second.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = ROOT / "grassroots" / "registry" / "linkage" / "default_model.json"
FIRST_PORT = 8290  # this benchmark's ports: driver RPC 8290, block manager 8291 (+ retries to 8295)


# --- process-tree accounting --------------------------------------------------------------------


def _kind(proc: Any, root_pid: int) -> str:
    """driver (this Python), jvm (the local-mode executor), or workers (pandas-UDF Pythons)."""
    if proc.pid == root_pid:
        return "driver"
    return "jvm" if proc.name() == "java" else "workers"


def tree_times() -> tuple[dict[int, tuple[str, float]], int]:
    """Each process of this tree: its kind and own CPU seconds (user + system); and the tree's RSS.

    Own time only: a pyspark worker that exits is not always reaped by a process of the tree (the
    daemon can die first), so reaped-children counters lose it. The monitor keeps each pid's last
    value instead, and loses at most the half second before a process ends.
    """
    import psutil

    root = psutil.Process()
    out: dict[int, tuple[str, float]] = {}
    rss = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            out[proc.pid] = (_kind(proc, root.pid), t.user + t.system)
            rss += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out, rss


def _dir_bytes(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                continue
    return total


class Monitor:
    """Samples the process tree (CPU per kind, RSS) and a scratch directory's size."""

    def __init__(self, scratch: Path | None = None, every: float = 0.5) -> None:
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.peak_rss = 0
        self.peak_scratch = 0
        self.scratch = scratch
        self.every = every
        self._seen: dict[int, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            self.sample()
            if self.scratch is not None and n % 4 == 0:
                self.peak_scratch = max(self.peak_scratch, _dir_bytes(self.scratch))
            n += 1
            self._stop.wait(self.every)

    def sample(self) -> dict[str, float]:
        """CPU seconds per kind so far (every process ever seen, ended ones at their last value)."""
        times, rss = tree_times()
        with self._lock:
            for pid, (kind, cpu) in times.items():
                old = self._seen.get(pid)
                self._seen[pid] = (kind, max(cpu, old[1] if old else 0.0))
            total = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
            for kind, cpu in self._seen.values():
                total[kind] += cpu
            self.samples.append((time.perf_counter(), total))
            self.peak_rss = max(self.peak_rss, rss)
        return total

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def at(self, moment: float) -> dict[str, float]:
        """CPU per kind at the last sample taken at or before ``moment``."""
        before = [cpu for t, cpu in self.samples if t <= moment]
        return before[-1] if before else self.samples[0][1]


def _minus(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: round(a[k] - b.get(k, 0.0), 2) for k in a}


def _stage_cpu(monitor: Monitor, started: float, timings: dict[str, float]) -> dict[str, dict[str, float]]:
    out = {}
    at = started
    for stage, seconds in timings.items():
        out[stage] = _minus(monitor.at(at + seconds), monitor.at(at))
        at += seconds
    return out


# --- one run ------------------------------------------------------------------------------------


def _clusters_digest(clusters: dict[str, str]) -> str:
    """A hash of the partition (which records go together), independent of cluster ids."""
    groups: dict[str, list[str]] = {}
    for rid, cid in clusters.items():
        groups.setdefault(cid, []).append(rid)
    canonical = sorted(",".join(sorted(g)) for g in groups.values())
    return hashlib.sha256("\n".join(canonical).encode()).hexdigest()[:16]


def _pairs_digest(pairs: Any) -> str:
    rows = pairs.sort_values(["left", "right"])
    triples = zip(rows["left"], rows["right"], rows["probability"], strict=True)
    text = "\n".join(f"{a},{b},{p:.9f}" for a, b, p in triples)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _spark_session(opts: dict[str, Any], tmp: Path) -> Any:
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers need this venv: pandas, pyarrow, rapidfuzz
    session = (
        SparkSession.builder.master(opts["master"])
        .appName("grassroots-linkage-benchmark")
        .config("spark.driver.memory", opts["driver_memory"])
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={tmp}")
        .config("spark.sql.shuffle.partitions", str(opts["partitions"]))
        .config("spark.default.parallelism", str(opts["partitions"]))
        # The features frame goes to Spark through Arrow, not row by row through pickle.
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(tmp / "local"))
        .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.port", str(FIRST_PORT))
        .config("spark.blockManager.port", str(FIRST_PORT + 1))
        .config("spark.port.maxRetries", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(tmp / "checkpoints"))  # Splink's parquet tables
    return session


def _end_spark(session: Any) -> None:
    """Stop the session and end the JVM (stop() leaves it running), so the parent reaps it."""
    from pyspark import SparkContext

    session.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(backend: str, size: int, opts: dict[str, Any]) -> dict[str, Any]:
    from grassroots.registry.linkage.pipeline import LinkSettings, link
    from grassroots.registry.linkage.quality import pairwise_scores
    from grassroots.registry.linkage.synthetic import generate

    load_start = os.getloadavg()
    wall_start = time.perf_counter()
    records = generate(size, seed=opts["seed"])
    truth = {str(r["record_id"]): str(r["person_id"]) for r in records}
    generate_seconds = time.perf_counter() - wall_start
    model = json.loads(Path(opts["model"]).read_text())

    tmp = Path(tempfile.mkdtemp(prefix=f"h8-linkage-{backend}-", dir=opts.get("tmp")))
    monitor = Monitor(scratch=tmp if backend == "spark" else None).start()
    session = None
    session_seconds = 0.0
    session_cpu: dict[str, float] = {}
    try:
        if backend == "spark":
            before = monitor.sample()
            started = time.perf_counter()
            session = _spark_session(opts, tmp)
            session_seconds = time.perf_counter() - started
            session_cpu = _minus(monitor.sample(), before)
            settings = LinkSettings(backend="spark", spark=session, model=model, threshold=opts["threshold"])
        else:
            cores = opts["master"].removeprefix("local[").removesuffix("]")
            threads = int(cores) if cores.isdigit() else None  # DuckDB gets the cores Spark had
            settings = LinkSettings(model=model, threshold=opts["threshold"], duckdb_threads=threads)
        before = monitor.sample()
        started = time.perf_counter()
        result = link(records, settings=settings)
        link_seconds = time.perf_counter() - started
        link_cpu = _minus(monitor.sample(), before)
        stage_cpu = _stage_cpu(monitor, started, result.stats.timings)
        checkpoint_bytes = _dir_bytes(tmp / "checkpoints") if backend == "spark" else 0
    finally:
        if session is not None:
            _end_spark(session)
        monitor.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    scores = pairwise_scores(result.clusters, truth)
    cpu_total = sum(link_cpu.values())
    stats = result.stats
    return {
        "backend": backend,
        "records": stats.records,
        "pairs": stats.comparisons,
        "pairs_kept": len(result.pairs),
        "clusters": stats.clusters,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "generate_seconds": round(generate_seconds, 1),
        "session_seconds": round(session_seconds, 1),
        "session_cpu": session_cpu,
        "link_seconds": round(link_seconds, 1),
        "timings": stats.timings,
        "stage_cpu": stage_cpu,
        "link_cpu": link_cpu,
        "cpu_seconds": round(cpu_total, 1),
        "records_per_core_hour": stats.records / (cpu_total / 3600) if cpu_total else 0,
        "pairs_per_core_hour": stats.comparisons / (cpu_total / 3600) if cpu_total else 0,
        "peak_rss_mib": monitor.peak_rss / 2**20,
        "peak_scratch_mib": monitor.peak_scratch / 2**20,
        "checkpoint_mib": checkpoint_bytes / 2**20,
        "clusters_digest": _clusters_digest(result.clusters),
        "pairs_digest": _pairs_digest(result.pairs),
        "load_start": [round(x, 2) for x in load_start],
        "load_end": [round(x, 2) for x in os.getloadavg()],
    }


# --- pairs per blocking rule ---------------------------------------------------------------------


def rule_counts(size: int, seed: int) -> dict[str, Any]:
    """Candidate pairs each blocking rule adds (pairs no earlier rule found, as Splink counts
    them), on DuckDB over the features: how the pair count grows with the population."""
    import duckdb

    from grassroots.registry.linkage.comparisons import BLOCKING_RULES, features
    from grassroots.registry.linkage.synthetic import generate

    frame = features(generate(size, seed=seed))
    con = duckdb.connect()
    con.register("f", frame)
    counts = []
    for i, rule in enumerate(BLOCKING_RULES):
        earlier = " ".join(f"and not coalesce(({r}), false)" for r in BLOCKING_RULES[:i])
        sql = f"select count(*) from f l join f r on ({rule}) and l.unique_id < r.unique_id where true {earlier}"  # noqa: S608
        row = con.execute(sql).fetchone()
        counts.append(int(row[0]) if row else 0)
    con.close()
    return {"records": len(frame), "rules": list(BLOCKING_RULES), "pairs": counts}


WIDENING = " and (not l.id_valid or not r.id_valid)"


def wide_rules() -> tuple[str, ...]:
    """The blocking rules as they were before 2026-11-30: the two ID-typo rules on every pair,
    not only on pairs where one ID fails its check digit."""
    from grassroots.registry.linkage.comparisons import BLOCKING_RULES

    return tuple(rule.replace(WIDENING, "") for rule in BLOCKING_RULES)


def run_wide(size: int, opts: dict[str, Any]) -> dict[str, Any]:
    """A DuckDB link with the earlier, wider rules (a profile, the engine unchanged): pairs and F1."""
    from dataclasses import replace

    from grassroots.registry.linkage.pipeline import CN_PERSON, LinkSettings, link
    from grassroots.registry.linkage.quality import pairwise_scores
    from grassroots.registry.linkage.synthetic import generate

    records = generate(size, seed=opts["seed"])
    truth = {str(r["record_id"]): str(r["person_id"]) for r in records}
    settings = LinkSettings(
        model=json.loads(Path(opts["model"]).read_text()),
        threshold=opts["threshold"],
        duckdb_threads=2,
        profile=replace(CN_PERSON, blocking_rules=wide_rules()),
    )
    result = link(records, settings=settings)
    scores = pairwise_scores(result.clusters, truth)
    return {"records": size, "pairs": result.stats.comparisons, "precision": scores.precision, "recall": scores.recall}


def run_incremental(size: int, opts: dict[str, Any], batch: int = 5000) -> dict[str, Any]:
    """The size of one import's run: ``batch`` random records are the import, the rest exist.
    Neighbours are found as the registry's ``_neighbours`` does (records sharing an ID, phone,
    dwelling or pinyin name, then every record of those persons), and again with pinyin name
    + birth date instead of the name alone; pairs scored are those with a new record."""
    import random

    import duckdb
    import pandas as pd

    from grassroots.registry.linkage.comparisons import BLOCKING_RULES, features
    from grassroots.registry.linkage.synthetic import generate

    records = generate(size, seed=opts["seed"])
    frame = features(records)
    frame["person"] = [str(r["person_id"]) for r in records]
    frame["name_birth"] = frame["name_py"] + "|" + frame["birth_date"].astype(str)
    chosen = set(random.Random(3).sample(list(frame["unique_id"]), batch))
    frame["is_new"] = frame["unique_id"].isin(chosen)
    new, old = frame[frame["is_new"]], frame[~frame["is_new"]]
    out: dict[str, Any] = {"records": size, "batch": batch}
    for label, name_key in (("name", "name_py"), ("name_birth", "name_birth")):
        hit = pd.Series(False, index=old.index)
        for col in ("id18", "phone", "addr_dwelling", name_key):
            hit |= old[col].isin(set(new[col].dropna()))
        neighbours = old[old["person"].isin(set(old.loc[hit, "person"]))]
        batch_run = pd.concat([new, neighbours]).drop(columns=["person", "name_birth"])
        con = duckdb.connect()
        con.register("f", batch_run)
        pairs = 0
        for i, rule in enumerate(BLOCKING_RULES):
            earlier = " ".join(f"and not coalesce(({r}), false)" for r in BLOCKING_RULES[:i])
            sql = (
                f"select count(*) from f l join f r on ({rule}) and l.unique_id < r.unique_id "  # noqa: S608
                f"and (l.is_new or r.is_new) where true {earlier}"
            )
            row = con.execute(sql).fetchone()
            pairs += int(row[0]) if row else 0
        con.close()
        out[label] = {
            "neighbours": len(neighbours),
            "sharing_key": int(old[name_key].isin(set(new[name_key].dropna())).sum()),
            "pairs": pairs,
        }
    return out


# --- driver -------------------------------------------------------------------------------------


def _child(args: list[str]) -> None:
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    backend, size, opts = args[0], int(args[1]), json.loads(args[2])
    if backend == "rules":
        out = rule_counts(size, opts["seed"])
    elif backend == "wide":
        out = run_wide(size, opts)
    elif backend == "incremental":
        out = run_incremental(size, opts)
    else:
        out = run(backend, size, opts)
    print("RESULT " + json.dumps(out), flush=True)


def _reaped_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(backend: str, size: int, opts: dict[str, Any], timeout: float) -> dict[str, Any]:
    reaped = _reaped_cpu()
    proc = subprocess.run(
        [sys.executable, __file__, "_child", backend, str(size), json.dumps(opts)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out: dict[str, Any] = json.loads(line[7:])
            # Cross-check: CPU of the whole child tree as the kernel reaped it (generating the
            # records, starting and stopping Spark included; a process orphaned before it was
            # reaped is missing here).
            out["child_tree_cpu"] = round(_reaped_cpu() - reaped, 1)
            return out
    raise RuntimeError(f"{backend} at {size} failed:\n{proc.stderr[-3000:]}")


# pipeline.link's stage names, as they are on Spark with a stored model: "train" only loads the
# model and hands the features to the backend; "cluster" also computes the term-frequency tables
# that LinkResult returns (Spark jobs) before clustering in Python.
STAGES = {
    "features": "features(pandas)",
    "train": "hand-over",
    "predict": "blocking+scoring",
    "cluster": "tf+clustering",
}


def _print(r: dict[str, Any]) -> None:
    cpu = r["link_cpu"]
    print(
        f"  {r['backend']:6} {r['records']:>9,} records  {r['pairs']:>10,} candidate pairs "
        f"({r['pairs'] / r['records']:.2f}/record)  P {r['precision']:.4f} R {r['recall']:.4f} F1 {r['f1']:.4f}"
    )
    stages = "  ".join(f"{STAGES.get(k, k)} {v:.1f}" for k, v in r["timings"].items())
    print(f"         wall: link {r['link_seconds']:.1f} s ({stages}); session start {r['session_seconds']:.1f} s")
    per_stage = "  ".join(f"{STAGES.get(k, k)} {sum(v.values()):.1f}" for k, v in r["stage_cpu"].items())
    print(
        f"         CPU: {r['cpu_seconds']:.1f} s (driver {cpu['driver']:.1f}, JVM {cpu['jvm']:.1f}, "
        f"Python workers {cpu['workers']:.1f}); by stage: {per_stage}; session start "
        f"{sum(r['session_cpu'].values()):.1f} s"
    )
    print(
        f"         {r['records_per_core_hour']:,.0f} records/core-hour, "
        f"{r['pairs_per_core_hour']:,.0f} pairs/core-hour; "
        f"peak RSS of the tree {r['peak_rss_mib']:,.0f} MiB"
        + (
            f"; Splink tables (parquet) {r['checkpoint_mib']:,.1f} MiB, peak scratch {r['peak_scratch_mib']:,.1f} MiB"
            if r["backend"] == "spark"
            else ""
        )
    )
    print(
        f"         load average start {r['load_start']}, end {r['load_end']}; generating {r['generate_seconds']} s; "
        f"whole child tree as reaped {r.get('child_tree_cpu', 0):.1f} CPU s"
    )


def _print_rule_counts(sizes: list[int], opts: dict[str, Any], timeout: float) -> None:
    rows = [_run("rules", size, opts, timeout) for size in sizes]
    print("Candidate pairs per record added by each blocking rule (DuckDB, features only)")
    print(f"{'rule':90} " + " ".join(f"{r['records']:>10,}" for r in rows))
    for i, rule in enumerate(rows[0]["rules"]):
        print(f"{rule[:90]:90} " + " ".join(f"{r['pairs'][i] / r['records']:>10.3f}" for r in rows))
    print(f"{'all rules':90} " + " ".join(f"{sum(r['pairs']) / r['records']:>10.3f}" for r in rows))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=8, help="spark.sql.shuffle.partitions")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--model", default=str(MODEL), help="a stored model (LinkResult.model as JSON)")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument(
        "--wide", type=int, nargs="*", help="only link on DuckDB with the ID-typo rules as before 2026-11-30"
    )
    parser.add_argument("--incremental", type=int, nargs="*", help="only size one 5,000-row import's run")
    parser.add_argument(
        "--rule-counts", type=int, nargs="*", help="only count candidate pairs per blocking rule at these sizes"
    )
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    opts = parser.parse_args()
    if os.nice(0) < 10:
        print("note: the machine is shared; run this under `nice -n 10`", file=sys.stderr)
    child_opts = {
        "seed": opts.seed,
        "threshold": opts.threshold,
        "master": opts.master,
        "partitions": opts.partitions,
        "driver_memory": opts.driver_memory,
        "model": opts.model,
    }
    if opts.rule_counts:
        _print_rule_counts(opts.rule_counts, child_opts, opts.timeout)
        return
    if opts.wide:
        for size in opts.wide:
            r = _run("wide", size, child_opts, opts.timeout)
            print(
                f"{size:>9,} records, ID-typo rules wide: {r['pairs']:,} pairs ({r['pairs'] / size:.3f}/record), "
                f"P {r['precision']:.4f} R {r['recall']:.4f}"
            )
        return
    if opts.incremental:
        for size in opts.incremental:
            r = _run("incremental", size, child_opts, opts.timeout)
            for label in ("name", "name_birth"):
                x = r[label]
                print(
                    f"{size:>9,} records, {r['batch']:,} imported, neighbours by ID/phone/dwelling/{label}: "
                    f"{x['neighbours']:,} ({x['sharing_key']:,} share the {label} key), run of "
                    f"{r['batch'] + x['neighbours']:,} records, {x['pairs']:,} pairs scored"
                )
        return
    print(
        f"Linkage on Spark {opts.master}, {opts.partitions} shuffle partitions, driver memory {opts.driver_memory}; "
        f"model {Path(opts.model).name}; {os.cpu_count()} cores here"
    )
    results = []
    for size in opts.sizes:
        print(f"{size:,} generated records (seed {opts.seed}):")
        row: dict[str, Any] = {}
        for backend in ("spark", *(() if opts.skip_duckdb else ("duckdb",))):
            try:
                row[backend] = _run(backend, size, child_opts, opts.timeout)
            except subprocess.TimeoutExpired:
                print(f"  {backend}: did not finish within {opts.timeout:.0f} s")
                continue
            except RuntimeError as error:
                print(f"  {backend}: {str(error)[-1500:]}")
                continue
            _print(row[backend])
        if "spark" in row and "duckdb" in row:
            same_pairs = row["spark"]["pairs_digest"] == row["duckdb"]["pairs_digest"]
            same_clusters = row["spark"]["clusters_digest"] == row["duckdb"]["clusters_digest"]
            print(
                f"  Spark vs DuckDB: same candidate count {row['spark']['pairs'] == row['duckdb']['pairs']}, "
                f"same scored pairs {same_pairs}, same clusters {same_clusters}"
            )
        results.append(row)
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
