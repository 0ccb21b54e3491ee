"""Service records: what a member gave at the residence, counted toward the yearly targets.

Other apps (volunteers' activities, cases) record services through ``service_record_add`` with a
``source`` naming the origin (``"activity:12"``), so recording the same origin twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from grassroots.audit.services import Actor, actor_of, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.scope import Scope
from grassroots.party.models import PartyMember, ServiceKind, ServiceRecord


@dataclass(frozen=True)
class Recorded:
    record: ServiceRecord
    created: bool  # False when the same source was recorded before


def service_record_add(
    *,
    actor: Any,
    member: PartyMember,
    kind: str,
    on: date,
    description: str,
    path: str,
    hours: Decimal | float | int = 0,
    source: str = "",
    confirmed: bool = False,
) -> Recorded:
    """Record one service; idempotent per (member, source) when ``source`` is given."""
    if kind not in ServiceKind.values:
        raise DomainError(f"未知的服务类型“{kind}”。", field="kind")
    if not description.strip():
        raise DomainError("请填写服务内容。", field="description")
    hours = Decimal(str(hours))
    if hours < 0 or hours > 24:
        raise DomainError("服务时长应在 0 到 24 小时之间。", field="hours")
    if on > clock.today():
        raise DomainError("服务日期不能晚于今天。", field="on")
    if not path:
        raise DomainError("请指明服务所在的社区。", field="path")
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        if source:
            existing = ServiceRecord.objects.filter(member=member, source=source).first()
            if existing is not None:
                return Recorded(existing, created=False)
        record = ServiceRecord.objects.create(
            member=member,
            kind=kind,
            date=on,
            hours=hours,
            description=description.strip()[:300],
            source=source[:64],
            path=path,
            confirmed=confirmed,
            recorded_by=user,
            created_at=clock.now(),
        )
        audit_record(
            actor=actor_of(user),
            action="party.service_record.add",
            object_type="party_service_record",
            object_id=record.pk,
            area_path=path,
            detail={"member": member.pk, "kind": kind, "source": source, "hours": str(hours)},
        )
    return Recorded(record, created=True)


def service_record_confirm(*, actor: Actor, scope: Scope, record: ServiceRecord) -> ServiceRecord:
    """The community confirms a service (only confirmed services count toward the targets)."""
    if not scope.covers_path(record.path):
        raise NotFound()
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().get(pk=record.pk)
        if record.confirmed:
            raise DomainError("该服务记录已确认。")
        record.confirmed = True
        record.save(update_fields=["confirmed"])
        audit_record(
            actor=actor,
            action="party.service_record.confirm",
            object_type="party_service_record",
            object_id=record.pk,
            area_path=record.path,
            detail={"member": record.member_id},
        )
    return record
