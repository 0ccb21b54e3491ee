"""Chinese addresses → standard parts (标准地址), without Django.

``parse_address`` splits an address into province, city, district, subdistrict, community,
road, number, compound, building, entrance, floor and room, after normalising full-width
forms, Chinese numerals (十二栋 → 12) and synonyms (号楼/栋/幢/座 → 栋, 室/户 → 室,
1-2-301 → 1栋2单元301室). Parsing is by suffix, left to right; a part that is not there stays
empty. ``address_keys`` gives the comparison keys linkage uses (dwelling, building, compound).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

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
_CN_NUM = "零〇一二两三四五六七八九十百千"
_CN_NUMBER = re.compile(rf"([{_CN_NUM}]+)(?=号楼|号|栋|幢|座|单元|室|户|层|楼|门|#|期)")
_LEADING_CN_NUMBER = re.compile(rf"(?<=[\d栋元楼号层])([{_CN_NUM}]+)$")
_BUILDING_SYNONYMS = re.compile(r"(\d+)\s*(?:号楼|#楼|#|栋|幢|座|号院楼|号栋)")
_ENTRANCE_SYNONYMS = re.compile(r"(\d+)\s*(?:单元|门洞|门(?!牌))")
_ROOM_SYNONYMS = re.compile(r"(\d+)\s*(?:室|户|号房|房)")
_FLOOR_SYNONYMS = re.compile(r"(\d+)\s*(?:层|楼(?!栋))(?=\d)")
_DASHED = re.compile(r"(\d+)-(\d+)-(\d+)$")
_DASHED_TWO = re.compile(r"(\d+)-(\d+)$")

_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_PROVINCE = re.compile(r"^(.{2,7}?(?:省|自治区|特别行政区))")
_CITY = re.compile(r"^(.{1,8}?(?:市|自治州|地区|盟))")
_DISTRICT = re.compile(r"^(.{1,8}?(?:(?<!小)区|县|旗))(?!\d)")  # 怡景小区 is a compound
_COUNTY_CITY = re.compile(r"^(.{1,6}?市)")  # 县级市 under a prefecture-level city: 苏州市昆山市
_SUBDISTRICT = re.compile(r"^(.{1,8}?(?:街道办事处|街道|镇|乡))")
_COMMUNITY = re.compile(r"^(.{1,10}?(?:社区居委会|社区居民委员会|社区|村委会|居委会|(?<!新)村))(?!\d)")
_ROAD = re.compile(r"^(.{1,12}?(?:大道|大街|路|街|巷|弄|胡同|道))(?=\d|[^\d]{0,0})")
_NUMBER = re.compile(r"^(\d+(?:-\d+)?)号(?!楼)")
_COMPOUND = re.compile(
    r"^(.{1,16}?(?:小区|花园|家园|公寓|新村|大厦|广场|名城|苑|园|府|庭|湾|里|坊|城|村|宿舍|院|居)(?:\d+期)?)(?=\d|$)"
)
_BUILDING = re.compile(r"^(\d+)栋")
_ENTRANCE = re.compile(r"^(\d+)单元")
_FLOOR = re.compile(r"^(\d+)层")
_ROOM = re.compile(r"^(\d+)室")
_TRAILING_ROOM = re.compile(r"^(\d{3,4})$")


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


@lru_cache(maxsize=262144)
def normalise_address(text: str | None) -> str:
    """Half-width, no spaces, Arabic numerals and one spelling per part (栋/单元/层/室)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"[\s,，。]+", "", text).replace("—", "-").replace("－", "-").replace("~", "-")
    text = _CN_NUMBER.sub(lambda m: str(chinese_number(m.group(1))), text)
    text = _LEADING_CN_NUMBER.sub(lambda m: str(chinese_number(m.group(1))), text)
    text = _BUILDING_SYNONYMS.sub(r"\1栋", text)
    text = _ENTRANCE_SYNONYMS.sub(r"\1单元", text)
    text = _ROOM_SYNONYMS.sub(r"\1室", text)
    return _FLOOR_SYNONYMS.sub(r"\1层", text)


@dataclass(frozen=True)
class ParsedAddress:
    province: str = ""
    city: str = ""
    district: str = ""
    subdistrict: str = ""
    community: str = ""
    road: str = ""
    number: str = ""
    compound: str = ""
    building: str = ""
    entrance: str = ""
    floor: str = ""
    room: str = ""
    rest: str = ""  # what could not be placed
    text: str = ""  # the normalised input

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _take(pattern: re.Pattern[str], text: str) -> tuple[str, str]:
    found = pattern.match(text)
    return (found.group(1), text[found.end() :]) if found else ("", text)


@lru_cache(maxsize=262144)
def parse_address(raw: str | None) -> ParsedAddress:
    text = normalise_address(raw)
    if not text:
        return ParsedAddress()
    rest = text
    dashed = _DASHED.search(rest)
    if dashed and "栋" not in rest[: dashed.start()]:  # 阳光花园1-2-301: building-entrance-room
        b, e, r = dashed.groups()
        rest = f"{rest[: dashed.start()]}{int(b)}栋{int(e)}单元{int(r)}室"
    province, city = "", ""
    for name in _MUNICIPALITIES:
        if rest.startswith(name):
            province = city = name
            rest = rest[len(name) :]
            break
    if not province:
        province, rest = _take(_PROVINCE, rest)
        city, rest = _take(_CITY, rest)
    district, rest = _take(_DISTRICT, rest)
    if not district and city and city not in _MUNICIPALITIES:
        district, rest = _take(_COUNTY_CITY, rest)
    subdistrict, rest = _take(_SUBDISTRICT, rest)
    community, rest = _take(_COMMUNITY, rest)
    road, rest = _take(_ROAD, rest)
    number = ""
    if road:
        if found := re.match(r"^\d+弄", rest):  # Shanghai lanes: 科苑路88弄5号 → road 科苑路88弄, number 5
            road, rest = road + found.group(0), rest[found.end() :]
        number, rest = _take(_NUMBER, rest)
    compound, rest = _take(_COMPOUND, rest)
    if not compound and (found := re.match(r"^(.+?)(?=\d+栋)", rest)):
        compound, rest = found.group(1), rest[found.end() :]
    building, rest = _take(_BUILDING, rest)
    entrance, rest = _take(_ENTRANCE, rest)
    floor, rest = _take(_FLOOR, rest)
    room, rest = _take(_ROOM, rest)
    if not floor and (found := re.match(r"^(\d+)楼$", rest)):
        floor, rest = found.group(1), ""
    if not room and (building or entrance):
        room, rest = _take(_TRAILING_ROOM, rest)
    if not compound and not building and not road and (found := _TRAILING_ROOM.match(rest)):
        room, rest = found.group(1), ""
    if room and not floor and len(room) >= 3:
        floor = str(int(room[:-2]))
    strip = lambda v: str(int(v)) if v.isdigit() else v  # noqa: E731
    return ParsedAddress(
        province=province,
        city=city,
        district=district,
        subdistrict=subdistrict,
        community=community,
        road=road,
        number=number,
        compound=compound,
        building=strip(building),
        entrance=strip(entrance),
        floor=strip(floor),
        room=strip(room),
        rest=rest,
        text=text,
    )


@dataclass(frozen=True)
class AddressKeys:
    dwelling: str  # compound or road+number, building, entrance, room
    building: str  # compound or road+number, building
    place: str  # compound, or road+number


def _place(p: ParsedAddress) -> str:
    if p.compound:
        # 幸福花园小区 and 幸福花园 are one compound, written both ways.
        short = p.compound.removesuffix("小区")
        return short if len(short) >= 2 else p.compound
    if p.road:
        return f"{p.road}{p.number}号" if p.number else p.road
    return ""


@lru_cache(maxsize=262144)
def address_keys(raw: str | None) -> AddressKeys:
    """Comparison keys: equal keys mean the same dwelling / building / compound.

    Administrative prefixes are left out: departments write them or not, and a compound
    name plus building and room is already specific inside one city.
    """
    p = parse_address(raw)
    place = _place(p)
    if not place:
        return AddressKeys("", "", "")
    building = f"{place}|{p.building}" if p.building else ""
    dwelling = f"{place}|{p.building}|{p.entrance}|{p.room}" if p.room else ""
    return AddressKeys(dwelling, building, place)
