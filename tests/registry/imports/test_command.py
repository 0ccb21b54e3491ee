"""manage.py import_people: inline runs and clear refusals (its SIGKILL drill: tests/reliability)."""

from __future__ import annotations

import os
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
