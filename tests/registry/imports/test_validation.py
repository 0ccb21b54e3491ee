"""Row validation and address matching (exact, partial, ambiguous, outside the scope)."""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.audit.services import SYSTEM
from grassroots.core.scope import Scope
from grassroots.places import services as places
from grassroots.registry.imports.address import AddressIndex, chinese_number, normalise_address, parse_address
from grassroots.registry.imports.mapping import clean_mapping, suggest_mapping
from grassroots.registry.imports.validation import validate_row
from tests.factories import centre
from tests.registry.imports.helpers import person_id

MAPPING = {"姓名": "name", "身份证号": "id_number", "手机": "phone", "性别": "sex", "出生日期": "birth_date"}


def row(**cells: object) -> dict[str, object]:
    base: dict[str, object] = {"姓名": "张三", "身份证号": person_id(1), "手机": "", "性别": "", "出生日期": ""}
    base.update(cells)
    return base


def problems(result) -> dict[str, str]:
    return {p["field"]: p["message"] for p in result.problems}


def test_a_good_row():
    result = validate_row(2, row(手机="138 1234 0001", 性别="男", 出生日期="1980-05-17"), MAPPING, AddressIndex())
    assert result.accepted and result.problems == []
    assert (result.phone, result.sex, result.birth_date) == ("13812340001", "M", date(1980, 5, 17))


@pytest.mark.parametrize(
    ("cells", "field", "message", "accepted"),
    [
        ({"姓名": " "}, "name", "姓名为空。", False),
        ({"身份证号": ""}, "id_number", "身份证号为空。", False),
        ({"身份证号": person_id(1)[:17] + "0"}, "id_number", "身份证号校验位错误。", False),
        ({"身份证号": "12345"}, "id_number", "身份证号应为18位（或15位），实际为5位。", False),
        ({"性别": "女"}, "sex", "性别与身份证号不一致。", False),
        ({"出生日期": "1980/05/18"}, "birth_date", "出生日期与身份证号不一致。", False),
        ({"手机": "1381234"}, "phone", "手机号格式不正确（应为1开头的11位数字），该值未导入。", True),
        ({"性别": "未知"}, "sex", "性别应填“男”或“女”。", True),
    ],
)
def test_problems_name_the_field(cells, field, message, accepted):
    result = validate_row(7, row(**cells), MAPPING, AddressIndex())
    assert problems(result)[field] == message and result.accepted is accepted
    assert result.problems[0]["label"]  # the Chinese field name for the page


def test_15_digit_ids_become_18():
    result = validate_row(2, row(身份证号="320583800517001"), MAPPING, AddressIndex())
    assert result.accepted and len(result.id_number) == 18 and result.id_number[6:8] == "19"


def test_mapping_suggestions_and_saved_choices():
    headers = ["序号", "公民身份号码", "名字", "联系电话", "现居住地址", "户籍地", "户籍类型", "是否残疾", "姓名(必填)"]
    suggested = suggest_mapping(headers)
    assert suggested == {
        "序号": "",
        "公民身份号码": "id_number",
        "名字": "name",
        "联系电话": "phone",
        "现居住地址": "actual_address",
        "户籍地": "registered_address",
        "户籍类型": "residence_kind",
        "是否残疾": "tag_disabled",
        "姓名(必填)": "",
    }
    saved = suggest_mapping(headers, {"名字": "", "姓名(必填)": "name"})
    assert saved["名字"] == "" and saved["姓名(必填)"] == "name"
    _, errors = clean_mapping(["a", "b"], {"a": "name", "b": "name"})
    assert any("同时对应" in e for e in errors) and any("身份证号" in e for e in errors)


def test_normalisation():
    assert chinese_number("十二") == 12 and chinese_number("二十") == 20 and chinese_number("一百零一") == 101
    assert chinese_number("三〇一") == 301
    assert normalise_address("阳光花园十二号楼 三单元 ５０２户") == "阳光花园12栋3单元502室"
    assert normalise_address("阳光花园3#楼1单元101") == "阳光花园3栋1单元101"
    parsed = parse_address("阳光花园１２幢２单元３０１")
    assert (parsed.building, parsed.entrance, parsed.room) == (12, 2, "301")
    assert parse_address("阳光花园1-2-301").entrance == 2


@pytest.fixture
def index(tree):
    return AddressIndex.for_scope(Scope(area_path=tree.yushan.path))


@pytest.mark.parametrize(
    ("text", "status", "confidence"),
    [
        ("昆山市玉山镇城北社区阳光花园1幢1单元101室", "matched", 1.0),
        ("阳光花园一号楼二单元三〇一室", "matched", 1.0),
        ("阳光花园1栋2单元301户", "matched", 1.0),
        ("阳光花园1-2-301", "matched", 1.0),
        ("城南社区8幢1单元1101室", "matched", 1.0),
        ("城南社区8幢1101室", "matched", 0.8),  # no entrance, unique in scope
        ("8栋1101", "matched", 0.8),
        ("1幢2单元301室", "matched", 0.8),  # no compound, unique in scope
        ("阳光花园1幢101室", "ambiguous", 0.0),  # entrances 1 and 2 both have a 101
        ("阳光花园1幢1单元", "unmatched", 0.0),  # no room
        ("阳光花园", "unmatched", 0.0),
        ("幸福家园1幢1单元101室", "unmatched", 0.0),  # a compound we do not have
        ("阳光花园9幢1单元101室", "unmatched", 0.0),
    ],
)
def test_address_matching(tree, index, text, status, confidence):
    found = index.match(text)
    assert (found.status, found.confidence) == (status, confidence), found.reason
    assert (found.dwelling_id is not None) == (status == "matched")
    if status != "matched":
        assert found.reason and "阳光" not in found.reason


def test_exact_match_finds_the_right_dwelling(tree, index):
    found = index.match("阳光花园一号楼二单元三〇一室")
    dwelling = tree.building1.dwellings.get(pk=found.dwelling_id)
    assert (dwelling.entrance.number, dwelling.room) == (2, "301") and found.path == tree.grid1.path


def test_outside_the_scope_is_never_matched(tree):
    inside_chengnan = AddressIndex.for_scope(Scope(area_path=tree.chengnan.path))
    assert inside_chengnan.match("阳光花园1幢1单元101室").status == "unmatched"
    assert inside_chengnan.match("8幢1单元101室").status == "matched"


def test_two_compounds_with_the_same_building_make_a_bare_address_ambiguous(tree):
    other = places.compound_create(actor=SYSTEM, community=tree.chengbei, name="幸福里")
    lon, lat = centre(1, 0)
    places.building_create(
        actor=SYSTEM,
        grid=tree.grid2,
        compound=other,
        name="1栋",
        typology="multi_storey",
        floors=3,
        entrances=1,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
    )
    index = AddressIndex.for_scope(Scope(area_path=tree.chengbei.path))
    assert index.match("1幢1单元101室").status == "ambiguous"
    assert index.match("幸福里1幢1单元101室").confidence == 1.0


def test_same_named_compounds_are_told_apart_by_road_and_number(tree):
    """Two 阳光花园 in one subdistrict: the address's road and number pick the right one."""
    from grassroots.audit.services import SYSTEM
    from grassroots.places import services as places
    from tests.factories import centre

    for building in tree.building1.compound.buildings.all():
        building.address = "昆山市玉山镇黄河路990号阳光花园1幢"
        building.save()
    twin = places.compound_create(actor=SYSTEM, community=tree.chengnan, name="阳光花园")
    lon, lat = centre(2, 0)
    other = places.building_create(
        actor=SYSTEM,
        grid=tree.grid3,
        compound=twin,
        name="1幢",
        typology="multi_storey",
        floors=6,
        entrances=2,
        dwellings_per_floor=2,
        lon=lon,
        lat=lat,
        address="昆山市玉山镇长江路12号阳光花园1幢",
    )
    index = AddressIndex.for_scope(Scope(area_path=tree.yushan.path))
    assert index.match("阳光花园1幢1单元101室").status == "ambiguous"
    found = index.match("玉山镇长江路12号阳光花园1幢1单元101室")
    assert found.status == "matched" and other.dwellings.filter(pk=found.dwelling_id).exists()
    found = index.match("黄河路990号阳光花园1幢1单元101室")
    assert found.status == "matched" and tree.building1.dwellings.filter(pk=found.dwelling_id).exists()
