"""Writes to people and tags; sensitive values are encrypted here and nowhere else."""

from __future__ import annotations

import re
from datetime import date

from django.db import transaction

from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.core.errors import DomainError, Forbidden, NotFound
from grassroots.core.ids import parse_id_number, parse_mobile
from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.models import (
    Household,
    Person,
    Residence,
    ResidenceKind,
    Separation,
    Tag,
)
from grassroots.registry.sealing import (
    ID_CONTEXT,
    PHONE_CONTEXT,
    seal_id_number,
    seal_phone,
)
from grassroots.registry.search_keys import name_keys


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
