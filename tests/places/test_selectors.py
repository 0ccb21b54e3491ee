"""Reads of the place tree: scope for every role, counts, point-in-grid, query counts."""

from __future__ import annotations

import pytest

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import scope_for
from grassroots.audit.services import SYSTEM
from grassroots.core.errors import NotFound
from grassroots.core.scope import Scope
from grassroots.places import selectors, services
from grassroots.places.geo import InvalidGeometry, locator
from grassroots.places.models import Area
from tests.factories import centre, square

pytestmark = pytest.mark.django_db

# Who may open things in 网格一 (城北社区): every inside role that may browse places.
SEES_GRID1 = {
    Role.RESIDENT: False,  # residents have no place browser at all
    Role.GRID_WORKER: True,
    Role.COMMUNITY_WORKER: True,
    Role.SUBDISTRICT_DISPATCHER: True,
    Role.DEPARTMENT_OFFICER: True,  # the department's area is the district
    Role.PARTY_SECRETARY: True,
    Role.DISTRICT_LEADER: True,
    Role.ADMIN: True,
}
OUTSIDER_SEES_GRID1 = {
    Role.RESIDENT: False,
    Role.GRID_WORKER: False,  # 网格二
    Role.COMMUNITY_WORKER: False,  # 城南社区
    Role.SUBDISTRICT_DISPATCHER: False,  # 周市镇
    Role.DEPARTMENT_OFFICER: True,  # 水务局 also sits at the district
    Role.PARTY_SECRETARY: False,  # 周市社区
}

PERSONAS = [("users", role, sees) for role, sees in SEES_GRID1.items()] + [
    ("outsiders", role, sees) for role, sees in OUTSIDER_SEES_GRID1.items()
]


def _scope(tree, group, role) -> Scope:
    return scope_for(getattr(tree, group)[role], "places.browse")


def _reads(tree, scope):
    """Every selector that takes an object in 网格一 (or its building/dwelling)."""
    dwelling = tree.building1.dwellings.first()
    return {
        "area_get": lambda: selectors.area_get(scope=scope, area_id=tree.grid1.pk),
        "area_get_by_path": lambda: selectors.area_get_by_path(scope=scope, path=tree.grid1.path),
        "area_children": lambda: selectors.area_children(scope=scope, area=tree.grid1),
        "area_stats": lambda: selectors.area_stats(scope=scope, area=tree.grid1),
        "children_household_counts": lambda: selectors.children_household_counts(scope=scope, area=tree.grid1),
        "building_list": lambda: selectors.building_list(scope=scope, grid=tree.grid1),
        "building_get": lambda: selectors.building_get(scope=scope, building_id=tree.building1.pk),
        "building_dwellings": lambda: selectors.building_dwellings(scope=scope, building=tree.building1),
        "dwelling_get": lambda: selectors.dwelling_get(scope=scope, dwelling_id=dwelling.pk),
        "grid_features": lambda: selectors.grid_features(scope=scope, area=tree.grid1),
        "grid_at_point": lambda: selectors.grid_at_point(scope=scope, lon=centre(0, 0)[0], lat=centre(0, 0)[1]),
    }


@pytest.mark.parametrize(("group", "role", "sees"), PERSONAS, ids=[f"{g}-{r}" for g, r, _ in PERSONAS])
def test_every_selector_is_scoped_for_every_persona(tree, group, role, sees):
    scope = _scope(tree, group, role)
    for name, read in _reads(tree, scope).items():
        if sees:
            assert read() is not None, name
        else:
            with pytest.raises(NotFound):
                read()


def test_missing_objects_are_not_found_even_for_the_admin(tree):
    scope = Scope.everything()
    with pytest.raises(NotFound):
        selectors.area_get(scope=scope, area_id=999_999)
    with pytest.raises(NotFound):
        selectors.area_get_by_path(scope=scope, path="3205.9")
    with pytest.raises(NotFound):
        selectors.building_get(scope=scope, building_id=999_999)
    with pytest.raises(NotFound):
        selectors.dwelling_get(scope=scope, dwelling_id=999_999)


def test_not_found_message_does_not_tell_missing_from_out_of_scope(tree):
    with pytest.raises(NotFound) as missing:
        selectors.area_get(scope=Scope(area_path=tree.grid2.path), area_id=999_999)
    with pytest.raises(NotFound) as hidden:
        selectors.area_get(scope=Scope(area_path=tree.grid2.path), area_id=tree.grid1.pk)
    assert missing.value.message == hidden.value.message == "未找到该对象，或您无权查看。"


@pytest.mark.parametrize(
    ("role", "roots"),
    [
        (Role.RESIDENT, []),
        (Role.GRID_WORKER, ["网格一"]),
        (Role.COMMUNITY_WORKER, ["城北社区"]),
        (Role.SUBDISTRICT_DISPATCHER, ["玉山镇"]),
        (Role.DEPARTMENT_OFFICER, ["昆山市"]),
        (Role.PARTY_SECRETARY, ["城北社区"]),
        (Role.DISTRICT_LEADER, ["昆山市"]),
        (Role.ADMIN, ["苏州市"]),
    ],
)
def test_area_roots_per_role(tree, role, roots):
    assert [a.name for a in selectors.area_roots(scope=_scope(tree, "users", role))] == roots


def test_children_breadcrumb_and_scope_flags(tree):
    scope = Scope(area_path=tree.yushan.path)
    assert [a.name for a in selectors.area_children(scope=scope, area=tree.yushan)] == ["城北社区", "城南社区"]
    crumbs = selectors.area_breadcrumb(scope=scope, area=tree.grid1)
    assert [(a.name, ok) for a, ok in crumbs] == [
        ("苏州市", False),
        ("昆山市", False),
        ("玉山镇", True),
        ("城北社区", True),
        ("网格一", True),
    ]


def test_area_stats_numbers(tree):
    micro = services.area_create(
        actor=SYSTEM, parent=tree.grid1, level="grid", code="m1", name="精微", grid_kind="micro"
    )
    scope = Scope.everything()
    assert selectors.area_stats(scope=scope, area=tree.city) == {
        "buildings": 2,
        "households": 24 + 22,
        "grids": 5,
        "compounds": 1,
    }
    assert selectors.area_stats(scope=scope, area=tree.chengbei) == {
        "buildings": 1,
        "households": 24,
        "grids": 3,
        "compounds": 1,
    }
    assert selectors.area_stats(scope=scope, area=tree.grid1)["grids"] == 1  # its micro-grid, not itself
    # A grid counts the compounds its buildings stand in (compounds belong to the community).
    assert selectors.area_stats(scope=scope, area=tree.grid1)["compounds"] == 1
    assert selectors.area_stats(scope=scope, area=tree.grid2)["compounds"] == 0
    assert selectors.area_stats(scope=scope, area=micro) == {
        "buildings": 0,
        "households": 0,
        "grids": 0,
        "compounds": 0,
    }
    assert selectors.area_stats(scope=scope, area=tree.zhoushi) == {
        "buildings": 0,
        "households": 0,
        "grids": 1,
        "compounds": 0,
    }


def test_children_household_counts(tree):
    scope = Scope.everything()
    counts = selectors.children_household_counts(scope=scope, area=tree.district)
    assert counts == {tree.yushan.pk: 46, tree.zhoushi.pk: 0}
    assert selectors.children_household_counts(scope=scope, area=tree.yushan) == {
        tree.chengbei.pk: 24,
        tree.chengnan.pk: 22,
    }
    assert selectors.children_household_counts(scope=scope, area=tree.chengbei) == {tree.grid1.pk: 24, tree.grid2.pk: 0}
    assert selectors.children_household_counts(scope=scope, area=tree.grid4) == {}


def test_children_household_counts_include_micro_grid_buildings(tree):
    micro = services.area_create(
        actor=SYSTEM, parent=tree.grid1, level="grid", code="m1", name="精微", grid_kind="micro"
    )
    lon, lat = centre(0, 0)
    services.building_create(
        actor=SYSTEM,
        grid=micro,
        name="2幢",
        typology="low",
        floors=2,
        entrances=1,
        dwellings_per_floor=3,
        lon=lon,
        lat=lat,
    )
    scope = Scope.everything()
    assert selectors.children_household_counts(scope=scope, area=tree.chengbei)[tree.grid1.pk] == 30
    assert selectors.children_household_counts(scope=scope, area=tree.grid1) == {micro.pk: 6}


def test_counts_do_not_grow_queries_with_the_tree(tree, django_assert_max_num_queries):
    for i in range(5):
        grid = services.area_create(
            actor=SYSTEM, parent=tree.chengbei, level="grid", code=f"x{i}", name=f"新网格{i}", grid_kind="dedicated"
        )
        lon, lat = centre(0, 0)
        services.building_create(
            actor=SYSTEM,
            grid=grid,
            name="楼",
            typology="low",
            floors=1,
            entrances=1,
            dwellings_per_floor=1,
            lon=lon,
            lat=lat,
        )
    scope = Scope.everything()
    with django_assert_max_num_queries(2):
        selectors.children_household_counts(scope=scope, area=tree.chengbei)
    with django_assert_max_num_queries(3):
        selectors.area_stats(scope=scope, area=tree.chengbei)
    with django_assert_max_num_queries(2):
        features = selectors.grid_features(scope=scope, area=tree.city)
    assert len(features["features"]) == 4  # only grids with geometry


def test_building_selectors_do_not_query_per_row(tree, django_assert_num_queries):
    scope = Scope.everything()
    with django_assert_num_queries(1):
        buildings = selectors.building_list(scope=scope, grid=tree.grid1)
        assert [b.compound.name for b in buildings] == ["阳光花园"]
    with django_assert_num_queries(1):
        dwellings = selectors.building_dwellings(scope=scope, building=tree.building1)
        assert [d.entrance.number for d in dwellings][:1] == [1]
    assert len(dwellings) == 24
    # Top floor first within each entrance, as a building is drawn.
    assert [(d.entrance.number, d.room) for d in dwellings[:2]] == [(1, "601"), (1, "602")]
    with django_assert_num_queries(1):
        building = selectors.building_get(scope=scope, building_id=tree.building1.pk)
        assert (building.compound.name, building.grid.name) == ("阳光花园", "网格一")
    dwelling = dwellings[0]
    with django_assert_num_queries(1):
        got = selectors.dwelling_get(scope=scope, dwelling_id=dwelling.pk)
        assert (got.entrance.number, got.building.compound.name) == (1, "阳光花园")


def test_grid_features_geojson(tree):
    features = selectors.grid_features(scope=Scope.everything(), area=tree.chengbei)
    assert features["type"] == "FeatureCollection"
    by_name = {f["properties"]["name"]: f for f in features["features"]}
    assert set(by_name) == {"网格一", "网格二"}
    grid1 = by_name["网格一"]
    assert grid1["geometry"] == square(0, 0)
    assert grid1["properties"]["households"] == 24
    assert grid1["properties"]["kind_label"] == "综合网格"
    assert by_name["网格二"]["properties"]["households"] == 0


# --- point in grid ------------------------------------------------------------------------------


def test_grid_at_point_inside_outside_and_out_of_scope(tree):
    admin = Scope.everything()
    for i, grid in enumerate([tree.grid1, tree.grid2, tree.grid3, tree.grid4]):
        lon, lat = centre(i, 0)
        assert selectors.grid_at_point(scope=admin, lon=lon, lat=lat) == grid
    # In China but in no grid.
    with pytest.raises(NotFound, match="该位置不在任何网格内"):
        selectors.grid_at_point(scope=admin, lon=121.5, lat=31.0)
    # Inside 网格三, but a 城北社区 worker may not see it.
    lon, lat = centre(2, 0)
    with pytest.raises(NotFound):
        selectors.grid_at_point(scope=Scope(area_path=tree.chengbei.path), lon=lon, lat=lat)
    assert selectors.grids_at_point(scope=Scope(area_path=tree.chengbei.path), lon=lon, lat=lat) == []
    # Not in China at all: an input error, not "not found".
    with pytest.raises(InvalidGeometry):
        selectors.grid_at_point(scope=admin, lon=31.0, lat=121.0)


def test_grids_at_point_lists_finest_first(tree):
    micro = services.area_create(
        actor=SYSTEM,
        parent=tree.grid1,
        level="grid",
        code="m1",
        name="精微",
        grid_kind="micro",
        geometry=square(0, 0, 0.005),
    )
    dedicated = services.area_create(
        actor=SYSTEM,
        parent=tree.chengbei,
        level="grid",
        code="d1",
        name="商铺",
        grid_kind="dedicated",
        geometry=square(0, 0, 0.004),
    )
    lon, lat = centre(0, 0, 0.004)
    scope = Scope.everything()
    assert selectors.grids_at_point(scope=scope, lon=lon, lat=lat) == [micro, dedicated, tree.grid1]
    assert selectors.grid_at_point(scope=scope, lon=lon, lat=lat) == tree.grid1
    assert selectors.grid_at_point(scope=scope, lon=lon, lat=lat, kind="micro") == micro
    # Outside the micro-grid but inside 网格一.
    lon, lat = centre(0, 0)
    lon += 0.004
    assert selectors.grids_at_point(scope=scope, lon=lon, lat=lat) == [tree.grid1]
    with pytest.raises(NotFound):
        selectors.grid_at_point(scope=scope, lon=lon, lat=lat, kind="micro")


def test_locator_is_rebuilt_when_a_grid_moves(tree):
    scope = Scope.everything()
    old = centre(0, 0)
    assert selectors.grid_at_point(scope=scope, lon=old[0], lat=old[1]) == tree.grid1
    version = locator.version()
    services.area_set_geometry(actor=SYSTEM, area=tree.grid1, geometry=square(0, 5))
    new = centre(0, 5)
    assert selectors.grid_at_point(scope=scope, lon=new[0], lat=new[1]) == tree.grid1
    assert locator.version() != version
    with pytest.raises(NotFound):
        selectors.grid_at_point(scope=scope, lon=old[0], lat=old[1])


def test_locator_is_rebuilt_when_a_grid_is_added_or_loses_its_geometry(tree):
    scope = Scope.everything()
    spot = centre(7, 7)
    with pytest.raises(NotFound):
        selectors.grid_at_point(scope=scope, lon=spot[0], lat=spot[1])
    new = services.area_create(
        actor=SYSTEM,
        parent=tree.chengnan,
        level="grid",
        code="07",
        name="新",
        grid_kind="comprehensive",
        geometry=square(7, 7),
    )
    assert selectors.grid_at_point(scope=scope, lon=spot[0], lat=spot[1]) == new
    services.area_set_geometry(actor=SYSTEM, area=new, geometry=None)
    with pytest.raises(NotFound):
        selectors.grid_at_point(scope=scope, lon=spot[0], lat=spot[1])


def test_grid_lookup_is_a_fixed_number_of_queries(tree, django_assert_max_num_queries):
    lon, lat = centre(0, 0)
    selectors.grid_at_point(scope=Scope.everything(), lon=lon, lat=lat)  # warm the locator
    with django_assert_max_num_queries(2):
        selectors.grid_at_point(scope=Scope.everything(), lon=lon, lat=lat)
    assert Area.objects.grids().count() == 4
