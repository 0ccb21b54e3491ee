"""The monthly report (月度报告) of a subdistrict or community: the month's measures beside the
previous month's, its parts, a year of case trend and the leading categories.

Built from the same selectors as the dashboards (``measures.area_measures`` over the rollups), so a
report and the dashboard of the same month never disagree. Scope as the dashboards: an area outside
``insights.view`` is ``NotFound``; a month that has not begun is refused.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from grassroots.cases.selectors.measures import Period
from grassroots.cases.workflow import TZ
from grassroots.core.errors import DomainError
from grassroots.insights.selectors import dashboards
from grassroots.insights.selectors.measures import MEASURES, AreaMeasures, MeasureKey, area_measures, display
from grassroots.places.models import Area

# The measures a report lists for each part (the whole list is in the summary).
PART_KEYS = ("received", "response", "resolution", "satisfaction", "on_time", "completeness", "checkin")
FIRST_YEAR = 2000


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period("month", first, first + timedelta(days=calendar.monthrange(year, month)[1]))


def parse_month(value: str | None, today: date) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month); empty means the last complete month. Chinese errors for the form."""
    if not value:
        last = today.replace(day=1) - timedelta(days=1)
        return last.year, last.month
    try:
        year, month = (int(p) for p in value.split("-"))
        date(year, month, 1)
    except ValueError:
        raise DomainError("月份格式应为“年-月”，例如 2026-10。", field="month") from None
    if year < FIRST_YEAR or (year, month) > (today.year, today.month):
        raise DomainError("只能生成已经开始的月份的报告。", field="month")
    return year, month


@dataclass(frozen=True)
class Line:
    """One measure of the summary: this month, the month before and the change."""

    measure: MeasureKey
    value: float | None
    previous: float | None

    @property
    def shown(self) -> str:
        return display(self.measure.key, self.value)

    @property
    def previous_shown(self) -> str:
        return display(self.measure.key, self.previous)

    @property
    def change(self) -> str:
        if self.value is None or self.previous is None:
            return "—"
        delta = self.value - self.previous
        if self.measure.unit == "%":
            return f"{delta * 100:+.1f}个百分点"
        if self.measure.unit in ("小时", "分钟") or self.measure.key == "workers_per_10k":
            return f"{delta:+.1f}"
        return f"{int(delta):+,}"

    @property
    def better(self) -> bool | None:
        """Whether the change is an improvement (None when unchanged or unknown)."""
        if self.value is None or self.previous is None or self.value == self.previous:
            return None
        return (self.value > self.previous) == self.measure.higher_is_better


@dataclass
class MonthlyReport:
    area: Area
    year: int
    month: int
    period: Period
    measures: AreaMeasures
    lines: list[Line]
    trend: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    generated_at: datetime | None = None
    refreshed_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"{self.area.name}{self.year}年{self.month}月基层治理月度报告"

    @property
    def part_measures(self) -> list[MeasureKey]:
        return [m for m in MEASURES if m.key in PART_KEYS]

    def parts(self) -> list[tuple[Area, list[str], dict[str, float | None]]]:
        """Each child area with its shown cells (``part_measures``) and raw values (for charts)."""
        rows = []
        for figures, values in self.measures.rows():
            assert figures.area is not None
            raw = {m.key: values[m.key] for m in self.part_measures}
            rows.append((figures.area, [display(k, v) for k, v in raw.items()], raw))
        return rows


def monthly_report(*, user: Any, area_id: int | None, year: int, month: int, now: datetime) -> MonthlyReport:
    area = dashboards.dashboard_area(user=user, area_id=area_id)
    period = month_period(year, month)
    before = month_period(*((year - 1, 12) if month == 1 else (year, month - 1)))
    refreshed = dashboards.ensure_fresh(now)
    today = min(period.last_day, now.astimezone(TZ).date())
    this = area_measures(area=area, period=period, today=today)
    previous = area_measures(area=area, period=before, today=before.last_day)
    values, old = this.total.values(), previous.total.values()
    lines = [Line(m, values[m.key], old[m.key]) for m in MEASURES]
    return MonthlyReport(
        area=area,
        year=year,
        month=month,
        period=period,
        measures=this,
        lines=lines,
        trend=dashboards.trend(area, period),
        categories=dashboards.categories(area, period),
        generated_at=now,
        refreshed_at=refreshed,
    )
