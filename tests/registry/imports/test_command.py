"""manage.py import_people: inline runs, clear refusals, and the SIGKILL drill."""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command

from grassroots.registry.models import ImportJob, Person, Source, SourceRecord
from tests.registry.imports.helpers import csv_bytes, person_id

ROOT = Path(__file__).resolve().parents[3]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_PG = DATABASE_URL.startswith(("postgres://", "postgresql://"))


def _pg_url(database: str) -> str:
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{database}"))


def test_import_people_inline(tree, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes([["张三", person_id(1), "", "", "阳光花园1幢1单元101室", "", "", ""]]))
    out = StringIO()
    call_command(
        "import_people",
        str(path),
        "--source",
        "police",
        "--create-source",
        "公安",
        "--area",
        tree.chengbei.path,
        stdout=out,
    )
    assert "1/1 rows" in out.getvalue() and "done" in out.getvalue()
    job = ImportJob.objects.get()
    assert job.path == tree.chengbei.path and job.file.name.startswith("imports/")
    assert Source.objects.get(code="police").column_mapping["身份证号码"] == "id_number"
    out = StringIO()
    call_command("import_people", str(path), "--source", "police", stdout=out)
    assert "already imported" in out.getvalue() and SourceRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--source", "nobody"], None, "--create-source"),
        (["--source", "p", "--create-source", "公安", "--area", "9.9"], None, "no area"),
        (["--source", "p", "--create-source", "公安"], b"\x89PNG\r\n\x1a\n\x00", "不是Excel"),
        (["--source", "p", "--create-source", "公安"], "编号,备注\n1,2\n".encode(), "必须指定哪一列是“姓名”"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tree, tmp_path, args, content, message):
    path = tmp_path / "people.xlsx" if content and content.startswith(b"\x89") else tmp_path / "people.csv"
    path.write_bytes(content or csv_bytes([["张三", person_id(1)]], headers=["姓名", "身份证号"]))
    with pytest.raises(CommandError, match=message) as caught:
        call_command("import_people", str(path), *args)
    assert caught.value.returncode == 2
    assert ImportJob.objects.count() == Source.objects.count() == Person.objects.count() == 0


SETUP = """
import django
django.setup()
from grassroots.registry.models import Source
from tests.factories import build_tree
build_tree()
Source.objects.create(code="police", name="公安", trust=60)
"""


def _manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # behaviour, not speed: migrate took over 120 s on a loaded 2-core machine
        check=False,
        **kwargs,
    )


def _query(database_url: str, sql: str) -> object:
    """One value from the drill's own database, read beside the child process (None if not there yet)."""
    if database_url.startswith("sqlite:///"):
        try:
            with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=5) as conn:
                row = conn.execute(sql).fetchone()
        except sqlite3.OperationalError:
            return None
    else:
        import psycopg

        try:
            with psycopg.connect(database_url, connect_timeout=5) as conn:
                row = conn.execute(sql).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return row[0] if row else None


def _drill(tmp_path: Path, database_url: str) -> None:
    """Kill the import mid-way, rerun it: every row once, every valid ID one person, audit intact."""
    env = {
        **os.environ,
        "GRASSROOTS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("GRASSROOTS_KEYS_FILE", None)
    for args in (["migrate", "--noinput", "-v0"], ["init_keys"]):
        assert _manage(env, *args).returncode == 0
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert setup.returncode == 0, setup.stderr

    total = 4000
    rows = []
    for i in range(total):
        number = person_id(i % 3000 + 1, born=date(1970 + i % 40, 1 + i % 12, 1 + i % 28))
        if i % 97 == 0:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check digit: rejected
        rows.append([f"居民{i}", number, "", "", f"阳光花园1幢{1 + i % 2}单元{1 + i % 6}0{1 + i % 2}室", "", "", ""])
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(rows))
    valid_ids = {r[1] for i, r in enumerate(rows) if i % 97 != 0}

    command = [sys.executable, "manage.py", "import_people", str(path), "--source", "police", "--area", "3205.320583"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    processed = 0
    while time.monotonic() < deadline and not processed:
        time.sleep(0.05)
        processed = int(_query(database_url, "SELECT processed_rows FROM registry_importjob") or 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < processed < total, "the import finished before it could be killed"

    rerun = _manage(env, *command[2:])
    assert rerun.returncode == 0, rerun.stderr

    def q(sql: str) -> object:
        return _query(database_url, sql)

    assert q("SELECT COUNT(*) FROM registry_sourcerecord") == total
    assert q("SELECT COUNT(DISTINCT row_number) FROM registry_sourcerecord") == total
    assert q("SELECT COUNT(*) FROM registry_person") == len(valid_ids)
    assert q("SELECT status || ':' || processed_rows FROM registry_importjob") == f"done:{total}"
    assert q("SELECT COUNT(*) FROM registry_importjob") == 1
    verify = _manage(env, "verify_audit")
    assert verify.returncode == 0, verify.stderr


@pytest.mark.slow
def test_sigkill_drill_sqlite(tmp_path):
    _drill(tmp_path, f"sqlite:///{tmp_path / 'drill.sqlite3'}")


@pytest.mark.slow
@pytest.mark.database_url
@pytest.mark.skipif(not ON_PG, reason="needs DATABASE_URL on PostgreSQL")
def test_sigkill_drill_postgres(tmp_path):
    import psycopg

    database = f"grassroots_importkill_{secrets.token_hex(4)}"
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        _drill(tmp_path, _pg_url(database))
    finally:
        with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
