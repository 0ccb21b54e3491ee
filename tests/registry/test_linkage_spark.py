"""The Spark backend in local mode: the same engine, the same answers as DuckDB.

Skipped where pyspark or a Java runtime is missing (pyspark is not a project dependency), and
unless GRASSROOTS_TEST_SPARK=1 (starting Spark costs about 90 s on a 2-core machine).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace

import pytest

from grassroots.registry.linkage.pipeline import LinkSettings, link
from grassroots.registry.linkage.quality import pairwise_scores
from grassroots.registry.linkage.synthetic import generate

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (Spark backend is optional)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("GRASSROOTS_TEST_SPARK") != "1",
        reason="Spark local mode takes about 90 s here: set GRASSROOTS_TEST_SPARK=1 to run it",
    ),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime for Spark local mode"),
]


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # executors need this venv (pandas, rapidfuzz)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("grassroots-linkage-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir("/tmp/grassroots-spark-checkpoints")
    yield session
    session.stop()


def test_spark_backend_links_like_duckdb(spark) -> None:  # type: ignore[no-untyped-def]
    records = generate(600, seed=21)
    truth = {str(r["record_id"]): str(r["person_id"]) for r in records}
    duck = link(records, settings=LinkSettings(u_max_pairs=5e4))
    on_spark = link(
        records,
        settings=replace(
            LinkSettings(), backend="spark", spark=spark, model=duck.model, term_frequencies=duck.term_frequencies
        ),
    )
    assert on_spark.stats.comparisons == duck.stats.comparisons
    assert pairwise_scores(on_spark.clusters, truth).f1 == pytest.approx(
        pairwise_scores(duck.clusters, truth).f1, abs=0.01
    )
