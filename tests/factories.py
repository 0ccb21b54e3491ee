"""A small named place tree and one persona per role, built through the services.

Tree (each grid a 0.01° square, buildings inside):

    苏州市 3205 ─ 昆山市 320583 ─┬ 玉山镇 001 ─┬ 城北社区 001 ─┬ 网格一 01 (comprehensive)
                                  │             │               └ 网格二 02 (comprehensive)
                                  │             └ 城南社区 002 ── 网格三 01
                                  └ 周市镇 002 ── 周市社区 001 ── 网格四 01
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from grassroots.accounts import services as accounts
from grassroots.accounts.models import Department, Role, User
from grassroots.audit.services import SYSTEM
from grassroots.core.ids import make_id_number
from grassroots.places import services as places
from grassroots.places.models import Area, Building
from grassroots.registry import services as registry

PASSWORD = "Grassroots-Test-2026"
ORIGIN = (120.95, 31.38)  # near Kunshan


def square(col: int, row: int, size: float = 0.01) -> dict[str, Any]:
    x0, y0 = ORIGIN[0] + col * size, ORIGIN[1] + row * size
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def centre(col: int, row: int, size: float = 0.01) -> tuple[float, float]:
    return ORIGIN[0] + (col + 0.5) * size, ORIGIN[1] + (row + 0.5) * size


@dataclass
class Tree:
    city: Area
    district: Area
    yushan: Area
    zhoushi: Area
    chengbei: Area
    chengnan: Area
    zhoushi_c: Area
    grid1: Area
    grid2: Area
    grid3: Area
    grid4: Area
    building1: Building
    building3: Building
    department: Department
    other_department: Department
    users: dict[str, User] = field(default_factory=dict)
    outsiders: dict[str, User] = field(default_factory=dict)


def build_tree() -> Tree:
    a = places.area_create
    city = a(actor=SYSTEM, parent=None, level="city", code="3205", name="苏州市")
    district = a(actor=SYSTEM, parent=city, level="district", code="320583", name="昆山市")
    yushan = a(actor=SYSTEM, parent=district, level="subdistrict", code="001", name="玉山镇")
    zhoushi = a(actor=SYSTEM, parent=district, level="subdistrict", code="002", name="周市镇")
    chengbei = a(actor=SYSTEM, parent=yushan, level="community", code="001", name="城北社区")
    chengnan = a(actor=SYSTEM, parent=yushan, level="community", code="002", name="城南社区")
    zhoushi_c = a(actor=SYSTEM, parent=zhoushi, level="community", code="001", name="周市社区")
    grids = []
    for i, parent in enumerate([chengbei, chengbei, chengnan, zhoushi_c]):
        code = "02" if i == 1 else "01"
        grids.append(
            a(
                actor=SYSTEM,
                parent=parent,
                level="grid",
                code=code,
                name=f"网格{'一二三四'[i]}",
                grid_kind="comprehensive",
                geometry=square(i, 0),
            )
        )
    compound = places.compound_create(actor=SYSTEM, community=chengbei, name="阳光花园")
    lon, lat = centre(0, 0)
    b1 = places.building_create(
        actor=SYSTEM,
        grid=grids[0],
        compound=compound,
        name="1幢",
        typology="multi_storey",
        floors=6,
        entrances=2,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    lon, lat = centre(2, 0)
    b3 = places.building_create(
        actor=SYSTEM,
        grid=grids[2],
        name="8幢",
        typology="mid_high",
        floors=11,
        entrances=1,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    dept = accounts.department_create(actor=SYSTEM, area=district, code="cgj", name="昆山市城管局")
    other = accounts.department_create(actor=SYSTEM, area=district, code="sw", name="昆山市水务局")
    return Tree(city, district, yushan, zhoushi, chengbei, chengnan, zhoushi_c, *grids, b1, b3, dept, other)


def add_personas(tree: Tree) -> None:
    """One user per role inside 城北社区's branch of the tree, and one outside for each."""
    inside = {
        Role.RESIDENT: {"area": tree.chengbei},
        Role.GRID_WORKER: {"area": tree.grid1},
        Role.COMMUNITY_WORKER: {"area": tree.chengbei},
        Role.SUBDISTRICT_DISPATCHER: {"area": tree.yushan},
        Role.DEPARTMENT_OFFICER: {"department": tree.department},
        Role.PARTY_SECRETARY: {"area": tree.chengbei},
        Role.DISTRICT_LEADER: {"area": tree.district},
        Role.ADMIN: {},
    }
    outside = {
        Role.RESIDENT: {"area": tree.zhoushi_c},
        Role.GRID_WORKER: {"area": tree.grid2},
        Role.COMMUNITY_WORKER: {"area": tree.chengnan},
        Role.SUBDISTRICT_DISPATCHER: {"area": tree.zhoushi},
        Role.DEPARTMENT_OFFICER: {"department": tree.other_department},
        Role.PARTY_SECRETARY: {"area": tree.zhoushi_c},
    }
    for role, kwargs in inside.items():
        tree.users[role] = accounts.user_create(
            actor=SYSTEM, username=f"in_{role}", password=PASSWORD, role=role, **kwargs
        )
    for role, kwargs in outside.items():
        tree.outsiders[role] = accounts.user_create(
            actor=SYSTEM, username=f"out_{role}", password=PASSWORD, role=role, **kwargs
        )


def add_resident(tree: Tree, *, seq: int = 1, name: str = "张伟") -> Any:
    dwelling = tree.building1.dwellings.order_by("id").first()
    return registry.person_create(
        actor=SYSTEM,
        name=name,
        id_number=make_id_number("320583", date(1950, 3, 9), seq, "M"),
        phone=f"1381234{seq:04d}",
        dwelling=dwelling,
    )


@pytest.fixture
def tree(db: None) -> Tree:
    t = build_tree()
    add_personas(t)
    return t
