"""Synthetic households and residents: ages, relations, ID numbers, phones, tags.

Everything here is plain Python driven by a ``random.Random``, so the same seed gives
the same people. Ages are counted at a fixed reference date, not today, for the same
reason.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from datetime import date, timedelta

from grassroots.core.ids import make_id_number
from grassroots.demo import names

REFERENCE_DATE = date(2026, 1, 1)
_FIRST_BIRTH = date(1915, 1, 1)
_DAYS = (REFERENCE_DATE - _FIRST_BIRTH).days + 1
_SEQ_PER_SLOT = 499  # make_id_number sequences 1..499: 000 is never issued

# Household sizes: mean 2.5 (1: 25 %, 2: 30 %, 3: 25 %, 4: 12 %, 5: 6 %, 6: 2 %).
_SIZES = [1, 2, 3, 4, 5, 6]
_SIZE_WEIGHTS = [25, 30, 25, 12, 6, 2]
# Age of the head of household by band (a city with many working-age migrants).
_HEAD_AGE_BANDS = [(20, 29, 16), (30, 39, 24), (40, 49, 20), (50, 59, 17), (60, 69, 13), (70, 79, 7), (80, 95, 3)]


@dataclass
class Resident:
    name: str
    sex: str
    birth_date: date
    relation: str
    id_number: str = ""
    phone: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def age(self) -> int:
        b = self.birth_date
        return REFERENCE_DATE.year - b.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (b.month, b.day))


class IdAllocator:
    """Hands out unique ID numbers: one counter per (region, birth date, sex).

    The counters live in a flat array of fixed size (about 12 MB), so memory does
    not grow with the city. A full slot moves the birth date by a day.
    """

    def __init__(self) -> None:
        self.regions = [names.LOCAL_REGION, *names.MIGRANT_REGIONS]
        self._region_index = {r: i for i, r in enumerate(self.regions)}
        self._counters = array("H", bytes(2 * len(self.regions) * _DAYS * 2))

    def allocate(self, region: str, birth: date, sex: str) -> tuple[str, date]:
        base = self._region_index[region] * _DAYS * 2
        while True:
            slot = base + (birth - _FIRST_BIRTH).days * 2 + (sex == "M")
            if self._counters[slot] < _SEQ_PER_SLOT:
                self._counters[slot] += 1
                return make_id_number(region, birth, self._counters[slot], sex), birth
            birth -= timedelta(days=1)


class PhoneAllocator:
    """Unique mobile numbers: a bijection of a running counter onto 8-digit suffixes."""

    _MULTIPLIER = 48_271_913  # coprime with 10⁸, so i → (a·i + b) mod 10⁸ is a permutation

    def __init__(self, seed: int) -> None:
        self._next = 0
        self._offset = (seed * 7_919) % 100_000_000

    def allocate(self) -> str:
        i = self._next
        self._next += 1
        prefixes = names.PHONE_PREFIXES
        suffix = (self._MULTIPLIER * (i // len(prefixes)) + self._offset) % 100_000_000
        return f"{prefixes[i % len(prefixes)]}{suffix:08d}"


def _birth(rng: random.Random, age: int) -> date:
    age = max(0, min(age, 105))
    latest = REFERENCE_DATE - timedelta(days=365 * age)
    return max(_FIRST_BIRTH, latest - timedelta(days=rng.randrange(365)))


def _band_age(rng: random.Random) -> int:
    low, high, _ = rng.choices(_HEAD_AGE_BANDS, weights=[b[2] for b in _HEAD_AGE_BANDS])[0]
    return rng.randint(low, high)


def _person(rng: random.Random, sex: str, age: int, relation: str, family: str | None) -> Resident:
    birth = _birth(rng, age)
    return Resident(names.full_name(rng, sex, birth.year, family), sex, birth, relation)


def make_household(rng: random.Random) -> list[Resident]:
    """One household, head first: couple, children, sometimes the head's parents."""
    size = rng.choices(_SIZES, weights=_SIZE_WEIGHTS)[0]
    head_age = _band_age(rng)
    if size >= 3 and head_age > 60:
        head_age = rng.randint(30, 55)  # larger households centre on a working-age couple
    if size == 1 and rng.random() < 0.35:
        head_age = rng.randint(62, 92)  # many one-person households are older people
    head_sex = "M" if rng.random() < (0.72 if size > 1 else 0.5) else "F"
    family = names.surname(rng)
    head = _person(rng, head_sex, head_age, names.RELATION_HEAD, family)
    members = [head]
    remaining = size - 1
    mother_age = head_age
    if remaining and (size > 2 or rng.random() < 0.75):
        spouse_sex = "F" if head_sex == "M" else "M"
        spouse_age = max(20, head_age + rng.randint(-4, 2) * (1 if head_sex == "M" else -1))
        members.append(_person(rng, spouse_sex, spouse_age, "配偶", None))
        mother_age = spouse_age if spouse_sex == "F" else head_age
        remaining -= 1
    grandparents = 0
    if remaining >= 2 and size >= 4 and rng.random() < 0.45:
        grandparents = 2 if remaining >= 3 and rng.random() < 0.5 else 1
    children = remaining - grandparents
    child_family = family if head_sex == "M" or rng.random() < 0.3 else names.surname(rng)
    for _ in range(children):
        age = mother_age - rng.randint(22, 36)
        if age < 0:
            age = rng.randint(0, 5)
        sex = "M" if rng.random() < 0.52 else "F"
        members.append(_person(rng, sex, age, "子" if sex == "M" else "女", child_family))
    for k in range(grandparents):
        age = min(100, head_age + rng.randint(23, 33))
        sex = "M" if k == 0 and rng.random() < 0.6 else "F"
        members.append(_person(rng, sex, age, "父亲" if sex == "M" else "母亲", family if sex == "M" else None))
    return members


def assign_identity(
    rng: random.Random, members: list[Resident], ids: IdAllocator, phones: PhoneAllocator, low_income: bool
) -> None:
    """ID numbers (one 户籍 region per household, sometimes another for the spouse), phones, tags."""
    region = names.LOCAL_REGION if rng.random() < 0.62 else rng.choice(names.MIGRANT_REGIONS)
    alone = len(members) == 1
    for person in members:
        own_region = region
        if person.relation == "配偶" and rng.random() < 0.15:
            own_region = rng.choice(ids.regions)
        person.id_number, person.birth_date = ids.allocate(own_region, person.birth_date, person.sex)
        age = person.age
        if age >= 12 and (age < 80 or rng.random() < 0.5):
            person.phone = phones.allocate()
        tags = person.tags
        if age >= 60:
            tags.append("elderly_60")
            if alone and rng.random() < 0.7:
                tags.append("living_alone")
        if age < 18:
            tags.append("minor")
        if rng.random() < (0.012 + (0.03 if age >= 70 else 0.0)):
            tags.append("disabled")
        if low_income:
            tags.append("low_income")
        if person.sex == "M" and 25 <= age <= 85 and rng.random() < 0.025:
            tags.append("veteran")


# --- Residences (户籍 / 常住 / 流动) and 人户分离 ------------------------------------------

# Province-level names for the 户籍地 text of migrants (first two digits of the region code).
PROVINCES = {
    "13": "河北省", "14": "山西省", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省",
    "36": "江西省", "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省", "45": "广西壮族自治区",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "62": "甘肃省",
}  # fmt: skip
SEPARATED_LOCAL_SHARE = 0.03  # local households registered in one dwelling, living in another
FLOATING_DAYS = 365  # migrants here for less than a year count as floating, not resident


def registered_address(region: str) -> str:
    return f"{PROVINCES.get(region[:2], '外省')}（行政区划代码 {region}）"


@dataclass(frozen=True)
class ResidencePlan:
    """One person's residences: registered (here or elsewhere) and actual, and the separation."""

    registered_dwelling: int | None  # index into the community's dwellings; None: elsewhere
    registered_text: str
    registered_since: date
    actual_kind: str  # "resident" or "floating"
    actual_since: date
    separation: str  # "" or "lives_here"


def plan_residences(rng: random.Random, members: list[Resident], home: int, dwellings: int) -> list[ResidencePlan]:
    """Residences of one household living in dwelling ``home`` (of ``dwellings`` in the community)."""
    elsewhere = home
    if dwellings > 1 and rng.random() < SEPARATED_LOCAL_SHARE:
        elsewhere = rng.randrange(dwellings - 1)
        elsewhere += elsewhere >= home  # any other dwelling of the community
    moved_in = REFERENCE_DATE - timedelta(days=rng.randrange(30, 20 * 365))
    stay = rng.randrange(20, 8 * 365)
    plans = []
    for m in members:
        region = m.id_number[:6]
        if region == names.LOCAL_REGION:
            since = max(m.birth_date, moved_in)
            plans.append(
                ResidencePlan(elsewhere, "", m.birth_date, "resident", since, "lives_here" if elsewhere != home else "")
            )
        else:
            arrived = max(m.birth_date, REFERENCE_DATE - timedelta(days=stay))
            kind = "floating" if stay < FLOATING_DAYS else "resident"
            plans.append(ResidencePlan(None, registered_address(region), m.birth_date, kind, arrived, "lives_here"))
    return plans
