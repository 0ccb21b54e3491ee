"""轮值: the pure scheduler. Hand cases for each rule, then hypothesis for counts, adjacency and join dates."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grassroots.party.rotation import Candidate, Period, periods, schedule

YEAR = 2026
START = date(YEAR, 1, 1)
MONTHS = periods(YEAR)


def everyone(*keys: int, joined: date = date(2020, 1, 1)) -> list[Candidate]:
    return [Candidate(k, joined) for k in keys]


def test_periods_cover_the_year_without_gaps():
    for length, n in (("month", 12), ("quarter", 4)):
        slots = periods(2024, length)
        assert len(slots) == n
        assert slots[0].starts_on == date(2024, 1, 1)
        assert slots[-1].ends_on == date(2024, 12, 31)
        for a, b in itertools.pairwise(slots):
            assert b.starts_on == a.ends_on + timedelta(days=1)
    assert periods(2024)[1].ends_on == date(2024, 2, 29)  # leap year
    with pytest.raises(ValueError):
        periods(2024, "week")


def test_round_robin_with_extras_to_those_who_chaired_least_last_year():
    chairs = schedule(everyone(1, 2, 3, 4, 5), MONTHS, last_year={1: 3, 2: 3, 3: 2, 4: 2, 5: 0})
    counts = Counter(chairs)
    # 12 periods over 5 units: two units chair three times, the ones that chaired least last year.
    assert sorted(counts.values()) == [2, 2, 2, 3, 3]
    assert counts[5] == 3 and counts[3] == 3
    assert chairs[:5] == [5, 3, 4, 1, 2]


def test_no_consecutive_chairs_even_across_the_year():
    chairs = schedule(everyone(1, 2), MONTHS, previous=1)
    assert chairs == [2, 1] * 6
    # With one unit there is no one else to take a turn.
    assert schedule(everyone(7), periods(YEAR, "quarter"), previous=7) == [7, 7, 7, 7]


def test_late_joiner_only_after_joining_and_catches_up():
    units = [*everyone(1, 2), Candidate(3, date(YEAR, 7, 1))]
    chairs = schedule(units, MONTHS)
    assert 3 not in chairs[:6]
    assert chairs[6] == 3  # its first eligible period: it has chaired least
    assert all(a != b for a, b in itertools.pairwise(chairs))
    counts = Counter(chairs)
    assert abs(counts[1] - counts[2]) <= 1


def test_a_join_within_the_period_waits_for_the_next_one():
    units = [Candidate(1, date(2020, 1, 1)), Candidate(2, date(YEAR, 3, 15))]
    chairs = schedule(units, MONTHS)
    assert chairs[:3] == [1, 1, 1]  # only one unit could chair, so it chairs on
    assert chairs[3] == 2


def test_no_eligible_unit_leaves_the_period_empty():
    chairs = schedule([Candidate(1, date(YEAR, 11, 1))], MONTHS)
    assert chairs == [None] * 10 + [1, 1]
    assert schedule([], MONTHS) == [None] * 12


def test_fixed_periods_are_kept_and_counted():
    chairs = schedule(everyone(1, 2, 3), MONTHS, fixed=[1, 1, 1, 2])
    assert chairs[:4] == [1, 1, 1, 2]
    counts = Counter(chairs)
    assert counts[1] == 4 and counts[2] == 4 and counts[3] == 4
    assert chairs[4] == 3  # 3 has chaired least so far


def test_same_input_same_schedule_whatever_the_order():
    units = [Candidate(9, date(2020, 1, 1)), Candidate(4, date(2020, 1, 1)), Candidate(6, date(YEAR, 5, 1))]
    assert schedule(units, MONTHS) == schedule(list(reversed(units)), MONTHS)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        schedule(everyone(1, 1), MONTHS)
    with pytest.raises(ValueError):
        schedule(everyone(1), periods(YEAR, "quarter"), fixed=[1, 1, 1, 1, 1])


# --- properties ---------------------------------------------------------------------------------

join_dates = st.one_of(
    st.just(date(2020, 1, 1)),  # a member before the year began
    st.dates(min_value=START, max_value=date(YEAR, 12, 31)),
)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[list[Candidate], list[Period], dict[int, int], int | None]:
    n = draw(st.integers(min_value=0, max_value=9))
    joins = draw(st.lists(join_dates, min_size=n, max_size=n))
    candidates = [Candidate(k, j) for k, j in enumerate(joins, start=1)]
    slots = periods(YEAR, draw(st.sampled_from(["month", "quarter"])))
    last_year = draw(st.dictionaries(st.integers(1, n or 1), st.integers(0, 12), max_size=n))
    previous = draw(st.one_of(st.none(), st.integers(1, n or 1)))
    return candidates, slots, last_year, previous


def eligible(c: Candidate, slots: list[Period]) -> frozenset[int]:
    return frozenset(i for i, s in enumerate(slots) if c.eligible(s))


@settings(max_examples=300, deadline=None)
@given(inputs())
def test_properties(data):
    candidates, slots, last_year, previous = data
    chairs = schedule(candidates, slots, last_year=last_year, previous=previous)
    assert chairs == schedule(candidates, slots, last_year=last_year, previous=previous)  # deterministic
    by_key = {c.key: c for c in candidates}
    counts = Counter(c for c in chairs if c is not None)
    for i, (slot, chair) in enumerate(zip(slots, chairs, strict=True)):
        choices = [c for c in candidates if c.eligible(slot)]
        # Every period with an eligible unit has a chair, and only an eligible one.
        assert (chair is None) == (not choices)
        if chair is not None:
            assert by_key[chair].eligible(slot)
        # No unit chairs twice running when another could.
        before = chairs[i - 1] if i else previous
        if len(choices) >= 2:
            assert chair != before
    # Counts: units eligible for the same periods are within one; a unit eligible for no more
    # periods than another never chairs more than one time more than it.
    windows = {c.key: eligible(c, slots) for c in candidates}
    for a in candidates:
        for b in candidates:
            if windows[a.key] == windows[b.key]:
                assert abs(counts[a.key] - counts[b.key]) <= 1
            if windows[a.key] <= windows[b.key]:
                assert counts[a.key] <= counts[b.key] + 1


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=12), st.sampled_from(["month", "quarter"]))
def test_members_all_year_share_equally(n, length):
    slots = periods(YEAR, length)
    chairs = schedule(everyone(*range(n)), slots)
    counts = Counter(chairs)
    assert sum(counts.values()) == len(slots)
    full = [counts[k] for k in range(n)]
    assert max(full) - min(full) <= 1
    assert all(a != b for a, b in itertools.pairwise(chairs))


@settings(max_examples=200, deadline=None)
@given(inputs())
def test_carry_over_the_least_last_year_never_chair_less(data):
    candidates, slots, last_year, _ = data
    chairs = schedule(candidates, slots, last_year=last_year)
    counts = Counter(chairs)
    windows = {c.key: eligible(c, slots) for c in candidates}
    for a in candidates:
        for b in candidates:
            if windows[a.key] == windows[b.key] and last_year.get(a.key, 0) < last_year.get(b.key, 0):
                assert counts[a.key] >= counts[b.key]
