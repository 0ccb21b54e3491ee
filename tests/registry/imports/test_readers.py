"""Readers: encodings, sheets, header detection, numeric IDs and the rejected-rows file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from grassroots.core.ids import id15_to_18
from grassroots.registry.imports.address import AddressIndex
from grassroots.registry.imports.readers import OLE_MAGIC, ImportFileError, read_table, sniff_kind
from grassroots.registry.imports.validation import validate_row
from grassroots.registry.imports.xlsx import rejected_rows_xlsx
from grassroots.registry.models import SourceRecord
from tests.registry.imports.helpers import csv_bytes, import_file, person_id, source

MAPPING = {"姓名": "name", "身份证号": "id_number"}


def book_bytes(fill) -> bytes:
    book = Workbook()
    fill(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "label"), [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("gb18030", "GB18030/GBK")]
)
def test_csv_encodings(encoding, label):
    table = read_table(csv_bytes([["张三", "现住址"]], headers=["姓名", "备注"], encoding=encoding), "a.csv")
    assert table.encoding_label == label
    assert table.headers == ["姓名", "备注"] and table.rows == [(2, {"姓名": "张三", "备注": "现住址"})]


def test_gbk_text_is_not_mistaken_for_utf8():
    data = "姓名,身份证号\n欧阳娜娜,1\n".encode("gbk")
    assert read_table(data, "a.csv").rows[0][1]["姓名"] == "欧阳娜娜"


def test_header_after_blank_rows_and_leading_empty_columns_with_a_merged_title():
    def fill(ws):
        ws["C2"] = "城北社区人员名单"
        ws.merge_cells("C2:E2")
        ws["C4"], ws["D4"], ws["E4"] = "姓名", "身份证号", "现住址"
        ws["C5"], ws["D5"], ws["E5"] = "张三", person_id(1), "阳光花园1幢1单元101室"
        ws.merge_cells("E5:E6")  # a merged cell: the value sits in the first row only
        ws["C6"], ws["D6"] = "李四", person_id(2)

    table = read_table(book_bytes(fill), "a.xlsx")
    assert table.kind == "xlsx" and table.header_row == 4
    assert table.headers == ["姓名", "身份证号", "现住址"]
    assert [n for n, _ in table.rows] == [5, 6]  # row numbers as the sheet shows them
    assert table.rows[0][1]["现住址"] == "阳光花园1幢1单元101室" and table.rows[1][1]["现住址"] == ""


def test_empty_sheet_and_header_only():
    with pytest.raises(ImportFileError, match="空"):
        read_table(book_bytes(lambda ws: None), "a.xlsx")
    with pytest.raises(ImportFileError, match="空"):
        read_table(b"\n\n,,\n", "a.csv")
    assert read_table(csv_bytes([], headers=["姓名", "身份证号"]), "a.csv").rows == []


def test_missing_sheet_is_named():
    with pytest.raises(ImportFileError, match="没有名为“名单”"):
        read_table(book_bytes(lambda ws: ws.append(["姓名", "身份证号"])), "a.xlsx", sheet="名单")


@pytest.mark.django_db
def test_numeric_ids_18_digits_refused_15_digits_accepted():
    id15 = "320583800517001"  # first-generation ID: exact as an Excel number

    def fill(ws):
        ws.append(["姓名", "身份证号"])
        ws.append(["张三", int(person_id(1)[:17] + "1")])
        ws.append(["李四", int(id15)])

    table = read_table(book_bytes(fill), "a.xlsx")
    index = AddressIndex()
    refused = validate_row(*table.rows[0], MAPPING, index)
    accepted = validate_row(*table.rows[1], MAPPING, index)
    assert not refused.accepted and "数字格式" in refused.problems[0]["message"]
    assert refused.problems[0]["field"] == "id_number"
    assert accepted.accepted and accepted.id_number == id15_to_18(id15)


def test_scientific_notation_in_csv_is_refused():
    table = read_table(csv_bytes([["张三", "3.20583E+17"]], headers=["姓名", "身份证号"]), "a.csv")
    result = validate_row(*table.rows[0], MAPPING, AddressIndex())
    assert not result.accepted and "科学计数法" in result.problems[0]["message"]


def test_xls_is_routed_by_magic_bytes_to_calamine():
    assert sniff_kind(OLE_MAGIC + b"\x00" * 100, "old.xls") == "xls"
    with pytest.raises(ImportFileError, match="扩展名不符"):
        sniff_kind(OLE_MAGIC + b"\x00" * 100, "old.xlsx")
    # A broken OLE container reaches calamine and comes back as a clear message.
    with pytest.raises(ImportFileError, match="无法读取该Excel文件"):
        read_table(OLE_MAGIC + b"\x00" * 600, "old.xls")


def test_real_xls_file():
    sample = Path(__file__).parent / "data" / "people.xls"
    if not sample.exists():
        pytest.skip("no xls writer is installed (xlwt/LibreOffice) to produce a real .xls; routing is tested above")
    assert read_table(sample.read_bytes(), "people.xls").kind == "xls"


@pytest.mark.django_db
def test_rejected_rows_file_keeps_formulas_as_text(tree):
    payloads = ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)"]
    rows = [[p, "123"] for p in payloads]
    job = import_file(csv_bytes(rows, headers=["姓名", "身份证号"]), "evil.csv", source(), tree.chengbei)
    assert job.rejected_rows == 4 and SourceRecord.objects.filter(job=job).count() == 4
    sheet = load_workbook(io.BytesIO(rejected_rows_xlsx(job=job))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    types = {c.data_type for row in sheet.iter_rows() for c in row}
    assert values[0] == ["行号", "姓名", "身份证号", "拒收原因"]
    assert [v[1] for v in values[1:]] == payloads
    assert types <= {"s", "inlineStr"}  # text only: no "f" (formula), no "n"
    assert "身份证号" in values[1][3]
