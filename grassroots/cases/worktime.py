"""The official working calendar: which days count as working days for deadlines.

Plain Python (no Django). Three sources answer "is this a working day?", first match wins:

1. ``override``: the administrator-edited holiday table (a date → working day or not);
2. ``official``: the ``chinese-calendar`` package, which knows the State Council's
   holidays and adjusted working weekends (调休) for the years it ships (2004–2026 in 1.11);
3. ``fallback``: Monday–Friday working, weekends off, for any year neither of the above
   covers. The answer is marked so the UI can say so (``FALLBACK_NOTICE``) instead of
   the package's ``NotImplementedError`` reaching a user.

A year the administrators have entered completely is listed in ``entered_years``: its
days without an override then count as ``official`` Monday–Friday days, not ``fallback``,
so the notice disappears once the schedule is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

FALLBACK_NOTICE = "该年度节假日安排尚未录入，按周一至周五计算"

_ONE_DAY = timedelta(days=1)


def _package_years() -> range:
    # The package refuses any year outside its holiday table; read the bounds from the same table.
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


OFFICIAL_YEARS: range = _package_years()


class DaySource(StrEnum):
    override = "override"
    official = "official"
    fallback = "fallback"

    @property
    def label(self) -> str:
        return {"override": "管理员录入", "official": "国务院节假日安排", "fallback": "按周一至周五推算"}[self.value]


@dataclass(frozen=True, slots=True)
class DayInfo:
    day: date
    is_workday: bool
    source: DaySource


class WorkCalendar:
    """Answers working-day questions; never raises for an unknown year."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        *,
        entered_years: Iterable[int] = (),
        official_years: range = OFFICIAL_YEARS,
    ) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._entered_years = frozenset(entered_years)
        # Narrowing official_years lets tests (and a cautious operator) distrust the package for a year.
        self._official_years = official_years

    def day_info(self, day: date) -> DayInfo:
        if day in self._overrides:
            return DayInfo(day, self._overrides[day], DaySource.override)
        weekday = day.weekday() < 5
        if day.year in self._official_years:
            # The package's own rule over its public tables; its is_workday() rescans them on every call.
            official = day in chinese_calendar.workdays or (weekday and day not in chinese_calendar.holidays)
            return DayInfo(day, official, DaySource.official)
        if day.year in self._entered_years:
            return DayInfo(day, weekday, DaySource.official)
        return DayInfo(day, weekday, DaySource.fallback)

    def is_workday(self, day: date) -> bool:
        return self.day_info(day).is_workday

    def is_fallback(self, day: date) -> bool:
        """True when the answer for ``day`` is the Monday–Friday guess (show ``FALLBACK_NOTICE``)."""
        return self.day_info(day).source is DaySource.fallback

    def fallback_days(self, start: date, end: date) -> list[date]:
        """Days in [start, end] (either order) answered by the fallback."""
        low, high = min(start, end), max(start, end)
        return [day for day in _days(low, high) if self.is_fallback(day)]

    def uses_fallback(self, start: date, end: date) -> bool:
        low, high = min(start, end), max(start, end)
        return any(self.is_fallback(day) for day in _days(low, high))

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (before it when ``n`` < 0); ``day`` itself never counts.

        ``n == 0`` returns ``day`` unchanged, working day or not.
        """
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        current = day
        while remaining:
            current += step
            if self.is_workday(current):
                remaining -= 1
        return current

    def next_workday(self, day: date) -> date:
        """``day`` if it is a working day, else the first working day after it."""
        return day if self.is_workday(day) else self.add_workdays(day, 1)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``.

        The inverse of ``add_workdays``: ``workdays_between(d, add_workdays(d, n)) == n``.
        """
        if end < start:
            return -self.workdays_between(end, start)
        return sum(1 for day in _days(start + _ONE_DAY, end) if self.is_workday(day))


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY
