"""Word lists for the demo city: surnames, given names, place names, regions, departments.

Surname weights come from Faker's zh_CN provider (national frequencies in %); it is
used as a data source only, because calling Faker per row is far too slow at 10⁶ rows.
"""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

from faker.providers.person.zh_CN import Provider as _FakerPerson

_SURNAMES = list(_FakerPerson.last_names.keys())
_SURNAME_CUMULATIVE = list(accumulate(_FakerPerson.last_names.values()))

# Given-name characters by era: older generations carry era names (建国, 秀英), younger
# ones the two-character names common since the 1990s.
_OLD_MALE = [*_FakerPerson.first_names_male, "国庆", "建新", "振华", "德明", "永福", "金生", "根宝", "志明", "卫东"]
_OLD_FEMALE = [*_FakerPerson.first_names_female, "美华", "金妹", "秀娣", "月英", "彩娣", "巧英", "雪芬"]
_YOUNG_MALE_CHARS = "浩宇轩子梓博文俊杰泽睿晨辰一诚铭航瑞嘉昊宸逸锦天乐哲毅凯鹏翔明远志豪煜峻熙景"
_YOUNG_FEMALE_CHARS = "欣怡梓涵雨萱诗佳思可馨悦琪语嘉若彤雅晨静婉妍瑶琳曦颖蕾梦甜心月"


def surname(rng: random.Random) -> str:
    return _SURNAMES[bisect(_SURNAME_CUMULATIVE, rng.random() * _SURNAME_CUMULATIVE[-1])]


def given_name(rng: random.Random, sex: str, birth_year: int) -> str:
    if birth_year < 1975 or (birth_year < 1990 and rng.random() < 0.5):
        return rng.choice(_OLD_MALE if sex == "M" else _OLD_FEMALE)
    chars = _YOUNG_MALE_CHARS if sex == "M" else _YOUNG_FEMALE_CHARS
    if rng.random() < 0.15:
        return rng.choice(chars)
    first, second = rng.choice(chars), rng.choice(chars)
    return first + (second if second != first or rng.random() < 0.3 else rng.choice(chars))


def full_name(rng: random.Random, sex: str, birth_year: int, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, sex, birth_year)


# 昆山 towns and subdistricts first, then invented ones for larger cities.
SUBDISTRICTS = [
    "玉山镇", "巴城镇", "周市镇", "陆家镇", "花桥镇", "张浦镇", "千灯镇", "淀山湖镇", "周庄镇", "锦溪镇",
    "亭林街道", "高新区街道", "开发区街道", "城东街道", "城西街道", "朝阳街道", "青阳街道", "蓬朗街道",
]  # fmt: skip
_PLACE_WORDS = [
    "玉峰", "马鞍", "城东", "城西", "城南", "城北", "朝阳", "青阳", "新华", "中华", "星湖",
    "蓬曦", "娄江", "东塘", "西塘", "南港", "北门", "泾河", "陈墓", "杨湘", "石浦", "大市",
]  # fmt: skip
_NICE = "阳光 春晖 和谐 幸福 安康 锦华 翠竹 金桥 紫竹 绿地 同心 盛世 文昌 致和 长江 银河 景湖 水秀 悦湖 怡景"
_NICE_WORDS = _NICE.split()
_COMPOUND_SUFFIX = ["花园", "新村", "家园", "苑", "名邸", "华庭", "公寓", "小区", "雅苑", "嘉园"]
ROADS = ["前进路", "人民路", "朝阳路", "长江路", "黄河路", "萧林路", "马鞍山路", "柏庐路", "同丰路", "景王路"]


def subdistrict_name(index: int) -> str:
    if index < len(SUBDISTRICTS):
        return SUBDISTRICTS[index]
    a = _PLACE_WORDS[index % len(_PLACE_WORDS)]
    b = _NICE_WORDS[(index // len(_PLACE_WORDS)) % len(_NICE_WORDS)]
    return f"{a}{b[0]}街道"


def community_name(rng: random.Random, used: set[str]) -> str:
    for _ in range(50):
        name = rng.choice(_PLACE_WORDS + _NICE_WORDS) + rng.choice(["", "", "新村", "花园", "苑"]) + "社区"
        if name not in used:
            used.add(name)
            return name
    name = f"{rng.choice(_NICE_WORDS)}{len(used) + 1}社区"
    used.add(name)
    return name


def compound_name(rng: random.Random, kind: str) -> str:
    if kind == "old":
        return rng.choice(_PLACE_WORDS) + rng.choice(["新村", "一村", "二村", "小区"])
    if kind == "resettlement":
        return rng.choice(_PLACE_WORDS) + rng.choice(["安置小区", "新苑", "佳园"])
    if kind == "scattered":
        return rng.choice(ROADS) + "散居楼院"
    return rng.choice(_NICE_WORDS) + rng.choice(_COMPOUND_SUFFIX)


# Dedicated grids (专属网格): name stem and the non-residential buildings they hold.
DEDICATED_KINDS = [
    ("商业街", [("商铺楼", 2, 4)]),
    ("中学", [("教学楼", 4, 5), ("实验楼", 4, 5)]),
    ("小学", [("教学楼", 3, 4)]),
    ("医院", [("门诊楼", 5, 12), ("住院楼", 10, 20)]),
    ("产业园", [("厂房", 2, 5), ("研发楼", 6, 15)]),
    ("商务楼宇", [("写字楼", 15, 30)]),
    ("农贸市场", []),
]

# 户籍地 of migrants: real county-level codes (GB/T 2260) from the usual source provinces.
MIGRANT_REGIONS = [
    "341221", "341222", "341225", "341226", "341203", "342221", "342222", "341321", "341322", "341623",
    "412726", "412723", "411523", "411527", "411325", "410523", "321324", "321323", "320830", "320724",
    "510722", "511321", "511623", "500228", "430524", "431121", "362322", "360124", "522121", "532128",
    "421182", "421087", "371321", "372922", "130682", "622421", "451421", "330683", "350583", "140781",
]  # fmt: skip
LOCAL_REGION = "320583"

# Mobile prefixes in use on mainland networks.
PHONE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183", "184",
    "185", "186", "187", "188", "189", "191", "198", "199",
]  # fmt: skip

DISTRICT_DEPARTMENTS = [
    ("cgj", "城管局"), ("zjj", "住建局"), ("swj", "水务局"), ("mzj", "民政局"), ("gafj", "公安分局"),
    ("scjgj", "市场监管局"), ("sthjj", "生态环境局"), ("wjw", "卫健委"), ("yjglj", "应急管理局"),
    ("jtysj", "交通运输局"), ("rsj", "人社局"), ("jyj", "教育局"),
]  # fmt: skip
SUBDISTRICT_DEPARTMENTS = [("zhzfd", "综合执法队"), ("aqjgb", "安全监管办"), ("shsyb", "社会事业办")]

RELATION_HEAD = "户主"
