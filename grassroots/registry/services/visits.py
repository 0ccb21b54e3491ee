"""Household visits (四进四排查): what a grid worker records and the facts it updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock
from grassroots.core.errors import DomainError, NotFound
from grassroots.core.ids import parse_mobile
from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.models import (
    ChangeOrigin,
    Household,
    Person,
    PersonChange,
    Residence,
    ResidenceKind,
    Tag,
    Visit,
)
from grassroots.registry.services.people import DERIVED_TAGS, person_refresh_separation, seal_phone

# --- Household visits (四进四排查) -------------------------------------------------------

FINDINGS = {
    "safety_hazard": "安全隐患",
    "dispute": "矛盾纠纷",
    "hardship": "困难帮扶",
    "info_change": "信息变更",
    "other": "其他情况",
}
MAX_NOTES = 2000


@dataclass(frozen=True)
class MemberUpdate:
    """What a visit found changed for one member; None/empty means unchanged."""

    person_id: int
    phone: str | None = None  # "" clears the number
    tags_add: frozenset[str] = frozenset()
    tags_remove: frozenset[str] = frozenset()
    moved_out_to: str = ""  # the address the person now actually lives at


def _check_visit(
    visited_at: datetime, nobody_home: bool, notes: str, findings: Sequence[str], changes: Sequence[MemberUpdate]
) -> None:
    now = clock.now()
    if timezone.is_naive(visited_at):
        raise DomainError("走访时间缺少时区。", field="visited_at")
    if visited_at > now + timedelta(minutes=10):
        raise DomainError("走访时间不能晚于当前时间。", field="visited_at")
    if visited_at < now - timedelta(days=365):
        raise DomainError("走访时间不能早于一年前。", field="visited_at")
    if len(notes) > MAX_NOTES:
        raise DomainError(f"走访记录不能超过{MAX_NOTES}字。", field="notes")
    unknown = [f for f in findings if f not in FINDINGS]
    if unknown:
        raise DomainError(f"未知的排查发现“{unknown[0]}”。", field="findings")
    if nobody_home and any(_has_change(c) for c in changes):
        raise DomainError("无人在家时不能更新住户信息。", field="nobody_home")


def _has_change(c: MemberUpdate) -> bool:
    return c.phone is not None or bool(c.tags_add or c.tags_remove or c.moved_out_to.strip())


@transaction.atomic
def visit_record(
    *,
    actor: Actor,
    scope: Scope,
    dwelling: Dwelling,
    visited_at: datetime,
    nobody_home: bool,
    notes: str,
    findings: Sequence[str],
    changes: Sequence[MemberUpdate],
    may_edit_sensitive: bool = False,
) -> Visit:
    """Record a visit and the facts it changed; every change is history and audit. All or nothing."""
    if not scope.covers_path(dwelling.path):
        raise NotFound()
    if actor.id is None:
        raise DomainError("走访必须由登录用户记录。")
    notes = notes.strip()
    _check_visit(visited_at, nobody_home, notes, findings, changes)
    household = Household.objects.filter(dwelling=dwelling).order_by("id").first()
    member_q = Q(dwelling=dwelling) | (Q(household=household) if household else Q(pk__in=[]))
    members = {p.pk: p for p in Person.objects.filter(member_q).prefetch_related("tags")}
    tags = {t.code: t for t in Tag.objects.all()}
    plans: list[tuple[Person, MemberUpdate, str]] = []
    for change in changes:
        if not _has_change(change):
            continue
        person = members.get(change.person_id)
        if person is None:
            raise DomainError("所更新的人员不是该房屋的住户。", field="changes")
        phone = ""
        if change.phone:
            try:
                phone = parse_mobile(change.phone)
            except DomainError as exc:
                raise DomainError(f"{person.name}：{exc.message}", field="phone") from None
        for code in change.tags_add | change.tags_remove:
            tag = tags.get(code)
            if tag is None:
                raise DomainError(f"{person.name}：未知的标签“{code}”。", field="tags")
            if tag.is_derived or code in DERIVED_TAGS:
                raise DomainError(f"{person.name}：“{tag.name}”由出生日期自动计算，不能手工修改。", field="tags")
            if tag.is_sensitive and not may_edit_sensitive:
                raise DomainError(f"{person.name}：您的角色无权修改“{tag.name}”标签。", field="tags")
        if len(change.moved_out_to.strip()) > 255:
            raise DomainError(f"{person.name}：现居住地址不能超过255字。", field="moved_out_to")
        plans.append((person, change, phone))
    visit = Visit.objects.create(
        dwelling=dwelling,
        household=household,
        path=dwelling.path,
        visited_by_id=actor.id,
        visited_at=visited_at,
        nobody_home=nobody_home,
        notes=notes,
        findings=list(dict.fromkeys(findings)),
    )
    audit_record(
        actor=actor,
        action="registry.visit.record",
        object_type="visit",
        object_id=visit.pk,
        area_path=dwelling.path,
        detail={"findings": visit.findings, "nobody_home": nobody_home, "persons": len(plans)},
    )
    for person, change, phone in plans:
        _apply(actor, visit, person, change, phone, tags)
    return visit


def _apply(actor: Actor, visit: Visit, person: Person, change: MemberUpdate, phone: str, tags: dict[str, Tag]) -> None:
    def log(field: str, before: str, after: str) -> None:
        PersonChange.objects.create(
            person=person,
            path=person.path,
            at=visit.visited_at,
            actor_id=actor.id,
            origin=ChangeOrigin.VISIT,
            field=field,
            before=before[:255],
            after=after[:255],
            visit=visit,
        )
        audit_record(
            actor=actor,
            action="registry.person.update",
            object_type="person",
            object_id=person.pk,
            area_path=person.path,
            detail={"field": field, "origin": "visit", "visit": visit.pk},
        )

    if change.phone is not None:
        sealed = seal_phone(phone) if phone else None
        if (sealed.hash if sealed else "") != person.phone_hash:
            before = person.phone_masked
            person.phone_cipher = sealed.cipher if sealed else None
            person.phone_hash = sealed.hash if sealed else ""
            person.phone_masked = sealed.masked if sealed else ""
            person.provenance.pop("phone", None)  # no longer the imported value; history says where from
            person.save(update_fields=["phone_cipher", "phone_hash", "phone_masked", "provenance", "updated_at"])
            log("phone", before, person.phone_masked)
    held = {t.code for t in person.tags.all()}
    for code in sorted(change.tags_add - held):
        person.tags.add(tags[code])
        log(f"tag:{code}", "", tags[code].name)
    for code in sorted(change.tags_remove & held):
        person.tags.remove(tags[code])
        log(f"tag:{code}", tags[code].name, "")
    address = change.moved_out_to.strip()
    if address:
        day = timezone.localdate(visit.visited_at)
        current = Residence.objects.filter(
            person=person, kind__in=[ResidenceKind.RESIDENT, ResidenceKind.FLOATING], until__isnull=True
        )
        before = f"{person.dwelling.building}{person.dwelling}" if person.dwelling is not None else ""
        current.update(until=day)
        Residence.objects.create(person=person, kind=ResidenceKind.RESIDENT, address=address, path="", since=day)
        # Still attached to this grid by ``path`` (its registered household or its history),
        # but no longer one of the dwelling's residents.
        person.dwelling = None
        person.save(update_fields=["dwelling", "updated_at"])
        person_refresh_separation(person=person)
        log("residence", before or "本房屋", address)
