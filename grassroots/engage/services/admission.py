"""Community admission lists (社区工作准入): the district keeps the list of duty items, assistance
items, plaques and certificates that may (or may not) be pushed down to its communities; a
subdistrict may override a line for its own communities by writing a line of the same kind and
name. Every line carries its rule or legal basis, which is what a question is answered with.

Lines are written by staff whose scope covers the district or subdistrict: those who run
deliberation (``engage.manage``) or keep admission lists (``engage.admission``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from grassroots.accounts.scopes import can, scope_for
from grassroots.audit.services import actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.engage.models import AdmissionItem, AdmissionKind
from grassroots.engage.selectors.scopes import RUN
from grassroots.places.models import Area, AreaLevel

DISPATCH = "engage.admission"
LIST_LEVELS = (AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT)


def list_scope(user: Any) -> Scope:
    """Where ``user`` may write admission lines: the wider of their dispatch and run scopes."""
    for capability in (RUN, DISPATCH):
        if can(user, capability):
            scope = scope_for(user, capability)
            if scope.area_path is not None:
                return scope
    return Scope.nothing()


def may_edit_lists(user: Any) -> bool:
    return can(user, RUN) or can(user, DISPATCH)


@transaction.atomic
def admission_save(
    *,
    actor: Any,
    area: Area,
    kind: str,
    name: str,
    allowed: bool,
    basis: str,
    note: str = "",
    item_id: int | None = None,
    now: datetime | None = None,
) -> AdmissionItem:
    """Create (``item_id`` None) or edit one line of a district's or subdistrict's list."""
    now = now or clock.now()
    scope = list_scope(actor)
    if not scope.covers_path(area.path):
        raise NotFound()
    if area.level not in LIST_LEVELS:
        raise DomainError("准入清单由区（县）制定，街道（镇）可以调整，请选择区或街道。", field="area")
    if kind not in AdmissionKind.values:
        raise DomainError("请选择事项类型。", field="kind")
    name, basis = " ".join(name.split()), basis.strip()
    if not name or len(name) > 200:
        raise DomainError("请填写名称（不超过200字）。", field="name")
    if not basis:
        raise DomainError("请填写依据或规则：回答“能不能”时要给出理由。", field="basis")
    if item_id is None:
        item = AdmissionItem(updated_at=now)
    else:
        found = AdmissionItem.objects.select_for_update().filter(pk=item_id).first()
        if found is None or not scope.covers_path(found.path):
            raise NotFound()
        item = found
    if AdmissionItem.objects.filter(area=area, kind=kind, name=name).exclude(pk=item.pk).exists():
        raise DomainError(f"{area.name}的清单里已有{AdmissionKind(kind).label}“{name}”。", field="name")
    item.area, item.path, item.kind, item.name = area, area.path, kind, name
    item.allowed, item.basis, item.note = allowed, basis, note.strip()
    item.updated_by, item.updated_at = actor, now
    item.save()
    audit_record(
        actor=actor_of(actor),
        action="engage.admission.save",
        object_type="admission_item",
        object_id=item.pk,
        area_path=item.path,
        detail={"kind": kind, "name": name, "allowed": allowed},
        at=now,
    )
    return item


@transaction.atomic
def admission_delete(*, actor: Any, item_id: int, now: datetime | None = None) -> None:
    item = AdmissionItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None or not list_scope(actor).covers_path(item.path):
        raise NotFound()
    audit_record(
        actor=actor_of(actor),
        action="engage.admission.delete",
        object_type="admission_item",
        object_id=item.pk,
        area_path=item.path,
        detail={"kind": item.kind, "name": item.name},
        at=now,
    )
    item.delete()
