"""Writes one community of the demo city in one transaction, with bulk inserts."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import shapely
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from grassroots.accounts.models import GridRoleAssignment, GridRoleKind, Post, Role, User, WorkerProfile
from grassroots.core import clock
from grassroots.demo import fastinsert, layout, names
from grassroots.demo.buildings import CommunityPlan, plan_community
from grassroots.demo.people import assign_identity, make_household, plan_residences
from grassroots.places.models import Area, AreaLevel, Building, Compound, Dwelling, Entrance, GridKind
from grassroots.registry.models import Household, Person, Residence
from grassroots.registry.sealing import seal_id_number, seal_phone
from grassroots.registry.search_keys import name_keys

if TYPE_CHECKING:
    from grassroots.demo.generator import CityGenerator

BATCH = 1000
WORKERS_SINCE = date(2008, 1, 1)
WORKERS_PER_10K_RESIDENTS = 18
_AREA_M2 = {"high_rise": (75, 140), "mid_high": (70, 130), "multi_storey": (55, 110), "low": (45, 90)}
_PERSON_FIELDS = [
    "id",
    "name",
    "sex",
    "birth_date",
    "id_number_cipher",
    "id_number_hash",
    "id_number_masked",
    "phone_cipher",
    "phone_hash",
    "phone_masked",
    "household",
    "relation",
    "dwelling",
    "path",
    "name_pinyin",
    "name_initials",
    "ethnicity",
    "separation",
    "provenance",
    "updated_at",
]
_UNUSABLE_PASSWORD = make_password(None)  # demo workers have accounts but cannot log in


def _ethnicity(pk: int) -> str:
    """民族 as a street office finds it: one in ten not yet recorded, a few minorities among 汉族.

    Taken from the row's id, not the generator's random stream, so every other value of the
    demo city stays what it was.
    """
    if pk % 10 == 0:
        return ""
    return ("回族", "满族", "蒙古族")[pk % 3] if pk % 47 == 0 else "汉族"


class CommunityWriter:
    def __init__(self, city: CityGenerator, tag_ids: dict[str, int]) -> None:
        self.city = city
        self.counts = city.counts
        self.tag_ids = tag_ids

    def write(
        self,
        *,
        subdistrict: Area,
        code: str,
        name: str,
        households: int,
        index: int,
        dedicated: tuple[str, list[tuple[str, int, int]]] | None,
    ) -> shapely.Geometry:
        """Plan and write one community; returns its geometry for the subdistrict's union."""
        rng = random.Random(f"demo:{self.city.seed}:c:{index}")
        for _ in range(20):
            plan = plan_community(rng, households)
            try:
                runs = layout.partition_runs(rng, [b.households for b in plan.buildings])
                break
            except layout.PlanError:
                continue  # another draw of buildings nearly always splits
        else:
            raise layout.PlanError(f"community {index}: no grid split within 300–500 households")
        cells = [self._next_cell() for _ in plan.buildings]
        extra_cells = [self._next_cell() for _ in range(rng.randint(1, 3))] if dedicated else []
        with transaction.atomic():
            return self._write(subdistrict, code, name, rng, plan, runs, cells, dedicated, extra_cells)

    def _next_cell(self) -> tuple[int, int]:
        cell = layout.hilbert_cell(self.city.cursor)
        self.city.cursor += 1
        return cell

    def _write(
        self,
        subdistrict: Area,
        code: str,
        name: str,
        rng: random.Random,
        plan: CommunityPlan,
        runs: list[int],
        cells: list[tuple[int, int]],
        dedicated: tuple[str, list[tuple[str, int, int]]] | None,
        extra_cells: list[tuple[int, int]],
    ) -> shapely.Geometry:
        boxes = [layout.cell_box(*cell) for cell in cells]
        grid_geoms, start = [], 0
        for run in runs:
            grid_geoms.append(layout.union(boxes[start : start + run]))
            start += run
        all_geoms = list(grid_geoms)
        if dedicated:
            all_geoms.append(layout.union([layout.cell_box(*cell) for cell in extra_cells]))
        community_geom = layout.union(all_geoms)
        path = f"{subdistrict.path}.{code}"
        community = Area.objects.create(
            parent=subdistrict,
            level=AreaLevel.COMMUNITY,
            code=code,
            name=name,
            path=path,
            depth=subdistrict.depth + 1,
            **layout.area_fields(community_geom),
        )
        grids = [
            Area(
                parent=community,
                level=AreaLevel.GRID,
                grid_kind=GridKind.COMPREHENSIVE,
                code=f"{g + 1:02d}",
                name=f"{name}第{g + 1}网格",
                path=f"{path}.{g + 1:02d}",
                depth=community.depth + 1,
                **layout.area_fields(geom),
            )
            for g, geom in enumerate(grid_geoms)
        ]
        if dedicated:
            grids.append(
                Area(
                    parent=community,
                    level=AreaLevel.GRID,
                    grid_kind=GridKind.DEDICATED,
                    code="Z1",
                    name=f"{name}{dedicated[0]}专属网格",
                    path=f"{path}.Z1",
                    depth=community.depth + 1,
                    **layout.area_fields(all_geoms[-1]),
                )
            )
        Area.objects.bulk_create(grids)
        self.counts.areas += 1 + len(grids)
        grid_of_building = [grids[g] for g, run in enumerate(runs) for _ in range(run)]
        compounds = self._compounds(community, plan, boxes)
        buildings = self._buildings(rng, plan, cells, grid_of_building, compounds, subdistrict.name)
        if dedicated:
            buildings += self._dedicated_buildings(rng, grids[-1], dedicated, extra_cells)
        Building.objects.bulk_create(buildings, batch_size=BATCH)
        self.counts.buildings += len(buildings)
        residents = self._people(rng, plan, buildings)
        self._workers(rng, community, residents)
        self._grid_roles(rng, grids)
        return community_geom

    def _compounds(self, community: Area, plan: CommunityPlan, boxes: list[Any]) -> list[Compound]:
        compounds = []
        for cp in plan.compounds:
            geom = layout.union([boxes[i] for i in cp.buildings])
            compounds.append(
                Compound(
                    community=community,
                    path=community.path,
                    name=cp.name,
                    kind=cp.kind,
                    built_year=cp.built_year,
                    **layout.area_fields(geom),
                )
            )
        Compound.objects.bulk_create(compounds, batch_size=BATCH)
        self.counts.compounds += len(compounds)
        return compounds

    def _buildings(
        self,
        rng: random.Random,
        plan: CommunityPlan,
        cells: list[tuple[int, int]],
        grid_of_building: list[Area],
        compounds: list[Compound],
        town: str,
    ) -> list[Building]:
        result = []
        for i, bp in enumerate(plan.buildings):
            lon, lat = layout.point_in_cell(rng, *cells[i])
            cp = plan.compounds[bp.compound]
            grid = grid_of_building[i]
            result.append(
                Building(
                    grid=grid,
                    compound=compounds[bp.compound],
                    path=grid.path,
                    name=f"{bp.number}幢",
                    address=f"昆山市{town}{cp.road}{cp.number}号{cp.name}{bp.number}幢",
                    typology=bp.typology,
                    floors=bp.floors,
                    households=bp.households,
                    geometry=layout.footprint(lon, lat, bp.entrances > 1),
                    lon=lon,
                    lat=lat,
                )
            )
        return result

    def _dedicated_buildings(
        self,
        rng: random.Random,
        grid: Area,
        dedicated: tuple[str, list[tuple[str, int, int]]],
        cells: list[tuple[int, int]],
    ) -> list[Building]:
        stem, kinds = dedicated
        result: list[Building] = []
        if not kinds:
            return result  # e.g. a market square: a dedicated grid with no building
        for i, cell in enumerate(cells):
            label, low, high = kinds[i % len(kinds)]
            lon, lat = layout.point_in_cell(rng, *cell)
            result.append(
                Building(
                    grid=grid,
                    path=grid.path,
                    name=f"{stem}{label}{i + 1}号",
                    typology="non_residential",
                    floors=rng.randint(low, high),
                    households=0,
                    geometry=layout.footprint(lon, lat, True),
                    lon=lon,
                    lat=lat,
                )
            )
        return result

    def _people(self, rng: random.Random, plan: CommunityPlan, buildings: list[Building]) -> int:
        """Entrances, dwellings, one household per dwelling, and its members."""
        entrances: list[Entrance] = []
        for bp, building in zip(plan.buildings, buildings, strict=False):
            entrances += [Entrance(building=building, path=building.path, number=n) for n in range(1, bp.entrances + 1)]
        Entrance.objects.bulk_create(entrances, batch_size=BATCH)
        self.counts.entrances += len(entrances)
        # (dwelling id, building, entrance id, floor, room, area): rows of the three big tables follow.
        dwellings: list[tuple[int, Building, int, int, str, str]] = []
        first_entrance = 0
        for bp, building in zip(plan.buildings, buildings, strict=False):
            low, high = _AREA_M2.get(bp.typology, (60, 100))
            for entrance, floor, room in bp.rooms():
                area = f"{rng.randint(low * 10, high * 10) / 10:.1f}"
                dwellings.append((0, building, entrances[first_entrance + entrance - 1].pk, floor, room, area))
            first_entrance += bp.entrances
        dwelling_ids = fastinsert.reserve_ids(Dwelling, len(dwellings))
        fastinsert.insert_rows(
            Dwelling,
            ["id", "entrance", "building", "path", "floor", "room", "area_m2"],
            ((i, e, b.pk, b.path, f, r, m) for i, (_, b, e, f, r, m) in zip(dwelling_ids, dwellings, strict=True)),
        )
        self.counts.dwellings += len(dwellings)
        families = [make_household(rng) for _ in dwellings]
        for members in families:
            assign_identity(rng, members, self.city.ids, self.city.phones, low_income=rng.random() < 0.012)
        household_ids = fastinsert.reserve_ids(Household, len(families))
        paths = [d[1].path for d in dwellings]
        self.counts.households += fastinsert.insert_rows(
            Household,
            ["id", "dwelling", "path", "head_name"],
            zip(household_ids, dwelling_ids, paths, (m[0].name for m in families), strict=True),
        )
        person_ids = fastinsert.reserve_ids(Person, sum(len(m) for m in families))
        now = connection.ops.adapt_datetimefield_value(clock.now())
        rows, links = [], []
        residences: list[tuple[int, str, int | None, str, str, date]] = []
        next_id = iter(person_ids)
        # Its own stream, so adding residences left every other draw of the city unchanged.
        res_rng = random.Random(f"demo:{self.city.seed}:res:{paths[0] if paths else ''}")
        for home, (household_id, dwelling_id, path, members) in enumerate(
            zip(household_ids, dwelling_ids, paths, families, strict=True)
        ):
            plans = plan_residences(res_rng, members, home, len(dwelling_ids))
            for m, rp in zip(members, plans, strict=True):
                pk = next(next_id)
                if rp.registered_dwelling is None:
                    residences.append((pk, "registered", None, rp.registered_text, "", rp.registered_since))
                else:
                    k = rp.registered_dwelling
                    residences.append((pk, "registered", dwelling_ids[k], "", paths[k], rp.registered_since))
                residences.append((pk, rp.actual_kind, dwelling_id, "", path, rp.actual_since))
                sealed_id = seal_id_number(m.id_number)
                sealed_phone = seal_phone(m.phone) if m.phone else None
                rows.append(
                    (
                        pk,
                        m.name,
                        m.sex,
                        m.birth_date.isoformat(),
                        sealed_id.cipher,
                        sealed_id.hash,
                        sealed_id.masked,
                        sealed_phone.cipher if sealed_phone else None,
                        sealed_phone.hash if sealed_phone else "",
                        sealed_phone.masked if sealed_phone else "",
                        household_id,
                        m.relation,
                        dwelling_id,
                        path,
                        *name_keys(m.name),
                        _ethnicity(pk),
                        rp.separation,
                        "{}",
                        now,
                    )
                )
                links += [(pk, self.tag_ids[code]) for code in m.tags]
        self.counts.persons += fastinsert.insert_rows(Person, _PERSON_FIELDS, rows)
        through = Person.tags.through
        self.counts.person_tags += fastinsert.insert_rows(through, ["person", "tag"], links)
        self.counts.residences += fastinsert.insert_rows(
            Residence,
            ["person", "kind", "dwelling", "address", "path", "since"],
            ((p, k, d, a, pa, s.isoformat()) for p, k, d, a, pa, s in residences),
        )
        return len(rows)

    def _workers(self, rng: random.Random, community: Area, residents: int) -> None:
        """Community workers: at least 18 per 10,000 residents, on the 三岗十八级 ladder."""
        count = max(12, math.ceil(residents * WORKERS_PER_10K_RESIDENTS / 10_000)) + rng.randint(0, 3)
        key = community.path.replace(".", "")
        users, posts = [], []
        for k in range(count):
            post = Post.HEAD if k == 0 else Post.DEPUTY if k <= 2 else Post.STAFF
            grade = {Post.HEAD: (13, 18), Post.DEPUTY: (7, 14), Post.STAFF: (1, 10)}[post]
            sex = "M" if rng.random() < 0.45 else "F"
            year = rng.randint(1970, 2000)
            users.append(
                User(
                    username=f"demo_w{key}_{k + 1:02d}",
                    password=_UNUSABLE_PASSWORD,
                    role=Role.COMMUNITY_WORKER,
                    area=community,
                    display_name=names.full_name(rng, sex, year),
                )
            )
            posts.append((post, rng.randint(*grade), WORKERS_SINCE + timedelta(days=rng.randrange(6000))))
        User.objects.bulk_create(users, batch_size=BATCH)
        WorkerProfile.objects.bulk_create(
            WorkerProfile(user=u, area=community, path=community.path, post=p, grade=g, since=s)
            for u, (p, g, s) in zip(users, posts, strict=True)
        )
        self.counts.users += len(users)
        self.counts.worker_profiles += len(users)

    def _grid_roles(self, rng: random.Random, grids: list[Area]) -> None:
        """The four members (四员) of every comprehensive grid; a grid worker for dedicated ones."""
        rows = []
        for grid in grids:
            kinds = GridRoleKind.values if grid.grid_kind == GridKind.COMPREHENSIVE else [GridRoleKind.GRID_WORKER]
            for kind in kinds:
                sex = "M" if rng.random() < (0.8 if kind in ("police", "fire") else 0.45) else "F"
                rows.append(
                    GridRoleAssignment(
                        grid=grid,
                        path=grid.path,
                        kind=kind,
                        name=names.full_name(rng, sex, rng.randint(1968, 2000)),
                        phone=self.city.phones.allocate(),
                        since=date(2019, 1, 1) + timedelta(days=rng.randrange(2500)),
                    )
                )
        GridRoleAssignment.objects.bulk_create(rows, batch_size=BATCH)
        self.counts.grid_roles += len(rows)
