"""A generated multi-source Chinese population with known truth, for tests and benchmarks.

Households live in dwellings of a synthetic city; each person appears in one to five
department sources (公安, 人社, 民政, 卫健, 网格走访, 租赁登记), each with its own fields and
habits, and with the faults real imports have: typos, homophones (张/章, 伟/玮), traditional
characters (陳), names in pinyin only, missing ID numbers, first-generation 15-digit IDs,
a mistyped digit or two swapped digits in an ID (which the check digit betrays), households
that moved (old sources keep the old address), phones shared by a household, twins
(same birth date, address and phone; IDs one sequence apart), and addresses written in
many ways (十二栋 / 12号楼 / 12-2-301, full-width digits).

Reproducible: the same ``seed`` and size give the same records. ``person_id`` is the truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import opencc
from pypinyin import lazy_pinyin

from grassroots.core.ids import make_id_number

# Source code → (Chinese name, trust). Higher trust wins in survivorship.
SOURCES: dict[str, tuple[str, int]] = {
    "police": ("公安户籍", 90),
    "social": ("人社社保", 80),
    "civil": ("民政", 70),
    "health": ("卫健", 60),
    "grid": ("网格走访", 50),
    "rental": ("租赁登记", 40),
}
SOURCE_TRUST = {code: trust for code, (_, trust) in SOURCES.items()}


def _words(text: str) -> list[str]:
    return text.split()


# Surnames with rough frequency weights (per mille).
_SURNAMES = _words(
    "王71 李70 张68 刘53 陈45 杨31 黄22 赵21 吴20 周19 "
    "徐17 孙15 马14 朱13 胡12 郭11 何11 高10 林10 罗9 "
    "郑9 梁8 谢7 宋7 唐6 许6 韩6 冯6 邓6 曹5 彭5 曾5 肖5 "
    "田5 董4 袁4 潘4 于4 蒋4 蔡4 余4 杜4 叶4 程4 苏3 魏3 "
    "吕3 丁3 任3 沈3 姚3 卢3 姜3 崔3 钟3 谭3 陆3 汪3 范3 "
    "金3 石3 廖3 贾3 夏3 韦3 付3 方3 白3 邹2 孟2 熊2 秦2 "
    "邱2 江2 尹2 薛2 闫2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 "
    "顾2 毛2 郝2 龚2 邵2 万2 钱2 严2 覃1 武2 戴2 莫1 孔1 "
    "向1 汤1 章1 柳1 欧阳1 司马1 诸葛1 "
)
_GIVEN = _words(
    "伟 玮 炜 纬 芳 娜 敏 静 婧 靖 丽 莉 俐 强 磊 军 君 洋 阳 勇 "
    "艳 燕 杰 洁 娟 涛 韬 明 铭 鸣 超 秀 霞 平 萍 刚 桂 英 华 华 "
    "文 雯 辉 晖 建 国 红 宏 鸿 鹏 朋 飞 菲 斌 彬 宇 雨 玉 浩 皓 "
    "昊 凯 楷 峰 锋 丹 波 博 春 晨 辰 琳 林 霖 欣 新 鑫 婷 亭 思 "
    "斯 佳 嘉 家 子 梓 紫 涵 晗 怡 宜 一 轩 萱 宣 然 冉 晓 小 云 "
    "芸 慧 惠 东 冬 海 玲 凌 翠 志 智 兰 岚 成 诚 梅 媚 健 坤 昆 "
    "瑞 睿 雪 荣 蓉 龙 俊 骏 琪 淇 颖 莹 茜 倩 "
)
# Characters that look alike (typed from a scan or handwriting).
_LOOKALIKE = {
    "王": "玉",
    "未": "末",
    "日": "曰",
    "己": "已",
    "土": "士",
    "人": "入",
    "天": "夫",
    "田": "由",
    "大": "太",
}
_REGIONS = _words(
    "320102 320104 320105 320106 320111 "
    "320113 320114 320115 320116 320505 "
    "320583 340102 340104 341202 341204 "
    "410102 410105 370102 370103 510104 "
    "510105 420102 420106 360102 430102 "
    "320321 320322 "
)
_OTHER_PLACES = _words(
    "安徽省阜阳市颍州区清河街道 河南省周口市川汇区人和街道 "
    "山东省临沂市兰山区金雀山街道 四川省南充市顺庆区中城街道 "
    "湖北省黄冈市黄州区东湖街道 江西省上饶市信州区水南街道 "
    "湖南省邵阳市双清区小江湖街道 江苏省徐州市云龙区彭城街道 "
)
_ROADS = _words("中山 长江 黄河 人民 解放 建设 和平 胜利 新华 北京 上海 汉中 龙蟠 虎踞 广州 珠江 江东 清凉 华侨 云南 ")
_COMPOUND_WORDS = _words("阳光 幸福 锦绣 金色 翠竹 碧水 紫金 春江 明月 清风 桃源 湖滨 香山 怡景 万科 恒大 朝阳 东方 ")
_COMPOUND_SUFFIXES = ["花园", "小区", "家园", "新村", "苑", "公寓", "名城", "雅居"]
_DISTRICTS = ("玄武区", "秦淮区", "建邺区", "鼓楼区")
_CITY = "南京市"

_S2T = opencc.OpenCC("s2t")


def _homophone_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for ch in dict.fromkeys(_GIVEN):
        groups.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    return {ch: [o for o in groups[lazy_pinyin(ch)[0]] if o != ch] for ch in dict.fromkeys(_GIVEN)}


_HOMOPHONES = _homophone_groups()
_SURNAME_HOMOPHONES = {"张": "章", "章": "张", "刘": "柳", "柳": "刘", "徐": "许", "许": "徐", "王": "汪", "汪": "王"}


@dataclass(frozen=True)
class Faults:
    """Fault rates per record (probabilities)."""

    traditional: float = 0.04
    homophone: float = 0.03
    lookalike: float = 0.01
    name_space: float = 0.02
    id15: float = 0.08  # of records of people born before 2000 in sources that still keep old IDs
    id_typo: float = 0.015
    id_transposition: float = 0.005
    birth_typo: float = 0.01
    phone_old: float = 0.03
    moved: float = 0.06  # households that moved: older records keep the old address
    twins: float = 0.02  # of households with children
    separated_in: float = 0.12  # live here, registered elsewhere
    separated_out: float = 0.04  # registered here, live elsewhere


@dataclass
class _Person:
    pid: str
    name: str
    sex: str
    birth: date
    id_number: str
    phone: str
    household_phone: str
    address: str  # current dwelling (canonical form)
    old_address: str  # before moving, or ""
    registered: str  # registered address (canonical form)


class _City:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.compounds: list[tuple[str, str, str, str, str]] = []  # district, subdistrict, community, road+no, compound
        for i in range(400):
            district = _DISTRICTS[i % len(_DISTRICTS)]
            subdistrict = f"{rng.choice(_ROADS)}街道"
            community = f"{rng.choice(_COMPOUND_WORDS)}社区"
            road = f"{rng.choice(_ROADS)}路{rng.randint(1, 399)}号"
            name = f"{rng.choice(_COMPOUND_WORDS)}{rng.choice(_COMPOUND_SUFFIXES)}"
            if i >= len(_COMPOUND_WORDS) * 4:
                name = f"{name}{'二三四五六七八九'[i % 8]}期"
            self.compounds.append((district, subdistrict, community, road, name))
        self.used: set[tuple[int, int, int, int]] = set()

    def dwelling(self) -> tuple[int, int, int, int]:
        while True:
            key = (
                self.rng.randrange(len(self.compounds)),
                self.rng.randint(1, 30),
                self.rng.randint(1, 4),
                self.rng.randint(1, 18) * 100 + self.rng.randint(1, 4),
            )
            if key not in self.used:
                self.used.add(key)
                return key

    def canonical(self, key: tuple[int, int, int, int]) -> str:
        c = self.compounds[key[0]]
        return f"{_CITY}{c[0]}{c[1]}{c[2]}{c[3]}{c[4]}{key[1]}栋{key[2]}单元{key[3]}室"

    def written(self, key: tuple[int, int, int, int]) -> str:
        """The same dwelling as a department might write it."""
        c = self.compounds[key[0]]
        b, e, r = key[1], key[2], key[3]
        rng = self.rng
        style = rng.randrange(6)
        if style == 0:
            body = f"{b}栋{e}单元{r}室"
        elif style == 1:
            body = f"{_cn(b)}号楼{_cn(e)}单元{r}"
        elif style == 2:
            body = f"{b}-{e}-{r}"
        elif style == 3:
            body = _full_width(f"{b}幢{e}单元{r}户")
        elif style == 4:
            body = f"{b}座{e}单元{r}室"
        else:
            body = f"{b}号楼{e}单元{r}室"
        prefix = rng.choice(
            (
                f"{_CITY}{c[0]}{c[1]}{c[2]}{c[3]}",
                f"{c[0]}{c[3]}",
                f"{_CITY}{c[0]}",
                "",
            )
        )
        return f"{prefix}{c[4]}{body}"


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "0" <= ch <= "9" else ch for ch in text)


def _weighted_surnames() -> tuple[list[str], list[int]]:
    names, weights = [], []
    for item in _SURNAMES:
        i = next(k for k, ch in enumerate(item) if ch.isdigit())
        names.append(item[:i])
        weights.append(int(item[i:]))
    return names, weights


_SURNAME_LIST, _SURNAME_WEIGHTS = _weighted_surnames()


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _people(n_persons: int, rng: random.Random, faults: Faults) -> tuple[list[_Person], _City]:
    city = _City(rng)
    people: list[_Person] = []
    sequences: dict[tuple[str, date], int] = {}

    def make_id(region: str, birth: date, sex: str) -> str:
        seq = sequences.get((region, birth), rng.randrange(50, 300))
        sequences[(region, birth)] = seq + 1 + rng.randrange(3)
        return make_id_number(region, birth, seq, sex)

    def given() -> str:
        return "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))

    today = date(2026, 6, 30)
    while len(people) < n_persons:
        key = city.dwelling()
        address = city.canonical(key)
        old = city.canonical(city.dwelling()) if rng.random() < faults.moved else ""
        surname = rng.choices(_SURNAME_LIST, _SURNAME_WEIGHTS)[0]
        region = rng.choice(_REGIONS)
        hphone = _phone(rng)
        registered_elsewhere = rng.random() < faults.separated_in
        living_elsewhere = rng.random() < faults.separated_out
        head_birth = today - timedelta(days=rng.randint(22 * 365, 80 * 365))
        members: list[tuple[str, str, date, str]] = []  # name, sex, birth, role
        head_sex = rng.choice("MF")
        members.append((surname + given(), head_sex, head_birth, "head"))
        if rng.random() < 0.7:
            spouse_birth = head_birth + timedelta(days=rng.randint(-5 * 365, 5 * 365))
            members.append(
                (
                    rng.choices(_SURNAME_LIST, _SURNAME_WEIGHTS)[0] + given(),
                    "F" if head_sex == "M" else "M",
                    spouse_birth,
                    "spouse",
                )
            )
        young = head_birth + timedelta(days=rng.randint(22 * 365, 38 * 365))
        if young < today - timedelta(days=365) and rng.random() < 0.6:
            if rng.random() < faults.twins:
                sex = rng.choice("MF")
                first = given()
                members.append((surname + first, sex, young, "child"))
                members.append(
                    (
                        surname + first[:-1] + rng.choice(_GIVEN) if len(first) == 2 else surname + given(),
                        rng.choice("MF"),
                        young,
                        "child",
                    )
                )
            else:
                for _ in range(rng.choice((1, 1, 2))):
                    birth = min(young + timedelta(days=rng.randint(0, 8 * 365)), today - timedelta(days=30))
                    members.append((surname + given(), rng.choice("MF"), birth, "child"))
        if rng.random() < 0.15:
            members.append(
                (
                    surname + given(),
                    rng.choice("MF"),
                    head_birth - timedelta(days=rng.randint(22 * 365, 35 * 365)),
                    "parent",
                )
            )
        registered = rng.choice(_OTHER_PLACES) + f"{rng.randint(1, 200)}号" if registered_elsewhere else address
        lane, number, room = rng.randint(1, 200), rng.randint(1, 60), rng.randint(1, 20) * 100 + rng.randint(1, 4)
        current = f"上海市浦东新区张江镇科苑路{lane}弄{number}号{room}室" if living_elsewhere else address
        for name, sex, birth, role in members:
            own = (
                _phone(rng)
                if role in {"head", "spouse"}
                or (role == "child" and today.year - birth.year >= 16 and rng.random() < 0.8)
                else ""
            )
            people.append(
                _Person(
                    pid=f"P{len(people):07d}",
                    name=name,
                    sex=sex,
                    birth=birth,
                    id_number=make_id(region if role != "spouse" else rng.choice(_REGIONS), birth, sex),
                    phone=own,
                    household_phone=hphone,
                    address=current,
                    old_address=old if not living_elsewhere else "",
                    registered=registered,
                )
            )
        people[-len(members)].phone = people[-len(members)].phone or hphone
    return people[:n_persons], city


# Records per person: (count, weight); mean about 2.5.
_RECORDS_PER_PERSON = ((1, 20), (2, 30), (3, 28), (4, 15), (5, 7))


def _rewrite(city: _City, keys_of: dict[str, tuple[int, int, int, int]], canonical: str) -> str:
    """Write a canonical address of our city in one of the styles departments use."""
    key = keys_of.get(canonical)
    return city.written(key) if key else canonical


def generate(n_records: int, *, seed: int = 0, faults: Faults | None = None) -> list[dict[str, object]]:
    """About ``n_records`` source records (exactly that many) with ``person_id`` as the truth."""
    faults = faults or Faults()
    rng = random.Random(seed)
    mean = sum(c * w for c, w in _RECORDS_PER_PERSON) / sum(w for _, w in _RECORDS_PER_PERSON)
    people, city = _people(int(n_records / mean * 1.08) + 20, rng, faults)
    keys_of: dict[str, tuple[int, int, int, int]] = {city.canonical(key): key for key in city.used}
    counts, weights = zip(*_RECORDS_PER_PERSON, strict=True)
    codes = list(SOURCES)
    records: list[dict[str, object]] = []
    for person in people:
        k = rng.choices(counts, weights)[0]
        chosen = rng.sample(codes, k)
        for source in chosen:
            records.append(_record(person, source, rng, faults, city, keys_of, len(records)))
    records = records[:n_records]
    rng.shuffle(records)
    return records


def _record(
    p: _Person,
    source: str,
    rng: random.Random,
    f: Faults,
    city: _City,
    keys_of: dict[str, tuple[int, int, int, int]],
    n: int,
) -> dict[str, object]:
    name = p.name
    if rng.random() < f.homophone:
        i = rng.randrange(len(name))
        options = _SURNAME_HOMOPHONES.get(name[i], "") if i == 0 else "".join(_HOMOPHONES.get(name[i], []))
        if options:
            name = name[:i] + rng.choice(options) + name[i + 1 :]
    if rng.random() < f.lookalike:
        i = rng.randrange(len(name))
        name = name[:i] + _LOOKALIKE.get(name[i], rng.choice(_GIVEN)) + name[i + 1 :]
    if rng.random() < f.traditional:
        name = str(_S2T.convert(name))
    if source == "rental" and rng.random() < 0.15:
        syllables = lazy_pinyin(name)
        name = f"{syllables[0].capitalize()} {''.join(syllables[1:]).capitalize()}"
    elif rng.random() < f.name_space:
        name = f"{name[0]} {name[1:]}"

    missing_id = {"police": 0.0, "social": 0.01, "civil": 0.05, "health": 0.12, "grid": 0.35, "rental": 0.25}[source]
    id_number = "" if rng.random() < missing_id else p.id_number
    if id_number and source in {"police", "civil", "health"} and p.birth.year < 2000 and rng.random() < f.id15:
        id_number = id_number[:6] + id_number[8:17]
    elif id_number and rng.random() < f.id_typo:
        i = rng.randrange(17)
        id_number = id_number[:i] + rng.choice([d for d in "0123456789" if d != id_number[i]]) + id_number[i + 1 :]
    elif id_number and rng.random() < f.id_transposition:
        i = rng.randrange(16)
        if id_number[i] != id_number[i + 1]:
            id_number = id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2 :]

    birth: object = p.birth.isoformat()
    if source in {"grid", "rental"} and rng.random() < 0.3:
        birth = ""
    elif rng.random() < f.birth_typo:
        birth = (p.birth + timedelta(days=rng.choice((-1, 1)))).isoformat()
    sex = "" if rng.random() < 0.08 else p.sex

    phone = ""
    if source != "police" or rng.random() < 0.3:
        phone = p.phone or (p.household_phone if rng.random() < 0.7 else "")
        if phone and rng.random() < f.phone_old:
            phone = _phone(rng)
        if source == "grid" and rng.random() < 0.4:
            phone = p.household_phone  # the grid worker writes down the household's number
        if phone and rng.random() < 0.1:
            phone = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"

    stale = source in {"social", "civil"} and p.old_address and rng.random() < 0.6
    current = p.old_address if stale else p.address
    address = "" if rng.random() < 0.04 else _rewrite(city, keys_of, current)
    registered = _rewrite(city, keys_of, p.registered) if source == "police" else ""
    if source == "police":
        address = ""  # 户籍 knows the registered address only
    updated = date(2026, 6, 30) - timedelta(days=rng.randint(0, 5 * 365) + (900 if stale else 0))
    return {
        "record_id": f"{source}-{n:07d}",
        "source": source,
        "name": name,
        "id_number": id_number,
        "birth_date": birth,
        "sex": sex,
        "phone": phone,
        "address": address,
        "registered_address": registered,
        "updated_at": updated.isoformat(),
        "person_id": p.pid,
    }
