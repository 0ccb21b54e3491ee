"""12345 hotline import: header synonyms, number-typed order numbers, idempotency, row-level refusals,
scope, GCJ-02 conversion, the command and the preview/confirm pages."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from grassroots.accounts.models import Role
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, Actor
from grassroots.cases.coords import distance_m, wgs84_to_gcj02
from grassroots.cases.models import Case, Channel
from grassroots.cases.services import hotline
from grassroots.core.crypto import decrypt
from grassroots.core.scope import Scope
from tests.cases.test_cases_services import Env, make_env
from tests.factories import Tree, centre

pytestmark = pytest.mark.django_db

HEADERS = ["工单号", "受理时间", "问题分类", "问题描述", "事发地址", "经度", "纬度", "联系人", "联系电话"]
PHONE = "13812345678"
NAME = "王小明"
ACTOR = Actor(id=None, label="test")


def xlsx(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sample_rows() -> list[list[object]]:
    gcj_lon, gcj_lat = wgs84_to_gcj02(*centre(1, 0))  # inside 网格二 (城北社区) in WGS-84
    out_lon, out_lat = wgs84_to_gcj02(*centre(2, 0))  # 网格三, in 城南社区
    return [
        [20261123000101, "2026-11-23 09:00", "道路坑洼", "路面坑洼", "阳光花园一号楼", None, None, NAME, PHONE],
        ["A-002", "2026-11-23 09:10", "road.pothole", "井盖缺失", "", gcj_lon, gcj_lat, "", ""],
        ["A-003", "2026-11-23 09:20", "不存在的类型", "噪音扰民", "阳光花园1幢", None, None, "", ""],
        ["A-004", "2026-11-23 09:30", "道路坑洼", "路灯不亮", "幸福小区3幢", None, None, "", ""],
        ["A-005", "2026-11-23 09:40", "道路坑洼", "占道经营", "", out_lon, out_lat, "", ""],
        [3.20583195003093e17, "2026-11-23 09:50", "道路坑洼", "垃圾堆放", "阳光花园1幢", None, None, "", ""],
    ]


@pytest.fixture
def env(tree: Tree) -> Env:
    return make_env(tree)


def community_scope(env: Env) -> Scope:
    return Scope(area_path=env.tree.chengbei.path)


def run(env: Env, data: bytes, coord: str = "gcj02") -> hotline.HotlineResult:
    rows = hotline.read_hotline_rows(data, "12345.xlsx")
    return hotline.hotline_import_apply(
        actor=ACTOR, user=None, scope=community_scope(env), rows=rows, file_name="12345.xlsx", coord=coord
    )


def test_import_keeps_good_rows_and_reports_bad_ones_by_row(env: Env) -> None:
    result = run(env, xlsx(sample_rows()))
    assert [row for row, _ in result.created] == [2, 3]
    refused = {row: reason for row, _, reason in result.refused}
    assert set(refused) == {4, 5, 6, 7}
    assert "诉求类型“不存在的类型”" in refused[4]
    assert "地址无法定位到网格" in refused[5]
    assert "管辖范围" in refused[6]
    assert "数字格式" in refused[7]
    cases = {c.external_ref: c for c in Case.objects.filter(channel=Channel.HOTLINE_12345)}
    assert set(cases) == {"20261123000101", "A-002"}  # the number-typed order number kept every digit
    by_address = cases["20261123000101"]
    assert by_address.building == env.tree.building1 and by_address.grid == env.tree.grid1
    assert by_address.contact_name == NAME and by_address.address_text == "阳光花园一号楼"
    assert by_address.contact_phone_masked != PHONE and PHONE not in by_address.contact_phone_masked
    assert by_address.contact_phone_sealed is not None
    assert decrypt(by_address.contact_phone_sealed, context="case.contact_phone") == PHONE


def test_gcj02_coordinates_are_converted_to_wgs84(env: Env) -> None:
    run(env, xlsx(sample_rows()))
    case = Case.objects.get(external_ref="A-002")
    lon, lat = centre(1, 0)
    assert case.grid == env.tree.grid2
    assert case.lon is not None and case.lat is not None
    assert distance_m(case.lon, case.lat, lon, lat) < 1.0


def test_wgs84_option_and_coordinate_column(env: Env) -> None:
    lon, lat = centre(1, 0)
    headers = ["工单编号", "诉求类型", "诉求内容", "经度", "纬度", "坐标系"]
    data = xlsx([["W-1", "道路坑洼", "x", lon, lat, ""], ["W-2", "道路坑洼", "y", lon, lat, "WGS-84"]], headers)
    run(env, data, coord="wgs84")
    for ref in ("W-1", "W-2"):
        case = Case.objects.get(external_ref=ref)
        assert case.lon == pytest.approx(lon) and case.lat == pytest.approx(lat)
    baidu = xlsx([["B-1", "道路坑洼", "x", lon, lat, "BD-09"]], headers)
    assert "百度" in run(env, baidu).refused[0][2]


def test_importing_the_same_file_twice_adds_nothing(env: Env) -> None:
    data = xlsx(sample_rows())
    run(env, data)
    before = Case.objects.count()
    preview = hotline.hotline_import_check(
        scope=community_scope(env), rows=hotline.read_hotline_rows(data, "12345.xlsx")
    )
    assert len(preview.existing) == 2 and not preview.ready
    again = run(env, data)
    assert again.counts == {"created": 0, "existing": 2, "refused": 4}
    assert Case.objects.count() == before


def test_duplicate_order_in_the_file_and_missing_columns(env: Env) -> None:
    data = xlsx(
        [["D-1", "道路坑洼", "x", "阳光花园1幢"], ["D-1", "道路坑洼", "y", "阳光花园1幢"]], HEADERS[:1] + HEADERS[2:5]
    )
    result = run(env, data)
    assert len(result.created) == 1 and result.refused[0][0] == 3 and "重复" in result.refused[0][2]
    with pytest.raises(hotline.HotlineImportError, match="缺少列：诉求内容"):
        hotline.read_hotline_rows(xlsx([["X", "道路坑洼"]], ["工单编号", "诉求类型"]), "a.xlsx")


def test_csv_with_text_order_numbers(env: Env) -> None:
    text = "受理编号,诉求分类,诉求内容,地址,来电人,联系电话\n0012345,道路坑洼,路面塌陷,阳光花园1幢,李四,0512-57001234\n"
    rows = hotline.read_hotline_rows(text.encode("gb18030"), "a.csv")
    done = hotline.hotline_import_apply(
        actor=ACTOR, user=None, scope=community_scope(env), rows=rows, file_name="a.csv"
    )
    assert done.counts["created"] == 1
    assert Case.objects.get(channel=Channel.HOTLINE_12345).external_ref == "0012345"  # leading zeros kept


def test_import_is_audited_with_counts(env: Env) -> None:
    run(env, xlsx(sample_rows()))
    entry = AuditEntry.objects.get(action="cases.hotline.import")
    assert entry.detail["created"] == 2 and entry.detail["refused"] == 4 and entry.detail["existing"] == 0
    assert AuditEntry.objects.filter(action="cases.submit").count() == 2
    assert PHONE not in str(entry.detail)


# --- the command --------------------------------------------------------------------------


def test_command_prints_counts_and_is_idempotent(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx(sample_rows()))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_12345", str(path), "--area", env.tree.chengbei.path, "--dry-run", stdout=out, stderr=err)
    assert "would create 2, existing 0, refused 4" in out.getvalue()
    assert not Case.objects.exists()
    call_command("import_12345", str(path), "--area", env.tree.chengbei.path, stdout=out, stderr=err)
    assert "created 2, existing 0, refused 4" in out.getvalue()
    assert "第5行" in err.getvalue() and PHONE not in out.getvalue() + err.getvalue()
    out = io.StringIO()
    call_command(
        "import_12345", str(path), "--area", env.tree.chengbei.path, "--coord", "gcj02", stdout=out, stderr=err
    )
    assert "created 0, existing 2, refused 4" in out.getvalue() and "已存在 2 条" in out.getvalue()
    assert Case.objects.count() == 2


def test_command_area_wider_scope_takes_more_rows(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx(sample_rows()))
    out = io.StringIO()
    call_command("import_12345", str(path), "--area", env.tree.yushan.path, stdout=out, stderr=io.StringIO())
    assert "created 3, existing 0, refused 3" in out.getvalue()  # 网格三 is in 玉山镇


# --- the pages ----------------------------------------------------------------------------


def upload(data: bytes, name: str = "orders.xlsx") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


@pytest.mark.parametrize("role", [Role.COMMUNITY_WORKER, Role.SUBDISTRICT_DISPATCHER, Role.ADMIN])
def test_page_preview_then_confirm(env: Env, role: Role) -> None:
    client = Client()
    client.force_login(env.tree.users[role])
    url = reverse("cases:hotline_import")
    assert client.get(url).status_code == 200
    response = client.post(url, {"file": upload(xlsx(sample_rows())), "coord": "gcj02"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "第 4 行：诉求类型" in body and "第 5 行：地址无法定位到网格" in body
    assert PHONE not in body and NAME not in body  # shown masked only, and not inside the token
    assert not Case.objects.exists()
    token = re.search(r'name="token" value="([^"]+)"', body)
    assert token is not None
    confirm = client.post(reverse("cases:hotline_import_confirm"), {"token": token.group(1)})
    text = confirm.content.decode()
    assert confirm.status_code == 200 and "新增" in text
    expected = 2 if role == Role.COMMUNITY_WORKER else 3
    assert Case.objects.filter(channel=Channel.HOTLINE_12345).count() == expected
    assert Case.objects.filter(reporter=env.tree.users[role]).count() == expected
    assert PHONE not in text
    report = re.search(r'name="token" value="([^"]+)"', text)
    assert report is not None
    csv_response = client.post(reverse("cases:hotline_import_report"), {"token": report.group(1)})
    assert csv_response.status_code == 200 and "未导入原因" in csv_response.content.decode("utf-8-sig")
    # The confirm token is bound to its user.
    other = Client()
    other.force_login(env.tree.outsiders[Role.COMMUNITY_WORKER])
    assert other.post(reverse("cases:hotline_import_confirm"), {"token": token.group(1)}).status_code == 400


@pytest.mark.parametrize(
    "role", [Role.RESIDENT, Role.GRID_WORKER, Role.DEPARTMENT_OFFICER, Role.PARTY_SECRETARY, Role.DISTRICT_LEADER]
)
def test_page_forbidden_without_the_capability(env: Env, role: Role) -> None:
    client = Client()
    client.force_login(env.tree.users[role])
    assert client.get(reverse("cases:hotline_import")).status_code == 403
    assert client.post(reverse("cases:hotline_import_confirm"), {"token": "x"}).status_code == 403


def test_page_refuses_a_disguised_file(env: Env) -> None:
    client = Client()
    client.force_login(env.tree.users[Role.COMMUNITY_WORKER])
    response = client.post(reverse("cases:hotline_import"), {"file": upload(b"not excel", "a.xlsx"), "coord": "gcj02"})
    assert response.status_code == 400 and "不是Excel文件" in response.content.decode()


def test_seed_categories_are_matched_by_code(env: Env) -> None:
    from grassroots.cases import services

    services.categories_seed(actor=SYSTEM)
    headers = ["工单编号", "诉求类型", "诉求内容", "地址"]
    result = run(env, xlsx([["S-1", "community.noise", "楼上噪音", "阳光花园1幢"]], headers))
    assert result.counts["created"] == 1
