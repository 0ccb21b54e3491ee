"""轮值: who chairs an alliance in each period of a year. Pure Python, no Django; dates are passed in.

The rules, in order of precedence:

1. A unit chairs only periods it was a member for the whole of: it joined on or before the
   period's first day and (if it leaves) leaves after the period's last day.
2. No unit chairs two consecutive periods when another unit could (also across the turn of the
   year, when the previous year's last chair is given).
3. Counts are as equal as the eligibility allows: each period goes to the eligible unit that has
   chaired least so far this year, so units eligible for the same periods end within one of
   each other, and a late joiner catches up but never overtakes an earlier one by more than one.
4. Ties go to the unit that chaired least last year (carry-over fairness), then to the earlier
   joiner, then to the smaller key: the same input always gives the same schedule.

Periods already served may be passed as ``fixed``: they count toward this year's totals and the
rest of the year is planned after them.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, Literal, TypeVar

PeriodLength = Literal["month", "quarter"]
K = TypeVar("K", bound=Hashable)  # a unit id
PERIOD_LENGTHS: dict[str, str] = {"month": "按月", "quarter": "按季度"}


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Candidate(Generic[K]):
    key: K
    joined_on: date
    left_on: date | None = None

    def eligible(self, period: Period) -> bool:
        return self.joined_on <= period.starts_on and (self.left_on is None or self.left_on > period.ends_on)


def periods(year: int, length: str = "month") -> list[Period]:
    """The periods of ``year``: 12 months or 4 quarters."""
    if length not in PERIOD_LENGTHS:
        raise ValueError(f"unknown period length {length!r}")
    step = 1 if length == "month" else 3
    out = []
    for first in range(1, 13, step):
        last = first + step - 1
        out.append(Period(date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])))
    return out


def schedule(
    candidates: Sequence[Candidate[K]],
    slots: Sequence[Period],
    *,
    last_year: Mapping[K, int] | None = None,
    previous: K | None = None,
    fixed: Sequence[K | None] = (),
) -> list[K | None]:
    """One chair per period (``None`` where no unit is eligible).

    ``last_year``: how often each unit chaired last year; ``previous``: who chaired the period
    just before the first slot; ``fixed``: the chairs of the first ``len(fixed)`` slots, kept as
    they are (periods already served).
    """
    if len(fixed) > len(slots):
        raise ValueError("more fixed chairs than periods")
    keys = [c.key for c in candidates]
    if len(set(keys)) != len(keys):
        raise ValueError("a unit is listed twice")
    prior: Mapping[K, int] = last_year or {}
    counts: dict[K, int] = dict.fromkeys(keys, 0)
    order = {c.key: i for i, c in enumerate(sorted(candidates, key=lambda c: (c.joined_on, _sortable(c.key))))}
    result: list[K | None] = []
    last = previous
    for index, slot in enumerate(slots):
        if index < len(fixed):
            chosen = fixed[index]
        else:
            eligible = [c.key for c in candidates if c.eligible(slot)]
            if len(eligible) > 1 and last in eligible:
                eligible.remove(last)
            chosen = min(eligible, key=lambda k: (counts[k], prior.get(k, 0), order[k])) if eligible else None
        if chosen is not None and chosen in counts:
            counts[chosen] += 1
        result.append(chosen)
        last = chosen
    return result


def _sortable(key: Hashable) -> tuple[str, str]:
    # Keys of one type compare naturally; mixed types still order deterministically.
    return (type(key).__name__, f"{key:>20}" if isinstance(key, int) else str(key))
