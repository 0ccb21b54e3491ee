"""The Spark backend in local mode: the same engine gives the same answers as on DuckDB.

It runs in the normal suite when pyspark imports (a dev dependency) and Java 17 or later is
present (scripts/system_deps.sh installs a headless JRE). It is skipped on PostgreSQL, since the
engine never touches Django's database and the SQLite run already covers it. A missing pyspark or
Java fails the test under CI instead of skipping it, as the browser tests do with Chromium.
GRASSROOTS_TEST_SPARK=0 skips it; =1 runs it on PostgreSQL too. The costs are in
docs/decisions/0010-spark-in-the-suite.md.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.conf import settings as django_settings

from grassroots.registry.linkage.pipeline import LinkSettings, link
from grassroots.registry.linkage.quality import pairwise_scores
from grassroots.registry.linkage.synthetic import generate

pytestmark = pytest.mark.slow
MIN_JAVA = 17


def _java_major() -> int | None:
    """The major version of the Java that pyspark will start ($JAVA_HOME first, as pyspark does)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if found is None:
        return None
    major = int(found[1])
    return int(found[2] or 0) if major == 1 else major  # "1.8.0_392" is Java 8


def _skip_reason() -> str | None:
    """Why Spark cannot or need not run here; None when it should."""
    wanted = os.environ.get("GRASSROOTS_TEST_SPARK")
    if wanted == "0":
        return "GRASSROOTS_TEST_SPARK=0"
    if "postgresql" in django_settings.DATABASES["default"]["ENGINE"] and wanted != "1":
        return (
            "Spark linkage does not use Django's database: it runs in the SQLite pass only "
            "(GRASSROOTS_TEST_SPARK=1 runs it here too)"
        )
    return None


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[dev]')"
    major = _java_major()
    if major is None:
        return "no Java runtime for Spark local mode (run scripts/system_deps.sh)"
    if major < MIN_JAVA:
        return f"Spark needs Java {MIN_JAVA} or later, found Java {major} (run scripts/system_deps.sh)"
    return None


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)

    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    tmp = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv (pandas, rapidfuzz)
        session = (
            SparkSession.builder.master("local[1]")  # the other xdist worker keeps the second core
            .appName("grassroots-linkage-test")
            # Bounded, so the JVM sits beside the other worker's tests without crowding them out.
            .config("spark.driver.memory", "1g")
            # A cold JVM spends most of this test compiling: C1 only, and no generated code for
            # a few hundred rows, took the Spark run from ~107 s to ~40 s on this loaded machine.
            .config("spark.driver.extraJavaOptions", f"-XX:TieredStopAtLevel=1 -Djava.io.tmpdir={tmp}")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.default.parallelism", "1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.local.dir", str(tmp / "local"))
            .config("spark.sql.warehouse.dir", str(tmp / "warehouse"))  # not ./spark-warehouse
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        session.sparkContext.setCheckpointDir(str(tmp / "checkpoints"))  # Splink writes its tables here
        try:
            yield session
        finally:
            session.stop()
            # stop() leaves the JVM running for the life of this Python process, which is an xdist
            # worker with other test files still to run: end it (it exits when its stdin closes).
            gateway = SparkContext._gateway
            if gateway is not None:
                gateway.shutdown()
                proc = getattr(gateway, "proc", None)
                if proc is not None:
                    if proc.stdin:
                        proc.stdin.close()
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                SparkContext._gateway = None
                SparkContext._jvm = None


def _sorted_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["left", "right"]).reset_index(drop=True)


def test_spark_backend_links_like_duckdb(spark: Any) -> None:
    records = generate(600, seed=21)
    truth = {str(r["record_id"]): str(r["person_id"]) for r in records}
    duck = link(records, settings=LinkSettings(u_max_pairs=5e4))
    # The levels computed by our UDFs occur, so equal pairs below prove the Spark pandas UDFs
    # agree with DuckDB's Arrow UDFs: name 2 = cjk_jw, name 1 = cjk_lev, birth date 2 = cjk_dl.
    assert {1, 2} <= set(duck.pairs["gamma_name"])
    assert 2 in set(duck.pairs["gamma_birth_date"])

    # Training on Spark would add ~90 s of jobs here; production trains once and reuses the model.
    on_spark = link(
        records,
        settings=replace(
            LinkSettings(), backend="spark", spark=spark, model=duck.model, term_frequencies=duck.term_frequencies
        ),
    )

    checkpoints = Path(spark.sparkContext.getCheckpointDir().removeprefix("file:"))
    assert any(checkpoints.rglob("__splink__df_predict*")), "the prediction did not run on Spark"
    assert on_spark.stats.comparisons == duck.stats.comparisons
    pd.testing.assert_frame_equal(
        _sorted_pairs(on_spark.pairs), _sorted_pairs(duck.pairs), check_dtype=False, rtol=0, atol=1e-9
    )
    assert on_spark.clusters == duck.clusters
    pd.testing.assert_frame_equal(
        _sorted_pairs(on_spark.review), _sorted_pairs(duck.review), check_dtype=False, rtol=0, atol=1e-9
    )
    scores = pairwise_scores(on_spark.clusters, truth)
    assert scores.true_pairs > 500  # the generated duplicates are there to be found
    assert scores.precision >= 0.99
    assert scores.recall >= 0.99
