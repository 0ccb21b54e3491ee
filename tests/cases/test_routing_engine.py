"""The pure routing engine: it beats the duty-list keywords on a generated history, uses the place,
round-trips through bytes, refuses what it cannot learn from."""

from __future__ import annotations

import pytest

from grassroots.cases.routing import (
    KeywordRouter,
    Ranked,
    Router,
    Sample,
    TooLittleHistory,
    default_keywords,
    evaluate,
    load_router,
    normalise,
    split_by_time,
)
from grassroots.cases.routing.engine import departments_from_categories, digest, place_tokens
from grassroots.cases.routing.synthetic import PHRASES, History, generate
from grassroots.cases.services.seed import DEFAULT_TREE

LEAVES = [(code, name) for _, _, _, _, children in DEFAULT_TREE for code, name, _ in children]
PARENT = {code: parent_name for _, parent_name, _, _, children in DEFAULT_TREE for code, _, _ in children}


@pytest.fixture(scope="module")
def history() -> History:
    return generate(LEAVES, cases=2500, seed=7)


@pytest.fixture(scope="module")
def trained(history: History) -> tuple[Router, list[Sample]]:
    learn, held_out = split_by_time(history.samples)
    return Router.train(learn), held_out


def keywords() -> KeywordRouter:
    return KeywordRouter({code: default_keywords(code, [name, PARENT[code]]) for code, name in LEAVES})


def test_the_generator_covers_every_seeded_category() -> None:
    assert {code for code, _ in LEAVES} == set(PHRASES)


def test_generated_history_is_deterministic_and_time_ordered(history: History) -> None:
    again = generate(LEAVES, cases=2500, seed=7)
    assert again.samples[:50] == history.samples[:50]
    assert [s.at for s in history.samples] == sorted(s.at for s in history.samples)
    assert len({s.category for s in history.samples}) == len(LEAVES)


def test_routing_beats_the_keyword_baseline_on_a_generated_history(
    history: History, trained: tuple[Router, list[Sample]]
) -> None:
    router, held_out = trained
    model = evaluate(router.predict_many, held_out)
    baseline = evaluate(lambda items: [keywords().predict(t, p, history.duty_for) for t, p in items], held_out)
    assert model.samples == baseline.samples == 500
    # The baseline is not a straw man: the duty-list words do find a good share of the cases …
    assert baseline.category_top1 > 0.3
    # … and the model, trained only on the past, is far ahead on the later cases.
    assert model.category_top1 > 0.85 and model.category_top1 > baseline.category_top1 + 0.3
    assert model.category_top3 > baseline.category_top3 + 0.3
    assert model.department_top1 > 0.85 and model.department_top1 > baseline.department_top1 + 0.3
    assert model.category_top3 >= model.category_top1 and model.department_top3 >= model.department_top1


def test_top_three_with_confidences(trained: tuple[Router, list[Sample]]) -> None:
    router, _ = trained
    prediction = router.predict("小区门口垃圾桶满了好几天没人清运，臭气熏天", "320583.001.001.001")
    assert prediction.source == "model"
    assert len(prediction.categories) == 3 and len(prediction.departments) <= 3
    assert prediction.categories[0].label == "environment.exposed_garbage"
    confidences = [r.confidence for r in prediction.categories]
    assert confidences == sorted(confidences, reverse=True) and 0.5 < confidences[0] <= 1
    assert prediction.departments[0].label == "hw0"  # the first subdistrict's 环卫所


def test_the_place_decides_the_department(trained: tuple[Router, list[Sample]]) -> None:
    """Piled materials go to the 城管中队 in odd-numbered subdistricts, to the 环卫所 in the others."""
    router, _ = trained
    text = "楼道里长期堆放旧家具和纸箱，挡住了路"
    first = router.predict(text, "320583.001.002.003")
    second = router.predict(text, "320583.002.002.003")
    assert first.categories[0].label == second.categories[0].label == "environment.piled_materials"
    assert first.departments[0].label == "cg0"
    assert second.departments[0].label == "hw1"


def test_the_text_decides_the_department_within_a_category(trained: tuple[Router, list[Sample]]) -> None:
    router, _ = trained
    sewer = router.predict("人民路污水井盖不见了，晚上有人差点掉下去", "320583.001.001.001")
    road = router.predict("人民路窨井盖被偷了", "320583.001.001.001")
    assert sewer.departments[0].label == "swj" and road.departments[0].label == "szj"


def test_round_trip_through_bytes(trained: tuple[Router, list[Sample]]) -> None:
    router, held_out = trained
    blob = router.dumps()
    loaded = load_router(blob, digest(blob))
    items = [(s.text, s.place) for s in held_out[:40]]
    assert loaded.predict_many(items) == router.predict_many(items)
    with pytest.raises(ValueError, match="sha256"):
        load_router(blob[:-1] + b"x", digest(blob))


def test_too_little_history_is_refused() -> None:
    few = [Sample(text=f"路灯不亮{i}", category="light") for i in range(50)] + [
        Sample(text=f"井盖缺失{i}", category="cover") for i in range(50)
    ]
    with pytest.raises(TooLittleHistory):
        Router.train(few)
    one_category = [Sample(text=f"路灯不亮{i}", category="light") for i in range(300)]
    with pytest.raises(TooLittleHistory):
        Router.train(one_category)
    Router.train(few, min_samples=100)  # enough when the caller says so


def test_without_department_history_the_duty_list_names_them() -> None:
    samples = [Sample(text=f"路灯晚上不亮 {i % 7}", category="light") for i in range(60)] + [
        Sample(text=f"井盖不见了 {i % 5}", category="cover") for i in range(60)
    ]
    router = Router.train(samples, min_samples=100)
    assert router.department_model is None
    prediction = router.predict("路灯不亮", duty=lambda label, place: {"light": ["ldz"], "cover": ["szj"]}[label])
    assert prediction.departments[0].label == "ldz"


def test_keyword_router() -> None:
    router = keywords()
    found = router.rank_categories("楼道里有人给电动车充电，还拉了飞线")
    assert found[0].label == "safety.ebike_indoor_charging"
    assert abs(sum(r.confidence for r in router.rank_categories("井盖路灯")) - 1) < 0.01
    assert router.rank_categories("这里有个问题") == ()
    duty = {"a": ["x"], "b": ["x", "y"]}
    ranked = departments_from_categories([Ranked("a", 0.6), Ranked("b", 0.4)], "", lambda label, place: duty[label])
    assert [(r.label, r.confidence) for r in ranked] == [("x", 1.0), ("y", 0.4)]


def test_text_and_place_helpers() -> None:
    assert normalise("  ＡＢＣ  井盖123缺失 ") == "abc 井盖0缺失"
    assert place_tokens("320583.001.002.003") == ["p:320583.001", "p:320583.001.002", "p:320583.001.002.003"]
    assert place_tokens("") == []
    assert default_keywords("facilities.streetlight_out", ["路灯不亮"])[:2] == ["路灯", "照明"]
    learn, test = split_by_time([Sample(text="x", at=float(t)) for t in (5, 1, 4, 2, 3)], 0.4)
    assert [s.at for s in learn] == [1, 2, 3] and [s.at for s in test] == [4, 5]
