"""Chinese address parsing and normalisation for linkage (标准地址)."""

from __future__ import annotations

import pytest

from grassroots.registry.linkage.address import address_keys, chinese_number, normalise_address, parse_address


def test_full_address_is_split_into_every_part() -> None:
    p = parse_address("江苏省苏州市昆山市玉山镇城北社区长江路12号阳光花园十二栋二单元301室")
    assert (p.province, p.city, p.district, p.subdistrict, p.community) == (
        "江苏省",
        "苏州市",
        "昆山市",
        "玉山镇",
        "城北社区",
    )
    assert (p.road, p.number, p.compound, p.building, p.entrance, p.floor, p.room) == (
        "长江路",
        "12",
        "阳光花园",
        "12",
        "2",
        "3",
        "301",
    )


@pytest.mark.parametrize(
    "text",
    [
        "阳光花园12栋2单元301室",
        "阳光花园十二号楼二单元301",
        "阳光花园１２幢２单元３０１户",
        "阳光花园12-2-301",
        "阳光花园12座2单元301室",
        "南京市玄武区阳光花园小区12号楼2单元301室",
    ],
)
def test_spellings_of_one_flat_give_one_dwelling_key(text: str) -> None:
    assert address_keys(text).dwelling == "阳光花园|12|2|301"


def test_municipality_district_subdistrict_and_floor() -> None:
    p = parse_address("北京市朝阳区建国门外街道建外社区建国路88号现代城3座15层1502室")
    assert (p.province, p.city, p.district, p.subdistrict, p.community) == (
        "北京市",
        "北京市",
        "朝阳区",
        "建国门外街道",
        "建外社区",
    )
    assert (p.road, p.number, p.compound, p.building, p.floor, p.room) == ("建国路", "88", "现代城", "3", "15", "1502")


def test_compound_names_that_look_like_other_parts() -> None:
    assert parse_address("怡景小区九期24号楼2单元1602").compound == "怡景小区9期"  # 小区 is not a district
    assert parse_address("明月新村八期18-1-1003").compound == "明月新村8期"  # 新村 is not a village
    assert address_keys("翠竹雅居六期11号楼1单元404室").dwelling == "翠竹雅居6期|11|1|404"


def test_shanghai_lane_and_road_number() -> None:
    p = parse_address("上海市浦东新区张江镇科苑路88弄5号602室")
    assert (p.district, p.road, p.number, p.room) == ("浦东新区", "科苑路88弄", "5", "602")
    assert address_keys("南京市鼓楼区华侨路56号3楼").place == "华侨路56号"


def test_chinese_numerals_and_normalisation() -> None:
    assert [chinese_number(t) for t in ("十二", "二十", "一百零一", "三〇一")] == [12, 20, 101, 301]
    assert normalise_address("１栋 ２单元　３０１户") == "1栋2单元301室"
    assert parse_address("").as_dict()["room"] == ""
