"""Free-text addresses → a dwelling in the importer's scope, with a confidence.

Departments write the same flat as 阳光花园1幢2单元301室, 阳光花园一号楼二单元301,
阳光花园１栋２单元３０１户 or 阳光花园1-2-301. We normalise (full-width forms, Chinese
numerals, 号楼/栋/幢/座 and 室/户 synonyms), parse compound + building + entrance + room,
and look the parts up among the dwellings inside the scope only.

Confidence: 1.0 when every part the dwelling has is given; 0.2 less for each part that is
missing but not needed to make the match unique. Ambiguous and unknown addresses are
unmatched with a reason (no address text in the reason: it is stored without personal data).

A worker's decisions (``AddressChoice``) are loaded with the index: a text chosen for a
dwelling inside the scope matches it with confidence 1.0, a text known to lie outside the
area is unmatched without asking again. See docs/addresses.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from grassroots.core.scope import Scope
from grassroots.places.models import Dwelling
from grassroots.registry.models import AddressChoice, AddressChoiceStatus

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"([零〇一二两三四五六七八九十百千]+)(?=号楼|号|栋|幢|座|单元|室|户|层|楼)")
_BUILDING_SYNONYMS = re.compile(r"(\d+)\s*(?:号楼|#楼|#|栋|幢|座|号院楼)")
_ROOM_SYNONYMS = re.compile(r"(\d+)\s*(?:室|户|号房)")
_BUILDING = re.compile(r"(\d+)栋")
_ENTRANCE = re.compile(r"(\d+)单元")
_ROOM = re.compile(r"(\d+)室")
_DASHED = re.compile(r"(\d+)-(\d+)-(\d+)$")
_TRAILING_ROOM = re.compile(r"(\d{3,4})$")
# A place name ending like this before the building number names a compound.
_COMPOUND_SUFFIX = re.compile(r"(小区|花园|苑|园|家园|公寓|新村|大厦|广场|名城|府|庭|湾|里|坊|城)$")
_ADMIN_PREFIX = re.compile(r"^.*?(社区|村委会|居委会|街道|镇|路\d+号|街\d+号|巷\d+号|弄\d+号)")


def chinese_number(text: str) -> int:
    """十二 → 12, 二十 → 20, 一百零一 → 101, 三〇一 → 301 (digit by digit without units)."""
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return total + current


def normalise_address(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"\s+", "", text).replace("—", "-").replace("－", "-")
    text = _CN_NUMBER.sub(lambda m: str(chinese_number(m.group(1))), text)
    text = _BUILDING_SYNONYMS.sub(r"\1栋", text)
    return _ROOM_SYNONYMS.sub(r"\1室", text)


@dataclass(frozen=True)
class ParsedAddress:
    text: str  # normalised
    building: int | None = None
    entrance: int | None = None
    room: str = ""
    prefix: str = ""  # what stands before the building number


def parse_address(raw: str) -> ParsedAddress:
    text = normalise_address(raw)
    dashed = _DASHED.search(text)
    if dashed and "栋" not in text:
        b, e, r = dashed.groups()
        return ParsedAddress(text, int(b), int(e), str(int(r)), text[: dashed.start()])
    building = _BUILDING.search(text)
    entrance = _ENTRANCE.search(text)
    room = _ROOM.search(text)
    room_text = room.group(1) if room else ""
    if not room_text:
        tail = _TRAILING_ROOM.search(text)
        end_of_parts = max((m.end() for m in (building, entrance) if m), default=-1)
        if tail and tail.start() >= end_of_parts >= 0:
            room_text = tail.group(1)
    return ParsedAddress(
        text=text,
        building=int(building.group(1)) if building else None,
        entrance=int(entrance.group(1)) if entrance else None,
        room=str(int(room_text)) if room_text else "",
        prefix=text[: building.start()] if building else "",
    )


def building_number(name: str) -> int | None:
    """The number in a building's name: 1幢 → 1, 十二号楼 → 12."""
    found = _BUILDING.search(normalise_address(name))
    if found:
        return int(found.group(1))
    digits = re.match(r"(\d+)", normalise_address(name))
    return int(digits.group(1)) if digits else None


@dataclass(frozen=True)
class AddressMatch:
    dwelling_id: int | None
    path: str
    confidence: float
    status: str  # "matched" | "unmatched" | "ambiguous" | "empty"
    reason: str = ""
    choice_id: int | None = None  # the worker's decision this answer comes from

    @property
    def needs_review(self) -> bool:
        """Unplaced and not decided yet: the text goes to the review list."""
        return self.status in ("unmatched", "ambiguous") and self.choice_id is None


REMEMBERED_REASON = "按已确认的地址匹配"
OUTSIDE_REASON = "该地址已确认不在辖区内"


def ancestor_paths(path: str) -> list[str]:
    """The areas that contain ``path``, itself included: "a.b.c" → ["", "a", "a.b", "a.b.c"]."""
    parts = path.split(".") if path else []
    return ["", *(".".join(parts[: i + 1]) for i in range(len(parts)))]


@dataclass(frozen=True)
class _Entry:
    dwelling_id: int
    path: str
    compound: str
    building: int | None
    entrance: int
    road: str  # "黄河路990号" from the building's address: tells same-named compounds apart


_ROAD_NUMBER = re.compile(r"(?:大道|大街|路|街|巷|弄)\d+号")


def road_number(address: str) -> str:
    """The road and house number as a key: the two characters before 路/街… plus the number.

    Only two: addresses write the same road with or without 市/镇 before it (玉山镇长江路12号
    and 长江路12号), and road names are two to four characters long.
    """
    text = normalise_address(address)
    found = _ROAD_NUMBER.search(text)
    return text[max(0, found.start() - 2) : found.end()] if found else ""


@dataclass
class AddressIndex:
    """The dwellings of one scope, keyed by the parts an address gives; built once per import run.

    Each lookup is a dict hit on the most specific key the address allows, then a filter
    over the few candidates left, so matching stays fast with 400,000 dwellings in scope.
    """

    by_room: dict[str, list[_Entry]] = field(default_factory=dict)
    by_room_building: dict[tuple[str, int | None], list[_Entry]] = field(default_factory=dict)
    by_room_building_entrance: dict[tuple[str, int | None, int], list[_Entry]] = field(default_factory=dict)
    by_compound_room: dict[tuple[str, str], list[_Entry]] = field(default_factory=dict)
    compounds: list[str] = field(default_factory=list)  # longest first, so 阳光花园二期 beats 阳光花园
    cache: dict[str, AddressMatch] = field(default_factory=dict)
    remembered: dict[str, AddressMatch] = field(default_factory=dict)  # normalised text → decided answer

    @classmethod
    def for_scope(cls, scope: Scope, *, rooms: set[str] | None = None, choices: bool = True) -> AddressIndex:
        """The scope's dwellings (only those with one of ``rooms`` when given) and, with ``choices``,
        the decisions that apply inside it."""
        index = cls()
        dwellings = Dwelling.objects.filter(scope.path_q())
        if rooms is not None:
            dwellings = dwellings.filter(room__in=rooms)
        rows = dwellings.values_list(
            "id",
            "path",
            "room",
            "entrance__number",
            "building_id",
            "building__name",
            "building__address",
            "building__compound__name",
        )
        buildings: dict[int, tuple[int | None, str]] = {}
        names: set[str] = set()
        for dwelling_id, path, room, entrance, building_id, bname, baddress, cname in rows.iterator(chunk_size=5000):
            if building_id not in buildings:
                buildings[building_id] = (building_number(bname), road_number(baddress or ""))
            number, road = buildings[building_id]
            compound = normalise_address(cname or "")
            if compound:
                names.add(compound)
            key = str(int(room)) if room.isdigit() else normalise_address(room)
            entry = _Entry(dwelling_id, path, compound, number, entrance, road)
            index.by_room.setdefault(key, []).append(entry)
            index.by_room_building.setdefault((key, number), []).append(entry)
            index.by_room_building_entrance.setdefault((key, number, entrance), []).append(entry)
            if compound:
                index.by_compound_room.setdefault((compound, key), []).append(entry)
        index.compounds = sorted(names, key=len, reverse=True)
        if choices and scope.area_path is not None:
            index.remembered = remembered_choices(scope.area_path)
        return index

    def match(self, raw: str) -> AddressMatch:
        text = normalise_address(raw)
        if not text:
            return AddressMatch(None, "", 0.0, "empty")
        if text not in self.cache:
            # A worker's decision wins over the parse: it is how a wrong or odd text gets placed.
            self.cache[text] = self.remembered.get(text) or self._match(parse_address(raw))
        return self.cache[text]

    def candidates(self, raw: str) -> list[int]:
        """The dwellings an address could be, by the matcher's own lookup (several when ambiguous)."""
        found = self._lookup(parse_address(raw))
        return [] if isinstance(found, AddressMatch) else [e.dwelling_id for e in found[0]]

    def _lookup(self, parsed: ParsedAddress) -> tuple[list[_Entry], str] | AddressMatch:
        """(candidates, compound named in the text), or the miss when the text cannot be looked up."""

        def miss(reason: str) -> AddressMatch:
            return AddressMatch(None, "", 0.0, "unmatched", reason)

        compound = next((c for c in self.compounds if c in parsed.text), "")
        if not parsed.room:
            return miss("地址中没有室号，无法对应到房屋")
        if parsed.building is None and not compound:
            return miss("地址中没有楼栋号，无法对应到房屋")
        if not compound:
            remainder = _ADMIN_PREFIX.sub("", parsed.prefix)
            if _COMPOUND_SUFFIX.search(remainder):
                return miss("地址中的小区不在本次导入的辖区内")
        if parsed.building is not None and parsed.entrance is not None:
            candidates = self.by_room_building_entrance.get((parsed.room, parsed.building, parsed.entrance), [])
        elif parsed.building is not None:
            candidates = self.by_room_building.get((parsed.room, parsed.building), [])
        elif compound:
            candidates = self.by_compound_room.get((compound, parsed.room), [])
        else:
            candidates = self.by_room.get(parsed.room, [])
        if compound:
            candidates = [c for c in candidates if c.compound == compound]
        if len(candidates) > 1:
            # Same-named compounds in different places: the road and number decide.
            on_road = [c for c in candidates if c.road and c.road in parsed.text]
            candidates = on_road or candidates
        return candidates, compound

    def _match(self, parsed: ParsedAddress) -> AddressMatch:
        def miss(reason: str, status: str = "unmatched") -> AddressMatch:
            return AddressMatch(None, "", 0.0, status, reason)

        found_or_miss = self._lookup(parsed)
        if isinstance(found_or_miss, AddressMatch):
            return found_or_miss
        candidates, compound = found_or_miss
        if not candidates:
            return miss("辖区内没有与该地址对应的房屋")
        if len(candidates) > 1:
            return miss(f"地址不完整，辖区内有{len(candidates)}户可能对应，请补充小区名、楼栋或单元", "ambiguous")
        found = candidates[0]
        missing = sum(
            [bool(found.compound) and not compound, parsed.building is None, parsed.entrance is None],
        )
        confidence = round(1.0 - 0.2 * missing, 2)
        reason = "" if missing == 0 else "地址缺少部分信息，按辖区内唯一的房屋匹配"
        return AddressMatch(found.dwelling_id, found.path, confidence, "matched", reason)


def remembered_choices(area_path: str) -> dict[str, AddressMatch]:
    """The decided texts that apply to an import into ``area_path``, as the matcher's answers.

    CHOSEN: any choice whose dwelling lies inside the area. When one text was chosen for different
    dwellings in different areas, the choice made for this very area wins, then the nearest
    area above it, then those below; a tie between different dwellings is no answer (the parse
    decides, and the text is asked again for this area). OUTSIDE: choices of this area or one
    above it (a text outside the subdistrict is outside each of its communities).
    """
    scope = Scope(area_path=area_path)
    above = ancestor_paths(area_path)
    chosen: dict[str, list[tuple[int, int, str, int]]] = {}
    rows = (
        AddressChoice.objects.filter(status=AddressChoiceStatus.CHOSEN, dwelling__isnull=False)
        .filter(scope.path_q("dwelling__path"))
        .values_list("id", "path", "text", "dwelling_id", "dwelling__path")
    )
    for choice_id, path, text, dwelling_id, dwelling_path in rows.iterator(chunk_size=5000):
        # 0: this area; 1..: areas above, nearest first; then areas below.
        rank = len(above) - above.index(path) - 1 if path in above else len(above)
        chosen.setdefault(text, []).append((rank, choice_id, dwelling_path, dwelling_id))
    answers: dict[str, AddressMatch] = {}
    for text, options in chosen.items():
        best = min(rank for rank, *_ in options)
        top = [o for o in options if o[0] == best]
        if len({o[3] for o in top}) == 1:
            _, choice_id, dwelling_path, dwelling_id = min(top, key=lambda o: o[1])
            answers[text] = AddressMatch(dwelling_id, dwelling_path, 1.0, "matched", REMEMBERED_REASON, choice_id)
    outside = AddressChoice.objects.filter(status=AddressChoiceStatus.OUTSIDE, path__in=above)
    for choice_id, text, _path in sorted(outside.values_list("id", "text", "path"), key=lambda r: len(r[2])):
        if text not in answers:  # nearer areas come later and win
            answers[text] = AddressMatch(None, "", 0.0, "unmatched", OUTSIDE_REASON, choice_id)
    return answers
