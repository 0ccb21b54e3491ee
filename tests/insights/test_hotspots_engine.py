"""The pure hotspot engine on planted patterns (and no false hotspot from scattered cases)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from grassroots.insights.hotspots_engine import (
    CaseRecord,
    Rules,
    detect,
    distance_m,
    new_evidence,
    poisson_upper_tail,
    rising,
    still_open,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LON, LAT = 120.95, 31.38
M_LAT = 1 / 111_195  # degrees of latitude per metre


def rec(i: int, *, days: float = 1, cat: int = 1, dm: float = 0.0, **kw: object) -> CaseRecord:
    return CaseRecord(
        id=i,
        category_id=cat,
        created_at=NOW - timedelta(days=days),
        lon=kw.pop("lon", LON),  # type: ignore[arg-type]
        lat=kw.pop("lat", LAT + dm * M_LAT),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_distance_and_poisson() -> None:
    assert distance_m(LON, LAT, LON, LAT + 100 * M_LAT) == pytest.approx(100, abs=0.5)
    # P(X >= 1 | mean 1) = 1 - e^-1
    assert poisson_upper_tail(1, 1.0) == pytest.approx(1 - 2.718281828**-1)
    assert poisson_upper_tail(5, 1.0) == pytest.approx(0.00366, abs=1e-5)
    assert poisson_upper_tail(0, 3.0) == 1.0


def test_same_building_three_times_is_a_hotspot_and_two_is_not() -> None:
    cases = [rec(i, days=i * 10, building_id=7, compound_id=3, dm=i * 300) for i in (1, 2, 3)]
    found = detect(cases, now=NOW)
    assert [(h.kind, h.subject, h.evidence) for h in found] == [("building", "7", (3, 2, 1))]
    assert detect(cases[:2], now=NOW) == []


def test_window_excludes_old_cases() -> None:
    cases = [rec(1, days=5, building_id=7), rec(2, days=20, building_id=7), rec(3, days=120, building_id=7)]
    assert detect(cases, now=NOW) == []
    assert detect(cases, now=NOW, rules=Rules(window_days=180))[0].count == 3


def test_compound_over_several_buildings_but_not_repeating_a_building_hotspot() -> None:
    spread = [rec(i, compound_id=3, building_id=10 + i, dm=i * 400) for i in range(3)]
    found = detect(spread, now=NOW)
    assert [(h.kind, h.subject) for h in found] == [("compound", "3")]
    one_building = [rec(i, compound_id=3, building_id=10, dm=i * 400) for i in range(3)]
    assert [h.kind for h in detect(one_building, now=NOW)] == ["building"]


def test_same_place_within_radius() -> None:
    near = [rec(i, dm=i * 30) for i in range(4)]  # 0, 30, 60, 90 m on a line
    far = [rec(10 + i, dm=5000 + i * 1000) for i in range(3)]
    found = detect(near + far, now=NOW)
    assert len(found) == 1
    h = found[0]
    assert h.kind == "place" and sorted(h.evidence) == [0, 1, 2, 3]
    assert h.anchor in (1, 2)  # nearest the centre at 45 m
    # A narrower radius splits the line: 0..45 m holds only two cases of a pair each.
    assert detect(near, now=NOW, rules=Rules(radius_m=20)) == []


def test_different_categories_never_mix() -> None:
    cases = [rec(1, cat=1, building_id=7), rec(2, cat=2, building_id=7), rec(3, cat=3, building_id=7)]
    assert detect(cases, now=NOW) == []


def test_scattered_cases_give_no_hotspot() -> None:
    rnd = random.Random(7)
    cases = [
        rec(
            i,
            days=rnd.uniform(0, 360),
            cat=rnd.randint(1, 12),
            lon=LON + rnd.uniform(0, 0.1),
            lat=LAT + rnd.uniform(0, 0.1),
            building_id=rnd.randint(1, 5000),
            community_path=f"c{rnd.randint(1, 8)}",
        )
        for i in range(400)
    ]
    assert detect(cases, now=NOW) == []


def test_rising_against_previous_period_and_last_year() -> None:
    path = "3205.1.1.1"
    cur = [rec(i, days=1 + i, cat=5, community_path=path, dm=i * 500) for i in range(8)]
    prev = [rec(100 + i, days=35 + i, cat=5, community_path=path, dm=i * 500) for i in range(2)]
    # Without history older than the previous period nothing can be "rising" (the platform just went live).
    assert rising(cur + prev, now=NOW) == []
    prev.append(rec(300, days=90, cat=9, community_path=path))  # another category, three months ago
    found = rising(cur + prev, now=NOW)
    assert len(found) == 1
    h = found[0]
    assert (h.kind, h.subject, h.current, h.previous, h.last_year, h.baseline) == ("rising", path, 8, 2, 0, 2.0)
    assert h.p_value == pytest.approx(poisson_upper_tail(8, 2.0))
    # The same season last year was as busy: seasonal, not rising.
    season = [rec(200 + i, days=366 + i, cat=5, community_path=path, dm=i * 500) for i in range(7)]
    assert rising(cur + prev + season, now=NOW) == []
    # Too few cases never count as rising, even from nothing.
    assert rising(cur[:4] + prev, now=NOW) == []


def test_steady_category_is_not_rising() -> None:
    path = "p"
    cases = [rec(i, days=i * 2 + 0.5, cat=5, community_path=path, dm=i * 500) for i in range(40)]  # 15 a period
    assert rising(cases, now=NOW) == []


def test_decided_evidence_is_not_offered_again_until_enough_new_cases() -> None:
    cases = [rec(i, days=i, building_id=7) for i in (1, 2, 3)]
    (h,) = detect(cases, now=NOW)
    decided = {h.signature: frozenset(h.evidence)}
    assert not still_open(h, decided)
    more = [*cases, rec(4, days=0.5, building_id=7)]
    (h2,) = detect(more, now=NOW)
    assert new_evidence(h2, decided) == (4,)
    assert not still_open(h2, decided)  # one new case is not a new hotspot
    more += [rec(5, days=0.4, building_id=7), rec(6, days=0.3, building_id=7)]
    (h3,) = detect(more, now=NOW)
    assert still_open(h3, decided)


def test_rules_problems_in_chinese() -> None:
    assert Rules().problems() == []
    assert Rules(min_count=1).problems() == ["最少件数应在2到1000之间。"]
