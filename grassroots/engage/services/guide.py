"""The service guide (办事指南): staff who run an area write its entries, by hand or from xlsx/CSV.

An entry is found again by its 事项编码 when it has one, else by its 事项名称, within the same
area, so importing the same file twice changes nothing. Columns are matched by header text
(never position, see FINDINGS: calamine drops leading empty columns), with synonyms: 「申请材料」
is 「所需材料」, 「办理地址」 is 「办理地点」 … A header's spaces, 「*」 and bracketed notes such as
「（必填）」 are ignored. The import checks every row, shows a preview with each row's problems,
and the confirm step checks again and writes all rows or none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.engage.models import ServiceGuide
from grassroots.engage.selectors.scopes import run_scope
from grassroots.places.models import Area
from grassroots.registry.imports.readers import cell_text, read_table

# field → (column title shown to users, synonyms accepted in a header)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "code": ("事项编码", ("编码", "事项代码", "编号", "服务编码", "code")),
    "name": ("事项名称", ("名称", "服务事项", "服务名称", "事项", "办事事项")),
    "category": ("类别", ("分类", "事项类别", "服务类别", "所属类别", "主题")),
    "process": ("办理流程", ("流程", "办事流程", "办理程序", "办理步骤")),
    "conditions": ("办理条件", ("条件", "申请条件", "受理条件", "申办条件")),
    "materials": ("所需材料", ("材料", "申请材料", "提交材料", "所需资料", "申报材料")),
    "place": ("办理地点", ("地点", "办理地址", "受理地点", "办事地点", "窗口")),
    "hours": ("办理时间", ("时间", "受理时间", "工作时间", "办公时间")),
    "phone": ("咨询电话", ("电话", "联系电话", "咨询方式")),
    "online_url": ("网上办理", ("网办链接", "在线办理", "网上办理地址", "链接", "网址")),
}
REQUIRED = ("name", "category")
TEXT_FIELDS = ("process", "conditions", "materials")
MAX_ROWS = 2000
LIMITS = {"code": 64, "name": 200, "category": 50, "place": 200, "hours": 200, "phone": 100, "online_url": 500}
TOKEN_SALT = "engage.guide_import"  # noqa: S105 (a signing salt, not a password)
TOKEN_MAX_AGE = 60 * 60
_BRACKETS = re.compile(r"[（(【\[].*?[）)】\]]")
_LIST_SPLIT = re.compile(r"\s*(?:[;；]|\n)\s*")
_url = URLValidator(schemes=["http", "https"])

RawRow = tuple[int, dict[str, str]]


class GuideImportError(DomainError):
    """Some rows are wrong; ``problems`` lists (row, message) and nothing was saved."""

    code = "guide_import"

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def normalise_header(text: str) -> str:
    """「 所需材料（必填）* 」 → 「所需材料」."""
    return _BRACKETS.sub("", text).replace("*", "").replace("＊", "").replace(" ", "").replace("\u3000", "").lower()


def header_map(headers: list[str]) -> dict[str, str]:
    """field → the file's header for it; the first header matching a field wins."""
    words = {normalise_header(w): key for key, (title, synonyms) in COLUMNS.items() for w in (title, *synonyms)}
    found: dict[str, str] = {}
    for header in headers:
        key = words.get(normalise_header(header))
        if key is not None and key not in found:
            found[key] = header
    return found


def read_guide_rows(data: bytes, file_name: str) -> list[RawRow]:
    """The file's rows as texts keyed by field; a missing required column is refused."""
    table = read_table(data, file_name)
    found = header_map(table.headers)
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in found]
    if missing:
        titles = "、".join(title for title, _ in COLUMNS.values())
        raise GuideImportError(f"缺少列：{'、'.join(missing)}。表头应包括：{titles}。")
    if len(table.rows) > MAX_ROWS:
        raise GuideImportError(f"办事指南最多{MAX_ROWS}行，本文件有{len(table.rows)}行。")
    return [
        (number, {key: cell_text(cells.get(found[key])) if key in found else "" for key in COLUMNS})
        for number, cells in table.rows
    ]


def _lines(text: str) -> str:
    """Materials and steps one a line: 「；」 and numbered runs in one cell become lines."""
    return "\n".join(part for part in _LIST_SPLIT.split(text.strip()) if part)


def _clean(values: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Trimmed values and the problems with them (shared by the form and the import)."""
    data = {key: str(values.get(key) or "").strip() for key in COLUMNS}
    for key in TEXT_FIELDS:
        data[key] = _lines(data[key])
    problems = [f"“{COLUMNS[key][0]}”不能为空。" for key in REQUIRED if not data[key]]
    problems += [f"“{COLUMNS[key][0]}”不能超过{limit}字。" for key, limit in LIMITS.items() if len(data[key]) > limit]
    if data["online_url"]:
        try:
            _url(data["online_url"])
        except ValidationError:
            problems.append(f"网上办理链接“{data['online_url'][:80]}”不是有效的 http(s) 网址。")
    return data, problems


def _existing(area: Area, code: str, name: str) -> tuple[ServiceGuide | None, str]:
    """The entry a row or form names: by code first, else by name; a clash is a problem."""
    rows = ServiceGuide.objects.filter(area=area)
    by_code = rows.filter(code=code).first() if code else None
    by_name = rows.filter(name=name).first()
    if by_code is not None:
        if by_name is not None and by_name.pk != by_code.pk:
            return None, f"事项名称“{name}”已被编码为“{by_name.code or '（无）'}”的另一事项使用。"
        return by_code, ""
    if by_name is not None and code and by_name.code and by_name.code != code:
        return None, f"事项“{name}”已存在，编码是“{by_name.code}”，与本行的“{code}”不一致。"
    return by_name, ""


@dataclass
class GuideRowPlan:
    row: int
    data: dict[str, str]
    existing: ServiceGuide | None = None
    problems: list[str] = field(default_factory=list)
    planned: str = ""  # 新增 / 更新 / 无变化, decided when checked (before anything is written)

    def decide(self) -> None:
        if self.existing is None:
            self.planned = "新增"
        else:
            same = all(getattr(self.existing, key) == value for key, value in self.data.items())
            self.planned = "无变化" if same else "更新"

    @property
    def action(self) -> str:
        return "有问题" if self.problems else self.planned


@dataclass
class GuideImportPreview:
    rows: list[GuideRowPlan]

    @property
    def problems(self) -> list[tuple[int, str]]:
        return [(plan.row, problem) for plan in self.rows for problem in plan.problems]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems

    def count(self, action: str) -> int:
        return sum(1 for plan in self.rows if plan.action == action)

    @property
    def summary(self) -> str:
        return "，".join(f"{action} {self.count(action)}" for action in ("新增", "更新", "无变化"))


def guide_import_check(*, area: Area, rows: list[RawRow]) -> GuideImportPreview:
    """Every row checked against the area's entries and the rows above it; nothing is written."""
    plans = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for number, cells in rows:
        data, problems = _clean(cells)
        plan = GuideRowPlan(number, data, problems=problems)
        plans.append(plan)
        if problems:
            continue
        code, name = data["code"], data["name"]
        if code and code in seen_codes:
            plan.problems.append(f"事项编码“{code}”与第{seen_codes[code]}行重复。")
        if name in seen_names:
            plan.problems.append(f"事项名称“{name}”与第{seen_names[name]}行重复。")
        if code:
            seen_codes.setdefault(code, number)
        seen_names.setdefault(name, number)
        if plan.problems:
            continue
        plan.existing, problem = _existing(area, code, name)
        if problem:
            plan.problems.append(problem)
        else:
            plan.decide()
    return GuideImportPreview(plans)


def _write(guide: ServiceGuide, data: dict[str, str], *, actor: Any, now: datetime) -> ServiceGuide:
    for key, value in data.items():
        setattr(guide, key, value)
    guide.updated_by, guide.updated_at = actor, now
    guide.save()
    return guide


@transaction.atomic
def guide_import_apply(
    *, actor: Any, area: Area, rows: list[RawRow], file_name: str, now: datetime | None = None
) -> GuideImportPreview:
    """Check again (entries may have changed since the preview) and write every row, or nothing."""
    now = now or clock.now()
    if not run_scope(actor).covers_path(area.path):
        raise NotFound()
    preview = guide_import_check(area=area, rows=rows)
    if not preview.rows:
        raise GuideImportError("文件里没有数据行。")
    if preview.problems:
        raise GuideImportError(f"有 {len(preview.problems)} 处问题，未导入任何数据。", preview.problems)
    counts = {"新增": 0, "更新": 0, "无变化": 0}
    for plan in preview.rows:
        counts[plan.action] += 1
        if plan.action == "无变化":
            continue
        guide = plan.existing or ServiceGuide(area=area, path=area.path, created_at=now)
        _write(guide, plan.data, actor=actor, now=now)
    audit_record(
        actor=actor_of(actor),
        action="engage.guide.import",
        object_type="service_guide",
        area_path=area.path,
        detail={"file": file_name, "rows": len(preview.rows), **counts},
        at=now,
    )
    return preview


def preview_token(rows: list[RawRow], file_name: str, area_id: int) -> str:
    """The checked rows, signed, for the confirm step (the upload itself is not kept)."""
    return signing.dumps({"file": file_name, "area": area_id, "rows": rows}, salt=TOKEN_SALT, compress=True)


def rows_from_token(token: str) -> tuple[list[RawRow], str, int]:
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise GuideImportError("预览已过期或无效，请重新上传文件。") from None
    rows = [(int(number), {k: str(v) for k, v in cells.items()}) for number, cells in payload["rows"]]
    return rows, str(payload["file"]), int(payload["area"])


@transaction.atomic
def guide_save(
    *,
    actor: Any,
    area: Area,
    values: dict[str, Any],
    guide_id: int | None = None,
    is_active: bool = True,
    now: datetime | None = None,
) -> ServiceGuide:
    """Create (``guide_id`` None) or edit one entry by hand."""
    now = now or clock.now()
    scope = run_scope(actor)
    if not scope.covers_path(area.path):
        raise NotFound()
    data, problems = _clean(values)
    if problems:
        raise DomainError(problems[0])
    if guide_id is None:
        guide = ServiceGuide(area=area, path=area.path, created_at=now)
    else:
        found = ServiceGuide.objects.select_for_update().filter(pk=guide_id).first()
        if found is None or not scope.covers_path(found.path):
            raise NotFound()
        guide = found
    clash = ServiceGuide.objects.filter(area=area, name=data["name"]).exclude(pk=guide.pk).exists()
    if clash:
        raise DomainError(f"本区域已有名为“{data['name']}”的事项。", field="name")
    if data["code"] and ServiceGuide.objects.filter(area=area, code=data["code"]).exclude(pk=guide.pk).exists():
        raise DomainError(f"本区域已有编码为“{data['code']}”的事项。", field="code")
    guide.area, guide.path, guide.is_active = area, area.path, is_active
    _write(guide, data, actor=actor, now=now)
    audit_record(
        actor=actor_of(actor),
        action="engage.guide.save",
        object_type="service_guide",
        object_id=guide.pk,
        area_path=guide.path,
        detail={"name": guide.name},
        at=now,
    )
    return guide
