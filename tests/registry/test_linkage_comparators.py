"""Comparators of the linkage engine on hand-made pairs: names, ID numbers, survivorship."""

from __future__ import annotations

from datetime import date

import pytest

from grassroots.core.ids import make_id_number
from grassroots.registry.linkage.ids import IdRelation, compare_ids, standardise_id
from grassroots.registry.linkage.names import (
    NameRelation,
    char_jaro_winkler,
    compare_names,
    name_pinyin,
    simplify,
)
from grassroots.registry.linkage.pipeline import LinkSettings, _duckdb_api
from grassroots.registry.linkage.survivorship import survive

ID = make_id_number("320102", date(1965, 4, 3), 17, "M")  # valid 18 digits, born 1965


def _swap(number: str, i: int) -> str:
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def _retype(number: str, i: int) -> str:
    return number[:i] + str((int(number[i]) + 3) % 10) + number[i + 1 :]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("张伟", "章伟", NameRelation.HOMOPHONE),  # 张/章: both zhang
        ("王伟", "王玮", NameRelation.HOMOPHONE),  # 伟/玮: both wei
        ("陳偉", "陈伟", NameRelation.EXACT),  # traditional = simplified
        ("张 伟", "张伟", NameRelation.EXACT),  # spaces typed in the middle
        ("Zhang Wei", "张伟", NameRelation.HOMOPHONE),  # a source that writes pinyin only
        ("张晓明", "张小明", NameRelation.HOMOPHONE),
        ("欧阳娜娜", "欧阳娜", NameRelation.SIMILAR),
        ("王伟", "李娜", NameRelation.DIFFERENT),
        ("王伟", "", NameRelation.MISSING),
    ],
)
def test_names_compare_by_characters_and_pinyin(a: str, b: str, expected: NameRelation) -> None:
    assert compare_names(a, b) == expected


def test_name_similarity_counts_characters_not_bytes() -> None:
    # DuckDB 1.x's own functions counted UTF-8 bytes (levenshtein('张','章') = 2); the engine
    # registers its own character-level functions so the answer does not depend on the version.
    _, con = _duckdb_api(LinkSettings())
    assert con.execute("select cjk_lev('张', '章'), cjk_lev('王伟', '王玮'), cjk_jw('张', '章')").fetchall() == [
        (1, 1, 0.0)
    ]
    con.close()
    assert char_jaro_winkler("王伟", "王玮") == pytest.approx(2 / 3)  # no prefix bonus below 0.7
    assert char_jaro_winkler("张", "章") == 0.0  # one character, different: nothing in common
    assert simplify("陳 偉") == "陈伟"
    assert name_pinyin("曾伟") == "zengwei"  # the surname reading, not céng


def test_id_exact_and_15_to_18() -> None:
    old = ID[:6] + ID[8:17]  # the first-generation 15-digit form of the same number
    assert len(old) == 15
    assert standardise_id(old).number == ID
    assert standardise_id(old).was15
    assert compare_ids(old, ID) == IdRelation.EXACT
    assert compare_ids("３２０１０２" + ID[6:], ID) == IdRelation.EXACT  # full-width digits


@pytest.mark.parametrize("position", [0, 5, 9, 14, 16])
def test_one_mistyped_digit_is_betrayed_by_the_check_digit(position: int) -> None:
    typo = _retype(ID, position)
    assert not standardise_id(typo).valid
    assert compare_ids(typo, ID) == IdRelation.TYPO


def test_adjacent_transposition_is_detected() -> None:
    i = next(k for k in range(16) if ID[k] != ID[k + 1])
    swapped = _swap(ID, i)
    assert not standardise_id(swapped).valid
    assert compare_ids(swapped, ID) == IdRelation.TRANSPOSITION


def test_two_valid_numbers_are_two_people() -> None:
    twin = make_id_number("320102", date(1965, 4, 3), 18, "M")  # next sequence: a twin
    assert standardise_id(twin).valid
    assert compare_ids(twin, ID) == IdRelation.DIFFERENT
    assert compare_ids("", ID) == IdRelation.MISSING
    # Two invalid numbers one digit apart: nothing proves which was typed right.
    assert compare_ids(_retype(ID, 3), _retype(ID, 4)) == IdRelation.DIFFERENT


def test_id_gives_birth_date_and_sex() -> None:
    std = standardise_id(ID)
    assert (std.birth_date, std.sex) == (date(1965, 4, 3), "M")


def test_survivorship_prefers_trust_then_recency_and_keeps_the_source() -> None:
    records = [
        {"record_id": "g1", "source": "grid", "name": "张三", "phone": "13800000001", "updated_at": "2026-01-01"},
        {"record_id": "p1", "source": "police", "name": "張三", "phone": "", "updated_at": "2019-05-01",
         "id_number": ID[:6] + ID[8:17]},
        {"record_id": "h1", "source": "health", "phone": "13800000002", "updated_at": "2024-01-01"},
        {"record_id": "h2", "source": "health", "phone": "13800000003", "updated_at": "2025-01-01",
         "id_number": _retype(ID, 3)},
    ]  # fmt: skip
    out = survive(records, source_trust={"police": 90, "health": 60, "grid": 50})
    assert (out["name"].value, out["name"].record_id, out["name"].source) == ("張三", "p1", "police")
    assert (out["phone"].value, out["phone"].record_id) == ("13800000003", "h2")  # health beats grid, newest
    assert (out["id_number"].value, out["id_number"].record_id) == (ID, "p1")  # valid, upgraded from 15
    assert "birth_date" not in out


def test_features_accept_dicts_dataclasses_and_frames() -> None:
    from dataclasses import dataclass

    import pandas as pd

    from grassroots.registry.linkage.comparisons import features

    @dataclass
    class Row:
        record_id: str
        name: str
        id_number: str
        phone: str
        address: str

    rows = [Row("r1", "陳 偉", ID[:6] + ID[8:17], "+86 138-0000-0001", "阳光花园十二号楼二单元301")]
    for given in (rows, pd.DataFrame([r.__dict__ for r in rows])):
        f = features(given).iloc[0]
        assert (f["name_s"], f["name_py"], f["id18"], f["id_valid"]) == ("陈伟", "chenwei", ID, True)
        assert (f["birth_date"], f["sex"], f["phone"]) == ("1965-04-03", "M", "13800000001")  # from the ID
        assert f["addr_dwelling"] == "阳光花园|12|2|301"
    with pytest.raises(ValueError, match="unique"):
        features([{"record_id": "x"}, {"record_id": "x"}])
