"""Importing a duty list (事项清单) from xlsx/CSV: check every row, preview, then apply all or nothing.

Columns (by header text, never by position): 大类, 小类, 事项编码, 事项名称, 责任部门, 适用区域,
哨类, 报到时限, 办结时限. A row names an existing 大类 (and 小类); with 事项编码 it names (or
creates, with 事项名称) a category below them. Departments are matched by code or name, areas
by path, name or 「上级/名称」 within the importer's scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db import transaction

from grassroots.accounts.models import Department
from grassroots.audit.services import Actor, audit_record
from grassroots.cases.models import Category
from grassroots.cases.services.deadlines import parse_deadline
from grassroots.cases.services.duty import CODE_RE, Deadlines, assignment_save, category_create
from grassroots.cases.workflow import WhistleKind
from grassroots.core.errors import DomainError
from grassroots.core.scope import Scope
from grassroots.places.models import Area
from grassroots.registry.imports.readers import cell_text, read_table

COLUMNS = ["大类", "小类", "事项编码", "事项名称", "责任部门", "适用区域", "哨类", "报到时限", "办结时限"]
REQUIRED = ["大类", "责任部门", "适用区域"]
MAX_ROWS = 5000
TOKEN_SALT = "cases.duty_import"  # noqa: S105 (a signing salt, not a password)
TOKEN_MAX_AGE = 60 * 60
_SPLIT = re.compile(r"[、,，;；/\n]+")
_AREA_SPLIT = re.compile(r"\s*[/／>＞]\s*")
WHISTLE_WORDS = {
    **{kind.value: kind for kind in WhistleKind},
    **{kind.label: kind for kind in WhistleKind},
    **{kind.label.removesuffix("哨"): kind for kind in WhistleKind},
}

RawRow = tuple[int, dict[str, str]]


class DutyImportError(DomainError):
    """Some rows are wrong; ``problems`` lists (row, message) and nothing was saved."""

    code = "duty_import"

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class RowPlan:
    row: int
    cells: dict[str, str]
    category: Category | None = None
    new_category: dict[str, Any] | None = None  # fields for category_create
    area: Area | None = None
    departments: list[Department] = field(default_factory=list)
    whistle_kind: str = ""
    deadlines: Deadlines = field(default_factory=Deadlines)
    problems: list[str] = field(default_factory=list)

    @property
    def category_label(self) -> str:
        if self.new_category:
            return f"{self.new_category['name']}（新增 {self.new_category['code']}）"
        return f"{self.category.name}（{self.category.code}）" if self.category else ""


@dataclass
class DutyImportPreview:
    rows: list[RowPlan]

    @property
    def problems(self) -> list[tuple[int, str]]:
        return [(plan.row, problem) for plan in self.rows for problem in plan.problems]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems


def read_duty_rows(data: bytes, file_name: str) -> list[RawRow]:
    """The file's rows as texts, keyed by the known headers; a missing required column is refused."""
    table = read_table(data, file_name)
    missing = [title for title in REQUIRED if title not in table.headers]
    if missing:
        raise DutyImportError(f"缺少列：{'、'.join(missing)}。表头应包括：{'、'.join(COLUMNS)}。")
    if len(table.rows) > MAX_ROWS:
        raise DutyImportError(f"事项清单最多{MAX_ROWS}行，本文件有{len(table.rows)}行。")
    return [(number, {c: cell_text(cells.get(c)) for c in COLUMNS}) for number, cells in table.rows]


class _Lookup:
    """Everything a check needs, loaded once: categories, departments and areas in scope."""

    def __init__(self, scope: Scope) -> None:
        self.categories = list(Category.objects.all())
        self.by_code = {c.code: c for c in self.categories}
        self.departments = list(Department.objects.in_scope(scope).filter(is_active=True))
        self.areas = list(Area.objects.in_scope(scope).only("id", "name", "code", "path", "parent_id", "level"))
        self.area_by_path = {a.path: a for a in self.areas}
        self.new_codes: dict[str, tuple[str, int]] = {}  # code → (name, first row) of categories this file creates

    def category(self, text: str, parent: Category | None) -> Category | None:
        siblings = [c for c in self.categories if c.parent_id == (parent.pk if parent else None)]
        return next((c for c in siblings if c.name == text or c.code == text.lower()), None)

    def department(self, text: str) -> tuple[Department | None, str]:
        by_code = [d for d in self.departments if d.code.lower() == text.lower()]
        found = by_code or [d for d in self.departments if d.name == text]
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f"责任部门“{text}”不存在、已撤销或不在您的管辖范围内。"
        return None, f"责任部门“{text}”有{len(found)}个同名部门，请改填部门编码（{'、'.join(d.code for d in found)}）。"

    def area(self, text: str) -> tuple[Area | None, str]:
        if text in self.area_by_path:
            return self.area_by_path[text], ""
        *uppers, last = _AREA_SPLIT.split(text)
        found = [a for a in self.areas if a.name == last or a.code == last]
        for upper in uppers:
            found = [a for a in found if any(self._name(p) == upper for p in _ancestor_paths(a.path))]
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, f"适用区域“{text}”不存在或不在您的管辖范围内。"
        paths = "、".join(a.path for a in found[:5])
        return None, f"适用区域“{text}”有{len(found)}个同名区域，请写成“上级/名称”或填区域路径（{paths}）。"

    def _name(self, path: str) -> str:
        area = self.area_by_path.get(path)
        return area.name if area else ""


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _resolve_category(plan: RowPlan, lookup: _Lookup) -> None:
    cells = plan.cells
    top_text, sub_text, code, name = cells["大类"], cells["小类"], cells["事项编码"].lower(), cells["事项名称"]
    top = lookup.category(top_text, None)
    if top is None:
        plan.problems.append(f"大类“{top_text}”不存在，请先在事项分类中添加。")
        return
    parent = top
    if sub_text:
        sub = lookup.category(sub_text, top)
        if sub is None:
            plan.problems.append(f"小类“{sub_text}”不在大类“{top.name}”下，请先在事项分类中添加。")
            return
        parent = sub
    if not code:
        plan.category = parent
    elif code in lookup.by_code:
        existing = lookup.by_code[code]
        if existing.parent_id != parent.pk and existing.pk != parent.pk:
            plan.problems.append(f"事项编码“{code}”已属于“{existing.name}”，不在“{parent.name}”下。")
            return
        plan.category = existing
    elif not CODE_RE.fullmatch(code):
        plan.problems.append(f"事项编码“{code}”无效：只能用小写英文字母、数字、点、下划线和连字符，以字母开头。")
        return
    elif not name:
        plan.problems.append(f"新事项“{code}”缺少事项名称。")
        return
    else:
        first = lookup.new_codes.setdefault(code, (name, plan.row))
        if first[0] != name:
            plan.problems.append(f"事项编码“{code}”在第{first[1]}行的名称是“{first[0]}”，与本行不一致。")
            return
        plan.new_category = {"code": code, "name": name, "parent": parent, "kind": parent.kind}
    target = plan.category or parent
    if not target.is_active:
        plan.problems.append(f"事项“{target.name}”已停用。")


def _check_row(plan: RowPlan, lookup: _Lookup) -> None:
    cells = plan.cells
    for title in REQUIRED:
        if not cells[title]:
            plan.problems.append(f"“{title}”不能为空。")
    if plan.problems:
        return
    _resolve_category(plan, lookup)
    for text in [t.strip() for t in _SPLIT.split(cells["责任部门"]) if t.strip()]:
        department, problem = lookup.department(text)
        if department is None:
            plan.problems.append(problem)
        elif department not in plan.departments:
            plan.departments.append(department)
    plan.area, problem = lookup.area(cells["适用区域"])
    if problem:
        plan.problems.append(problem)
    whistle_text = cells["哨类"].strip()
    if whistle_text:
        kind = WHISTLE_WORDS.get(whistle_text) or WHISTLE_WORDS.get(whistle_text.lower())
        if kind is None:
            plan.problems.append(f"哨类“{whistle_text}”无法识别，只能填应急、重点、常规或协调。")
        else:
            plan.whistle_kind = kind.value
    specs = {}
    for key, title in (("acknowledge", "报到时限"), ("handle", "办结时限")):
        try:
            specs[key] = parse_deadline(cells[title], field=key)
        except DomainError as exc:
            plan.problems.append(f"{title}：{exc.message}")
    plan.deadlines = Deadlines(specs.get("acknowledge"), specs.get("handle"))
    if plan.new_category is not None:
        parent_kind = plan.new_category["parent"].default_whistle_kind
        plan.new_category["default_whistle_kind"] = plan.whistle_kind or parent_kind


def duty_import_check(*, scope: Scope, rows: list[RawRow]) -> DutyImportPreview:
    """Every row checked against the current tables; nothing is written."""
    lookup = _Lookup(scope)
    plans = [RowPlan(number, cells) for number, cells in rows]
    seen: dict[tuple[str, int], int] = {}
    for plan in plans:
        _check_row(plan, lookup)
        if plan.problems or plan.area is None:
            continue
        key = ((plan.new_category or {}).get("code") or (plan.category.code if plan.category else ""), plan.area.pk)
        if key in seen:
            plan.problems.append(f"与第{seen[key]}行是同一事项、同一区域。")
        else:
            seen[key] = plan.row
    return DutyImportPreview(plans)


@transaction.atomic
def duty_import_apply(*, actor: Actor, scope: Scope, rows: list[RawRow], file_name: str) -> DutyImportPreview:
    """Check again (the tables may have changed since the preview) and write every row, or nothing."""
    preview = duty_import_check(scope=scope, rows=rows)
    if not preview.rows:
        raise DutyImportError("文件里没有数据行。")
    if preview.problems:
        raise DutyImportError(f"有 {len(preview.problems)} 处问题，未导入任何数据。", preview.problems)
    created: dict[str, Category] = {}
    for plan in preview.rows:
        category = plan.category
        if plan.new_category is not None:
            code = plan.new_category["code"]
            if code not in created:
                created[code] = category_create(actor=actor, **plan.new_category)
            category = created[code]
        assert category is not None and plan.area is not None
        assignment_save(
            actor=actor,
            scope=scope,
            category=category,
            area=plan.area,
            departments=plan.departments,
            whistle_kind=plan.whistle_kind,
            deadlines=plan.deadlines,
        )
    audit_record(
        actor=actor,
        action="cases.duty.import",
        object_type="duty_list",
        detail={"file": file_name, "rows": len(preview.rows), "new_categories": sorted(created)},
    )
    return preview


def preview_token(rows: list[RawRow], file_name: str) -> str:
    """The checked rows, signed, for the confirm step (the upload itself is not kept anywhere)."""
    return signing.dumps({"file": file_name, "rows": rows}, salt=TOKEN_SALT, compress=True)


def rows_from_token(token: str) -> tuple[list[RawRow], str]:
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise DutyImportError("预览已过期或无效，请重新上传文件。") from None
    return [(int(number), dict(cells)) for number, cells in payload["rows"]], str(payload["file"])
