"""Duty lists: the category tree, resolution up the area path, SLA overrides, import and commands."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from grassroots.accounts.models import Department
from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM
from grassroots.cases import selectors, services
from grassroots.cases.models import Category, DutyAssignment
from grassroots.cases.services.deadlines import parse_deadline
from grassroots.cases.workflow import DEFAULT_POLICIES, ClockSpan, SlaPolicy, WhistleKind, WorkingDays
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from tests.factories import Tree

pytestmark = pytest.mark.django_db
EVERYTHING = Scope.everything()
HEADERS = ["大类", "小类", "事项编码", "事项名称", "责任部门", "适用区域", "哨类", "报到时限", "办结时限"]


def xlsx_bytes(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def seeded(tree: Tree) -> Tree:
    services.categories_seed(actor=SYSTEM)
    return tree


def cat(code: str) -> Category:
    return Category.objects.get(code=code)


def assign(tree: Tree, code: str, area: object, *departments: Department, **kwargs: object) -> DutyAssignment:
    return services.assignment_save(
        actor=SYSTEM, scope=EVERYTHING, category=cat(code), area=area, departments=departments, **kwargs
    )


def test_seed_builds_the_default_tree_once(tree: Tree) -> None:
    assert services.categories_seed(actor=SYSTEM) == 18
    assert services.categories_seed(actor=SYSTEM) == 0
    roots = selectors.category_tree()
    assert [n.category.name for n in roots] == ["市容环境", "设施管理", "街面秩序", "社区事务", "公共安全"]
    assert [n.category.name for n in roots[0].children] == ["暴露垃圾", "乱堆物料", "违章张贴"]
    assert cat("facilities.manhole_cover_missing").default_whistle_kind == "key"
    assert cat("community.noise").kind == "community"


def test_community_assignment_beats_district(seeded: Tree) -> None:
    t = seeded
    assign(t, "environment.exposed_garbage", t.district, t.department)
    assign(t, "environment.exposed_garbage", t.chengbei, t.other_department)
    garbage = cat("environment.exposed_garbage")
    assert selectors.duty_for(category=garbage, area=t.grid1).departments == (t.other_department,)
    assert selectors.duty_for(category=garbage, area=t.chengbei).departments == (t.other_department,)
    assert selectors.duty_for(category=garbage, area=t.grid3).departments == (t.department,)
    assert selectors.duty_for(category=garbage, area=t.zhoushi_c).departments == (t.department,)
    assert selectors.duty_for(category=garbage, area=t.city).departments == ()  # nothing above the district


def test_parent_category_assignment_is_inherited_but_own_wins(seeded: Tree) -> None:
    t = seeded
    assign(t, "environment", t.chengbei, t.other_department)
    assign(t, "environment.piled_materials", t.district, t.department)
    assert selectors.duty_for(category=cat("environment.exposed_garbage"), area=t.grid1).departments == (
        t.other_department,
    )
    # The category's own assignment, even at the district, beats the parent's at the community.
    assert selectors.duty_for(category=cat("environment.piled_materials"), area=t.grid1).departments == (t.department,)


def test_no_assignment_still_gives_kind_and_policy(seeded: Tree) -> None:
    duty = selectors.duty_for(category=cat("safety.fire_lane_blocked"), area=seeded.grid1)
    assert duty.assignment is None and duty.departments == ()
    assert duty.whistle_kind is WhistleKind.key
    assert duty.policy == DEFAULT_POLICIES[WhistleKind.key]


def test_inactive_categories_are_refused(seeded: Tree) -> None:
    t = seeded
    assign(t, "street_order.street_vending", t.district, t.department)
    for code in ("street_order.street_vending", "street_order"):
        category = cat(code)
        services.category_update(
            actor=SYSTEM,
            category=category,
            name=category.name,
            kind=category.kind,
            default_whistle_kind=category.default_whistle_kind,
            deadlines=services.Deadlines(),
            is_active=False,
        )
        with pytest.raises(DomainError) as caught:
            selectors.duty_for(category=cat("street_order.street_vending"), area=t.grid1)
        assert caught.value.code == "category_inactive" and "已停用" in caught.value.message
    with pytest.raises(DomainError, match="已停用"):
        assign(t, "street_order.street_vending", t.chengbei, t.department)


def test_overrides_produce_the_policy(seeded: Tree) -> None:
    t = seeded
    noise = cat("community.noise")
    services.category_update(
        actor=SYSTEM,
        category=noise,
        name=noise.name,
        kind=noise.kind,
        default_whistle_kind="routine",
        deadlines=services.Deadlines(handle=WorkingDays(3)),
        is_active=True,
    )
    assign(
        t,
        "community.noise",
        t.district,
        t.department,
        deadlines=services.Deadlines(acknowledge=ClockSpan(timedelta(hours=1))),
    )
    duty = selectors.duty_for(category=cat("community.noise"), area=t.grid1)
    assert duty.whistle_kind is WhistleKind.routine
    assert duty.policy == SlaPolicy(ClockSpan(timedelta(hours=1)), WorkingDays(3))

    # A community that blows the emergency whistle drops the category's routine deadlines.
    assign(t, "community.noise", t.chengbei, t.department, whistle_kind="emergency")
    duty = selectors.duty_for(category=cat("community.noise"), area=t.grid1)
    assert duty.whistle_kind is WhistleKind.emergency
    assert duty.policy == DEFAULT_POLICIES[WhistleKind.emergency]


def test_inactive_departments_are_not_dispatched_to(seeded: Tree) -> None:
    t = seeded
    assign(t, "community.noise", t.district, t.department, t.other_department)
    Department.objects.filter(pk=t.other_department.pk).update(is_active=False)
    assert selectors.duty_for(category=cat("community.noise"), area=t.grid1).departments == (t.department,)


def test_assignment_rules_and_audit(seeded: Tree) -> None:
    t = seeded
    with pytest.raises(DomainError, match="至少选择一个"):
        assign(t, "community.noise", t.district)
    with pytest.raises(NotFound):
        services.assignment_save(
            actor=SYSTEM,
            scope=Scope(area_path=t.zhoushi.path),
            category=cat("community.noise"),
            area=t.chengbei,
            departments=[t.department],
        )
    first = assign(t, "community.noise", t.district, t.department)
    again = assign(t, "community.noise", t.district, t.other_department)
    assert first.pk == again.pk and list(again.departments.all()) == [t.other_department]
    services.assignment_delete(actor=SYSTEM, scope=EVERYTHING, assignment=again)
    actions = list(AuditEntry.objects.filter(action__startswith="cases.duty").values_list("action", flat=True))
    assert actions == ["cases.duty.create", "cases.duty.update", "cases.duty.delete"]


def test_category_rules(seeded: Tree) -> None:
    with pytest.raises(DomainError, match="编码只能"):
        services.category_create(actor=SYSTEM, code="市容", name="市容", kind="event")
    with pytest.raises(DomainError, match="已存在"):
        services.category_create(actor=SYSTEM, code="environment", name="另一个", kind="event")
    with pytest.raises(DomainError, match="同一上级下已有"):
        services.category_create(actor=SYSTEM, code="env.dup", name="暴露垃圾", kind="event", parent=cat("environment"))
    leaf = services.category_create(
        actor=SYSTEM, code="env.g.bags", name="袋装垃圾", kind="event", parent=cat("environment.exposed_garbage")
    )
    with pytest.raises(DomainError, match="最多三级"):
        services.category_create(actor=SYSTEM, code="env.g.b.x", name="太深", kind="event", parent=leaf)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30分钟", ClockSpan(timedelta(minutes=30))),
        ("2小时", ClockSpan(timedelta(hours=2))),
        ("24h", ClockSpan(timedelta(hours=24))),
        ("7个工作日", WorkingDays(7)),
        ("15 工作日", WorkingDays(15)),
        ("", None),
    ],
)
def test_parse_deadline(text: str, expected: object) -> None:
    assert parse_deadline(text) == expected


@pytest.mark.parametrize("text", ["两小时", "0小时", "-1天", "999个工作日", "3周"])
def test_parse_deadline_refuses(text: str) -> None:
    with pytest.raises(DomainError):
        parse_deadline(text)


def good_rows(t: Tree) -> list[list[object]]:
    return [
        ["市容环境", "暴露垃圾", "", "", "昆山市城管局", "昆山市", "", "", ""],
        ["市容环境", "暴露垃圾", "", "", "sw、昆山市城管局", "玉山镇/城北社区", "重点哨", "1小时", "2个工作日"],
        [
            "市容环境",
            "暴露垃圾",
            "environment.exposed_garbage.bags",
            "袋装垃圾",
            "cgj",
            t.chengnan.path,
            "应急",
            "",
            "",
        ],
        ["社区事务", "", "", "", "昆山市水务局", "周市镇", "", "", "10个工作日"],
    ]


def test_import_happy_path(seeded: Tree) -> None:
    t = seeded
    rows = services.read_duty_rows(xlsx_bytes(good_rows(t)), "清单.xlsx")
    preview = services.duty_import_check(scope=EVERYTHING, rows=rows)
    assert preview.ok, preview.problems
    assert not DutyAssignment.objects.exists()  # the check writes nothing
    services.duty_import_apply(actor=SYSTEM, scope=EVERYTHING, rows=rows, file_name="清单.xlsx")
    assert DutyAssignment.objects.count() == 4
    bags = cat("environment.exposed_garbage.bags")
    assert bags.parent == cat("environment.exposed_garbage") and bags.default_whistle_kind == "emergency"
    duty = selectors.duty_for(category=cat("environment.exposed_garbage"), area=t.grid1)
    assert set(duty.departments) == {t.department, t.other_department}
    assert duty.whistle_kind is WhistleKind.key
    assert duty.policy == SlaPolicy(ClockSpan(timedelta(hours=1)), WorkingDays(2))
    noise = selectors.duty_for(category=cat("community.noise"), area=t.zhoushi_c)  # inherits 社区事务
    assert noise.departments == (t.other_department,) and noise.policy.handle == WorkingDays(10)
    assert AuditEntry.objects.filter(action="cases.duty.import").count() == 1


def test_import_errors_are_per_row_and_save_nothing(seeded: Tree) -> None:
    rows = [
        ["市容环境", "暴露垃圾", "", "", "昆山市城管局", "昆山市", "", "", ""],
        ["城市绿化", "", "", "", "昆山市城管局", "昆山市", "", "", ""],
        ["市容环境", "暴露垃圾", "", "", "交通局", "昆山市", "", "", ""],
        ["市容环境", "暴露垃圾", "", "", "cgj", "001", "", "", ""],
        ["市容环境", "暴露垃圾", "", "", "cgj", "城北社区", "大哨", "两天", ""],
        ["市容环境", "暴露垃圾", "", "", "cgj", "昆山市", "", "", ""],
        ["市容环境", "", "env.new", "", "cgj", "昆山市", "", "", ""],
        ["市容环境", "暴露垃圾", "", "", "", "昆山市", "", "", ""],
    ]
    parsed = services.read_duty_rows(xlsx_bytes(rows), "bad.xlsx")
    preview = services.duty_import_check(scope=EVERYTHING, rows=parsed)
    problems = preview.problems
    text = {row: " ".join(m for r, m in problems if r == row) for row in range(2, 10)}
    assert text[2] == ""
    assert "大类“城市绿化”不存在" in text[3]
    assert "责任部门“交通局”不存在" in text[4]
    assert "同名区域" in text[5]
    assert "哨类“大哨”无法识别" in text[6] and "报到时限" in text[6]
    assert "与第2行是同一事项、同一区域" in text[7]
    assert "缺少事项名称" in text[8]
    assert "“责任部门”不能为空" in text[9]
    categories = Category.objects.count()
    with pytest.raises(services.DutyImportError) as caught:
        services.duty_import_apply(actor=SYSTEM, scope=EVERYTHING, rows=parsed, file_name="bad.xlsx")
    assert caught.value.problems == problems
    assert not DutyAssignment.objects.exists() and Category.objects.count() == categories


def test_import_areas_only_within_scope(seeded: Tree) -> None:
    t = seeded
    rows = services.read_duty_rows(xlsx_bytes([["社区事务", "", "", "", "cgj", "周市社区", "", "", ""]]), "a.xlsx")
    preview = services.duty_import_check(scope=Scope(area_path=t.yushan.path), rows=rows)
    assert any("不在您的管辖范围内" in m for _, m in preview.problems)


def test_import_refuses_missing_columns_and_tampered_tokens(seeded: Tree) -> None:
    with pytest.raises(services.DutyImportError, match="缺少列：责任部门"):
        services.read_duty_rows(xlsx_bytes([["市容环境", "昆山市"]], headers=["大类", "适用区域"]), "a.xlsx")
    token = services.preview_token([(2, {"大类": "市容环境"})], "a.xlsx")
    assert services.rows_from_token(token) == ([(2, {"大类": "市容环境"})], "a.xlsx")
    with pytest.raises(services.DutyImportError, match="预览已过期或无效"):
        services.rows_from_token(token[:-2] + "xx")


def test_commands(seeded: Tree, tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx_bytes(good_rows(seeded)))
    out = io.StringIO()
    call_command("import_duty_list", str(good), "--dry-run", stdout=out)
    assert "would import 4" in out.getvalue() and not DutyAssignment.objects.exists()
    call_command("import_duty_list", str(good), stdout=out)
    assert DutyAssignment.objects.count() == 4

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([["城市绿化", "", "", "", "cgj", "昆山市", "", "", ""]]))
    with pytest.raises(CommandError) as caught:
        call_command("import_duty_list", str(bad))
    assert caught.value.returncode == 2 and "第2行" in str(caught.value)
    assert DutyAssignment.objects.count() == 4

    out = io.StringIO()
    call_command("seed_categories", stdout=out)
    assert "0 categories created" in out.getvalue()
