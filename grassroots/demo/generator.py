"""The demo city generator: 苏州市 → 昆山市 → subdistricts → communities → grids → people.

It streams: each community is planned in memory, written with bulk inserts in its
own transaction and dropped, so memory stays flat from 2,000 to 2,000,000 households.
Per-row services are not used (they would write one audit entry per row); values are
sealed with the same registry functions those services use.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.test.utils import override_settings

from grassroots.accounts.models import Department
from grassroots.audit.services import SYSTEM, audit_record
from grassroots.demo import layout, names
from grassroots.demo.community import CommunityWriter
from grassroots.demo.people import REFERENCE_DATE, IdAllocator, PhoneAllocator
from grassroots.places.models import Area, AreaLevel
from grassroots.registry.models import Tag

CITY_CODE, CITY_NAME = "3205", "苏州市"
DISTRICT_CODE, DISTRICT_NAME = "320583", "昆山市"


@dataclass
class Counts:
    areas: int = 0
    compounds: int = 0
    buildings: int = 0
    entrances: int = 0
    dwellings: int = 0
    households: int = 0
    persons: int = 0
    person_tags: int = 0
    residences: int = 0
    departments: int = 0
    users: int = 0
    worker_profiles: int = 0
    grid_roles: int = 0

    @property
    def rows(self) -> int:
        return sum(asdict(self).values())


@dataclass(frozen=True)
class Plan:
    community_sizes: list[int]
    subdistrict_groups: list[int]


def make_plan(households: int, seed: int) -> Plan:
    """Raises layout.PlanError when the size cannot be split within the rules."""
    rng = random.Random(f"demo:{seed}:plan")
    sizes = layout.community_sizes(rng, households)
    return Plan(sizes, layout.subdistrict_groups(rng, len(sizes)))


@contextmanager
def _bulk_session() -> Iterator[None]:
    """No per-query debug log (it formats every statement) and, on SQLite, a larger page cache."""
    with override_settings(DEBUG=False):
        if connection.vendor != "sqlite":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            previous = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size = -131072")  # 128 MiB: the indexes on hashes are random-access
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")


class CityGenerator:
    def __init__(self, *, households: int, seed: int, log: Callable[[str], None]) -> None:
        self.households = households
        self.seed = seed
        self.log = log
        self.plan = make_plan(households, seed)
        self.counts = Counts()
        self.ids = IdAllocator()
        self.phones = PhoneAllocator(seed)
        self.cursor = 0  # next free cell on the Hilbert curve

    def run(self) -> Counts:
        with _bulk_session():
            return self._run()

    def _run(self) -> Counts:
        started = time.monotonic()
        tag_ids = dict(Tag.objects.values_list("code", "id"))
        missing = {"elderly_60", "minor", "living_alone", "disabled", "low_income", "veteran"} - tag_ids.keys()
        if missing:
            raise RuntimeError(f"registry tags missing (run migrate): {sorted(missing)}")
        with transaction.atomic():
            city = self._area(None, AreaLevel.CITY, CITY_CODE, CITY_NAME)
            district = self._area(city, AreaLevel.DISTRICT, DISTRICT_CODE, DISTRICT_NAME)
            self._departments(district, DISTRICT_CODE, DISTRICT_NAME, names.DISTRICT_DEPARTMENTS)
        writer = CommunityWriter(self, tag_ids)
        subdistrict_geoms = []
        community_index = 0
        total = len(self.plan.community_sizes)
        for s, group in enumerate(self.plan.subdistrict_groups):
            rng = random.Random(f"demo:{self.seed}:s:{s}")
            name = names.subdistrict_name(s)
            with transaction.atomic():
                sub = self._area(district, AreaLevel.SUBDISTRICT, f"{s + 1:03d}", name)
                self._departments(sub, f"{DISTRICT_CODE}{s + 1:03d}", name, names.SUBDISTRICT_DEPARTMENTS)
            dedicated = set(rng.sample(range(group), k=min(group, rng.randint(2, 4))))
            used_names: set[str] = set()
            community_geoms = []
            for c in range(group):
                community_geoms.append(
                    writer.write(
                        subdistrict=sub,
                        code=f"{c + 1:03d}",
                        name=names.community_name(rng, used_names),
                        households=self.plan.community_sizes[community_index],
                        index=community_index,
                        dedicated=rng.choice(names.DEDICATED_KINDS) if c in dedicated else None,
                    )
                )
                community_index += 1
            geom = layout.union(community_geoms)
            subdistrict_geoms.append(geom)
            Area.objects.filter(pk=sub.pk).update(**layout.area_fields(geom))
            elapsed = time.monotonic() - started
            self.log(
                f"subdistrict {s + 1}/{len(self.plan.subdistrict_groups)} {name}: {group} communities; "
                f"total {community_index}/{total} communities, {self.counts.households:,} households, "
                f"{self.counts.persons:,} persons, {self.counts.rows:,} rows, {elapsed:.1f} s"
            )
        with transaction.atomic():
            geom = layout.union(subdistrict_geoms)
            Area.objects.filter(pk__in=[city.pk, district.pk]).update(**layout.area_fields(geom))
            audit_record(
                actor=SYSTEM,
                action="demo.generate",
                object_type="area",
                object_id=city.pk,
                area_path=city.path,
                detail={
                    "households_requested": self.households,
                    "seed": self.seed,
                    "reference_date": REFERENCE_DATE.isoformat(),
                    "seconds": round(time.monotonic() - started, 1),
                    **asdict(self.counts),
                },
            )
        return self.counts

    def _area(self, parent: Area | None, level: str, code: str, name: str, **extra: Any) -> Area:
        area = Area.objects.create(
            parent=parent,
            level=level,
            code=code,
            name=name,
            path=f"{parent.path}.{code}" if parent else code,
            depth=parent.depth + 1 if parent else 0,
            **extra,
        )
        self.counts.areas += 1
        return area

    def _departments(self, area: Area, prefix: str, area_name: str, items: list[tuple[str, str]]) -> None:
        Department.objects.bulk_create(
            Department(area=area, path=area.path, code=f"{prefix}-{code}", name=f"{area_name}{name}")
            for code, name in items
        )
        self.counts.departments += len(items)
