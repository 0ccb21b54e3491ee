"""One search box for people: ID number, mobile, pinyin, Chinese name or address.

What was typed decides the lookup, and each lookup is an indexed one, so the search stays
fast at a million persons: the ID and phone by their keyed hash, pinyin by a prefix of
``name_pinyin``/``name_initials`` (varchar_pattern_ops), a Chinese name by ``name`` or by
the pinyin index narrowed to the typed characters, an address through the few buildings
(a small table) whose address or compound matches, then persons by dwelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from grassroots.audit.services import Actor, audit_record
from grassroots.core import crypto
from grassroots.core.errors import NotFound
from grassroots.core.ids import InvalidIdNumber, normalize_id_number, normalize_phone, parse_id_number
from grassroots.core.scope import Scope
from grassroots.places.models import Building, Dwelling
from grassroots.registry.models import Person
from grassroots.registry.sealing import ID_CONTEXT, PHONE_CONTEXT
from grassroots.registry.search_keys import name_keys, query_key
from grassroots.registry.selectors.people import list_queryset

_ID_LIKE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LETTERS = re.compile(r"[A-Za-z][A-Za-z\s'·.]*")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_ADDRESS_HINT = re.compile(r"[0-9０-９]|[路街道巷弄号幢栋楼单元室区苑村园庭邸寓]")
_ROOM = re.compile(r"(?:(?P<entrance>[0-9]+)单元)?-?(?P<room>[0-9]{3,4})室?$")
_BUILDING = re.compile(r"(?P<number>[0-9]+)(?:幢|栋|号楼)$")
MAX_BUILDINGS = 300
MAX_DWELLINGS = 3000


class Kind:
    EMPTY = "empty"
    INVALID = "invalid"
    ID = "id"
    PHONE = "phone"
    PINYIN = "pinyin"
    NAME = "name"
    ADDRESS = "address"


KIND_LABELS = {
    Kind.ID: "身份证号",
    Kind.PHONE: "手机号",
    Kind.PINYIN: "姓名拼音",
    Kind.NAME: "姓名",
    Kind.ADDRESS: "地址",
}


@dataclass(frozen=True)
class ParsedQuery:
    kind: str
    value: str = ""  # the normalised value to look up (never shown back: it may be an ID)
    error: str = ""

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, "")


def parse_query(query: str) -> ParsedQuery:
    """Detect what was typed; a malformed ID comes back INVALID with the reason."""
    text = query.strip()[:100]
    if not text:
        return ParsedQuery(Kind.EMPTY)
    compact = normalize_id_number(text)
    if _ID_LIKE.fullmatch(compact):
        try:
            return ParsedQuery(Kind.ID, parse_id_number(compact).number)
        except InvalidIdNumber as exc:
            return ParsedQuery(Kind.INVALID, error=exc.message)
    phone = normalize_phone(text)
    if _MOBILE.fullmatch(phone):
        return ParsedQuery(Kind.PHONE, phone)
    if phone.isdigit():
        return ParsedQuery(Kind.INVALID, error="数字应为18位（或15位）身份证号，或11位手机号。")
    if _LETTERS.fullmatch(text):
        key = query_key(text)
        return ParsedQuery(Kind.PINYIN, key) if key else ParsedQuery(Kind.EMPTY)
    if _HAS_CJK.search(text):
        compact_text = re.sub(r"\s+", "", text)
        kind = Kind.ADDRESS if _ADDRESS_HINT.search(compact_text) else Kind.NAME
        return ParsedQuery(kind, compact_text)
    return ParsedQuery(Kind.INVALID, error="请输入身份证号、手机号、姓名（汉字或拼音）或地址。")


def person_search(*, actor: Actor, scope: Scope, query: str, limit: int = 50) -> list[Person]:
    """People in scope matching ``query`` (masked columns only); one audited read."""
    if scope.area_path is None:
        raise NotFound()
    parsed = parse_query(query)
    base = list_queryset().filter(scope.path_q("path"))
    people: list[Person] = []
    if parsed.kind == Kind.ID:
        people = list(base.filter(id_number_hash=crypto.blind_index(parsed.value, context=ID_CONTEXT))[:limit])
    elif parsed.kind == Kind.PHONE:
        people = list(
            # Ordered by the searched column first, so the planner walks its index, not the primary key's.
            base.filter(phone_hash=crypto.blind_index(parsed.value, context=PHONE_CONTEXT)).order_by(
                "phone_hash", "id"
            )[:limit]
        )
    elif parsed.kind == Kind.PINYIN:
        people = _by_pinyin(base, parsed.value, limit)
    elif parsed.kind == Kind.NAME:
        people = _by_name(base, parsed.value, limit)
        if len(people) < limit:
            people = _merge(people, _by_address(base, scope, parsed.value, limit), limit)
    elif parsed.kind == Kind.ADDRESS:
        people = _by_address(base, scope, parsed.value, limit)
    if parsed.kind not in (Kind.EMPTY, Kind.INVALID):
        # The query itself is not logged: it may be an ID number or a phone.
        audit_record(
            actor=actor,
            action="registry.person.search",
            object_type="person",
            area_path=scope.area_path or "",
            detail={"kind": parsed.kind, "ids": [str(p.pk) for p in people]},
        )
    return people


def _merge(first: list[Person], second: list[Person], limit: int) -> list[Person]:
    seen = {p.pk for p in first}
    return (first + [p for p in second if p.pk not in seen])[:limit]


def _by_pinyin(base: QuerySet[Person], key: str, limit: int) -> list[Person]:
    # Two ordered index range scans, not one OR (which would sort every match): "zs" finds
    # 张三 by initials, "zhangs" by full pinyin; full-pinyin matches come first.
    full = list(base.filter(name_pinyin__path_startswith=key).order_by("name_pinyin", "id")[:limit])
    initials = list(base.filter(name_initials__path_startswith=key).order_by("name_initials", "id")[:limit])
    return _merge(full, initials, limit)


def _by_name(base: QuerySet[Person], name: str, limit: int) -> list[Person]:
    exact = list(base.filter(name=name).order_by("name", "id")[:limit])
    key = name_keys(name)[0]
    if not key or len(exact) >= limit:
        return exact
    # The ``name`` index cannot serve a prefix under every collation; the pinyin index
    # can, and the characters then narrow it to the typed ones.
    prefix = base.filter(name_pinyin__path_startswith=key, name__path_startswith=name).exclude(name=name)
    return _merge(exact, list(prefix.order_by("name_pinyin", "id")[:limit]), limit)


def _by_address(base: QuerySet[Person], scope: Scope, text: str, limit: int) -> list[Person]:
    """Building address or compound name, optionally building number, entrance and room."""
    place, room, entrance, number = text, "", None, ""
    m = _ROOM.search(place)
    if m and m.start() > 0:
        room, place = m["room"], place[: m.start()]
        entrance = int(m["entrance"]) if m["entrance"] else None
    b = _BUILDING.search(place)
    if b:
        number, place = b["number"], place[: b.start()]
    if not place and not number:
        return []
    buildings = Building.objects.filter(scope.path_q("path"))
    if place:
        buildings = buildings.filter(Q(address__contains=place) | Q(compound__name__contains=place))
    if number:
        buildings = buildings.filter(name__in=[f"{number}幢", f"{number}栋", f"{number}号楼"])
    building_ids = list(buildings.values_list("id", flat=True)[:MAX_BUILDINGS])
    if not building_ids:
        return []
    dwellings = Dwelling.objects.filter(building_id__in=building_ids)
    if room:
        dwellings = dwellings.filter(room=room)
    if entrance is not None:
        dwellings = dwellings.filter(entrance__number=entrance)
    dwelling_ids = list(dwellings.values_list("id", flat=True)[:MAX_DWELLINGS])
    if not dwelling_ids:
        return []
    return list(base.filter(dwelling_id__in=dwelling_ids).order_by("dwelling_id", "id")[:limit])
