"""Malformed files never crash the readers or the preview: a clear Chinese error or a valid preview."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grassroots.core.errors import DomainError
from grassroots.registry.imports import services
from grassroots.registry.imports.address import AddressIndex
from grassroots.registry.imports.readers import read_table
from grassroots.registry.imports.validation import validate_row
from grassroots.registry.models import ImportJob, Person, Source, SourceRecord
from tests.registry.imports.helpers import csv_bytes, person_id, upload, xlsx_bytes

CHINESE = re.compile(r"[\u4e00-\u9fff]")
NAMES = st.sampled_from(["a.csv", "a.xlsx", "a.xls", "a.txt"])
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def valid_xlsx() -> bytes:
    return xlsx_bytes([["张三", person_id(1)]], headers=["姓名", "身份证号"])


def mutations() -> st.SearchStrategy[bytes]:
    base = valid_xlsx()
    truncated = st.integers(0, len(base)).map(lambda n: base[:n])
    flipped = st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)).map(
        lambda t: base[: t[0]] + bytes([t[1]]) + base[t[0] + 1 :]
    )
    texts = st.text(max_size=300).flatmap(
        lambda t: st.sampled_from(["utf-8", "utf-16", "gb18030", "big5", "latin-1"]).map(
            lambda enc: t.encode(enc, errors="ignore")
        )
    )
    huge_cell = st.integers(1, 3).map(lambda n: ("姓名,身份证号\n" + "张" * (70_000 * n) + ",1\n").encode())
    unclosed = st.just(b'\xe5\xa7\x93\xe5\x90\x8d,x\n"unclosed,1\n' * 3)
    return st.one_of(st.binary(max_size=2000), truncated, flipped, texts, huge_cell, unclosed, st.just(b""))


def check_reader(data: bytes, name: str) -> None:
    try:
        table = read_table(data, name)
    except DomainError as exc:
        assert CHINESE.search(exc.message), exc.message
        return
    index = AddressIndex()
    mapping = dict.fromkeys(table.headers, "")
    for number, cells in table.rows[:20]:
        result = validate_row(number, cells, mapping, index)
        assert not result.accepted  # no name/ID columns mapped: every row explains why


@FUZZ
@given(data=mutations(), name=NAMES)
def test_readers_never_crash(data, name):
    check_reader(data, name)


def zip_with(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        zip_with({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"not xml"}),
        zip_with({"word/document.xml": b"<w/>"}),
        zip_with({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<workbook/>"}),
    ],
)
def test_broken_workbooks_get_a_clear_message(data):
    with pytest.raises(DomainError) as caught:
        read_table(data, "a.xlsx")
    assert CHINESE.search(caught.value.message)


@pytest.mark.django_db
@FUZZ
@given(data=mutations(), name=NAMES)
def test_preview_of_malformed_uploads_writes_nothing_on_failure(tree, data, name):
    # One database for all examples: files accepted by earlier examples stay (as jobs, never rows).
    src, _ = Source.objects.get_or_create(code="fuzz", defaults={"name": "模糊测试"})
    before = ImportJob.objects.count()
    try:
        job = upload(data, name, src, tree.chengbei)
    except DomainError as exc:
        assert CHINESE.search(exc.message)
        assert ImportJob.objects.count() == before
    else:
        preview = services.import_job_preview(job=job)
        assert len(preview.rows) <= 20 and preview.table.headers
    assert SourceRecord.objects.count() == Person.objects.count() == 0


def test_a_good_csv_previews():
    table = read_table(csv_bytes([["张三", person_id(1)]], headers=["姓名", "身份证号"]), "a.csv")
    result = validate_row(*table.rows[0], {"姓名": "name", "身份证号": "id_number"}, AddressIndex())
    assert result.accepted and result.sex == "M"
