"""Link source records into persons with Splink (DuckDB by default, Spark for large cities).

``link(records, settings=...)`` → ``LinkResult``: a cluster id per record, the scored pairs
(probability ≥ ``review_low``, with the comparison level of each field), the pairs people
should review, and the trained model (a JSON-able dict to store and reuse).

Steps: features in Python (comparisons.features) → Splink blocking → EM training (unless a
stored model is given) → predict → clustering with constraints (clustering.cluster_pairs):
reviewed decisions are honoured, two different valid ID numbers never share a cluster.

Incremental linking: pass ``existing`` (record id → cluster id of records already linked);
records not in it are new. Only pairs with at least one new record are scored, existing
clusters stay whole and keep their ids, and a new record that would join two existing
clusters is held for review instead (unless ``settings.merge_existing``).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from grassroots.registry.linkage import comparisons as cn
from grassroots.registry.linkage.clustering import KnownPair, cluster_pairs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    """What a kind of record is compared on. ``CN_PERSON`` is the one for Chinese residents;
    another profile (the FEBRL benchmark's) reuses the rest of the engine unchanged."""

    features: Callable[..., pd.DataFrame]  # records, max_block_share= → one row per record, unique_id
    comparisons: Callable[[], list[Any]]
    comparison_names: tuple[str, ...]
    blocking_rules: tuple[str, ...]
    deterministic_rules: tuple[str, ...]
    deterministic_recall: float
    em_rules: tuple[str, ...]
    valid_ids: Callable[[pd.DataFrame], Mapping[str, str]] | None = None  # never two per cluster
    tf_columns: tuple[str, ...] = ()  # columns with term-frequency adjustment
    name_gamma: str | None = None  # comparison whose else level (gamma 0) forbids auto-linking


CN_PERSON = Profile(
    features=cn.features,
    comparisons=cn.comparisons,
    comparison_names=("name", "id_number", "birth_date", "sex", "contact"),
    blocking_rules=cn.BLOCKING_RULES,
    deterministic_rules=cn.DETERMINISTIC_RULES,
    deterministic_recall=0.7,
    em_rules=cn.EM_RULES,
    valid_ids=cn.valid_ids,
    tf_columns=("name_s", "phone"),
    name_gamma="name",
)


@dataclass
class LinkSettings:
    threshold: float = 0.9  # pairs at or above link records (subject to constraints)
    review_low: float = 0.3  # pairs in [review_low, threshold) between clusters go to review
    backend: str = "duckdb"  # or "spark"
    spark: Any = None  # a SparkSession when backend == "spark"
    model: dict[str, Any] | None = None  # a stored model (LinkResult.model): skip training
    # Stored term frequencies (LinkResult.term_frequencies) for linking a small batch: a name's
    # frequency must come from the whole population, not from the few records of the batch.
    term_frequencies: dict[str, pd.DataFrame] | None = None
    merge_existing: bool = False  # incremental: may a new record merge two existing clusters?
    # Never link automatically two records whose names disagree entirely (not even in pinyin
    # or by one character): a household member sharing phone and flat is not the same person.
    link_different_names: bool = False
    u_max_pairs: float = 1e6  # random pairs sampled to estimate u probabilities
    max_block_share: int = 50  # a phone or dwelling shared by more records is not a blocking key
    seed: int = 42
    profile: Profile = CN_PERSON
    cross_source_only: bool = False  # link records of different sources only (two clean lists)
    duckdb_memory_limit: str = "6GB"
    duckdb_threads: int | None = None


@dataclass
class LinkStats:
    records: int
    new_records: int
    comparisons: int  # candidate pairs scored
    seconds: float
    clusters: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def pairs_per_second(self) -> float:
        return self.comparisons / self.seconds if self.seconds else 0.0


@dataclass
class LinkResult:
    clusters: dict[str, str]  # record id → cluster id
    pairs: pd.DataFrame  # left, right, probability, match_weight, gamma_<comparison> (p ≥ review_low)
    review: pd.DataFrame  # pairs for people to decide, with a ``reason``
    model: dict[str, Any]
    stats: LinkStats
    term_frequencies: dict[str, pd.DataFrame]  # column → value, tf_<column>: store with the model
    refused: list[tuple[str, str, float, str]] = field(default_factory=list)

    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rid, cid in self.clusters.items():
            out.setdefault(cid, []).append(rid)
        return out


def _scorers() -> dict[str, tuple[Any, str]]:
    from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein

    return {
        "cjk_jw": (JaroWinkler.normalized_similarity, "float64"),
        "cjk_lev": (Levenshtein.distance, "int64"),
        "cjk_dl": (DamerauLevenshtein.distance, "int64"),
    }


def _arrow_udf(scorer: Any, dtype: str) -> Callable[[Any, Any], Any]:
    """A DuckDB arrow UDF scoring pairs element-wise in C++ (rapidfuzz.process.cpdist)."""

    def udf(left: Any, right: Any) -> Any:
        import pyarrow as pa
        from rapidfuzz.process import cpdist

        a = [x or "" for x in left.to_pylist()]
        b = [x or "" for x in right.to_pylist()]
        return pa.array(cpdist(a, b, scorer=scorer, workers=1, dtype=dtype), type=pa.from_numpy_dtype(dtype))

    return udf


def _duckdb_api(settings: LinkSettings) -> tuple[Any, Any]:
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{settings.duckdb_memory_limit}'")
    if settings.duckdb_threads:
        con.execute(f"SET threads = {int(settings.duckdb_threads)}")
    for name, (scorer, dtype) in _scorers().items():
        sql_type = "DOUBLE" if dtype == "float64" else "BIGINT"
        udf = _arrow_udf(scorer, dtype)
        con.create_function(name, udf, ["VARCHAR", "VARCHAR"], sql_type, type="arrow")  # type: ignore[call-overload]
    return DuckDBAPI(connection=con), con


def _series_udf(name: str) -> Callable[[pd.Series, pd.Series], pd.Series]:
    """A Spark pandas UDF body scoring pairs element-wise; the scorer is looked up by name on
    the executor (rapidfuzz's compiled functions cannot be pickled)."""

    def score(left: pd.Series, right: pd.Series) -> pd.Series:
        from rapidfuzz.process import cpdist

        scorer, dtype = _scorers()[name]
        values = cpdist(left.fillna("").tolist(), right.fillna("").tolist(), scorer=scorer, dtype=dtype)
        return pd.Series(values, dtype=dtype)

    return score


def _spark_api(settings: LinkSettings) -> Any:
    from pyspark.sql.functions import pandas_udf
    from splink import SparkAPI

    if settings.spark is None:
        raise ValueError("backend 'spark' needs settings.spark (a SparkSession)")
    for name, (_, dtype) in _scorers().items():
        spark_type = "double" if dtype == "float64" else "long"
        settings.spark.udf.register(name, pandas_udf(_series_udf(name), spark_type))  # type: ignore[call-overload,unused-ignore]  # pyspark may be absent
    return SparkAPI(spark_session=settings.spark)


def _splink_settings(profile: Profile, rules: Iterable[str]) -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=profile.comparisons(),
        blocking_rules_to_generate_predictions=list[Any](rules),
        retain_matching_columns=True,  # keeps gamma_* (the level of each field) for review
        retain_intermediate_calculation_columns=False,
    )


def _with_parameters(fresh: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The profile's settings (this run's blocking rules and SQL dialect) with the trained
    parameters of a stored model: the prior and each level's m and u, matched by position."""
    out = copy.deepcopy(fresh)
    out["probability_two_random_records_match"] = stored["probability_two_random_records_match"]
    stored_by_name = {c["output_column_name"]: c for c in stored["comparisons"]}
    for comparison in out["comparisons"]:
        old = stored_by_name.get(comparison["output_column_name"])
        if old is None or len(old["comparison_levels"]) != len(comparison["comparison_levels"]):
            raise ValueError(f"stored model does not match the profile at {comparison['output_column_name']!r}")
        for level, old_level in zip(comparison["comparison_levels"], old["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in old_level:
                    level[key] = old_level[key]
    return out


def _train(linker: Any, settings: LinkSettings) -> None:
    profile = settings.profile
    linker.training.estimate_probability_two_random_records_match(
        list(profile.deterministic_rules), recall=profile.deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_max_pairs, seed=settings.seed)
    for rule in profile.em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)


def link(
    records: Iterable[Any] | pd.DataFrame,
    *,
    settings: LinkSettings | None = None,
    known_pairs: Iterable[KnownPair] = (),
    existing: Mapping[str, str] | None = None,
) -> LinkResult:
    """Link records into clusters (see the module doc). Deterministic for a given seed."""
    from splink import Linker

    settings = settings or LinkSettings()
    started = time.perf_counter()
    profile = settings.profile
    frame = profile.features(records, max_block_share=settings.max_block_share)
    timings = {"features": time.perf_counter() - started}
    existing = {str(k): str(v) for k, v in (existing or {}).items()}
    incremental = bool(existing)
    rules = list(profile.blocking_rules)
    if settings.cross_source_only:
        rules = [f"({rule}) and l.source <> r.source" for rule in rules]
    if incremental:
        frame["is_new"] = ~frame["unique_id"].isin(existing.keys())
        rules = [f"({rule}) and (l.is_new or r.is_new)" for rule in rules]
    new_count = int(frame["is_new"].sum()) if incremental else len(frame)

    con = None
    if settings.backend == "spark":
        db_api = _spark_api(settings)
        table: Any = settings.spark.createDataFrame(frame.astype(object).where(frame.notna(), None))
    else:
        db_api, con = _duckdb_api(settings)
        table = frame

    if settings.model is not None:
        model = _with_parameters(
            _splink_settings(profile, rules).create_settings_dict(db_api.sql_dialect.sql_dialect_str), settings.model
        )
        linker = Linker(table, model, db_api=db_api)
    else:
        linker = Linker(table, _splink_settings(profile, rules), db_api=db_api)
        _train(linker, settings)
    timings["train"] = time.perf_counter() - started - sum(timings.values())
    for col, table_tf in (settings.term_frequencies or {}).items():
        linker.table_management.register_term_frequency_lookup(table_tf, col, overwrite=True)

    predictions = linker.inference.predict()
    gamma_cols = ", ".join(f"gamma_{c}" for c in profile.comparison_names)
    compared = int(
        linker.misc.query_sql(f"select count(*) as n from {predictions.physical_name}", output_type="pandas")["n"][0]  # noqa: S608
    )
    pairs = linker.misc.query_sql(
        f"select unique_id_l as left_id, unique_id_r as right_id, match_probability as probability, "  # noqa: S608
        f"match_weight, {gamma_cols} from {predictions.physical_name} "
        f"where match_probability >= {float(settings.review_low)}",
        output_type="pandas",
    )
    pairs = pairs.rename(columns={"left_id": "left", "right_id": "right"})
    timings["predict"] = time.perf_counter() - started - sum(timings.values())
    model_dict = linker.misc.save_model_to_json()
    term_frequencies = settings.term_frequencies or {
        col: linker.table_management.compute_tf_table(col).as_pandas_dataframe() for col in profile.tf_columns
    }
    if con is not None:
        con.close()

    known = list(known_pairs)
    name_gamma = None if settings.link_different_names or not profile.name_gamma else f"gamma_{profile.name_gamma}"
    eligible = pairs if name_gamma is None else pairs[pairs[name_gamma] != 0]
    clustering = cluster_pairs(
        frame["unique_id"],
        zip(eligible["left"], eligible["right"], eligible["probability"], strict=True),
        threshold=settings.threshold,
        valid_ids=profile.valid_ids(frame) if profile.valid_ids else None,
        known_pairs=known,
        existing=existing,
        merge_existing=settings.merge_existing,
    )
    review = _review(pairs, clustering, known, settings, name_gamma)
    timings["cluster"] = time.perf_counter() - started - sum(timings.values())
    seconds = time.perf_counter() - started
    stats = LinkStats(
        records=len(frame),
        new_records=new_count,
        comparisons=compared,
        seconds=seconds,
        clusters=len(set(clustering.clusters.values())),
        timings={k: round(v, 2) for k, v in timings.items()},
    )
    log.info(
        "linkage: %d records, %d pairs scored, %d clusters, %.1fs", stats.records, compared, stats.clusters, seconds
    )
    return LinkResult(clustering.clusters, pairs, review, model_dict, stats, term_frequencies, clustering.refused)


def _review(
    pairs: pd.DataFrame, clustering: Any, known: list[KnownPair], settings: LinkSettings, name_gamma: str | None
) -> pd.DataFrame:
    """Uncertain pairs left in different clusters, held merges and surprising refusals."""
    decided = {frozenset((str(k.left), str(k.right))) for k in known}
    clusters = clustering.clusters
    apart_mask = [clusters[a] != clusters[b] for a, b in zip(pairs["left"], pairs["right"], strict=True)]
    apart = pairs[pd.Series(apart_mask, index=pairs.index, dtype=bool)]
    band = apart[apart["probability"] < settings.threshold].assign(reason="uncertain")
    if name_gamma is not None:
        differ = apart[(apart["probability"] >= settings.threshold) & (apart[name_gamma] == 0)]
        band = pd.concat([band, differ.assign(reason="names_differ")], ignore_index=True)
    extra = {(a, b): "would_merge_existing" for a, b, _ in clustering.held_merges}
    extra |= {(a, b): "different_valid_id" for a, b, _, why in clustering.refused if why == "different_valid_id"}
    if extra:
        keyed = pairs.set_index(["left", "right"])
        rows = keyed.loc[[k for k in extra if k in keyed.index]].reset_index()
        rows["reason"] = [extra[(a, b)] for a, b in zip(rows["left"], rows["right"], strict=True)]
        band = pd.concat([band, rows], ignore_index=True)
    keep = [frozenset((a, b)) not in decided for a, b in zip(band["left"], band["right"], strict=True)]
    return (
        band[pd.Series(keep, index=band.index, dtype=bool)]
        .sort_values("probability", ascending=False)
        .reset_index(drop=True)
    )
