"""Compounds and buildings of one community, planned in memory before anything is written."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from grassroots.demo import names

# Compound kinds: (kind, weight, built years, typology weights, buildings per compound).
_KINDS = [
    ("commodity", 45, (2000, 2023), {"high_rise": 45, "mid_high": 35, "multi_storey": 20}, (6, 24)),
    ("old", 25, (1980, 2002), {"multi_storey": 100}, (8, 30)),
    ("resettlement", 20, (2003, 2018), {"mid_high": 50, "multi_storey": 30, "high_rise": 20}, (10, 30)),
    ("scattered", 10, (1985, 2005), {"multi_storey": 70, "low": 30}, (1, 4)),
]


@dataclass
class BuildingPlan:
    compound: int  # index into CommunityPlan.compounds
    number: int  # 1幢, 2幢 … within its compound
    typology: str
    floors: int
    entrances: int
    per_floor: int
    households: int
    missing: int = 0  # dwellings not built on floor 1 (shops or bicycle storage)

    def rooms(self) -> list[tuple[int, int, str]]:
        """(entrance, floor, room) of every dwelling; room = floor × 100 + position."""
        result = []
        skipped = 0
        for entrance in range(1, self.entrances + 1):
            for floor in range(1, self.floors + 1):
                for pos in range(1, self.per_floor + 1):
                    if floor == 1 and skipped < self.missing:
                        skipped += 1
                        continue
                    result.append((entrance, floor, f"{floor}{pos:02d}"))
        return result


@dataclass
class CompoundPlan:
    name: str
    kind: str
    built_year: int
    road: str
    number: int
    buildings: list[int] = field(default_factory=list)  # indices into CommunityPlan.buildings


@dataclass
class CommunityPlan:
    compounds: list[CompoundPlan] = field(default_factory=list)
    buildings: list[BuildingPlan] = field(default_factory=list)


def typology_of(floors: int) -> str:
    if floors >= 18:
        return "high_rise"
    if floors >= 8:
        return "mid_high"
    if floors >= 4:
        return "multi_storey"
    return "low"


def _shape(rng: random.Random, typology: str) -> tuple[int, int, int]:
    """Floors, entrances and dwellings per floor for one building of a typology."""
    if typology == "high_rise":
        entrances = rng.choice([1, 1, 2])
        per_floor = 4 if entrances == 1 and rng.random() < 0.3 else 2
        return rng.randint(18, 33), entrances, per_floor
    if typology == "mid_high":
        return rng.randint(8, 17), rng.choice([1, 2, 2, 3]), 2
    if typology == "multi_storey":
        return rng.choice([4, 5, 6, 6, 6, 7]), rng.choice([2, 3, 3, 4]), 2
    return rng.randint(2, 3), rng.choice([1, 2]), 2


def plan_community(rng: random.Random, households: int) -> CommunityPlan:
    """Compounds and buildings holding exactly ``households`` dwellings, in walking order."""
    plan = CommunityPlan()
    total = 0
    used_names: set[str] = set()
    while total < households:
        kind, _, years, typologies, count = rng.choices(_KINDS, weights=[k[1] for k in _KINDS])[0]
        name = names.compound_name(rng, kind)
        while name in used_names:
            name = names.compound_name(rng, kind) + ("二期" if name + "二期" not in used_names else "三期")
        used_names.add(name)
        compound = CompoundPlan(name, kind, rng.randint(*years), rng.choice(names.ROADS), rng.randint(1, 999))
        plan.compounds.append(compound)
        main = rng.choices(list(typologies), weights=list(typologies.values()))[0]
        for number in range(1, rng.randint(*count) + 1):
            if total >= households:
                break
            typology = main if rng.random() < 0.8 else rng.choice(list(typologies))
            floors, entrances, per_floor = _shape(rng, typology)
            size = floors * entrances * per_floor
            missing = 0
            if total + size > households:
                # The last building of the community holds exactly what is left.
                size = households - total
                if size < 2 * entrances * per_floor:
                    entrances, per_floor = 1, 2
                floors = math.ceil(size / (entrances * per_floor))
                missing = floors * entrances * per_floor - size
                typology = typology_of(floors)
            compound.buildings.append(len(plan.buildings))
            plan.buildings.append(
                BuildingPlan(len(plan.compounds) - 1, number, typology, floors, entrances, per_floor, size, missing)
            )
            total += size
    return plan
