"""Writes to the place tree: rules, Chinese messages, nothing saved on error, every write audited."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grassroots.audit.models import AuditEntry
from grassroots.audit.services import SYSTEM, verify_chain
from grassroots.core.errors import DomainError
from grassroots.places import services
from grassroots.places.geo import InvalidGeometry, parse_polygon
from grassroots.places.models import Area, Building, Compound, Dwelling, Entrance
from tests.factories import centre, square

pytestmark = pytest.mark.django_db

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[121.0, 31.0], [121.1, 31.1], [121.1, 31.0], [121.0, 31.1], [121.0, 31.0]]],
}
IN_FRANCE = {"type": "Polygon", "coordinates": [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]]}
LAT_LON_SWAPPED = {
    "type": "Polygon",
    "coordinates": [[[31.38, 120.95], [31.39, 120.95], [31.39, 120.96], [31.38, 120.96], [31.38, 120.95]]],
}


def _area(**kwargs):
    return services.area_create(actor=SYSTEM, **kwargs)


def _refused(fn, message: str, field: str | None = None, **kwargs):
    """The call fails with a Chinese message, and saves nothing (no area, no audit entry)."""
    areas, audits = Area.objects.count(), AuditEntry.objects.count()
    with pytest.raises(DomainError) as excinfo:
        fn(**kwargs)
    assert message in excinfo.value.message
    if field is not None:
        assert excinfo.value.field == field
    assert Area.objects.count() == areas
    assert AuditEntry.objects.count() == audits
    return excinfo.value


# --- area_create -----------------------------------------------------------------------------


def test_area_create_builds_path_depth_and_audit(tree):
    area = _area(parent=tree.chengbei, level="grid", code="03", name=" 网格五 ", grid_kind="dedicated")
    assert (area.path, area.depth, area.name) == ("3205.320583.001.001.03", 4, "网格五")
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_type, entry.object_id, entry.area_path) == (
        "places.area.create",
        "area",
        str(area.pk),
        area.path,
    )
    assert entry.detail == {"name": "网格五", "level": "grid", "grid_kind": "dedicated"}
    assert verify_chain().ok


@pytest.mark.parametrize(
    ("parent", "level", "message"),
    [
        (None, "district", "只有“市”可以作为顶层区域。"),
        ("city", "subdistrict", "市下只能建区(县)。"),
        ("city", "city", "市下只能建区(县)。"),
        ("district", "community", "区(县)下只能建街道(镇)。"),
        ("yushan", "grid", "街道(镇)下只能建社区(村)。"),
        ("chengbei", "community", "社区(村)下只能建网格。"),
        ("grid1", "community", "网格下只能建网格。"),
        ("chengbei", "street", "未知的区域层级“street”。"),
    ],
)
def test_levels_must_follow_the_tree(tree, parent, level, message):
    _refused(
        _area,
        message,
        parent=getattr(tree, parent) if parent else None,
        level=level,
        code="99",
        name="新区域",
        grid_kind="comprehensive" if level == "grid" else "",
    )


def test_grid_kind_rules(tree):
    _refused(_area, "网格必须指定类型", "grid_kind", parent=tree.chengbei, level="grid", code="9", name="x")
    _refused(
        _area, "网格必须指定类型", "grid_kind", parent=tree.chengbei, level="grid", code="9", name="x", grid_kind="big"
    )
    _refused(
        _area,
        "只有网格才有网格类型。",
        "grid_kind",
        parent=tree.yushan,
        level="community",
        code="9",
        name="x",
        grid_kind="comprehensive",
    )
    _refused(
        _area,
        "精微网格必须建在综合网格或专属网格之下。",
        "grid_kind",
        parent=tree.chengbei,
        level="grid",
        code="9",
        name="x",
        grid_kind="micro",
    )
    _refused(
        _area,
        "网格之下只能划分精微网格。",
        "grid_kind",
        parent=tree.grid1,
        level="grid",
        code="9",
        name="x",
        grid_kind="comprehensive",
    )
    micro = _area(parent=tree.grid1, level="grid", code="m1", name="精微一", grid_kind="micro")
    assert micro.path == tree.grid1.path + ".m1"
    _refused(
        _area,
        "精微网格之下不能再划分网格。",
        "parent",
        parent=micro,
        level="grid",
        code="9",
        name="x",
        grid_kind="micro",
    )
    dedicated = _area(parent=tree.chengbei, level="grid", code="d1", name="沿街商铺", grid_kind="dedicated")
    assert _area(parent=dedicated, level="grid", code="m1", name="精微", grid_kind="micro").depth == 5


def test_duplicate_codes_are_refused(tree):
    _refused(
        _area,
        "“城北社区”下已有编码为 01 的区域。",
        "code",
        parent=tree.chengbei,
        level="grid",
        code="01",
        name="x",
        grid_kind="comprehensive",
    )
    _refused(_area, "已有编码为 3205 的顶层区域。", "code", parent=None, level="city", code="3205", name="x")
    # The same code under another parent is fine.
    assert _area(parent=tree.chengnan, level="grid", code="02", name="x", grid_kind="comprehensive").pk


@pytest.mark.parametrize("code", ["", "0 1", "01.2", "一", "a" * 33, "01\n", "01-2"])
def test_bad_codes_are_refused(tree, code):
    _refused(
        _area,
        "编码只能由1至32位数字或字母组成。",
        "code",
        parent=tree.chengbei,
        level="grid",
        code=code,
        name="x",
        grid_kind="comprehensive",
    )


@pytest.mark.parametrize("name", ["", "   ", "\u3000"])
def test_empty_name_is_refused(tree, name):
    _refused(
        _area,
        "名称不能为空。",
        "name",
        parent=tree.chengbei,
        level="grid",
        code="9",
        name=name,
        grid_kind="comprehensive",
    )


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [121.0, 31.0]}, "边界必须是 GeoJSON 的 Polygon 或 MultiPolygon。"),
        ("not a dict", "边界必须是 GeoJSON 的 Polygon 或 MultiPolygon。"),
        ({"type": "Polygon"}, "边界无法解析"),
        ({"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], [1, 2]]]}, "边界无法解析"),
        ({"type": "Polygon", "coordinates": []}, "边界不是有效的多边形"),
        (BOWTIE, "边界不是有效的多边形（可能自相交或为空）。"),
        (IN_FRANCE, "不在中国境内的经纬度范围内"),
        (LAT_LON_SWAPPED, "不在中国境内的经纬度范围内"),
    ],
)
def test_invalid_geometry_is_refused_and_nothing_saved(tree, geometry, message):
    error = _refused(
        _area,
        message,
        parent=tree.chengbei,
        level="grid",
        code="9",
        name="x",
        grid_kind="comprehensive",
        geometry=geometry,
    )
    assert isinstance(error, InvalidGeometry)
    assert error.field == "geometry"


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=3),
    lambda children: st.lists(children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["Polygon", "MultiPolygon", "Point", None]), coordinates=json_values)
def test_parse_polygon_never_fails_with_anything_but_invalid_geometry(kind, coordinates):
    try:
        parse_polygon({"type": kind, "coordinates": coordinates})
    except InvalidGeometry as exc:
        assert exc.message


def test_area_geometry_sets_a_representative_point_inside(tree):
    lon, lat = centre(0, 0)
    assert tree.grid1.geometry == square(0, 0)
    assert tree.grid1.lon == pytest.approx(lon, abs=0.006) and tree.grid1.lat == pytest.approx(lat, abs=0.006)
    assert parse_polygon(square(0, 0)).contains(__import__("shapely").Point(tree.grid1.lon, tree.grid1.lat))


def test_area_set_geometry_is_validated_audited_and_can_clear(tree):
    area = services.area_set_geometry(actor=SYSTEM, area=tree.grid1, geometry=square(5, 5))
    area.refresh_from_db()
    assert area.geometry == square(5, 5)
    assert AuditEntry.objects.latest("seq").action == "places.area.geometry"
    with pytest.raises(InvalidGeometry):
        services.area_set_geometry(actor=SYSTEM, area=tree.grid1, geometry=BOWTIE)
    area.refresh_from_db()
    assert area.geometry == square(5, 5)
    services.area_set_geometry(actor=SYSTEM, area=area, geometry=None)
    area.refresh_from_db()
    assert (area.geometry, area.lon, area.lat) == (None, None, None)


# --- modes --------------------------------------------------------------------------------


def test_area_set_mode_applies_to_the_whole_subtree_and_is_audited(tree):
    services.area_set_mode(actor=SYSTEM, area=tree.yushan, mode="emergency", reason="台风“梅花”过境")
    modes = dict(Area.objects.values_list("name", "mode"))
    for name in ["玉山镇", "城北社区", "城南社区", "网格一", "网格二", "网格三"]:
        assert modes[name] == "emergency", name
    for name in ["苏州市", "昆山市", "周市镇", "周市社区", "网格四"]:
        assert modes[name] == "normal", name
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_id, entry.area_path) == (
        "places.area.mode",
        str(tree.yushan.pk),
        tree.yushan.path,
    )
    assert entry.detail == {"from": "normal", "to": "emergency", "reason": "台风“梅花”过境"}
    services.area_set_mode(actor=SYSTEM, area=tree.chengbei, mode="normal", reason="解除")
    assert Area.objects.get(pk=tree.grid1.pk).mode == "normal"
    assert Area.objects.get(pk=tree.grid3.pk).mode == "emergency"


def test_area_set_mode_does_not_leak_into_a_sibling_with_a_longer_code(tree):
    sibling = _area(parent=tree.district, level="subdistrict", code="0010", name="相邻街道")
    services.area_set_mode(actor=SYSTEM, area=tree.yushan, mode="drill", reason="演练")
    sibling.refresh_from_db()
    assert sibling.mode == "normal"


def test_area_set_mode_rules(tree):
    with pytest.raises(DomainError, match="未知的运行模式“war”。"):
        services.area_set_mode(actor=SYSTEM, area=tree.yushan, mode="war", reason="x")
    with pytest.raises(DomainError, match="切换运行模式必须说明原因。"):
        services.area_set_mode(actor=SYSTEM, area=tree.yushan, mode="emergency", reason="  ")
    assert not Area.objects.exclude(mode="normal").exists()


# --- compounds and buildings ------------------------------------------------------------------


def test_compound_create_rules_and_audit(tree):
    with pytest.raises(DomainError, match="小区必须隶属于社区。"):
        services.compound_create(actor=SYSTEM, community=tree.grid1, name="x")
    with pytest.raises(DomainError, match="未知的小区类型"):
        services.compound_create(actor=SYSTEM, community=tree.chengbei, name="x", kind="villa")
    with pytest.raises(DomainError, match="小区名称不能为空。"):
        services.compound_create(actor=SYSTEM, community=tree.chengbei, name=" ")
    compound = services.compound_create(
        actor=SYSTEM, community=tree.chengnan, name="幸福里", kind="old", built_year=1995, geometry=square(2, 0, 0.005)
    )
    assert compound.path == tree.chengnan.path and compound.lon is not None
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.object_id, entry.detail) == (
        "places.compound.create",
        str(compound.pk),
        {"name": "幸福里"},
    )


def _building(tree, **overrides):
    lon, lat = centre(1, 0)
    kwargs = {
        "grid": tree.grid2,
        "name": "3幢",
        "typology": "high_rise",
        "floors": 18,
        "entrances": 3,
        "dwellings_per_floor": 4,
        "lon": lon,
        "lat": lat,
    }
    kwargs.update(overrides)
    return services.building_create(actor=SYSTEM, **kwargs)


def test_building_create_makes_entrances_and_dwellings(tree):
    building = _building(tree)
    assert building.households == 18 * 3 * 4
    assert building.entrances.count() == 3
    assert list(building.entrances.values_list("number", flat=True)) == [1, 2, 3]
    assert building.dwellings.count() == 216
    for entrance in building.entrances.all():
        rooms = list(entrance.dwellings.order_by("floor", "room").values_list("floor", "room"))
        assert len(rooms) == 72
        assert rooms[:4] == [(1, "101"), (1, "102"), (1, "103"), (1, "104")]
        assert rooms[-1] == (18, "1804")
        assert all(room.startswith(str(floor)) for floor, room in rooms)
    assert set(Dwelling.objects.filter(building=building).values_list("path", flat=True)) == {tree.grid2.path}
    assert set(Entrance.objects.filter(building=building).values_list("path", flat=True)) == {tree.grid2.path}
    entry = AuditEntry.objects.latest("seq")
    assert (entry.action, entry.detail) == ("places.building.create", {"name": "3幢", "households": 216})


def test_building_create_in_the_fixture_tree(tree):
    assert tree.building1.entrances.count() == 2
    assert tree.building1.dwellings.count() == 24
    assert tree.building3.dwellings.count() == 22
    top = tree.building3.dwellings.filter(floor=11).order_by("room")
    assert list(top.values_list("room", flat=True)) == ["1101", "1102"]


@pytest.mark.parametrize(
    ("overrides", "message", "field"),
    [
        ({"grid": "chengbei"}, "楼栋必须落在网格内。", "grid"),
        ({"typology": "castle"}, "未知的楼栋类型“castle”。", "typology"),
        ({"floors": 0}, "层数应在1到200之间。", "floors"),
        ({"floors": 201}, "层数应在1到200之间。", "floors"),
        ({"entrances": 0}, "单元数应在1到50之间。", "entrances"),
        ({"entrances": 51}, "单元数应在1到50之间。", "entrances"),
        ({"dwellings_per_floor": 0}, "每层户数应在1到50之间。", "dwellings_per_floor"),
        ({"lon": 31.38, "lat": 120.95}, "不在中国境内", "lon"),
        ({"geometry": BOWTIE}, "边界不是有效的多边形", "geometry"),
        ({"name": "  "}, "楼栋名称不能为空。", "name"),
        ({"compound": "compound_of_chengbei", "grid": "grid3"}, "楼栋所在网格不属于该小区所在的社区。", "compound"),
    ],
)
def test_building_create_rules_save_nothing(tree, overrides, message, field):
    compound = Compound.objects.get(name="阳光花园")
    resolved = {}
    for key, value in overrides.items():
        if value == "compound_of_chengbei":
            resolved[key] = compound
        elif key == "grid":
            resolved[key] = getattr(tree, value)
        else:
            resolved[key] = value
    counts = (Building.objects.count(), Entrance.objects.count(), Dwelling.objects.count(), AuditEntry.objects.count())
    with pytest.raises(DomainError) as excinfo:
        _building(tree, **resolved)
    assert message in excinfo.value.message
    assert excinfo.value.field == field
    after = (Building.objects.count(), Entrance.objects.count(), Dwelling.objects.count(), AuditEntry.objects.count())
    assert after == counts


def test_building_in_a_micro_grid_may_belong_to_the_communitys_compound(tree):
    micro = _area(parent=tree.grid1, level="grid", code="m1", name="精微一", grid_kind="micro")
    compound = Compound.objects.get(name="阳光花园")
    building = _building(tree, grid=micro, compound=compound, floors=1, entrances=1, dwellings_per_floor=1)
    assert building.path == micro.path


def test_every_service_write_is_audited(tree):
    """One audit entry per write, for every service in places (counted across a whole tree)."""
    start = AuditEntry.objects.count()
    city = _area(parent=None, level="city", code="3206", name="南通市")
    district = _area(parent=city, level="district", code="320602", name="崇川区")
    sub = _area(parent=district, level="subdistrict", code="001", name="街道")
    com = _area(parent=sub, level="community", code="001", name="社区")
    grid = _area(parent=com, level="grid", code="01", name="网格", grid_kind="comprehensive", geometry=square(9, 9))
    compound = services.compound_create(actor=SYSTEM, community=com, name="小区")
    _building(tree, grid=grid, compound=compound, floors=2, entrances=1, dwellings_per_floor=2)
    services.area_set_geometry(actor=SYSTEM, area=grid, geometry=square(9, 8))
    services.area_set_mode(actor=SYSTEM, area=com, mode="drill", reason="演练")
    actions = list(AuditEntry.objects.filter(seq__gt=start).order_by("seq").values_list("action", flat=True))
    assert actions == [
        *["places.area.create"] * 5,
        "places.compound.create",
        "places.building.create",
        "places.area.geometry",
        "places.area.mode",
    ]
    assert verify_chain().ok
