"""The demo city keeps the rules it claims: sizes, geometry, people, determinism, bad input."""

from __future__ import annotations

import io
from collections import Counter, defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Sum
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

from grassroots.accounts.models import GridRoleAssignment, GridRoleKind, Role, User, WorkerProfile
from grassroots.audit.models import AuditEntry
from grassroots.core.crypto import decrypt
from grassroots.core.ids import parse_id_number, parse_mobile
from grassroots.core.scope import Scope
from grassroots.demo.management.commands.demo_accounts import DEMO_PASSWORD
from grassroots.demo.people import REFERENCE_DATE, Resident
from grassroots.places.models import Area, AreaLevel, Building, Dwelling, GridKind
from grassroots.places.selectors import grid_at_point
from grassroots.registry.models import Household, Person
from grassroots.registry.services import ID_CONTEXT, PHONE_CONTEXT


def demo_city(households: int = 2000, seed: int = 1, replace: bool = False) -> str:
    out = io.StringIO()
    call_command("demo_city", households=households, seed=seed, replace=replace, stdout=out)
    return out.getvalue()


@pytest.fixture
def city(db: None) -> None:
    demo_city(6000, 1)


def test_area_tree_and_household_rules(city: None) -> None:
    assert Area.objects.get(level=AreaLevel.CITY).path == "3205"
    assert Area.objects.get(level=AreaLevel.DISTRICT).path == "3205.320583"
    assert not Area.objects.filter(lon__isnull=True).exists()
    per_grid = dict(Building.objects.values("grid_id").annotate(h=Sum("households")).values_list("grid_id", "h"))
    grids = Area.objects.filter(level=AreaLevel.GRID)
    comprehensive = [g for g in grids if g.grid_kind == GridKind.COMPREHENSIVE]
    assert comprehensive and grids.filter(grid_kind=GridKind.DEDICATED).exists()
    for grid in comprehensive:
        assert 300 <= per_grid[grid.pk] <= 500, grid.path
    for grid in grids.filter(grid_kind=GridKind.DEDICATED):
        assert per_grid.get(grid.pk, 0) == 0
    communities = Area.objects.filter(level=AreaLevel.COMMUNITY)
    for community in communities:
        total = sum(h for g, h in per_grid.items() if g in {c.pk for c in community.children.all()})
        assert 2000 <= total <= 3000, community.path
    assert Household.objects.count() == Dwelling.objects.count() == 6000
    dwellings = dict(Dwelling.objects.values("building_id").annotate(n=Count("id")).values_list("building_id", "n"))
    for building in Building.objects.all():
        assert building.households == dwellings.get(building.pk, 0), building.pk
        assert building.path == building.grid.path
        if building.compound_id:
            assert building.grid.path.startswith(building.compound.path + ".")
    # Every dwelling holds one household; rooms follow floor × 100 + position.
    assert not Dwelling.objects.annotate(n=Count("households")).exclude(n=1).exists()
    for dwelling in Dwelling.objects.all()[:500]:
        assert dwelling.room.startswith(str(dwelling.floor)) and len(dwelling.room) == len(str(dwelling.floor)) + 2


def test_geometry_nests_and_never_overlaps(city: None) -> None:
    grids = list(Area.objects.filter(level=AreaLevel.GRID))
    shapes = [shape(g.geometry) for g in grids]
    tree = STRtree(shapes)
    for i, geom in enumerate(shapes):
        assert geom.is_valid and geom.geom_type == "Polygon"
        for j in tree.query(geom):
            if j != i:
                assert geom.intersection(shapes[j]).area < 1e-12, (grids[i].path, grids[int(j)].path)
    by_id = {g.pk: geom for g, geom in zip(grids, shapes, strict=True)}
    everything = Scope.everything()
    for building in Building.objects.select_related("grid"):
        assert by_id[building.grid_id].contains(Point(building.lon, building.lat))
        if building.grid.grid_kind == GridKind.COMPREHENSIVE:
            assert grid_at_point(scope=everything, lon=building.lon, lat=building.lat).pk == building.grid_id
    for area in Area.objects.exclude(level=AreaLevel.GRID):
        parent = shape(area.geometry)
        children = [shape(c.geometry) for c in area.children.all()]
        assert abs(parent.area - sum(c.area for c in children)) < 1e-9 * max(parent.area, 1)
        assert all(parent.buffer(1e-9).contains(c) for c in children)
        assert 120.8 < area.lon < 121.2 and 31.2 < area.lat < 31.55


def test_people_have_valid_unique_ids_and_tags(city: None) -> None:
    persons = list(Person.objects.prefetch_related("tags"))
    assert 2.3 < len(persons) / 6000 < 2.7
    numbers = set()
    for person in persons:
        info = parse_id_number(decrypt(person.id_number_cipher, context=ID_CONTEXT))
        assert info.birth_date == person.birth_date and info.sex == person.sex
        assert person.id_number_masked == info.number[:4] + "*" * 10 + info.number[-4:]
        numbers.add(info.number)
        if person.phone_cipher:
            assert parse_mobile(decrypt(person.phone_cipher, context=PHONE_CONTEXT))
        codes = {t.code for t in person.tags.all()}
        age = Resident(person.name, person.sex, person.birth_date, "").age
        assert ("elderly_60" in codes) == (age >= 60)
        assert ("minor" in codes) == (age < 18)
        assert person.path == person.dwelling.path
    assert len(numbers) == len(persons)
    assert len({p.id_number_hash for p in persons}) == len(persons)
    regions = Counter(n[:6] for n in numbers)
    assert 0.5 < regions["320583"] / len(numbers) < 0.8 and len(regions) > 10
    heads = Person.objects.filter(relation="户主")
    assert heads.count() == 6000
    assert not heads.exclude(household__head_name=F("name")).exists()
    surnames = Counter(p.name[0] for p in persons)
    assert surnames.most_common(1)[0][0] in "王李张刘陈"
    assert REFERENCE_DATE.year - min(p.birth_date.year for p in persons) > 85


def test_workers_and_grid_roles(city: None) -> None:
    residents: dict[str, int] = defaultdict(int)
    for path, n in Person.objects.values("path").annotate(n=Count("id")).values_list("path", "n"):
        residents[path.rsplit(".", 1)[0]] += n
    for community in Area.objects.filter(level=AreaLevel.COMMUNITY):
        workers = WorkerProfile.objects.filter(area=community)
        assert workers.count() >= residents[community.path] * 18 / 10_000
        assert all(1 <= w.grade <= 18 for w in workers) and workers.filter(post="head").count() == 1
        assert not workers.filter(user__role__in=[Role.ADMIN]).exists()
    for grid in Area.objects.filter(grid_kind=GridKind.COMPREHENSIVE):
        kinds = set(GridRoleAssignment.objects.filter(grid=grid).values_list("kind", flat=True))
        assert kinds == set(GridRoleKind.values)
    assert AuditEntry.objects.filter(action="demo.generate").count() == 1


def _snapshot() -> list[tuple[str, str, str]]:
    return [
        (p.name, p.birth_date.isoformat(), decrypt(p.id_number_cipher, context=ID_CONTEXT))
        for p in Person.objects.order_by("id")
    ]


def test_same_seed_same_city_and_replace(db: None) -> None:
    demo_city(2000, 7)
    first = _snapshot()
    points = list(Building.objects.order_by("id").values_list("lon", "lat", "name"))
    demo_city(2000, 7, replace=True)
    assert _snapshot() == first
    assert list(Building.objects.order_by("id").values_list("lon", "lat", "name")) == points
    demo_city(2000, 8, replace=True)
    other = _snapshot()
    assert [p[2] for p in other[:50]] != [p[2] for p in first[:50]]
    assert Area.objects.filter(level=AreaLevel.CITY).count() == 1
    assert Household.objects.count() == 2000 and Person.objects.count() == len(other)
    assert AuditEntry.objects.filter(action="demo.generate").count() == 3


@pytest.mark.parametrize(
    ("households", "seed"), [(1999, 1), (2_000_001, 1), (2000, -1), ("abc", 1), (2000, "x1"), (3500, 1), (True, 1)]
)
def test_bad_input_exits_2_and_changes_nothing(db: None, households: object, seed: object) -> None:
    before = AuditEntry.objects.count()
    with pytest.raises(CommandError) as info:
        call_command("demo_city", households=households, seed=seed, stdout=io.StringIO())
    assert info.value.returncode == 2
    assert not Area.objects.exists() and AuditEntry.objects.count() == before


def test_existing_areas_need_replace(db: None) -> None:
    Area.objects.create(level=AreaLevel.CITY, code="3205", name="苏州市", path="3205", depth=0)
    with pytest.raises(CommandError, match="--replace") as info:
        demo_city(2000)
    assert info.value.returncode == 2 and Area.objects.count() == 1
    Area.objects.create(level=AreaLevel.CITY, code="3201", name="南京市", path="3201", depth=0)
    with pytest.raises(CommandError) as info:
        demo_city(2000, replace=True)
    assert info.value.returncode == 2 and Area.objects.count() == 2


def test_demo_accounts_one_per_role_idempotent(db: None) -> None:
    with pytest.raises(CommandError) as info:
        call_command("demo_accounts", stdout=io.StringIO())
    assert info.value.returncode == 2
    demo_city(2000)
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    users = User.objects.filter(username__in=[f"demo_{role}" for role in Role.values])
    assert sorted(users.values_list("role", flat=True)) == sorted(Role.values)
    # The demo grid worker holds its grid's 网格员 post; the community worker is on the ladder.
    grid_worker = users.get(role=Role.GRID_WORKER)
    holders = GridRoleAssignment.objects.filter(grid=grid_worker.area, kind="grid_worker", until__isnull=True)
    assert [h.user_id for h in holders] == [grid_worker.pk]
    assert users.get(role=Role.COMMUNITY_WORKER).worker_profile.area == users.get(role=Role.COMMUNITY_WORKER).area
    assert all(u.check_password(DEMO_PASSWORD) for u in users)
    assert users.get(role=Role.GRID_WORKER).area.grid_kind == GridKind.COMPREHENSIVE
    again = io.StringIO()
    call_command("demo_accounts", stdout=again)
    assert users.count() == len(Role.values)
    assert GridRoleAssignment.objects.filter(user=grid_worker).count() == 1
    assert "demo_admin" in again.getvalue() and "系统管理员" in again.getvalue()
    # --replace removes the scoped demo accounts with their areas; the admin account stays.
    demo_city(2000, 2, replace=True)
    assert list(users.all()) == [User.objects.get(username="demo_admin")]
    call_command("demo_accounts", stdout=io.StringIO())
    assert users.count() == len(Role.values)


def test_residences_and_separation(city: None) -> None:
    """Locals registered and living in one dwelling; migrants registered elsewhere; a few locals split."""
    from grassroots.registry.models import Residence, ResidenceKind, Separation

    persons = {p.pk: p for p in Person.objects.all()}
    current: dict[int, dict[str, Residence]] = defaultdict(dict)
    for r in Residence.objects.filter(until__isnull=True):
        current[r.person_id][r.kind] = r
    assert set(current) == set(persons)
    split_locals = 0
    for pk, person in persons.items():
        registered = current[pk][ResidenceKind.REGISTERED]
        actual = current[pk].get(ResidenceKind.RESIDENT) or current[pk][ResidenceKind.FLOATING]
        assert actual.dwelling_id == person.dwelling_id and actual.path == person.path
        local = decrypt(person.id_number_cipher, context=ID_CONTEXT).startswith("320583")
        assert local == (registered.dwelling_id is not None)
        if not local:  # a migrant: 户籍 is text outside our tree
            assert registered.address and registered.path == ""
            assert person.separation == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
        elif registered.dwelling_id == actual.dwelling_id:
            assert person.separation == Separation.NONE
        else:
            assert local and person.separation == Separation.LIVES_HERE_REGISTERED_ELSEWHERE
            split_locals += 1
    locals_ = sum(1 for pk in persons if current[pk][ResidenceKind.REGISTERED].dwelling_id is not None)
    assert 0.01 < split_locals / locals_ < 0.06
    assert Residence.objects.filter(kind=ResidenceKind.FLOATING).exists()
