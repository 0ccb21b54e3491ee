"""实有单位: organisations located in the area (enterprises, agencies, shops, social organisations)."""

from __future__ import annotations

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import parse_credit_code, parse_mobile
from grassroots.core.masking import mask_phone
from grassroots.core.scope import Scope
from grassroots.places.models import Area, Building
from grassroots.registry.models import Unit, UnitKind

UNIT_PHONE_CONTEXT = "unit.contact_phone"


@transaction.atomic
def unit_create(
    *,
    actor: Actor,
    scope: Scope,
    name: str,
    kind: str,
    area: Area | None = None,
    building: Building | None = None,
    credit_code: str = "",
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Unit:
    """Register a unit at a building (or, without one, in an area) inside the actor's scope."""
    name = name.strip()
    if not name or len(name) > 200:
        raise DomainError("单位名称不能为空，且不超过200个字。", field="name")
    if kind not in UnitKind.values:
        raise DomainError(f"未知的单位类型“{kind}”。", field="kind")
    place = building if building is not None else area
    if place is None:
        raise DomainError("请指定单位所在的楼栋或区域。", field="building")
    if not scope.covers_path(place.path):
        raise NotFound()
    code = parse_credit_code(credit_code) if credit_code.strip() else ""
    if code and Unit.objects.filter(credit_code=code).exists():
        raise DomainError(f"统一社会信用代码 {code} 已登记。", field="credit_code")
    phone = parse_mobile(contact_phone) if contact_phone.strip() else ""
    unit = Unit.objects.create(
        name=name,
        kind=kind,
        credit_code=code,
        address=address.strip() or (building.address if building else ""),
        building=building,
        path=place.path,
        contact_name=contact_name.strip(),
        contact_phone_cipher=crypto.encrypt(phone, context=UNIT_PHONE_CONTEXT) if phone else None,
        contact_phone_hash=crypto.blind_index(phone, context=UNIT_PHONE_CONTEXT) if phone else "",
        contact_phone_masked=mask_phone(phone) if phone else "",
        lon=building.lon if building else None,
        lat=building.lat if building else None,
    )
    audit_record(
        actor=actor,
        action="registry.unit.create",
        object_type="unit",
        object_id=unit.pk,
        area_path=unit.path,
        detail={"name": name, "kind": kind},
    )
    return unit
