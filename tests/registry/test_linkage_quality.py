"""Data quality, 人户分离 and the generator of the linkage engine."""

from __future__ import annotations

import pytest

from grassroots.registry.linkage.ids import standardise_id
from grassroots.registry.linkage.quality import completeness, completeness_by, deduplication_rate, pairwise_scores
from grassroots.registry.linkage.separation import SeparationKind, in_area, separation
from grassroots.registry.linkage.synthetic import SOURCE_TRUST, generate

LOCAL = in_area(districts=["玄武区", "秦淮区"], compounds=["阳光花园"])


@pytest.mark.parametrize(
    ("registered", "current", "expected"),
    [
        ("安徽省阜阳市颍州区清河街道5号", "南京市玄武区阳光花园1栋2单元301室", SeparationKind.LIVES_HERE),
        ("阳光花园1栋2单元301室", "上海市浦东新区张江镇科苑路88弄5号602室", SeparationKind.REGISTERED_HERE),
        ("阳光花园1-2-301", "南京市玄武区阳光花园一号楼二单元301", SeparationKind.NONE),  # same flat, two spellings
        (
            "阳光花园1栋2单元301室",
            "南京市秦淮区锦绣家园3栋1单元502室",
            SeparationKind.LIVES_HERE,
        ),  # moved within the area
        ("安徽省阜阳市颍州区清河街道5号", "上海市浦东新区科苑路88弄5号602室", SeparationKind.OUTSIDE),
        ("", "阳光花园1栋2单元301室", SeparationKind.NONE),
    ],
)
def test_separation_categories(registered: str, current: str, expected: SeparationKind) -> None:
    assert separation(registered, current, is_local=LOCAL) == expected


def test_completeness_per_record_and_per_source() -> None:
    rows = [
        {"source": "police", "name": "张三", "id_number": "x", "birth_date": "1980-01-01", "sex": "M", "address": "a"},
        {"source": "grid", "name": "李四", "id_number": None, "birth_date": "", "sex": "F", "phone": "1"},
        {"source": "grid", "name": "王五", "id_number": "", "birth_date": "", "sex": "", "phone": "", "address": ""},
    ]  # fmt: skip
    assert completeness(rows[0]) == pytest.approx(5 / 6)
    by_source = completeness_by(rows, key=lambda r: str(r["source"]))
    assert by_source["grid"]["records"] == 2
    assert by_source["grid"]["completeness"] == pytest.approx((3 / 6 + 1 / 6) / 2)
    assert by_source["grid"]["id_number"] == 0.0
    assert by_source["police"]["phone"] == 0.0


def test_deduplication_rate_and_pairwise_scores() -> None:
    predicted = {"a": "1", "b": "1", "c": "1", "d": "2"}
    truth = {"a": "x", "b": "x", "c": "y", "d": "y"}
    assert deduplication_rate(predicted) == pytest.approx(0.5)
    s = pairwise_scores(predicted, truth)
    # predicted pairs ab, ac, bc; true pairs ab, cd; correct: ab.
    assert (s.predicted_pairs, s.true_pairs, s.correct_pairs) == (3, 2, 1)
    assert (s.precision, s.recall) == pytest.approx((1 / 3, 1 / 2))


def test_generator_is_reproducible_and_has_the_faults_it_promises() -> None:
    records = generate(6000, seed=5)
    assert len(records) == 6000
    assert records == generate(6000, seed=5)
    assert records != generate(6000, seed=6)
    ids = [str(r["id_number"]) for r in records]
    assert sum(not i for i in ids) > 300  # missing IDs
    assert sum(len(i) == 15 for i in ids) > 30  # first-generation IDs
    assert sum(len(i) == 18 and not standardise_id(i).valid for i in ids) > 20  # typos betrayed by the check digit
    names = [str(r["name"]) for r in records]
    assert any(n.isascii() and " " in n for n in names)  # pinyin-only names
    assert any("陳" in n or "劉" in n or "張" in n or "黃" in n for n in names)  # traditional characters
    assert {r["source"] for r in records} == set(SOURCE_TRUST)
    by_person: dict[str, set[str]] = {}
    for r in records:
        if r["phone"]:
            by_person.setdefault(str(r["phone"]).replace("+86 ", "").replace("-", ""), set()).add(str(r["person_id"]))
    assert any(len(p) > 1 for p in by_person.values())  # phones shared by a household
    assert 1.8 < len(records) / len({r["person_id"] for r in records}) < 3.2
