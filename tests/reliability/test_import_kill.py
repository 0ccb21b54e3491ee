"""SIGKILL drill: kill ``manage.py import_people`` mid-file, rerun it, every row exactly once.

The import commits in batches and records how far it got (``processed_rows``); a rerun of the
same file resumes from there. The drill polls the child's own database until a first batch is
committed, kills it, reruns the command and checks: every row stored once, every valid ID number
one person, the job done, the audit chain intact. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from tests.registry.imports.helpers import csv_bytes, person_id
from tests.reliability.drill import ENGINES, ROOT, child_env, manage, prepare, query, run, scratch_database

pytestmark = [pytest.mark.slow, pytest.mark.database_url]  # children reach their own databases

SETUP = """
import django
django.setup()
from grassroots.registry.models import Source
from tests.factories import build_tree
build_tree()
Source.objects.create(code="police", name="公安", trust=60)
"""
TOTAL = 4000


def _value(database_url: str, sql: str) -> object:
    """One value, or None while the child has not made the table yet."""
    import sqlite3

    import psycopg

    try:
        rows = query(database_url, sql)
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):  # no table before the first commit
        return None
    return rows[0][0] if rows else None


@pytest.mark.parametrize("engine", ENGINES)
def test_an_import_killed_mid_file_resumes_without_loss_or_duplicates(engine: str, tmp_path: Path) -> None:
    rows = []
    for i in range(TOTAL):
        number = person_id(i % 3000 + 1, born=date(1970 + i % 40, 1 + i % 12, 1 + i % 28))
        if i % 97 == 0:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check digit: rejected
        rows.append([f"居民{i}", number, "", "", f"阳光花园1幢{1 + i % 2}单元{1 + i % 6}0{1 + i % 2}室", "", "", ""])
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(rows))
    valid_ids = {r[1] for i, r in enumerate(rows) if i % 97 != 0}

    with scratch_database(engine, tmp_path, "import") as database_url:
        env = child_env(tmp_path / "var", database_url)
        prepare(env)
        run([sys.executable, "-c", SETUP], env)
        args = ["import_people", str(path), "--source", "police", "--area", "3205.320583"]
        child = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        processed = 0
        while time.monotonic() < deadline and not processed:
            time.sleep(0.05)
            processed = int(_value(database_url, "SELECT processed_rows FROM registry_importjob") or 0)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert 0 < processed < TOTAL, "the import finished before it could be killed"

        manage(env, *args)

        def q(sql: str) -> object:
            return _value(database_url, sql)

        assert q("SELECT COUNT(*) FROM registry_sourcerecord") == TOTAL
        assert q("SELECT COUNT(DISTINCT row_number) FROM registry_sourcerecord") == TOTAL
        assert q("SELECT COUNT(*) FROM registry_person") == len(valid_ids)
        assert q("SELECT status || ':' || processed_rows FROM registry_importjob") == f"done:{TOTAL}"
        assert q("SELECT COUNT(*) FROM registry_importjob") == 1
        manage(env, "verify_audit")
