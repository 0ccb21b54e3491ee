"""Writes to the duty lists (事项清单): categories and who answers for them where. Administrators; audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from grassroots.accounts.models import Department
from grassroots.audit.services import Actor, audit_record
from grassroots.cases.models import Category, CategoryKind, DutyAssignment
from grassroots.cases.services.deadlines import fields_from_spec, format_deadline
from grassroots.cases.workflow import DeadlineSpec, WhistleKind
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.places.models import Area

CODE_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MAX_DEPTH = 3  # 大类 → 小类 → 事项


@dataclass(frozen=True)
class Deadlines:
    """Optional overrides; None keeps the whistle kind's default."""

    acknowledge: DeadlineSpec | None = None
    handle: DeadlineSpec | None = None

    def fields(self) -> dict[str, int | None]:
        ack_minutes, ack_days = fields_from_spec(self.acknowledge)
        handle_minutes, handle_days = fields_from_spec(self.handle)
        return {
            "acknowledge_minutes": ack_minutes,
            "acknowledge_workdays": ack_days,
            "handle_minutes": handle_minutes,
            "handle_workdays": handle_days,
        }

    def describe(self) -> dict[str, str]:
        return {"acknowledge": format_deadline(self.acknowledge), "handle": format_deadline(self.handle)}


def _depth(parent: Category | None) -> int:
    depth, current, seen = 0, parent, set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        depth += 1
        current = current.parent
    return depth


def _check_category(*, name: str, kind: str, whistle_kind: str, parent: Category | None, pk: int | None) -> None:
    if not name or len(name) > 100:
        raise DomainError("名称不能为空，且不超过100个字。", field="name")
    if kind not in CategoryKind.values:
        raise DomainError("请选择事项类型。", field="kind")
    if whistle_kind not in WhistleKind.__members__:
        raise DomainError("请选择默认哨类。", field="default_whistle_kind")
    if parent is not None and _depth(parent) >= MAX_DEPTH:
        raise DomainError("事项分类最多三级（大类、小类、事项）。", field="parent")
    siblings = Category.objects.filter(parent=parent, name=name)
    if pk is not None:
        siblings = siblings.exclude(pk=pk)
    if siblings.exists():
        raise DomainError(f"同一上级下已有名为“{name}”的分类。", field="name")


@transaction.atomic
def category_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    parent: Category | None = None,
    default_whistle_kind: str = WhistleKind.routine.value,
    deadlines: Deadlines = Deadlines(),
    is_active: bool = True,
    sort: int = 0,
) -> Category:
    code, name = code.strip().lower(), name.strip()
    if not CODE_RE.fullmatch(code):
        raise DomainError("编码只能由小写英文字母、数字、点、下划线和连字符组成，以字母开头，2到64位。", field="code")
    if Category.objects.filter(code=code).exists():
        raise DomainError(f"编码“{code}”已存在。", field="code")
    _check_category(name=name, kind=kind, whistle_kind=default_whistle_kind, parent=parent, pk=None)
    category = Category.objects.create(
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        default_whistle_kind=default_whistle_kind,
        is_active=is_active,
        sort=sort,
        **deadlines.fields(),
    )
    audit_record(
        actor=actor,
        action="cases.category.create",
        object_type="category",
        object_id=category.pk,
        detail={
            "code": code,
            "name": name,
            "kind": kind,
            "parent": parent.code if parent else "",
            "whistle_kind": default_whistle_kind,
            **deadlines.describe(),
        },
    )
    return category


@transaction.atomic
def category_update(
    *,
    actor: Actor,
    category: Category,
    name: str,
    kind: str,
    default_whistle_kind: str,
    deadlines: Deadlines,
    is_active: bool,
    sort: int | None = None,
) -> Category:
    """Edit a category; the code and the parent stay (assignments and history refer to them)."""
    name = name.strip()
    _check_category(name=name, kind=kind, whistle_kind=default_whistle_kind, parent=category.parent, pk=category.pk)
    before = {"name": category.name, "kind": category.kind, "whistle_kind": category.default_whistle_kind}
    category.name, category.kind, category.default_whistle_kind = name, kind, default_whistle_kind
    category.is_active = is_active
    if sort is not None:
        category.sort = sort
    for field_name, value in deadlines.fields().items():
        setattr(category, field_name, value)
    category.save()
    audit_record(
        actor=actor,
        action="cases.category.update",
        object_type="category",
        object_id=category.pk,
        detail={
            "code": category.code,
            "before": before,
            "name": name,
            "kind": kind,
            "whistle_kind": default_whistle_kind,
            "active": is_active,
            **deadlines.describe(),
        },
    )
    return category


def _check_assignment(*, scope: Scope, category: Category, area: Area, departments: list[Department]) -> None:
    if not scope.covers_path(area.path):
        raise NotFound()
    if not category.is_active:
        raise DomainError(f"事项“{category.name}”已停用，不能配置责任。", field="category")
    if not departments:
        raise DomainError("请至少选择一个责任部门。", field="departments")
    inactive = [d.name for d in departments if not d.is_active]
    if inactive:
        raise DomainError(f"部门已撤销：{'、'.join(inactive)}。", field="departments")


@transaction.atomic
def assignment_save(
    *,
    actor: Actor,
    scope: Scope,
    category: Category,
    area: Area,
    departments: Iterable[Department],
    whistle_kind: str = "",
    deadlines: Deadlines = Deadlines(),
) -> DutyAssignment:
    """Create or replace the assignment of ``category`` at ``area`` (one per area)."""
    chosen = sorted(set(departments), key=lambda d: d.pk)
    _check_assignment(scope=scope, category=category, area=area, departments=chosen)
    if whistle_kind and whistle_kind not in WhistleKind.__members__:
        raise DomainError("哨类无效。", field="whistle_kind")
    assignment, created = DutyAssignment.objects.update_or_create(
        category=category,
        area=area,
        defaults={"path": area.path, "whistle_kind": whistle_kind, **deadlines.fields()},
    )
    assignment.departments.set(chosen)
    audit_record(
        actor=actor,
        action="cases.duty.create" if created else "cases.duty.update",
        object_type="duty_assignment",
        object_id=assignment.pk,
        area_path=area.path,
        detail={
            "category": category.code,
            "departments": [d.code for d in chosen],
            "whistle_kind": whistle_kind,
            **deadlines.describe(),
        },
    )
    return assignment


@transaction.atomic
def assignment_delete(*, actor: Actor, scope: Scope, assignment: DutyAssignment) -> None:
    if not scope.covers_path(assignment.path):
        raise NotFound()
    detail: dict[str, Any] = {"category": assignment.category.code, "area": assignment.path}
    pk, path = assignment.pk, assignment.path
    assignment.delete()
    audit_record(
        actor=actor,
        action="cases.duty.delete",
        object_type="duty_assignment",
        object_id=pk,
        area_path=path,
        detail=detail,
    )
