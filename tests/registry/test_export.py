"""xlsx exports and the batch query: masked by default, text cells only, audited with counts."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.core.ids import make_id_number
from grassroots.registry.forms import NUMBER_CELL, read_text
from tests.registry.conftest import ID_LI, ID_ZHANG, PHONE_ZHANG, create, login

pytestmark = pytest.mark.django_db


def _cells(content: bytes, sheet: int = 0) -> list[list[object]]:
    ws = load_workbook(io.BytesIO(content)).worksheets[sheet]
    return [[c.value for c in row] for row in ws.iter_rows()]


def _types(content: bytes) -> set[str]:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return {c.data_type for row in ws.iter_rows() for c in row}


def test_masked_search_export_is_audited(tree, people):
    client = login(tree.users[Role.COMMUNITY_WORKER])
    response = client.post(reverse("registry:export"), {"q": "阳光花园"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    rows = _cells(response.content)
    assert rows[0][:6] == ["姓名", "性别", "出生日期", "年龄", "身份证号", "手机号"]
    assert {r[0] for r in rows[1:]} == {"张三", "王芳"}
    flat = str(rows)
    assert ID_ZHANG not in flat and PHONE_ZHANG not in flat and people.zhang.id_number_masked in flat
    assert _types(response.content) <= {"s", "inlineStr"}  # text only: no formula, no number
    entry = AuditEntry.objects.filter(action="registry.person.export").latest("seq")
    assert entry.detail == {"rows": 2, "plain": False, "selection": "search"}


def test_formula_injection_stays_text(tree):
    dwelling = tree.building1.dwellings.order_by("id").first()
    create(dwelling, "=SUM(A1)", make_id_number("320583", date(1960, 1, 1), 31, "M"))
    create(dwelling, "+1+cmd|' /C calc'!A0", make_id_number("320583", date(1960, 1, 1), 32, "M"))
    client = login(tree.users[Role.COMMUNITY_WORKER])
    content = client.post(reverse("registry:export"), {"grid": tree.grid1.pk}).content
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    names = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=1).data_type for r in range(2, ws.max_row + 1)}
    assert names["=SUM(A1)"] == "s" and names["+1+cmd|' /C calc'!A0"] == "s"
    # The raw sheet XML holds no formula element at all.
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_plain_export_needs_the_right_and_a_reason(tree, people):
    community = login(tree.users[Role.COMMUNITY_WORKER])
    assert (
        community.post(reverse("registry:export"), {"q": "张三", "plain": "on", "reason": "民政复核"}).status_code
        == 403
    )
    admin = login(tree.users[Role.ADMIN])
    short = admin.post(reverse("registry:export"), {"q": "张三", "plain": "on", "reason": "看"})
    assert short.status_code == 302 and not AuditEntry.objects.filter(action="registry.person.export_plain").exists()
    ok = admin.post(reverse("registry:export"), {"q": "张三", "plain": "on", "reason": "民政低保复核"})
    rows = _cells(ok.content)
    assert rows[1][4] == ID_ZHANG and rows[1][5] == PHONE_ZHANG
    entry = AuditEntry.objects.filter(action="registry.person.export_plain").latest("seq")
    assert entry.detail == {"rows": 1, "plain": True, "selection": "search", "reason": "民政低保复核"}


def test_export_is_scoped(tree, people):
    outsider = login(tree.outsiders[Role.COMMUNITY_WORKER])
    assert outsider.post(reverse("registry:export"), {"grid": tree.grid1.pk}).status_code == 404
    rows = _cells(outsider.post(reverse("registry:export"), {"q": "zs"}).content)
    assert rows[1:] == []
    assert login(tree.users[Role.GRID_WORKER]).post(reverse("registry:export"), {"q": "zs"}).status_code == 403


def test_read_text_splits_and_numbers_lines():
    entries = read_text(f"{ID_ZHANG}\n\n{ID_LI}, 123\n")
    assert [(e.row, e.value) for e in entries] == [(1, ID_ZHANG), (3, ID_LI), (3, "123")]


def _xlsx(rows: list[list[object]]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile("ids.xlsx", out.getvalue())


def test_batch_query_from_xlsx(tree, people):
    client = login(tree.users[Role.COMMUNITY_WORKER])
    bad_check = ID_ZHANG[:17] + ("0" if ID_ZHANG[17] != "0" else "1")
    upload = _xlsx(
        [
            ["序号", "身份证号码"],
            [1, ID_ZHANG],
            [2, ID_LI],
            [3, bad_check],
            [4, 3.20583195003091e17],
            [5, ID_ZHANG],
            [6, "abc"],
        ]
    )
    page = client.post(reverse("registry:batch"), {"file": upload})
    html = page.content.decode()
    result = page.context["result"]
    assert [(row, p.name) for row, p in result.found] == [(2, "张三")]
    assert [row for row, _ in result.not_found] == [3]  # 李四 lives outside 城北社区: "not found", nothing more
    reasons = {row: why for row, _, why in result.invalid}
    assert "校验位" in reasons[4] and reasons[5] == NUMBER_CELL and "18位" in reasons[7]
    assert result.duplicates == 1
    assert ID_ZHANG not in html and ID_LI not in html and bad_check not in html
    entry = AuditEntry.objects.filter(action="registry.person.batch_query").latest("seq")
    assert entry.detail["submitted"] == 6 and entry.detail["found"] == 1 and entry.detail["invalid"] == 3
    download = client.post(reverse("registry:batch_download"), {"token": page.context["token"]})
    assert download.status_code == 200
    found = _cells(download.content)
    assert found[1][0] == "2" and found[1][1] == "张三" and ID_ZHANG not in str(found)
    other = _cells(download.content, 1)
    assert len(other) == 1 + 1 + 3 and ID_LI not in str(other)
    assert AuditEntry.objects.filter(action="registry.person.export").latest("seq").detail["rows"] == 1


def test_batch_token_is_bound_to_the_user(tree, people):
    client = login(tree.users[Role.COMMUNITY_WORKER])
    token = client.post(reverse("registry:batch"), {"text": ID_ZHANG}).context["token"]
    admin = login(tree.users[Role.ADMIN])
    assert admin.post(reverse("registry:batch_download"), {"token": token}).status_code == 302
    assert admin.post(reverse("registry:batch_download"), {"token": token + "x"}).status_code == 302


def test_batch_csv_and_limits(tree, people):
    client = login(tree.users[Role.GRID_WORKER])
    csv_file = SimpleUploadedFile("ids.csv", f"身份证号\n{ID_ZHANG}\n".encode("gb18030"))
    page = client.post(reverse("registry:batch"), {"file": csv_file})
    assert [p.name for _, p in page.context["result"].found] == ["张三"]
    assert "下载结果" not in page.content.decode()  # a grid worker may not export
    too_many = "\n".join([ID_ZHANG] * 5001)
    response = client.post(reverse("registry:batch"), {"text": too_many})
    assert response.status_code == 400 and "一次最多查询5000个身份证号" in response.content.decode()
    wrong = client.post(reverse("registry:batch"), {"file": SimpleUploadedFile("ids.txt", b"x")})
    assert wrong.status_code == 400 and "只支持" in wrong.content.decode()
