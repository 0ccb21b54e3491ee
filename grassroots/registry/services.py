"""Writes to the registry; sensitive values are encrypted here and nowhere else."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from grassroots.audit.services import Actor, audit_record
from grassroots.core import clock, crypto
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.ids import parse_id_number, parse_mobile
from grassroots.core.masking import mask_id_number, mask_phone
from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.models import (
    ChangeOrigin,
    Household,
    Person,
    PersonChange,
    Residence,
    ResidenceKind,
    Separation,
    Tag,
    Visit,
)
from grassroots.registry.search_keys import name_keys

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"


@dataclass(frozen=True)
class SealedValue:
    cipher: bytes
    hash: str
    masked: str


def seal_id_number(number: str) -> SealedValue:
    return SealedValue(
        crypto.encrypt(number, context=ID_CONTEXT),
        crypto.blind_index(number, context=ID_CONTEXT),
        mask_id_number(number),
    )


def seal_phone(number: str) -> SealedValue:
    return SealedValue(
        crypto.encrypt(number, context=PHONE_CONTEXT),
        crypto.blind_index(number, context=PHONE_CONTEXT),
        mask_phone(number),
    )


def id_number_hash(number: str) -> str:
    return crypto.blind_index(number, context=ID_CONTEXT)


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    name: str,
    id_number: str,
    phone: str = "",
    dwelling: Dwelling | None = None,
    household: Household | None = None,
    relation: str = "",
    sex: str | None = None,
    birth_date: date | None = None,
) -> Person:
    """Register a person; sex and birth date come from the ID and must agree when also given."""
    if not name.strip():
        raise DomainError("姓名不能为空。", field="name")
    info = parse_id_number(id_number)
    if sex is not None and sex != info.sex:
        raise DomainError("性别与身份证号不一致。", field="sex")
    if birth_date is not None and birth_date != info.birth_date:
        raise DomainError("出生日期与身份证号不一致。", field="birth_date")
    sealed_id = seal_id_number(info.number)
    if Person.objects.filter(id_number_hash=sealed_id.hash).exists():
        raise DomainError("该身份证号已登记。", field="id_number")
    sealed_phone = seal_phone(parse_mobile(phone)) if phone.strip() else None
    if dwelling is None and household is None:
        # A person with no place has no path, so no one but an administrator could find them.
        raise DomainError("请指定住址（房屋）或所属户。", field="dwelling")
    path = dwelling.path if dwelling else household.path  # type: ignore[union-attr]
    pinyin, initials = name_keys(name.strip())
    person = Person.objects.create(
        name=name.strip(),
        sex=info.sex,
        birth_date=info.birth_date,
        id_number_cipher=sealed_id.cipher,
        id_number_hash=sealed_id.hash,
        id_number_masked=sealed_id.masked,
        phone_cipher=sealed_phone.cipher if sealed_phone else None,
        phone_hash=sealed_phone.hash if sealed_phone else "",
        phone_masked=sealed_phone.masked if sealed_phone else "",
        dwelling=dwelling,
        household=household,
        relation=relation,
        path=path,
        name_pinyin=pinyin,
        name_initials=initials,
    )
    audit_record(
        actor=actor, action="registry.person.create", object_type="person", object_id=person.pk, area_path=path
    )
    return person


REVEALABLE = {"id_number": ("id_number_cipher", ID_CONTEXT), "phone": ("phone_cipher", PHONE_CONTEXT)}


@transaction.atomic
def person_reveal(*, actor: Actor, scope: Scope, may_unmask: bool, person: Person, field: str, reason: str) -> str:
    """Decrypt one sensitive value for someone allowed to, with a reason; always audited."""
    if not may_unmask:
        raise Forbidden("您的角色无权查看完整的敏感信息。")
    if not scope.covers_path(person.path):
        raise NotFound()
    if field not in REVEALABLE:
        raise DomainError(f"字段“{field}”不能解密查看。", field="field")
    if len(reason.strip()) < 4:
        raise DomainError("查看完整信息必须填写事由（至少4个字）。", field="reason")
    column, context = REVEALABLE[field]
    blob = getattr(person, column)
    value = crypto.decrypt(blob, context=context) if blob else ""
    audit_record(
        actor=actor,
        action="registry.person.unmask",
        object_type="person",
        object_id=person.pk,
        area_path=person.path,
        detail={"field": field, "reason": reason.strip()},
    )
    return value


def separation_between(registered: Residence | None, actual: Residence | None) -> str:
    """人户分离 category from the current registered and actual residences.

    Different places (another dwelling, or an address outside our tree) mean separation;
    the category is named from where the person actually lives.
    """
    if registered is None or actual is None:
        return Separation.NONE
    if registered.dwelling_id is None and actual.dwelling_id is None:
        return Separation.NONE  # neither place is ours: nothing to list on any grid
    same = (
        registered.dwelling_id == actual.dwelling_id
        if registered.dwelling_id or actual.dwelling_id
        else registered.address.strip() == actual.address.strip()
    )
    if same:
        return Separation.NONE
    if actual.dwelling_id is not None:
        return Separation.LIVES_HERE_REGISTERED_ELSEWHERE
    return Separation.REGISTERED_HERE_LIVES_ELSEWHERE


def person_refresh_separation(*, person: Person) -> str:
    """Recompute and store ``person.separation`` from the current residences; returns it."""
    current = {r.kind: r for r in person.residences.filter(until__isnull=True).order_by("since", "id")}
    actual = current.get(ResidenceKind.RESIDENT) or current.get(ResidenceKind.FLOATING)
    value = separation_between(current.get(ResidenceKind.REGISTERED), actual)
    if person.separation != value:
        person.separation = value
        Person.objects.filter(pk=person.pk).update(separation=value)
    return value


# --- Tags ----------------------------------------------------------------------------

DERIVED_TAGS = {"elderly_60", "minor"}  # computed from the birth date, never set by hand
_TAG_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")


def derived_tag_codes(age: int) -> set[str]:
    codes = set()
    if age >= 60:
        codes.add("elderly_60")
    if age < 18:
        codes.add("minor")
    return codes


@transaction.atomic
def tag_create(*, actor: Actor, code: str, name: str, sensitive: bool) -> Tag:
    """A configurable key-population tag (administrators); derived tags cannot be added."""
    code, name = code.strip().lower(), name.strip()
    if not _TAG_CODE.fullmatch(code):
        raise DomainError("编码只能由小写字母、数字和下划线组成，以字母开头，2到32位。", field="code")
    if not name or len(name) > 50:
        raise DomainError("名称不能为空，且不超过50个字。", field="name")
    if Tag.objects.filter(code=code).exists():
        raise DomainError(f"编码“{code}”已存在。", field="code")
    if Tag.objects.filter(name=name).exists():
        raise DomainError(f"名称“{name}”已存在。", field="name")
    tag = Tag.objects.create(code=code, name=name, is_sensitive=sensitive, is_derived=False)
    audit_record(
        actor=actor,
        action="registry.tag.create",
        object_type="tag",
        object_id=tag.pk,
        detail={"code": code, "name": name, "sensitive": sensitive},
    )
    return tag


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
