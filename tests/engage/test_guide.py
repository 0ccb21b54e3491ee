"""The service guide: xlsx import (synonyms, preview of bad rows, idempotent), search and scope."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from grassroots.accounts.models import Role
from grassroots.cases.workflow import TZ
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import ServiceGuide
from grassroots.engage.selectors import guide as reads
from grassroots.engage.services import guide as service
from grassroots.registry.imports.readers import ImportFileError
from tests.factories import Tree

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
# Synonyms, a required mark, a bracketed note; the first column is left empty on purpose.
HEADERS = ["", "服务编码", "服务事项*", "分类", "办事流程", "申请材料（必填）", "办理地址", "受理时间", "联系电话",
           "网办链接"]  # fmt: skip
ROWS = [
    ["", "jz-001", "居住证办理", "户籍", "提交申请；现场采集\n领取证件", "身份证；租房合同", "社区服务中心1号窗口",
     "工作日 9:00-17:00", "0512-5700001", "https://zwfw.example.cn/jzz"],
    ["", "", "高龄津贴申领", "养老", "申请\n审核", "身份证\n户口簿", "社区服务中心2号窗口", "工作日", "0512-5700002",
     ""],
]  # fmt: skip


def xlsx_bytes(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    import io

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def do_import(tree: Tree, rows: list[list[object]], area=None) -> service.GuideImportPreview:  # type: ignore[no-untyped-def]
    parsed = service.read_guide_rows(xlsx_bytes(rows), "指南.xlsx")
    return service.guide_import_apply(
        actor=tree.users[Role.COMMUNITY_WORKER], area=area or tree.chengbei, rows=parsed, file_name="指南.xlsx", now=NOW
    )


def test_headers_are_matched_by_text_and_synonyms(tree: Tree) -> None:
    rows = service.read_guide_rows(xlsx_bytes(ROWS), "指南.xlsx")
    number, cells = rows[0]
    assert number == 2
    assert cells["code"] == "jz-001"
    assert cells["name"] == "居住证办理"
    assert cells["category"] == "户籍"
    assert cells["materials"] == "身份证；租房合同"
    assert cells["place"] == "社区服务中心1号窗口"
    assert cells["online_url"] == "https://zwfw.example.cn/jzz"
    assert cells["conditions"] == ""  # column absent: empty, not an error


def test_import_writes_rows_and_is_idempotent(tree: Tree) -> None:
    preview = do_import(tree, ROWS)
    assert (preview.count("新增"), preview.count("更新")) == (2, 0)
    guide = ServiceGuide.objects.get(code="jz-001")
    assert guide.path == tree.chengbei.path
    assert guide.steps == ["提交申请", "现场采集", "领取证件"]
    assert guide.material_list == ["身份证", "租房合同"]

    again = do_import(tree, ROWS)
    assert again.count("无变化") == 2
    assert ServiceGuide.objects.count() == 2

    changed = [[*ROWS[0][:2], "居住证申领", *ROWS[0][3:]], ROWS[1]]  # renamed, found again by its code
    preview = do_import(tree, changed)
    assert (preview.count("更新"), preview.count("无变化")) == (1, 1)
    assert ServiceGuide.objects.get(code="jz-001").name == "居住证申领"
    assert ServiceGuide.objects.count() == 2


def test_bad_rows_are_listed_and_nothing_is_written(tree: Tree) -> None:
    bad = [
        ROWS[0],
        ["", "", "", "户籍", "", "", "", "", "", ""],  # no name
        ["", "", "社保查询", "社保", "", "", "", "", "", "javascript:alert(1)"],  # not an http(s) link
        ["", "", "居住证办理", "户籍", "", "", "", "", "", ""],  # same name as row 2
    ]
    parsed = service.read_guide_rows(xlsx_bytes(bad), "指南.xlsx")
    preview = service.guide_import_check(area=tree.chengbei, rows=parsed)
    problems = dict(preview.problems)
    assert not preview.ok
    assert "事项名称" in problems[3]
    assert "http" in problems[4]
    assert "第2行" in problems[5]
    assert preview.rows[0].action == "新增"
    with pytest.raises(service.GuideImportError) as info:
        service.guide_import_apply(
            actor=tree.users[Role.COMMUNITY_WORKER], area=tree.chengbei, rows=parsed, file_name="x.xlsx"
        )
    assert len(info.value.problems) == 3
    assert ServiceGuide.objects.count() == 0


def test_a_name_taken_by_another_code_is_a_problem(tree: Tree) -> None:
    do_import(tree, ROWS)
    clash = [["", "jz-999", "居住证办理", "户籍", "", "", "", "", "", ""]]
    preview = service.guide_import_check(area=tree.chengbei, rows=service.read_guide_rows(xlsx_bytes(clash), "a.xlsx"))
    assert "jz-001" in preview.problems[0][1]


def test_files_are_checked_before_reading(tree: Tree) -> None:
    with pytest.raises(service.GuideImportError, match="缺少列"):
        service.read_guide_rows(xlsx_bytes([["户籍"]], headers=["分类"]), "a.xlsx")
    with pytest.raises(ImportFileError):
        service.read_guide_rows(b"name,category\n", "a.xlsx")  # not a workbook, whatever the extension
    token = service.preview_token([(2, {"name": "x"})], "a.xlsx", 7)
    assert service.rows_from_token(token) == ([(2, {"name": "x"})], "a.xlsx", 7)
    with pytest.raises(service.GuideImportError):
        service.rows_from_token(token + "x")


def test_import_outside_scope_is_not_found(tree: Tree) -> None:
    parsed = service.read_guide_rows(xlsx_bytes(ROWS), "指南.xlsx")
    with pytest.raises(NotFound):
        service.guide_import_apply(
            actor=tree.users[Role.COMMUNITY_WORKER], area=tree.chengnan, rows=parsed, file_name="a.xlsx"
        )


def test_residents_search_their_community_and_the_areas_above(tree: Tree) -> None:
    do_import(tree, ROWS)
    admin = tree.users[Role.ADMIN]
    district = service.guide_save(
        actor=admin, area=tree.district, values={"name": "不动产登记", "category": "不动产", "materials": "房产证"}
    )
    service.guide_save(actor=admin, area=tree.chengnan, values={"name": "城南独有事项", "category": "户籍"})
    resident = tree.users[Role.RESIDENT]
    names = {g.name for g in reads.resident_guides(resident)}
    assert names == {"居住证办理", "高龄津贴申领", "不动产登记"}
    assert [g.name for g in reads.resident_guides(resident, q="户口簿")] == ["高龄津贴申领"]  # materials
    assert [g.name for g in reads.resident_guides(resident, q="养老")] == ["高龄津贴申领"]  # category
    assert [g.name for g in reads.resident_guides(resident, q="居住 证")] == ["居住证办理"]  # every word
    assert [g.name for g in reads.resident_guides(resident, category="不动产")] == ["不动产登记"]
    assert reads.resident_guide_get(user=resident, guide_id=district.pk) == district
    other = ServiceGuide.objects.get(name="城南独有事项")
    with pytest.raises(NotFound):
        reads.resident_guide_get(user=resident, guide_id=other.pk)
    # staff of 城北 see their own and the district's entries, not 城南's
    staff_names = {g.name for g in reads.staff_guides(tree.users[Role.COMMUNITY_WORKER])}
    assert staff_names == {"居住证办理", "高龄津贴申领", "不动产登记"}


def test_guide_save_checks_fields_and_scope(tree: Tree) -> None:
    worker = tree.users[Role.COMMUNITY_WORKER]
    guide = service.guide_save(actor=worker, area=tree.chengbei, values={"name": "开具证明", "category": "综合"})
    with pytest.raises(DomainError, match="类别"):
        service.guide_save(actor=worker, area=tree.chengbei, values={"name": "x", "category": ""})
    with pytest.raises(DomainError, match="已有"):
        service.guide_save(actor=worker, area=tree.chengbei, values={"name": "开具证明", "category": "综合"})
    with pytest.raises(NotFound):
        service.guide_save(actor=worker, area=tree.district, values={"name": "y", "category": "综合"})
    edited = service.guide_save(
        actor=worker, area=tree.chengbei, guide_id=guide.pk, values={"name": "开具证明", "category": "证明"}
    )
    assert edited.category == "证明"
    hidden = service.guide_save(
        actor=worker, area=tree.chengbei, guide_id=guide.pk, values={"name": "开具证明", "category": "证明"},
        is_active=False,
    )  # fmt: skip
    assert not reads.resident_guides(tree.users[Role.RESIDENT]).filter(pk=hidden.pk).exists()


# --- pages -----------------------------------------------------------------------------------


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_h5_guide_pages(tree: Tree) -> None:
    do_import(tree, ROWS)
    other = service.guide_save(
        actor=tree.users[Role.ADMIN], area=tree.chengnan, values={"name": "城南独有事项", "category": "户籍"}
    )
    resident = client_for(tree.users[Role.RESIDENT])
    page = resident.get(reverse("engage:h5_guides"), {"q": "户口簿"})
    assert page.status_code == 200
    assert "高龄津贴申领" in page.content.decode() and "居住证办理" not in page.content.decode()
    guide = ServiceGuide.objects.get(code="jz-001")
    detail = resident.get(reverse("engage:h5_guide", args=[guide.pk])).content.decode()
    assert "租房合同" in detail and "现场采集" in detail and "https://zwfw.example.cn/jzz" in detail
    assert resident.get(reverse("engage:h5_guide", args=[other.pk])).status_code == 404
    officer = client_for(tree.users[Role.DEPARTMENT_OFFICER])
    assert officer.get(reverse("engage:h5_guides")).status_code == 403
    assert officer.get(reverse("engage:h5_guide", args=[other.pk])).status_code == 403  # capability before lookup


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.RESIDENT, 403), (Role.DEPARTMENT_OFFICER, 403), (Role.PARTY_SECRETARY, 200), (Role.GRID_WORKER, 200),
     (Role.COMMUNITY_WORKER, 200), (Role.ADMIN, 200)],
)  # fmt: skip
def test_staff_guide_list_checks_the_capability(tree: Tree, role: str, status: int) -> None:
    assert client_for(tree.users[role]).get(reverse("engage:guides")).status_code == status


def test_staff_write_and_import_through_the_pages(tree: Tree) -> None:
    worker = client_for(tree.users[Role.COMMUNITY_WORKER])
    response = worker.post(
        reverse("engage:guides"), {"area": tree.chengbei.pk, "name": "低保申请", "category": "救助", "is_active": "on"}
    )
    assert response.status_code == 302
    guide = ServiceGuide.objects.get(name="低保申请")
    assert worker.get(reverse("engage:guide", args=[guide.pk])).status_code == 200
    grid = client_for(tree.users[Role.GRID_WORKER])
    assert grid.get(reverse("engage:guide", args=[guide.pk])).status_code == 403
    assert grid.post(reverse("engage:guides"), {"area": tree.chengbei.pk}).status_code == 403
    outsider = client_for(tree.outsiders[Role.COMMUNITY_WORKER])
    assert outsider.get(reverse("engage:guide", args=[guide.pk])).status_code == 404

    upload = SimpleUploadedFile("指南.xlsx", xlsx_bytes(ROWS))
    preview = worker.post(reverse("engage:guide_import"), {"area": tree.chengbei.pk, "file": upload})
    assert preview.status_code == 200
    token = preview.context["token"]
    assert "新增 2" in preview.content.decode()
    assert worker.post(reverse("engage:guide_import_confirm"), {"token": token}).status_code == 302
    assert ServiceGuide.objects.filter(area=tree.chengbei).count() == 3
    bad = SimpleUploadedFile("指南.xlsx", xlsx_bytes([["", "", "", "户籍", "", "", "", "", "", ""]]))
    shown = worker.post(reverse("engage:guide_import"), {"area": tree.chengbei.pk, "file": bad})
    assert "token" not in shown.context and "不能为空" in shown.content.decode()
    assert worker.post(reverse("engage:guide_import_confirm"), {"token": "x"}).status_code == 400
